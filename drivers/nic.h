/*
 * The machine's network cards, as utsuwa's drivers hand them to the rest of
 * the hypervisor (core/uplink.c). A driver fills a struct nic with its MAC
 * and two operations and registers it; the first NIC registered becomes the
 * virtual switch's uplink port, so VMs reach the machine's network.
 *
 * Receiving: the driver's interrupt handler (or its tick(), for a card
 * without interrupts) calls nic_rx_interrupt(). The
 * uplink then calls poll_rx(), now or a little later (core/uplink.c says
 * when), and poll_rx() passes each received frame to nic_rx() and hands its
 * buffer back to the card. Frames are delivered into VMs from there, so a
 * driver never calls into the switch itself.
 *
 * Transmitting: xmit() copies one frame into the card's transmit ring and
 * tells the card; it runs on any CPU with interrupts off (a vCPU's exit
 * handler), possibly on several CPUs at once, so it takes the driver's lock.
 *
 * Frames are whole Ethernet frames without the FCS (14-byte header, at most
 * ETH_MAX_FRAME bytes): the card adds and strips the CRC.
 */
#ifndef DRIVERS_NIC_H
#define DRIVERS_NIC_H

#include "hv/types.h"
#include "hv/vswitch.h"

struct nic {
	/* Set by the driver before nic_register. */
	char name[16];                /* "vnet0", "e1000e0" */
	u8 mac[ETH_ALEN];             /* the card's own (from its EEPROM / config) */
	/* One frame [frame, frame+len) onto the wire; false when the transmit
	 * ring is full (the switch counts a drop). */
	bool (*xmit)(struct nic *n, const void *frame, u32 len);
	/* Handles up to budget receive completions, each good frame through
	 * nic_rx(); returns how many it handled (fewer than budget: no more).
	 * Called by the uplink with interrupts off, never on two CPUs at once. */
	unsigned (*poll_rx)(struct nic *n, unsigned budget);
	/* Only for a card without interrupts (NULL otherwise): called on CPU 0
	 * from its timer tick (SCHED_TICK_HZ), in interrupt context, as the
	 * card's interrupt handler would be, so it may call nic_rx_interrupt. */
	void (*tick)(struct nic *n);
	void *priv;                   /* the driver's */

	/* The uplink's. */
	struct vswitch_port port;
	u32 rx_pending;               /* an interrupt came while polling was unsafe */
	u32 polling;                  /* poll_rx running (at most one at a time) */
	u64 rx_frames, tx_full;
};

/* Called by a driver once its card is up: the first becomes the uplink;
 * later ones are listed and not used (one uplink for now). */
void nic_register(struct nic *n);
/* The driver's interrupt handler: frames have arrived. */
void nic_rx_interrupt(struct nic *n);
/* From poll_rx: one received frame, copied out before it returns. */
void nic_rx(struct nic *n, const void *frame, u32 len);

/* Probes, run by core/uplink.c at boot after the PCI scan. */
void virtio_net_pci_probe(void); /* drivers/virtio_net_pci.c: "vnet0", ... */
void e1000e_pci_probe(void);     /* drivers/e1000e_pci.c: "e1000e0", ... */

#endif
