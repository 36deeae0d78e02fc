/*
 * A local APIC's whole register state as plain data (devices/vlapic.c,
 * vlapic_save/vlapic_load): what a snapshot or a vCPU state carries. Fixed
 * sizes and explicit padding, no pointers, so the layout is the same
 * wherever it is built. Times are the guest's TSC.
 */
#ifndef DEVICES_VLAPIC_STATE_H
#define DEVICES_VLAPIC_STATE_H

#include "hv/types.h"

struct vlapic_state {
	u64 apic_base;     /* IA32_APIC_BASE: EN, EXTD (x2APIC mode), BSP, base */
	u32 id;            /* xAPIC ID register (ID in bits 31:24) */
	u32 tpr, ldr, dfr, svr;
	u32 esr;           /* as the guest reads it */
	u32 esr_pending;   /* errors since the last ESR write */
	u32 icr_lo, icr_hi;
	u32 lvt[6];        /* timer, thermal, perf, LINT0, LINT1, error */
	u32 irr[8], isr[8], tmr[8];
	u32 timer_init;    /* initial count */
	u32 timer_dcr;     /* divide configuration */
	u32 timer_div;     /* divider of the running count */
	u8 nmi_pending;
	u8 pad[7];
	/* Timer, in guest TSC: the next expiry (0: disarmed), where the current
	 * period began, its length (whole ticks and the fraction in units of
	 * 1/timer_khz), the accumulated fraction, IA32_TSC_DEADLINE. */
	u64 timer_deadline, timer_start;
	u64 period_tsc, period_frac, frac;
	u64 tsc_deadline;
};

_Static_assert(sizeof(struct vlapic_state) == 232, "vlapic_state has no hidden padding");

#endif
