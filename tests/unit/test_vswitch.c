/*
 * The learning switch (core/vswitch.c) with fake ports that record what
 * they are handed and a clock the test moves: learning, aging, flooding,
 * spoofing, full receivers and the counters.
 */
#include <string.h>
#include "unit.h"
#include "hv/vswitch.h"

static u64 now;
static u64 fake_clock(void)
{
	return now;
}

#define AGE 1000

struct fake {
	struct vswitch_port p;
	unsigned got;
	u8 last[ETH_MAX_FRAME];
	u32 last_len;
	bool full; /* no receive buffer: deliver refuses */
};

static bool fake_deliver(struct vswitch_port *p, const void *frame, u32 len)
{
	struct fake *f = p->ctx;

	if (f->full)
		return false;
	f->got++;
	memcpy(f->last, frame, len);
	f->last_len = len;
	return true;
}

static struct vswitch sw;
static struct fake vm_a, vm_b, vm_c, uplink;

static const u8 MAC_A[6] = { 0x02, 0, 0, 0, 0, 0xa };
static const u8 MAC_B[6] = { 0x02, 0, 0, 0, 0, 0xb };
static const u8 MAC_C[6] = { 0x02, 0, 0, 0, 0, 0xc };
static const u8 MAC_X[6] = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 }; /* behind the uplink */
static const u8 BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const u8 MCAST[6] = { 0x01, 0x00, 0x5e, 0, 0, 1 };

static void fake_init(struct fake *f, const char *name, const u8 *mac)
{
	memset(f, 0, sizeof(*f));
	f->p.name = name;
	f->p.deliver = fake_deliver;
	f->p.ctx = f;
	if (mac) {
		memcpy(f->p.mac, mac, 6);
		f->p.fixed_mac = true;
	}
}

/* Three VM ports and an uplink (no fixed MAC). */
static void setup(void)
{
	now = 5;
	vswitch_init(&sw, fake_clock, AGE);
	fake_init(&vm_a, "a", MAC_A);
	fake_init(&vm_b, "b", MAC_B);
	fake_init(&vm_c, "c", MAC_C);
	fake_init(&uplink, "uplink", NULL);
	CHECK_EQ(vswitch_port_add(&sw, &vm_a.p), 0);
	CHECK_EQ(vswitch_port_add(&sw, &vm_b.p), 0);
	CHECK_EQ(vswitch_port_add(&sw, &vm_c.p), 0);
	CHECK_EQ(vswitch_port_add(&sw, &uplink.p), 0);
}

static void reset_counts(void)
{
	vm_a.got = vm_b.got = vm_c.got = uplink.got = 0;
}

static unsigned send(struct fake *from, const u8 *dst, const u8 *src, u32 len)
{
	u8 f[ETH_MAX_FRAME + 8] = { 0 };

	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = 0x08; /* IPv4 */
	for (u32 i = ETH_HLEN; i < len && i < sizeof(f); i++)
		f[i] = (u8)i;
	return vswitch_send(&from->p, f, len);
}

/* VM ports' MACs are known from the start: unicast goes to one port only. */
TEST(unicast_to_fixed_mac)
{
	setup();
	CHECK_EQ(send(&vm_a, MAC_B, MAC_A, 60), 1);
	CHECK_EQ(vm_b.got, 1);
	CHECK_EQ(vm_c.got + uplink.got + vm_a.got, 0);
	CHECK_EQ(vm_b.last_len, 60);
	CHECK(!memcmp(vm_b.last + 6, MAC_A, 6));
	CHECK_EQ(sw.frames, 1);
	CHECK_EQ(sw.floods, 0);
	CHECK_EQ(vm_a.p.c.rx_frames, 1);
	CHECK_EQ(vm_b.p.c.tx_frames, 1);
	CHECK_EQ(vm_a.p.c.rx_bytes, 60);
	CHECK_EQ(vm_b.p.c.tx_bytes, 60);
}

/* Broadcast, multicast and unknown unicast reach every port but the sender. */
TEST(flooding)
{
	setup();
	CHECK_EQ(send(&vm_a, BCAST, MAC_A, 60), 3);
	CHECK_EQ(vm_a.got, 0);
	CHECK_EQ(vm_b.got + vm_c.got + uplink.got, 3);
	reset_counts();
	CHECK_EQ(send(&vm_b, MCAST, MAC_B, 60), 3);
	CHECK_EQ(vm_b.got, 0);
	reset_counts();
	CHECK_EQ(send(&vm_c, MAC_X, MAC_C, 60), 3); /* X not learned yet */
	CHECK_EQ(vm_c.got, 0);
	CHECK_EQ(uplink.got, 1);
	CHECK_EQ(sw.floods, 3);
	CHECK_EQ(sw.frames, 3);
}

