/*
 * The hypervisor's own address (docs/platform.md, "The hypervisor's own
 * address"): lwIP (Debian's source, mk/lwip.mk) on one Ethernet interface
 * that is a port of the virtual switch, named "host".
 *
 * Two sides meet at a ring of frames:
 *   - the switch delivers to the port on any CPU: the sending vCPU's, or CPU
 *     0 in the uplink NIC's interrupt. host_deliver copies the frame into
 *     the ring under rx_lock (interrupts off), or drops and counts it when
 *     the ring is full; it never touches lwIP.
 *   - lwIP runs on CPU 0 alone, in netstack_poll from its loop (interrupts
 *     on, in_monitor set: a NIC interrupt then only marks the NIC, as during
 *     a monitor command). It takes the ring's frames, runs lwIP's timers and
 *     the API's connections. What lwIP sends goes out through vswitch_send
 *     with interrupts off, as every other sender's does: a delivery into a
 *     VM takes its device locks, which the tick takes too.
 *
 * The ring has one consumer (CPU 0 in netstack_poll) and many producers
 * serialized by rx_lock: the consumer reads the slot at tail without the
 * lock, since no producer writes a slot until tail has passed it.
 */
#include "hv/netstack.h"
#include "hv/api_tcp.h"
#include "hv/console.h"
#include "hv/migrate.h"
#include "hv/mm.h"
#include "hv/platform.h"
#include "hv/spinlock.h"
#include "hv/uplink.h"
#include "hv/vswitch.h"
#include "asm/cpu.h"
#include "lib/string.h"

#include "lwip/dhcp.h"
#include "lwip/etharp.h"
#include "lwip/init.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/sys.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

#define RX_SLOTS 256           /* frames waiting for CPU 0: a TCP window's (lwipopts.h), 1.5 KiB each */
#define POLL_MAX_MS 10         /* the API's connections are polled at least this often */
#define ETH_MIN_PAYLOAD_FRAME 60 /* 802.3's minimum without the FCS: shorter ones are padded */

struct rx_slot {
	u32 len;
	u8 data[ETH_MAX_FRAME];
};

static struct {
	bool up;                    /* set once at boot, before the port joins */
	struct vswitch_port port;
	struct netif netif;
	bool dhcp;
	u32 last_ip;                /* the address last logged (network order) */

	spinlock_t rx_lock;         /* producers: head and the slot at head */
	struct rx_slot *ring;       /* RX_SLOTS, from page_alloc */
	u32 head;                   /* next slot to fill (atomic for the consumer) */
	u32 tail;                   /* next slot to take: CPU 0 only (atomic for producers) */
	u64 rx_drops;               /* the ring was full (atomic) */
	u64 rx_frames;              /* taken into lwIP: CPU 0 only */
	u64 rx_nomem;               /* no pbuf for a frame: CPU 0 only */
	u64 next_poll;              /* TSC of the next timer or API poll due */
} ns;

static u8 tx_frame[ETH_MAX_FRAME]; /* CPU 0 only: lwIP's output, flattened */

u64 netstack_now_ms(void)
{
	return tsc_to_ns(rdtsc()) / 1000000;
}

/* lwIP's clock (lwip/sys.h): milliseconds, wrapping at 2^32 as it expects. */
u32_t sys_now(void)
{
	return (u32_t)netstack_now_ms();
}

/* LWIP_RAND (arch/cc.h): TCP's initial sequence numbers, DHCP's transaction
 * ids, local ports. The TSC's low bits, mixed (MurmurHash3's finalizer). */
u32 netstack_rand(void)
{
	static u64 state;
	u64 h = (state += rdtsc() | 1);

	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return (u32)h;
}

/* The switch hands the port a frame: any CPU, any context. Only frames for
 * this station are kept (its MAC, broadcast), as a NIC's filter would; the
 * rest of what the switch floods is taken and dropped here. */
static bool host_deliver(struct vswitch_port *p, const void *frame, u32 len)
{
	const u8 *dst = frame;
	struct rx_slot *s;
	u64 flags;
	u32 head;

	if (len < ETH_HLEN || len > ETH_MAX_FRAME)
		return false;
	if (memcmp(dst, p->mac, ETH_ALEN) &&
	    !(dst[0] == 0xff && dst[1] == 0xff && dst[2] == 0xff && dst[3] == 0xff &&
	      dst[4] == 0xff && dst[5] == 0xff))
		return true;
	flags = irq_save();
	spin_lock(&ns.rx_lock);
	head = ns.head;
	if (head - __atomic_load_n(&ns.tail, __ATOMIC_ACQUIRE) >= RX_SLOTS) {
		spin_unlock(&ns.rx_lock);
		irq_restore(flags);
		__atomic_fetch_add(&ns.rx_drops, 1, __ATOMIC_RELAXED);
		return false;
	}
	s = &ns.ring[head % RX_SLOTS];
	memcpy(s->data, frame, len);
	s->len = len;
	__atomic_store_n(&ns.head, head + 1, __ATOMIC_RELEASE);
	spin_unlock(&ns.rx_lock);
	irq_restore(flags);
	return true;
}

