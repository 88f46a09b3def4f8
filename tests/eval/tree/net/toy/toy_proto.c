// SPDX-License-Identifier: GPL-2.0
/*
 * The toy protocol: a type-length-value framing carried over a socket
 * buffer. Frames are parsed into a small session table.
 */

#include <linux/kernel.h>
#include <linux/skbuff.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/toy_pool.h>

#define TOY_PROTO_HDR_LEN	4
#define TOY_PROTO_MAX_TLV	16
#define TOY_PROTO_SESSIONS	8

struct toy_tlv {
	u8	type;
	u8	len;
	u8	value[];
};

struct toy_session {
	u32		id;
	bool		active;
	u8		key[16];
	unsigned int	rx_frames;
};

static struct toy_session toy_sessions[TOY_PROTO_SESSIONS];
static DEFINE_SPINLOCK(toy_sessions_lock);

static struct toy_session *toy_session_find(u32 id)
{
	unsigned int i;

	lockdep_assert_held(&toy_sessions_lock);
	for (i = 0; i < TOY_PROTO_SESSIONS; i++) {
		if (toy_sessions[i].active && toy_sessions[i].id == id)
			return &toy_sessions[i];
	}
	return NULL;
}

static int toy_parse_tlv(const u8 *buf, size_t len, struct toy_session *s)
{
	size_t off = 0;

	while (off + 2 <= len) {
		const struct toy_tlv *tlv = (const void *)(buf + off);

		if (off + 2 + tlv->len > len)
			return -EINVAL;

		switch (tlv->type) {
		case 1:
			if (tlv->len != sizeof(s->key))
				return -EINVAL;
			memcpy(s->key, tlv->value, sizeof(s->key));
			break;
		default:
			break;
		}
		off += 2 + tlv->len;
	}
	return 0;
}

int toy_proto_rcv(struct sk_buff *skb)
{
	struct toy_session *s;
	u32 id;
	int ret;

	if (!pskb_may_pull(skb, TOY_PROTO_HDR_LEN))
		return -EINVAL;

	id = get_unaligned_be32(skb->data);

	spin_lock_bh(&toy_sessions_lock);
	s = toy_session_find(id);
	if (!s) {
		spin_unlock_bh(&toy_sessions_lock);
		return -ENOENT;
	}
	ret = toy_parse_tlv(skb->data + TOY_PROTO_HDR_LEN,
			    skb->len - TOY_PROTO_HDR_LEN, s);
	if (!ret)
		s->rx_frames++;
	spin_unlock_bh(&toy_sessions_lock);
	return ret;
}

int toy_proto_open(u32 id)
{
	unsigned int i;
	int ret = -ENOSPC;

	spin_lock_bh(&toy_sessions_lock);
	for (i = 0; i < TOY_PROTO_SESSIONS; i++) {
		if (!toy_sessions[i].active) {
			toy_sessions[i].active = true;
			toy_sessions[i].id = id;
			toy_sessions[i].rx_frames = 0;
			ret = 0;
			break;
		}
	}
	spin_unlock_bh(&toy_sessions_lock);
	return ret;
}
