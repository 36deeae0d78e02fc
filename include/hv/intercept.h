/*
 * A VM's intercept policy, in vendor-neutral form: which port accesses and
 * which MSR reads and writes leave the guest, which exceptions exit and
 * whether INVLPG does. core/intercept.c builds it once per VM; each back end
 * turns it into its own bitmaps (AMD-V: the IOPM and MSRPM, APM vol. 2, 15.10
 * and 15.11; VT-x: the I/O and MSR bitmaps, SDM vol. 3, 25.6.4 and 25.6.9).
 */
#ifndef HV_INTERCEPT_H
#define HV_INTERCEPT_H

#include "hv/types.h"

struct bus;
struct vm;

#define INTERCEPT_NR_PORTS 0x10000
/* Both bitmap formats describe MSRs in ranges of 8192 from these bases
 * (VT-x knows only the first two); every other MSR always exits. */
#define INTERCEPT_MSR_RANGE_LEN 0x2000
#define INTERCEPT_NR_MSR_RANGES 3
extern const u32 intercept_msr_range_base[INTERCEPT_NR_MSR_RANGES];

/* The machine check belongs to the host: it always exits (see handle_machine_check).
 * #UD too: after a migration between vendors the guest's hypercall may be the
 * other vendor's instruction, which faults (core/exit.c, foreign_hypercall);
 * any other #UD goes back to the guest as it came. */
#define INTERCEPT_EXC_ALWAYS (BIT(18) | BIT(6))

struct intercept_policy {
	u8 io[INTERCEPT_NR_PORTS / 8];  /* bit set: an access to the port exits */
	u8 msr_read[INTERCEPT_NR_MSR_RANGES][INTERCEPT_MSR_RANGE_LEN / 8];
	u8 msr_write[INTERCEPT_NR_MSR_RANGES][INTERCEPT_MSR_RANGE_LEN / 8];
	u32 exceptions;                 /* vectors that exit (VMEXIT_EXCEPTION) */
	bool invlpg;                    /* INVLPG exits (VMEXIT_INVLPG) */
};

/* Everything exits, no exception but #MC, no INVLPG: the safe start. */
void intercept_policy_init(struct intercept_policy *p);
/* Let the guest reach an MSR without an exit, for reads, writes or both.
 * -ERANGE for an MSR outside the three ranges (it keeps exiting). */
int intercept_pass_msr(struct intercept_policy *p, u32 msr, bool read, bool write);
/* Let the guest reach [base, base+len) of the machine's ports directly
 * (device passthrough; no VM does today). */
void intercept_pass_ports(struct intercept_policy *p, u32 base, u32 len);
/* Every port a device claims on the VM's port bus exits, whatever was passed. */
void intercept_claim_bus_ports(struct intercept_policy *p, const struct bus *pio);

/* Where msr sits in the maps: its range and index there; false outside them. */
bool intercept_msr_slot(u32 msr, unsigned *range, unsigned *index);
bool intercept_port(const struct intercept_policy *p, u16 port);
bool intercept_msr(const struct intercept_policy *p, u32 msr, bool write);

/* Per-VM policy bits, for intercept_policy_build. */
#define INTERCEPT_POLICY_INVLPG BIT(0)

/*
 * The policy every VM gets: the MSRs whose guest copy the CPU switches
 * (msr_passthrough[]) pass in both directions, every port exits (devices on
 * the port bus, or nothing there: the guest reads all ones), and the flags
 * above. exceptions are the vectors to intercept beyond #MC.
 */
void intercept_policy_build(struct intercept_policy *p, const struct bus *pio, u32 flags,
			    u32 exceptions);

/* vm->intercepts, allocated and built from the VM's port bus (vm_create,
 * before the back end's vm_init turns it into bitmaps). -ENOMEM. */
int vm_intercept_init(struct vm *vm);
/* Frees vm->intercepts (VM destroy, after the back end's maps are freed). */
void vm_intercept_free(struct vm *vm);

#endif
