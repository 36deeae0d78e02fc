/*
 * The virtual switch: a learning Ethernet (IEEE 802.1D) bridge inside the
 * hypervisor joining every VM's NIC and, later, the uplink (the machine's
 * NIC through drivers/) and the hypervisor's own IP stack (issue 11).
 *
 * Each of those is a struct vswitch_port: the switch knows a port only by
 * its deliver() callback and, for a VM, the MAC it was configured with, so
 * a new kind of port (a NIC driver) plugs in without changing the switch.
 *
 * Forwarding: the source MAC of every accepted frame is learned for the
 * port it came in on; a unicast destination learned within the aging time
 * goes to that port alone; broadcast, multicast and unknown destinations are
 * flooded to every other port. A frame is never sent back out of the port
 * it came from.
 *
 * Spoofing: a VM port (one with a fixed MAC) may send only with that MAC as
 * source; no port may send with a MAC that another VM port owns. Such frames
 * are dropped and counted (spoofs). VM ports' MACs are in the table for good
 * (never aged, never moved by learning).
 *
 * Locking: vswitch_send may run on several CPUs at once (each vCPU's TX
 * notification). The table and the port list are guarded by one spinlock,
 * held only to look up, learn and pick the destination ports, each of which
 * takes a reference; deliveries run after the lock is dropped, so a
 * destination's own locks are never taken under the switch's. Removing a port
 * waits until no delivery to it is in progress. Counters are atomic.
 */
#ifndef HV_VSWITCH_H
#define HV_VSWITCH_H

#include "hv/spinlock.h"
#include "hv/types.h"

#define ETH_ALEN 6
#define ETH_HLEN 14
#define ETH_MIN_FRAME ETH_HLEN
/* An untagged frame of MTU 1500, or a VLAN-tagged one (802.1Q adds 4). */
#define ETH_MAX_FRAME 1518

#define VSWITCH_MAX_PORTS 32   /* CONFIG_MAX_VMS VM ports, the uplink, the host */
#define VSWITCH_BUCKETS 256    /* MAC table: buckets of VSWITCH_WAYS entries */
#define VSWITCH_WAYS 4
#define VSWITCH_AGE_S 300      /* 802.1D's default aging time */

struct vswitch_port;

/* Per port, counted by the switch. */
struct vswitch_counters {
	u64 rx_frames;   /* frames the port sent into the switch and the switch accepted */
	u64 tx_frames;   /* frames the switch handed to the port and it took */
	u64 rx_bytes;    /* the bytes of rx_frames (Ethernet header on, no FCS) */
	u64 tx_bytes;    /* the bytes of tx_frames */
	u64 drops;       /* handed to the port but not taken (no receive buffer) */
	u64 spoofs;      /* sent with a source MAC not its own */
	u64 bad;         /* sent too short, too long, or from a multicast source */
};

struct vswitch_port {
	/* Set by the owner before vswitch_port_add. */
	const char *name;            /* for the monitor: the VM's name, "uplink" */
	u8 mac[ETH_ALEN];            /* a VM port's configured MAC */
	bool fixed_mac;              /* a VM port: may send only with mac */
	/* Takes one frame, [frame, frame+len); false when it had no room (the
	 * switch counts a drop). Runs on the sender's CPU, outside the switch's
	 * lock; may run on several CPUs at once for one port. */
	bool (*deliver)(struct vswitch_port *p, const void *frame, u32 len);
	void *ctx;

	/* The switch's. */
	struct vswitch *sw;
	int index;                   /* in sw->ports[]; -1 when not added */
	u32 refs;                    /* deliveries in progress (atomic) */
	struct vswitch_counters c;   /* atomic adds */
};

struct vswitch_entry {
	u8 mac[ETH_ALEN];
	s8 port;                     /* index in ports[]; -1: free */
	bool fixed;                  /* a VM port's own MAC: never aged or moved */
	u64 seen;                    /* clock() when last seen as a source */
};

struct vswitch {
	u64 (*clock)(void);          /* a monotonic clock: the host TSC */
	u64 age;                     /* aging time in clock ticks */

	spinlock_t lock;             /* guards ports[] and table[] */
	struct vswitch_port *ports[VSWITCH_MAX_PORTS];
	struct vswitch_entry table[VSWITCH_BUCKETS][VSWITCH_WAYS];

	/* Switch-wide, atomic adds. */
	u64 frames;                  /* accepted from any port */
	u64 floods;                  /* of those, flooded */
};

/* An empty switch with clock and an aging time of age ticks. */
void vswitch_init(struct vswitch *sw, u64 (*clock)(void), u64 age);

/*
 * Joins p (its name, mac, fixed_mac, deliver, ctx set). -EEXIST when p has a
 * fixed MAC that another port owns, -ENOSPC when the switch is full.
 */
int vswitch_port_add(struct vswitch *sw, struct vswitch_port *p);
/* Leaves: its MACs are forgotten; returns once no delivery to it runs. */
void vswitch_port_remove(struct vswitch_port *p);
/* Whether a port has joined with mac as its own (fixed) MAC. Any CPU. */
bool vswitch_mac_owned(struct vswitch *sw, const u8 *mac);

/* A frame sent by port from: learned, forwarded or flooded, or dropped and
 * counted. Returns the number of ports that took it. Any CPU. */
unsigned vswitch_send(struct vswitch_port *from, const void *frame, u32 len);

/*
 * Announces p's MAC on the segment, as QEMU's announce-self does after a
 * migration: one RARP request (RFC 903; ethertype 0x8035) from that MAC to
 * broadcast, so that every switch on the way, ours and the physical ones
 * behind the uplink, learns the port the MAC is behind now. Returns the
 * number of ports that took it.
 */
unsigned vswitch_announce(struct vswitch_port *p);
/* The RARP frame of vswitch_announce for mac: 60 bytes (the Ethernet
 * minimum without FCS), into frame. */
#define VSWITCH_ANNOUNCE_LEN 60
void vswitch_announce_frame(u8 frame[VSWITCH_ANNOUNCE_LEN], const u8 mac[ETH_ALEN]);

/* Up to max of the MACs the switch learned (not the VM ports' own), with
 * their ports, copied under the lock; returns how many. For the monitor. */
unsigned vswitch_learned(struct vswitch *sw, struct vswitch_entry *out, unsigned max);

/* The switch of this machine, made at boot (core/vm_net.c). */
struct vswitch *vswitch_global(void);

/* For the monitor: a copy of the port's counters (each read atomically). */
void vswitch_port_counters(const struct vswitch_port *p, struct vswitch_counters *out);

#endif
