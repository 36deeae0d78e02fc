/*
 * The hypervisor's own address (docs/platform.md, "The hypervisor's own
 * address"): lwIP's one Ethernet interface, a port of the virtual switch
 * with its own MAC and IPv4 address (hostip=, docs/config.md), which answers
 * ARP and ping and carries the management API (core/api_tcp.c).
 *
 * lwIP runs on CPU 0 alone, in netstack_poll; frames the switch delivers to
 * the port on any CPU wait in a bounded ring until then.
 */
#ifndef HV_NETSTACK_H
#define HV_NETSTACK_H

#include "hv/config.h"
#include "hv/types.h"

struct vswitch_port;

/* At boot, after the uplink: nothing at all without hostip=. */
void netstack_init(const struct host_net_config *cfg);

/* Frames that arrived, lwIP's timers, the API's connections. CPU 0's loop,
 * interrupts on, this_cpu()->in_monitor set (as the monitor's commands). */
void netstack_poll(void);

/* Whether CPU 0 should come back to its loop for netstack_poll: a frame
 * waits or a timer is due. Any context, the tick included. */
bool netstack_pending(void);

/* Milliseconds since boot (the TSC): lwIP's sys_now, the API's clock. */
u64 netstack_now_ms(void);
/* The host TSC when netstack_poll took the frame lwIP is handling now from
 * the receive ring (before its copy into a pbuf): the start of an API
 * request's timing (core/api_tcp.c, bench/README.md "Management API"). */
u64 netstack_frame_tsc(void);

/* The netstack's port on the switch, or NULL (the monitor's net). */
const struct vswitch_port *netstack_port(void);
/* One line for the monitor's net: the address and the ring's counters. */
void netstack_report(void);

#endif
