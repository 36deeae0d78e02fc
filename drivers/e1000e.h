/*
 * The driver's core (drivers/e1000e.c) for the machine's Intel 82574 NIC
 * (PCI 8086:10D3, QEMU's e1000e): reset and set-up by the Intel 82574 GbE
 * Controller Family Datasheet, 4.6 (software initialization), one receive
 * and one transmit ring of legacy descriptors (7.1, 7.2), interrupts on one
 * MSI-X or MSI vector (7.4); also the 82540EM (8086:100E), polled (see
 * enum e1000e_model). Transport-independent and host-testable:
 * drivers/e1000e_pci.c maps the registers (BAR 0) and routes the vector.
 */
#ifndef DRIVERS_E1000E_H
#define DRIVERS_E1000E_H

#include "drivers/nic.h"
#include "hv/spinlock.h"
#include "hv/types.h"

#define E1000E_RX_RING 128
#define E1000E_TX_RING 128
#define E1000E_BUF_SIZE 2048 /* RCTL.BSIZE 00b with BSEX 0 */

/* Legacy receive descriptor (datasheet 7.1, "Legacy Receive Descriptor Format"). */
struct e1000e_rx_desc {
	u64 addr;
	u16 length;
	u16 csum;
	u8 status;
	u8 errors;
	u16 special;
};
_Static_assert(sizeof(struct e1000e_rx_desc) == 16, "82574 7.1: 16-byte RX descriptors");

/* Legacy transmit descriptor (datasheet 7.2, "Legacy Transmit Descriptor Format"). */
struct e1000e_tx_desc {
	u64 addr;
	u16 length;
	u8 cso;
	u8 cmd;
	u8 status;
	u8 css;
	u16 special;
};
_Static_assert(sizeof(struct e1000e_tx_desc) == 16, "82574 7.2: 16-byte TX descriptors");

/*
 * The models the driver knows. The 82540EM (8086:100E: QEMU's and Bochs's
 * -device e1000 / e1000:) is the older PCI part of the 8254x family (Intel
 * PCI/PCI-X Family of Gigabit Ethernet Controllers Software Developer's
 * Manual, 317453006EN, "8254x SDM" below): the same registers and legacy
 * descriptors for everything this driver does, but no MSI or MSI-X, an
 * EERD laid out differently, and none of the 82574's PCIe-only registers.
 */
enum e1000e_model {
	E1000E_82574,           /* MSI-X or MSI */
	E1000E_82540,           /* legacy INTx only: polled from CPU 0's tick */
};

struct e1000e {
	const char *name;
	volatile u8 *regs;      /* BAR 0 (e1000e_pci.c sets it) */
	enum e1000e_model model; /* set before e1000e_start (0: the 82574) */
	u16 msix_entry;         /* the MSI-X entry every cause goes to (0 with MSI) */
	struct nic nic;         /* nic.priv points back here */
	bool link_up;

	/* Receive: only poll_rx touches these, never on two CPUs at once. */
	volatile struct e1000e_rx_desc *rx;
	u8 *rx_buf;             /* rx_buf + i * E1000E_BUF_SIZE is descriptor i's */
	u32 rx_next;            /* the next descriptor the card will complete */
	bool rx_discarding;     /* inside a frame that spans buffers */
	u64 rx_errors;          /* dropped: the card flagged an error (RXERRS) */
	u64 rx_spanning;        /* dropped: did not fit in one buffer (no EOP) */
	u64 rx_bad_length;      /* dropped: a length no Ethernet frame has */

	spinlock_t tx_lock;     /* everything below; taken with interrupts off */
	volatile struct e1000e_tx_desc *tx;
	u8 *tx_buf;
	u32 tx_tail;            /* the next descriptor we fill (TDT) */
	u32 tx_clean;           /* the oldest the card may still own */
	u64 tx_frames, tx_refused;

	bool started;
	u64 interrupts;
};

/* Resets the card, reads its MAC, sets up both rings and enables
 * interrupts on e->msix_entry (an 82540: leaves them masked and sets
 * nic.tick, through which the uplink polls it). 0, or a negative errno
 * after a line. */
int e1000e_start(struct e1000e *e);
/* struct nic's operations. */
bool e1000e_xmit(struct nic *n, const void *frame, u32 len);
unsigned e1000e_poll_rx(struct nic *n, unsigned budget);
/* The MSI-X/MSI handler (ctx: the struct e1000e); an 82540's nic.tick
 * calls it too, on every tick of CPU 0, to read the causes from ICR. */
void e1000e_irq(void *ctx);

#endif
