// SPDX-License-Identifier: GPL-2.0
/*
 * Driver for the toy DMA engine: four channels, one interrupt line,
 * buffers taken from a toy_pool.
 */

#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include "toy.h"

static irqreturn_t toy_irq(int irq, void *data)
{
	struct toy_dev *toy = data;
	u32 status;

	status = readl(toy->regs + TOY_REG_STATUS);
	if (!(status & (TOY_STATUS_DONE | TOY_STATUS_ERR)))
		return IRQ_NONE;

	spin_lock(&toy->irq_lock);
	toy->irq_count++;
	toy->last_status = status;
	spin_unlock(&toy->irq_lock);

	writel(status, toy->regs + TOY_REG_STATUS);
	return IRQ_HANDLED;
}

int toy_start_channel(struct toy_dev *toy, unsigned int index, size_t len)
{
	struct toy_channel *chan;
	struct toy_obj *obj;

	if (index >= TOY_NR_CHANNELS)
		return -EINVAL;

	chan = &toy->chan[index];
	obj = toy_obj_get(toy->pool, len);
	if (!obj)
		return -ENOMEM;

	mutex_lock(&toy->cfg_lock);
	if (chan->busy) {
		mutex_unlock(&toy->cfg_lock);
		toy_obj_put(toy->pool, obj);
		return -EBUSY;
	}
	chan->busy = true;
	chan->cur = obj;
	writel(lower_32_bits((uintptr_t)obj->data), toy->regs + TOY_REG_DMA_ADDR);
	writel(len, toy->regs + TOY_REG_DMA_LEN);
	mutex_unlock(&toy->cfg_lock);
	return 0;
}

void toy_stop_channel(struct toy_dev *toy, unsigned int index)
{
	struct toy_channel *chan = &toy->chan[index];

	mutex_lock(&toy->cfg_lock);
	if (chan->busy) {
		toy_obj_put(toy->pool, chan->cur);
		chan->cur = NULL;
		chan->busy = false;
	}
	mutex_unlock(&toy->cfg_lock);
}

static int toy_probe(struct platform_device *pdev)
{
	struct toy_dev *toy;
	unsigned int i;
	int ret;

	toy = devm_kzalloc(&pdev->dev, sizeof(*toy), GFP_KERNEL);
	if (!toy)
		return -ENOMEM;

	toy->dev = &pdev->dev;
	spin_lock_init(&toy->irq_lock);
	mutex_init(&toy->cfg_lock);
	for (i = 0; i < TOY_NR_CHANNELS; i++)
		toy->chan[i].index = i;

	toy->regs = devm_platform_ioremap_resource(pdev, 0);
	if (IS_ERR(toy->regs))
		return PTR_ERR(toy->regs);

	toy->pool = toy_pool_create(dev_name(&pdev->dev), 64);
	if (IS_ERR(toy->pool))
		return PTR_ERR(toy->pool);

	toy->irq = platform_get_irq(pdev, 0);
	if (toy->irq < 0) {
		ret = toy->irq;
		goto err_pool;
	}

	ret = request_irq(toy->irq, toy_irq, 0, dev_name(&pdev->dev), toy);
	if (ret)
		goto err_pool;

	writel(TOY_CTRL_ENABLE, toy->regs + TOY_REG_CTRL);
	platform_set_drvdata(pdev, toy);
	return 0;

err_pool:
	toy_pool_destroy(toy->pool);
	return ret;
}

static void toy_remove(struct platform_device *pdev)
{
	struct toy_dev *toy = platform_get_drvdata(pdev);
	unsigned int i;

	writel(0, toy->regs + TOY_REG_CTRL);
	free_irq(toy->irq, toy);
	for (i = 0; i < TOY_NR_CHANNELS; i++)
		toy_stop_channel(toy, i);
	toy_pool_destroy(toy->pool);
}

static struct platform_driver toy_driver = {
	.probe = toy_probe,
	.remove = toy_remove,
	.driver = {
		.name = "toy-dma",
	},
};
module_platform_driver(toy_driver);

MODULE_DESCRIPTION("Toy DMA engine driver");
MODULE_LICENSE("GPL");
