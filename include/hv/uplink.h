/* The machine's NIC on the virtual switch (core/uplink.c). */
#ifndef HV_UPLINK_H
#define HV_UPLINK_H

#include "hv/types.h"

/* Probes the NIC drivers (after the PCI scan); the first NIC found joins
 * the switch as its uplink. Once, at boot. */
void uplink_init(void);
/* Receives what arrived while receiving was unsafe. CPU 0's loop, interrupts off. */
void uplink_poll_deferred(void);
/* From CPU 0's timer tick: polls an uplink that has no interrupts (an
 * 82540EM: drivers/nic.h, nic.tick). */
void uplink_tick(void);
/* The uplink NIC's own MAC into mac; false without an uplink. */
bool uplink_mac(u8 mac[6]);
/* One line for the monitor's net. */
void uplink_report(void);

#endif
