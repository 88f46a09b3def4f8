// SPDX-License-Identifier: GPL-2.0
/*
 * A fixed-size object pool used by the toy driver and the toy protocol.
 * Objects move between a free list and a busy list under pool->lock.
 */

#include <linux/slab.h>
#include <linux/string.h>
#include <linux/mutex.h>
#include <linux/toy_pool.h>

static struct toy_obj *toy_obj_alloc(size_t len)
{
	struct toy_obj *obj;

	obj = kzalloc(sizeof(*obj), GFP_KERNEL);
	if (!obj)
		return NULL;

	obj->data = kmalloc(len, GFP_KERNEL);
	if (!obj->data) {
		kfree(obj);
		return NULL;
	}
	obj->len = len;
	refcount_set(&obj->ref, 1);
	INIT_LIST_HEAD(&obj->node);
	return obj;
}

static void toy_obj_free(struct toy_obj *obj)
{
	kfree(obj->data);
	kfree(obj);
}

struct toy_pool *toy_pool_create(const char *name, unsigned int max_objs)
{
	struct toy_pool *pool;

	if (!max_objs || max_objs > TOY_POOL_MAX_OBJS)
		return ERR_PTR(-EINVAL);

	pool = kzalloc(sizeof(*pool), GFP_KERNEL);
	if (!pool)
		return ERR_PTR(-ENOMEM);

	spin_lock_init(&pool->lock);
	mutex_init(&pool->resize_lock);
	INIT_LIST_HEAD(&pool->free_list);
	INIT_LIST_HEAD(&pool->busy_list);
	pool->max_objs = max_objs;
	strscpy(pool->name, name, sizeof(pool->name));
	return pool;
}

void toy_pool_destroy(struct toy_pool *pool)
{
	struct toy_obj *obj, *tmp;

	spin_lock(&pool->lock);
	list_for_each_entry_safe(obj, tmp, &pool->free_list, node) {
		list_del(&obj->node);
		toy_obj_free(obj);
	}
	WARN_ON(!list_empty(&pool->busy_list));
	spin_unlock(&pool->lock);
	kfree(pool);
}

struct toy_obj *toy_obj_get(struct toy_pool *pool, size_t len)
{
	struct toy_obj *obj = NULL;

	spin_lock(&pool->lock);
	if (!list_empty(&pool->free_list)) {
		obj = list_first_entry(&pool->free_list, struct toy_obj, node);
		list_move(&obj->node, &pool->busy_list);
		pool->nr_free--;
		pool->nr_busy++;
	}
	spin_unlock(&pool->lock);

	if (obj)
		return obj;

	if (pool->nr_busy >= pool->max_objs)
		return NULL;

	obj = toy_obj_alloc(len);
	if (!obj)
		return NULL;

	spin_lock(&pool->lock);
	list_add(&obj->node, &pool->busy_list);
	pool->nr_busy++;
	spin_unlock(&pool->lock);
	return obj;
}

void toy_obj_put(struct toy_pool *pool, struct toy_obj *obj)
{
	if (!refcount_dec_and_test(&obj->ref))
		return;

	spin_lock(&pool->lock);
	list_move(&obj->node, &pool->free_list);
	pool->nr_busy--;
	pool->nr_free++;
	refcount_set(&obj->ref, 1);
	spin_unlock(&pool->lock);
}

int toy_pool_resize(struct toy_pool *pool, unsigned int max_objs)
{
	if (!max_objs || max_objs > TOY_POOL_MAX_OBJS)
		return -EINVAL;

	mutex_lock(&pool->resize_lock);
	spin_lock(&pool->lock);
	pool->max_objs = max_objs;
	spin_unlock(&pool->lock);
	mutex_unlock(&pool->resize_lock);
	return 0;
}
