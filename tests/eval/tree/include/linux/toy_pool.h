/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _LINUX_TOY_POOL_H
#define _LINUX_TOY_POOL_H

#include <linux/types.h>
#include <linux/spinlock.h>
#include <linux/refcount.h>
#include <linux/list.h>

#define TOY_POOL_MAX_OBJS	256
#define TOY_POOL_NAME_LEN	32

struct toy_obj {
	struct list_head	node;
	refcount_t		ref;
	u32			id;
	size_t			len;
	u8			*data;
};

struct toy_pool {
	spinlock_t		lock;
	struct mutex		resize_lock;
	struct list_head	free_list;
	struct list_head	busy_list;
	unsigned int		nr_free;
	unsigned int		nr_busy;
	unsigned int		max_objs;
	char			name[TOY_POOL_NAME_LEN];
};

struct toy_pool *toy_pool_create(const char *name, unsigned int max_objs);
void toy_pool_destroy(struct toy_pool *pool);
struct toy_obj *toy_obj_get(struct toy_pool *pool, size_t len);
void toy_obj_put(struct toy_pool *pool, struct toy_obj *obj);
int toy_pool_resize(struct toy_pool *pool, unsigned int max_objs);

#endif /* _LINUX_TOY_POOL_H */