/* lwIP sends a frame (its pbuf chain): flattened, padded to 60 bytes, and
 * into the switch with interrupts off (see the top of the file). */
static err_t host_linkoutput(struct netif *netif, struct pbuf *p)
{
	u32 len = p->tot_len;
	u64 flags;

	if (len > ETH_MAX_FRAME)
		return ERR_BUF;
	pbuf_copy_partial(p, tx_frame, (u16_t)len, 0);
	if (len < ETH_MIN_PAYLOAD_FRAME) {
		memset(tx_frame + len, 0, ETH_MIN_PAYLOAD_FRAME - len);
		len = ETH_MIN_PAYLOAD_FRAME;
	}
	flags = irq_save();
	vswitch_send(&ns.port, tx_frame, len);
	irq_restore(flags);
	return ERR_OK;
}

static err_t host_netif_init(struct netif *netif)
{
	netif->name[0] = 'h';
	netif->name[1] = 'v';
	netif->mtu = 1500;
	netif->hwaddr_len = ETH_HWADDR_LEN;
	memcpy(netif->hwaddr, ns.port.mac, ETH_ALEN);
	netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET |
		       NETIF_FLAG_LINK_UP;
	netif->output = etharp_output;
	netif->linkoutput = host_linkoutput;
	netif_set_hostname(netif, "utsuwa");
	return ERR_OK;
}

/* A netmask's length (no popcount: -mgeneral-regs-only and no libgcc). */
static unsigned prefix_len(const ip4_addr_t *mask)
{
	u32 m = lwip_ntohl(ip4_addr_get_u32(mask));
	unsigned n = 0;

	while (m & 0x80000000u) {
		n++;
		m <<= 1;
	}
	return n;
}

/* The address changed: DHCP bound (or renewed to another), or lost it. */
static void host_status(struct netif *netif)
{
	char ip[IP4ADDR_STRLEN_MAX], gw[IP4ADDR_STRLEN_MAX];
	u32 addr = ip4_addr_get_u32(netif_ip4_addr(netif));

	if (!ns.dhcp || addr == ns.last_ip)
		return;
	ns.last_ip = addr;
	if (!addr) {
		kprintf("netstack: the DHCP lease is gone: no address\n");
		return;
	}
	ip4addr_ntoa_r(netif_ip4_addr(netif), ip, sizeof(ip));
	ip4addr_ntoa_r(netif_ip4_gw(netif), gw, sizeof(gw));
	kprintf("netstack: %s/%u by DHCP, gateway %s\n", ip, prefix_len(netif_ip4_netmask(netif)),
		gw);
}

/*
 * The port's MAC without hostip=...,mac=: locally administered and unicast
 * (02:...), five bytes of an FNV-1a hash of "utsuwa-host" and the uplink
 * NIC's own MAC, mixed. The same machine gets the same MAC at every boot,
 * and two machines on one LAN (different NICs) get different ones.
 */
static void derive_mac(u8 mac[ETH_ALEN])
{
	static const char seed[] = "utsuwa-host";
	u8 nic[ETH_ALEN] = { 0 };
	u64 h = 0xcbf29ce484222325ULL;

	uplink_mac(nic);
	for (unsigned i = 0; i < sizeof(seed) - 1; i++)
		h = (h ^ (u8)seed[i]) * 0x100000001b3ULL;
	for (unsigned i = 0; i < ETH_ALEN; i++)
		h = (h ^ nic[i]) * 0x100000001b3ULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	mac[0] = 0x02;
	for (unsigned i = 1; i < ETH_ALEN; i++)
		mac[i] = (u8)(h >> (8 * (i - 1)));
}

