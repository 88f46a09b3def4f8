// SPDX-License-Identifier: GPL-2.0
/*
 * A single-producer single-consumer ring of pointers. The producer
 * publishes a slot with smp_store_release() on head; the consumer reads
 * head with smp_load_acquire() before it reads the slot.
 */

#include <linux/compiler.h>
#include <linux/errno.h>
#include <linux/slab.h>
#include <asm/barrier.h>

struct toy_ring {
	unsigned int	head;
	unsigned int	tail;
	unsigned int	size;	/* a power of two */
	void		**slots;
};

struct toy_ring *toy_ring_alloc(unsigned int size)
{
	struct toy_ring *ring;

	if (!size || (size & (size - 1)))
		return NULL;

	ring = kzalloc(sizeof(*ring), GFP_KERNEL);
	if (!ring)
		return NULL;

	ring->slots = kcalloc(size, sizeof(void *), GFP_KERNEL);
	if (!ring->slots) {
		kfree(ring);
		return NULL;
	}
	ring->size = size;
	return ring;
}

void toy_ring_free(struct toy_ring *ring)
{
	kfree(ring->slots);
	kfree(ring);
}

int toy_ring_produce(struct toy_ring *ring, void *item)
{
	unsigned int head = ring->head;
	unsigned int tail = READ_ONCE(ring->tail);

	if (head - tail >= ring->size)
		return -ENOSPC;

	ring->slots[head & (ring->size - 1)] = item;
	smp_store_release(&ring->head, head + 1);
	return 0;
}

void *toy_ring_consume(struct toy_ring *ring)
{
	unsigned int tail = ring->tail;
	unsigned int head = smp_load_acquire(&ring->head);
	void *item;

	if (tail == head)
		return NULL;

	item = ring->slots[tail & (ring->size - 1)];
	smp_store_release(&ring->tail, tail + 1);
	return item;
}
