/*
 * The learning switch (include/hv/vswitch.h). Builds on the host too: the
 * clock is the caller's, and nothing here touches the machine.
 */
#include "hv/vswitch.h"
#include "lib/string.h"

static void count(u64 *c)
{
	__atomic_fetch_add(c, 1, __ATOMIC_RELAXED);
}

static bool is_multicast(const u8 *mac)
{
	return mac[0] & 1; /* the I/G bit; broadcast is a multicast too */
}

static bool mac_eq(const u8 *a, const u8 *b)
{
	return !memcmp(a, b, ETH_ALEN);
}

/* The bucket of a MAC: its last bytes vary most (the NIC-specific part). */
static unsigned bucket(const u8 *mac)
{
	return (unsigned)(mac[5] ^ mac[4] * 7u ^ mac[3] * 31u ^ mac[0] * 131u) % VSWITCH_BUCKETS;
}

void vswitch_init(struct vswitch *sw, u64 (*clock)(void), u64 age)
{
	memset(sw, 0, sizeof(*sw));
	sw->clock = clock;
	sw->age = age;
	for (unsigned b = 0; b < VSWITCH_BUCKETS; b++)
		for (unsigned w = 0; w < VSWITCH_WAYS; w++)
			sw->table[b][w].port = -1;
}

/* A live entry for mac, or NULL; an aged one is freed on the way. Lock held. */
static struct vswitch_entry *lookup(struct vswitch *sw, const u8 *mac, u64 now)
{
	struct vswitch_entry *set = sw->table[bucket(mac)];

	for (unsigned w = 0; w < VSWITCH_WAYS; w++) {
		struct vswitch_entry *e = &set[w];

		if (e->port < 0 || !mac_eq(e->mac, mac))
			continue;
		if (!e->fixed && now - e->seen > sw->age) {
			e->port = -1;
			return NULL;
		}
		return e;
	}
	return NULL;
}

/*
 * Records mac as reachable through port. A full bucket gives up its oldest
 * learned entry; fixed ones (VM ports' own MACs) stay, and a bucket full of
 * those learns nothing more: the MAC is then flooded to. Lock held.
 */
static void learn(struct vswitch *sw, const u8 *mac, int port, bool fixed, u64 now)
{
	struct vswitch_entry *set = sw->table[bucket(mac)], *e = lookup(sw, mac, now), *victim = NULL;

	if (e) {
		if (!e->fixed) {
			e->port = (s8)port; /* a station moved: the newest source wins */
			e->seen = now;
		}
		return;
	}
	for (unsigned w = 0; w < VSWITCH_WAYS; w++) {
		e = &set[w];
		if (e->port < 0 || (!e->fixed && now - e->seen > sw->age)) {
			victim = e;
			break;
		}
		if (!e->fixed && (!victim || e->seen < victim->seen))
			victim = e;
	}
	if (!victim)
		return;
	memcpy(victim->mac, mac, ETH_ALEN);
	victim->port = (s8)port;
	victim->fixed = fixed;
	victim->seen = now;
}

/* Forgets every entry of port. Lock held. */
static void forget_port(struct vswitch *sw, int port)
{
	for (unsigned b = 0; b < VSWITCH_BUCKETS; b++)
		for (unsigned w = 0; w < VSWITCH_WAYS; w++)
			if (sw->table[b][w].port == port)
				sw->table[b][w].port = -1;
}

/* Whether a port has mac as its own (fixed) MAC. Lock held. */
static bool mac_owned(struct vswitch *sw, const u8 *mac)
{
	for (int i = 0; i < VSWITCH_MAX_PORTS; i++) {
		struct vswitch_port *o = sw->ports[i];

		if (o && o->fixed_mac && mac_eq(o->mac, mac))
			return true;
	}
	return false;
}

bool vswitch_mac_owned(struct vswitch *sw, const u8 *mac)
{
	bool owned;

	spin_lock(&sw->lock);
	owned = mac_owned(sw, mac);
	spin_unlock(&sw->lock);
	return owned;
}

int vswitch_port_add(struct vswitch *sw, struct vswitch_port *p)
{
	int slot = -1;

	memset(&p->c, 0, sizeof(p->c));
	p->sw = sw;
	p->refs = 0;
	p->index = -1;
	spin_lock(&sw->lock);
	if (p->fixed_mac && mac_owned(sw, p->mac)) {
		spin_unlock(&sw->lock);
		return -EEXIST;
	}
	for (int i = 0; i < VSWITCH_MAX_PORTS && slot < 0; i++)
		if (!sw->ports[i])
			slot = i;
	if (slot < 0) {
		spin_unlock(&sw->lock);
		return -ENOSPC;
	}
	if (p->fixed_mac) {
		/* A station that had used this MAC elsewhere loses it now. */
		struct vswitch_entry *e = lookup(sw, p->mac, sw->clock());

		if (e)
			e->port = -1;
		learn(sw, p->mac, slot, true, sw->clock());
	}
	p->index = slot;
	sw->ports[slot] = p;
	spin_unlock(&sw->lock);
	return 0;
}

void vswitch_port_remove(struct vswitch_port *p)
{
	struct vswitch *sw = p->sw;

	if (!sw || p->index < 0)
		return;
	spin_lock(&sw->lock);
	sw->ports[p->index] = NULL;
	forget_port(sw, p->index);
	spin_unlock(&sw->lock);
	/* Senders that picked p before it left hold a reference each. */
	while (__atomic_load_n(&p->refs, __ATOMIC_ACQUIRE))
		__builtin_ia32_pause();
	p->index = -1;
}