/* A station behind the uplink is learned from its first frame. */
TEST(learning)
{
	setup();
	CHECK_EQ(send(&uplink, BCAST, MAC_X, 60), 3);
	reset_counts();
	CHECK_EQ(send(&vm_a, MAC_X, MAC_A, 100), 1);
	CHECK_EQ(uplink.got, 1);
	CHECK_EQ(vm_b.got + vm_c.got, 0);
	CHECK_EQ(sw.floods, 1);
	/* Another VM reaches it the same way, without a flood. */
	reset_counts();
	CHECK_EQ(send(&vm_b, MAC_X, MAC_B, 100), 1);
	CHECK_EQ(uplink.got, 1);
}

/* A learned entry older than the aging time is forgotten: flooded again. */
TEST(aging)
{
	setup();
	send(&uplink, BCAST, MAC_X, 60);
	now += AGE; /* exactly the aging time: still known */
	reset_counts();
	CHECK_EQ(send(&vm_a, MAC_X, MAC_A, 60), 1);
	now += AGE + 1;
	reset_counts();
	CHECK_EQ(send(&vm_a, MAC_X, MAC_A, 60), 3); /* aged out: flooded */
	CHECK_EQ(uplink.got, 1);
	/* A VM port's own MAC never ages. */
	reset_counts();
	CHECK_EQ(send(&vm_a, MAC_B, MAC_A, 60), 1);
	CHECK_EQ(vm_b.got, 1);
	/* Seen again: refreshed. */
	send(&uplink, BCAST, MAC_X, 60);
	now += AGE / 2;
	send(&uplink, BCAST, MAC_X, 60);
	now += AGE / 2 + 10;
	reset_counts();
	CHECK_EQ(send(&vm_a, MAC_X, MAC_A, 60), 1);
}

/* A VM sending with another MAC, or anyone with a VM's MAC: dropped, counted. */
TEST(spoofing)
{
	setup();
	CHECK_EQ(send(&vm_a, BCAST, MAC_B, 60), 0); /* a pretends to be b */
	CHECK_EQ(vm_a.p.c.spoofs, 1);
	CHECK_EQ(send(&vm_a, BCAST, MAC_X, 60), 0); /* or anyone at all */
	CHECK_EQ(vm_a.p.c.spoofs, 2);
	CHECK_EQ(send(&uplink, BCAST, MAC_C, 60), 0); /* c's MAC from outside */
	CHECK_EQ(uplink.p.c.spoofs, 1);
	CHECK_EQ(vm_b.got + vm_c.got + uplink.got, 0);
	CHECK_EQ(sw.frames, 0);
	CHECK_EQ(vm_a.p.c.rx_frames, 0);
	/* Nothing was learned: b still reaches b. */
	CHECK_EQ(send(&vm_c, MAC_B, MAC_C, 60), 1);
	CHECK_EQ(vm_b.got, 1);
	/* X was not learned at vm_a: flooded. */
	reset_counts();
	CHECK_EQ(send(&vm_c, MAC_X, MAC_C, 60), 3);
}

/* Runts, giants and multicast sources are bad frames. */
TEST(bad_frames)
{
	setup();
	CHECK_EQ(send(&vm_a, BCAST, MAC_A, 13), 0);
	CHECK_EQ(send(&vm_a, BCAST, MAC_A, ETH_MAX_FRAME + 1), 0);
	CHECK_EQ(send(&uplink, BCAST, MCAST, 60), 0);
	CHECK_EQ(vm_a.p.c.bad, 2);
	CHECK_EQ(uplink.p.c.bad, 1);
	CHECK_EQ(send(&vm_a, BCAST, MAC_A, ETH_MAX_FRAME), 3);
	CHECK_EQ(send(&vm_a, BCAST, MAC_A, ETH_HLEN), 3);
}

/* A receiver without buffers: a drop on its port, the others still get it. */
TEST(drops)
{
	setup();
	vm_b.full = true;
	CHECK_EQ(send(&vm_a, BCAST, MAC_A, 60), 2);
	CHECK_EQ(vm_b.p.c.drops, 1);
	CHECK_EQ(send(&vm_a, MAC_B, MAC_A, 60), 0);
	CHECK_EQ(vm_b.p.c.drops, 2);
	CHECK_EQ(vm_a.p.c.rx_frames, 2);
	CHECK_EQ(vm_c.p.c.tx_frames, 1);
	/* A dropped frame's bytes are not counted as taken. */
	CHECK_EQ(vm_a.p.c.rx_bytes, 120);
	CHECK_EQ(vm_b.p.c.tx_bytes, 0);
	CHECK_EQ(vm_c.p.c.tx_bytes, 60);
}

/* Ports: a second port with a VM's MAC is refused; a removed port's MACs
 * are forgotten and it gets nothing more; the switch fills up. */