void netstack_init(const struct host_net_config *cfg)
{
	ip4_addr_t ip, mask, gw;
	const u8 *m = ns.port.mac;
	char a[IP4ADDR_STRLEN_MAX], g[IP4ADDR_STRLEN_MAX];
	u64 pages = (sizeof(struct rx_slot) * RX_SLOTS + PAGE_SIZE - 1) / PAGE_SIZE;
	int err;

	if (!cfg->on)
		return;
	ns.ring = (struct rx_slot *)(uintptr_t)page_alloc(pages, PAGE_SIZE);
	if (!ns.ring) {
		kprintf("netstack: no memory for its receive ring: no address\n");
		return;
	}
	if (cfg->mac_set)
		memcpy(ns.port.mac, cfg->mac, ETH_ALEN);
	else
		derive_mac(ns.port.mac);
	ns.port.name = "host";
	ns.port.fixed_mac = true; /* no VM may send as the hypervisor */
	ns.port.deliver = host_deliver;
	ns.dhcp = cfg->dhcp;

	lwip_init();
	if (cfg->dhcp) {
		ip4_addr_set_zero(&ip);
		ip4_addr_set_zero(&mask);
		ip4_addr_set_zero(&gw);
	} else {
		IP4_ADDR(&ip, cfg->ip[0], cfg->ip[1], cfg->ip[2], cfg->ip[3]);
		ip4_addr_set_u32(&mask, lwip_htonl(~0u << (32 - cfg->prefix)));
		if (cfg->gw_set)
			IP4_ADDR(&gw, cfg->gw[0], cfg->gw[1], cfg->gw[2], cfg->gw[3]);
		else
			ip4_addr_set_zero(&gw);
	}
	if (!netif_add(&ns.netif, &ip, &mask, &gw, NULL, host_netif_init, netif_input)) {
		kprintf("netstack: lwIP refused the interface: no address\n");
		return;
	}
	netif_set_default(&ns.netif);
	netif_set_status_callback(&ns.netif, host_status);

	err = vswitch_port_add(vswitch_global(), &ns.port);
	if (err) {
		kprintf("netstack: cannot join the switch (%d): no address\n", err);
		netif_remove(&ns.netif);
		return;
	}
	__atomic_store_n(&ns.up, true, __ATOMIC_RELEASE);
	netif_set_up(&ns.netif);
	if (cfg->dhcp) {
		kprintf("netstack: MAC %02x:%02x:%02x:%02x:%02x:%02x, port %d of the switch; asking "
			"for an address by DHCP\n", m[0], m[1], m[2], m[3], m[4], m[5],
			ns.port.index);
		if (dhcp_start(&ns.netif) != ERR_OK)
			kprintf("netstack: DHCP did not start (out of memory): no address\n");
	} else {
		ip4addr_ntoa_r(&ip, a, sizeof(a));
		ip4addr_ntoa_r(&gw, g, sizeof(g));
		kprintf("netstack: %s/%u, gateway %s, MAC %02x:%02x:%02x:%02x:%02x:%02x, port %d of "
			"the switch\n", a, cfg->prefix, cfg->gw_set ? g : "none", m[0], m[1], m[2],
			m[3], m[4], m[5], ns.port.index);
	}
	api_tcp_start(cfg->api_port);
	migrate_init(cfg);
}

static u64 frame_tsc; /* netstack_frame_tsc */

u64 netstack_frame_tsc(void)
{
	return frame_tsc;
}

void netstack_poll(void)
{
	u64 now, sleep_ms;

	if (!__atomic_load_n(&ns.up, __ATOMIC_ACQUIRE))
		return;
	/* At most a ring's worth: what comes meanwhile waits for the next pass. */
	for (unsigned n = 0; n < RX_SLOTS; n++) {
		u32 tail = ns.tail;
		struct rx_slot *s;
		struct pbuf *p;

		if (tail == __atomic_load_n(&ns.head, __ATOMIC_ACQUIRE))
			break;
		s = &ns.ring[tail % RX_SLOTS];
		frame_tsc = rdtsc();
		p = pbuf_alloc(PBUF_RAW, (u16_t)s->len, PBUF_POOL);
		if (p)
			pbuf_take(p, s->data, (u16_t)s->len);
		__atomic_store_n(&ns.tail, tail + 1, __ATOMIC_RELEASE);
		if (!p) {
			ns.rx_nomem++;
			continue;
		}
		ns.rx_frames++;
		if (ns.netif.input(p, &ns.netif) != ERR_OK)
			pbuf_free(p);
		api_tcp_frame_done();
	}
	sys_check_timeouts();
	now = netstack_now_ms();
	api_tcp_poll(now);
	migrate_poll(now);
	sleep_ms = MIN((u64)sys_timeouts_sleeptime(), (u64)POLL_MAX_MS);
	__atomic_store_n(&ns.next_poll, rdtsc() + ns_to_tsc(sleep_ms * 1000000), __ATOMIC_RELEASE);
}

bool netstack_pending(void)
{
	if (!__atomic_load_n(&ns.up, __ATOMIC_ACQUIRE))
		return false;
	return __atomic_load_n(&ns.head, __ATOMIC_ACQUIRE) !=
		       __atomic_load_n(&ns.tail, __ATOMIC_ACQUIRE) ||
	       rdtsc() >= __atomic_load_n(&ns.next_poll, __ATOMIC_ACQUIRE);
}

const struct vswitch_port *netstack_port(void)
{
	return __atomic_load_n(&ns.up, __ATOMIC_ACQUIRE) ? &ns.port : NULL;
}

void netstack_report(void)
{
	char ip[IP4ADDR_STRLEN_MAX];

	if (!__atomic_load_n(&ns.up, __ATOMIC_ACQUIRE))
		return;
	/* Read on CPU 0 (the monitor): lwIP's own fields are stable here. */
	ip4addr_ntoa_r(netif_ip4_addr(&ns.netif), ip, sizeof(ip));
	kprintf("host: %s/%u%s, %lu frames received, %lu dropped (ring full), %lu without a "
		"buffer\n", ip, prefix_len(netif_ip4_netmask(&ns.netif)), ns.dhcp ? " by DHCP" : "",
		(unsigned long)ns.rx_frames,
		(unsigned long)__atomic_load_n(&ns.rx_drops, __ATOMIC_RELAXED),
		(unsigned long)ns.rx_nomem);
}