/* The frame's verdict before forwarding: NULL to go on, or the counter to bump. */
static u64 *check_source(struct vswitch *sw, struct vswitch_port *from, const u8 *src, u64 now)
{
	struct vswitch_entry *e;

	if (is_multicast(src))
		return &from->c.bad; /* 802.1D: a group address is never a source */
	if (from->fixed_mac && !mac_eq(src, from->mac))
		return &from->c.spoofs;
	e = lookup(sw, src, now);
	if (e && e->fixed && e->port != from->index)
		return &from->c.spoofs; /* another VM's MAC, e.g. from the uplink */
	return NULL;
}

unsigned vswitch_send(struct vswitch_port *from, const void *frame, u32 len)
{
	struct vswitch *sw = from->sw;
	struct vswitch_port *to[VSWITCH_MAX_PORTS];
	const u8 *dst = frame, *src = (const u8 *)frame + ETH_ALEN;
	unsigned n = 0, taken = 0;
	bool flood = true;
	u64 now, *why;

	if (!sw || len < ETH_MIN_FRAME || len > ETH_MAX_FRAME) {
		count(&from->c.bad);
		return 0;
	}
	now = sw->clock();
	spin_lock(&sw->lock);
	if (from->index < 0) {
		spin_unlock(&sw->lock);
		return 0; /* leaving */
	}
	why = check_source(sw, from, src, now);
	if (why) {
		spin_unlock(&sw->lock);
		count(why);
		return 0;
	}
	learn(sw, src, from->index, false, now);
	if (!is_multicast(dst)) {
		struct vswitch_entry *e = lookup(sw, dst, now);

		if (e) {
			flood = false;
			if (e->port != from->index)
				to[n++] = sw->ports[e->port];
		}
	}
	if (flood)
		for (int i = 0; i < VSWITCH_MAX_PORTS; i++)
			if (sw->ports[i] && i != from->index)
				to[n++] = sw->ports[i];
	for (unsigned i = 0; i < n; i++)
		__atomic_fetch_add(&to[i]->refs, 1, __ATOMIC_ACQUIRE);
	spin_unlock(&sw->lock);

	count(&from->c.rx_frames);
	__atomic_fetch_add(&from->c.rx_bytes, len, __ATOMIC_RELAXED);
	count(&sw->frames);
	if (flood)
		count(&sw->floods);
	for (unsigned i = 0; i < n; i++) {
		if (to[i]->deliver(to[i], frame, len)) {
			count(&to[i]->c.tx_frames);
			__atomic_fetch_add(&to[i]->c.tx_bytes, len, __ATOMIC_RELAXED);
			taken++;
		} else {
			count(&to[i]->c.drops);
		}
		__atomic_fetch_sub(&to[i]->refs, 1, __ATOMIC_RELEASE);
	}
	return taken;
}

void vswitch_port_counters(const struct vswitch_port *p, struct vswitch_counters *out)
{
	out->rx_frames = __atomic_load_n(&p->c.rx_frames, __ATOMIC_RELAXED);
	out->tx_frames = __atomic_load_n(&p->c.tx_frames, __ATOMIC_RELAXED);
	out->rx_bytes = __atomic_load_n(&p->c.rx_bytes, __ATOMIC_RELAXED);
	out->tx_bytes = __atomic_load_n(&p->c.tx_bytes, __ATOMIC_RELAXED);
	out->drops = __atomic_load_n(&p->c.drops, __ATOMIC_RELAXED);
	out->spoofs = __atomic_load_n(&p->c.spoofs, __ATOMIC_RELAXED);
	out->bad = __atomic_load_n(&p->c.bad, __ATOMIC_RELAXED);
}

/* RFC 903: the ARP packet layout (RFC 826) with opcode 3, "request reverse";
 * sender and target hardware addresses both the announced MAC, no protocol
 * addresses. The bytes after the 28-byte packet pad the frame to 60. */
void vswitch_announce_frame(u8 frame[VSWITCH_ANNOUNCE_LEN], const u8 mac[ETH_ALEN])
{
	static const u8 rarp_head[] = {
		0x80, 0x35,       /* ethertype: RARP */
		0x00, 0x01,       /* hardware type: Ethernet */
		0x08, 0x00,       /* protocol type: IPv4 */
		ETH_ALEN, 4,      /* address lengths */
		0x00, 0x03,       /* request reverse */
	};
	u8 *a = frame + 2 * ETH_ALEN + sizeof(rarp_head);

	memset(frame, 0, VSWITCH_ANNOUNCE_LEN);
	memset(frame, 0xff, ETH_ALEN);
	memcpy(frame + ETH_ALEN, mac, ETH_ALEN);
	memcpy(frame + 2 * ETH_ALEN, rarp_head, sizeof(rarp_head));
	memcpy(a, mac, ETH_ALEN);              /* sender hardware address */
	memcpy(a + ETH_ALEN + 4, mac, ETH_ALEN); /* target hardware address */
}

unsigned vswitch_announce(struct vswitch_port *p)
{
	u8 frame[VSWITCH_ANNOUNCE_LEN];

	vswitch_announce_frame(frame, p->mac);
	return vswitch_send(p, frame, sizeof(frame));
}

unsigned vswitch_learned(struct vswitch *sw, struct vswitch_entry *out, unsigned max)
{
	u64 now = sw->clock();
	unsigned n = 0;

	spin_lock(&sw->lock);
	for (unsigned b = 0; b < VSWITCH_BUCKETS && n < max; b++)
		for (unsigned w = 0; w < VSWITCH_WAYS && n < max; w++) {
			const struct vswitch_entry *e = &sw->table[b][w];

			if (e->port >= 0 && !e->fixed && now - e->seen <= sw->age)
				out[n++] = *e;
		}
	spin_unlock(&sw->lock);
	return n;
}
