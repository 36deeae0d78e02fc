/*
 * The APIC bus of one VM: routes an interrupt message (an ICR write, an
 * IOAPIC redirection entry, an MSI) to the vLAPICs it names (SDM vol. 3A,
 * "Determining IPI Destination", "Lowest Priority Delivery Mode"; for MSI,
 * "Message Signalled Interrupts"). It holds the VM's vLAPICs by index and
 * knows nothing of vCPUs or the scheduler.
 *
 * Destinations:
 *  - physical: the APIC ID; 0xff (xAPIC) or 0xffffffff (x2APIC) is everyone.
 *  - logical, xAPIC: flat (DFR 0xf: any common bit of the 8-bit LDR) or
 *    cluster (DFR 0x0: cluster in bits 7:4 equal, a common bit in 3:0);
 *    0xff is everyone.
 *  - logical, x2APIC: cluster in bits 31:16 equal, a common bit in 15:0;
 *    0xffffffff is everyone.
 *  - an 8-bit message (IOAPIC, MSI, an xAPIC's ICR) to a vLAPIC in x2APIC
 *    mode is compared as a 32-bit one, except that 0xff stays a broadcast
 *    (as KVM does; with at most 16 vCPUs every x2APIC ID fits in 8 bits).
 *  - shorthands self, all, all-but-self (the sender is msg->src).
 * A hardware-disabled vLAPIC takes part in nothing.
 *
 * Lowest priority: of the matched vLAPICs that are software-enabled, the one
 * with the lowest PPR; among equals, round robin (the search starts after
 * the last one chosen). Real hardware arbitrates on APR or picks by vector;
 * the SDM leaves the choice to the model.
 */
#ifndef DEVICES_APIC_BUS_H
#define DEVICES_APIC_BUS_H

#include "hv/config.h"
#include "hv/types.h"
#include "devices/vlapic.h"

struct apic_bus {
	/* By index (the x2APIC ID); set up before the VM runs, read-only after. */
	struct vlapic *lapic[VM_MAX_VCPUS];
	unsigned n;    /* one past the highest index attached */
	u32 rr_next;   /* lowest-priority round robin; atomic */
};

/* Puts lapic at its index (vlapic_index). -EINVAL past VM_MAX_VCPUS,
 * -EEXIST when the slot is taken. */
int apic_bus_attach(struct apic_bus *bus, struct vlapic *lapic);

/* An empty bus (NULL when out of memory); destroy frees it, not the vLAPICs
 * attached, which belong to their vCPUs. */
struct apic_bus *apic_bus_create(void);
void apic_bus_destroy(struct apic_bus *bus);

/* Snapshot (docs/snapshot.md, "apic_bus"), in apic_bus_snap.c: the
 * lowest-priority round robin's position. The vLAPICs attached are wiring:
 * a load refuses a bus with a different count (-EINVAL, bus unchanged). */
struct snap_writer;
struct snap_cursor;
int apic_bus_save(const struct apic_bus *d, struct snap_writer *w);
int apic_bus_load(struct apic_bus *d, struct snap_cursor *c);

/* Delivers msg to every vLAPIC it names (one for lowest priority). Returns
 * how many accepted it. Takes each target's lock in turn, never two. */
unsigned apic_bus_deliver(struct apic_bus *bus, const struct apic_msg *msg);

/* The vLAPICs msg names, as a bitmap of indices, before lowest-priority
 * selection (for tests and for the IOAPIC's bookkeeping). */
u64 apic_bus_match(struct apic_bus *bus, const struct apic_msg *msg);

/*
 * An MSI (address 0xfeexxxxx, data) as a message: destination ID in address
 * bits 19:12, destination mode bit 2; vector, delivery mode, level and
 * trigger in data bits 7:0, 10:8, 14, 15. -EINVAL when the address is not in
 * the 0xfee00000 window.
 */
int apic_msi_to_msg(u64 addr, u32 data, struct apic_msg *msg);

#endif
