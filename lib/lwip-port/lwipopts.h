/*
 * lwIP's options for the hypervisor's own address (core/netstack.c,
 * docs/platform.md "The hypervisor's own address"): the raw API only
 * (NO_SYS), on one Ethernet interface, IPv4 with ARP, ICMP, UDP (DHCP) and
 * TCP (the management API, core/api_tcp.c). Every option not named here has
 * lwIP's default (src/include/lwip/opt.h).
 *
 * lwIP runs on CPU 0 alone, in its loop (netstack_poll): frames from other
 * CPUs wait in the port's own receive ring, so lwIP needs no locks.
 *
 * Memory: lwIP's own heap (MEM_SIZE) and fixed pools, static, not the
 * hypervisor's kmalloc: what the network can take is bounded here (a flood of
 * connections or out-of-order segments runs out of lwIP's pools, never of the
 * memory VMs are made from), and the API's tests can compare the hypervisor's
 * free memory before and after without lwIP's caches in it.
 */
#ifndef LWIP_PORT_LWIPOPTS_H
#define LWIP_PORT_LWIPOPTS_H

#define NO_SYS 1
#define SYS_LIGHTWEIGHT_PROT 0   /* one thread: CPU 0's loop */
#define LWIP_SOCKET 0
#define LWIP_NETCONN 0
#define LWIP_SINGLE_NETIF 1

#define LWIP_IPV4 1
#define LWIP_IPV6 0
#define LWIP_ARP 1
#define LWIP_ETHERNET 1
#define LWIP_ICMP 1
#define LWIP_RAW 0
#define LWIP_UDP 1
#define LWIP_TCP 1
#define LWIP_DHCP 1
#define LWIP_AUTOIP 0
#define LWIP_IGMP 0
#define LWIP_DNS 0
#define IP_REASSEMBLY 1
#define IP_FRAG 1
#define LWIP_NETIF_STATUS_CALLBACK 1 /* DHCP's address is logged when bound */
#define LWIP_NETIF_LINK_CALLBACK 0
#define LWIP_NETIF_HOSTNAME 1        /* the DHCP server sees "utsuwa" */
#define LWIP_STATS 0

/* Memory (see above). */
#define MEM_LIBC_MALLOC 0
#define MEMP_MEM_MALLOC 0
#define MEM_ALIGNMENT 8
#define MEM_SIZE (512 * 1024)        /* outgoing TCP data (copied: TCP_SND_BUF), ARP queue */
#define PBUF_POOL_SIZE 136           /* incoming frames, 1536 bytes each: a TCP window and more */
#define MEMP_NUM_PBUF 16
#define MEMP_NUM_RAW_PCB 0
#define MEMP_NUM_UDP_PCB 2           /* DHCP's */
#define MEMP_NUM_TCP_PCB 16          /* API_MAX_CONNS, and some in TIME_WAIT */
#define MEMP_NUM_TCP_PCB_LISTEN 2
#define MEMP_NUM_TCP_SEG 640         /* a full send queue (TCP_SND_QUEUELEN) and more */
#define MEMP_NUM_REASSDATA 4
#define MEMP_NUM_FRAG_PBUF 8
#define MEMP_NUM_ARP_QUEUE 16
#define ARP_TABLE_SIZE 16
#define ARP_QUEUEING 1

/* TCP: a window of 128 full segments (182 KiB, with window scaling,
 * RFC 7323 section 2: lwIP shifts it by TCP_RCV_SCALE) and a send buffer
 * of as many, for live migration's stream (make bench-migrate,
 * bench/README.md "Live migration": with 16 and 8 segments the source sent
 * 0.8-1 MiB/s under QEMU TCG, with 32 and 32 1.8-2.5 MiB/s, bound by the
 * round trip, not by CPU 0; with 128 and 128, 7.5-13 MiB/s). The receive
 * ring of core/netstack.c holds a window's worth of frames. */
#define LWIP_WND_SCALE 1
#define TCP_RCV_SCALE 2
#define TCP_MSS 1460
#define TCP_WND (128 * TCP_MSS)
#define TCP_SND_BUF (128 * TCP_MSS)
#define TCP_SND_QUEUELEN (4 * TCP_SND_BUF / TCP_MSS)
#define TCP_SNDLOWAT (32 * TCP_MSS)  /* lwIP keeps it below 64 KiB (a u16_t) */
#define TCP_QUEUE_OOSEQ 1
#define TCP_OOSEQ_MAX_PBUFS 8        /* out-of-order segments held per connection */
#define TCP_LISTEN_BACKLOG 1
#define TCP_DEFAULT_LISTEN_BACKLOG 8

#define LWIP_CHECKSUM_ON_COPY 1

#endif