TEST(ports)
{
	struct fake dup, many[VSWITCH_MAX_PORTS];
	unsigned added = 0;

	setup();
	fake_init(&dup, "dup", MAC_B);
	CHECK_EQ(vswitch_port_add(&sw, &dup.p), -EEXIST);
	send(&uplink, BCAST, MAC_X, 60);
	vswitch_port_remove(&uplink.p);
	reset_counts();
	CHECK_EQ(send(&vm_a, MAC_X, MAC_A, 60), 2); /* flooded to b and c */
	CHECK_EQ(uplink.got, 0);
	CHECK_EQ(send(&uplink, BCAST, MAC_X, 60), 0); /* a removed port sends nothing */
	vswitch_port_remove(&vm_b.p);
	CHECK_EQ(vswitch_port_add(&sw, &dup.p), 0); /* b's MAC is free again */
	for (unsigned i = 0; i < VSWITCH_MAX_PORTS; i++) {
		fake_init(&many[i], "m", NULL);
		if (vswitch_port_add(&sw, &many[i].p) == 0)
			added++;
	}
	CHECK_EQ(added, VSWITCH_MAX_PORTS - 3); /* a, c and dup hold three */
}

/* A bucket full of learned MACs gives up its oldest to a new one. */
TEST(table_full)
{
	u8 macs[VSWITCH_WAYS + 1][6];

	setup();
	/* MACs that share a bucket: only byte 1 differs, and bucket() ignores it. */
	for (unsigned i = 0; i <= VSWITCH_WAYS; i++) {
		memcpy(macs[i], MAC_X, 6);
		macs[i][1] = (u8)(0x10 + i);
		now++;
		send(&uplink, BCAST, macs[i], 60);
	}
	reset_counts();
	CHECK_EQ(send(&vm_a, macs[0], MAC_A, 60), 3); /* the oldest went */
	reset_counts();
	CHECK_EQ(send(&vm_a, macs[VSWITCH_WAYS], MAC_A, 60), 1);
}

/*
 * A VM moved to another host (migration): that host's switch announces its
 * MAC; the RARP reaches this switch through the uplink. While the VM is
 * still here the frame is a spoof of its fixed MAC and teaches nothing (why
 * the destination repeats it); once its port left, the uplink learns it, and
 * unicast to it goes there at once, without a flood.
 */
TEST(announce)
{
	struct vswitch sw_b;
	struct fake moved, uplink_b;
	struct vswitch_entry seen[4];
	u8 frame[VSWITCH_ANNOUNCE_LEN];

	setup();
	vswitch_init(&sw_b, fake_clock, AGE);
	fake_init(&moved, "a", MAC_A);
	fake_init(&uplink_b, "uplink", NULL);
	CHECK_EQ(vswitch_port_add(&sw_b, &moved.p), 0);
	CHECK_EQ(vswitch_port_add(&sw_b, &uplink_b.p), 0);
	CHECK_EQ(vswitch_announce(&moved.p), 1);
	CHECK_EQ(uplink_b.last_len, VSWITCH_ANNOUNCE_LEN);
	vswitch_announce_frame(frame, MAC_A);
	CHECK(!memcmp(uplink_b.last, frame, sizeof(frame)));
	CHECK(!memcmp(frame, BCAST, 6));
	CHECK(!memcmp(frame + 6, MAC_A, 6));
	CHECK_EQ(frame[12], 0x80);
	CHECK_EQ(frame[13], 0x35);
	CHECK_EQ(frame[21], 3);                  /* opcode: request reverse */
	CHECK(!memcmp(frame + 22, MAC_A, 6));    /* sender hardware address */
	CHECK(!memcmp(frame + 32, MAC_A, 6));    /* target hardware address */

	/* Here, vm a still holds MAC_A: refused as a spoof, nothing learned. */
	CHECK_EQ(vswitch_send(&uplink.p, uplink_b.last, uplink_b.last_len), 0);
	CHECK_EQ(uplink.p.c.spoofs, 1);
	CHECK_EQ(vswitch_learned(&sw, seen, 4), 0);
	/* It left: the next announcement teaches the uplink. */
	vswitch_port_remove(&vm_a.p);
	reset_counts();
	CHECK_EQ(vswitch_send(&uplink.p, uplink_b.last, uplink_b.last_len), 2);
	CHECK_EQ(vswitch_learned(&sw, seen, 4), 1);
	CHECK(!memcmp(seen[0].mac, MAC_A, 6));
	CHECK_EQ(seen[0].port, uplink.p.index);
	reset_counts();
	CHECK_EQ(send(&vm_b, MAC_A, MAC_B, 60), 1);
	CHECK_EQ(uplink.got, 1);
	CHECK_EQ(vm_c.got, 0);
}

int main(void)
{
	RUN(unicast_to_fixed_mac);
	RUN(flooding);
	RUN(learning);
	RUN(aging);
	RUN(spoofing);
	RUN(bad_frames);
	RUN(drops);
	RUN(ports);
	RUN(table_full);
	RUN(announce);
	return unit_done();
}
