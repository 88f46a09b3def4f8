/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _TOY_H
#define _TOY_H

#include <linux/device.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/toy_pool.h>

#define TOY_REG_CTRL		0x00
#define TOY_REG_STATUS		0x04
#define TOY_REG_IRQ_MASK	0x08
#define TOY_REG_DMA_ADDR	0x10
#define TOY_REG_DMA_LEN		0x18

#define TOY_CTRL_ENABLE		BIT(0)
#define TOY_CTRL_RESET		BIT(1)
#define TOY_STATUS_DONE		BIT(0)
#define TOY_STATUS_ERR		BIT(1)

#define TOY_NR_CHANNELS		4

struct toy_channel {
	unsigned int		index;
	bool			busy;
	struct toy_obj		*cur;
};

struct toy_dev {
	struct device		*dev;
	void __iomem		*regs;
	int			irq;
	spinlock_t		irq_lock;
	struct mutex		cfg_lock;
	struct toy_pool		*pool;
	struct toy_channel	chan[TOY_NR_CHANNELS];
	unsigned long		irq_count;
	u32			last_status;
};

int toy_start_channel(struct toy_dev *toy, unsigned int index, size_t len);
void toy_stop_channel(struct toy_dev *toy, unsigned int index);

#endif /* _TOY_H */
