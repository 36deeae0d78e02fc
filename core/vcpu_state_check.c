/*
 * Is a vCPU state one a guest could have reached (include/hv/vcpu_state.h)?
 * A restored or migrated state comes from outside: what the CPU would
 * refuse to load (a fault in the hypervisor's own MOV DR or FXRSTOR, a
 * failed VM entry) or what no instruction of the guest could produce is
 * refused here, before anything changes.
 */
#include "hv/vcpu_state.h"
#include "hv/guest_ctx.h"
#include "arch/x86/emul/msr.h"

/* RFLAGS bits that read as 0 (SDM vol. 1, 3.4.3): 3, 5, 15, 22-63. */
#define RFLAGS_RESERVED (BIT(3) | BIT(5) | BIT(15) | ~0x3fffffULL)
/* CR0 bits a guest can set (SDM vol. 3, 2.5): PE MP EM TS ET NE WP AM NW CD PG. */
#define CR0_KNOWN (CR0_PE | CR0_MP | CR0_EM | CR0_TS | CR0_ET | CR0_NE | CR0_WP | CR0_AM | \
		   CR0_NW | CR0_CD | CR0_PG)
/* CR4 bits a guest can set: VME .. LA57, FSGSBASE, PCIDE, OSXSAVE, SMEP,
 * SMAP, PKE. Never VMXE: guests are shown no VMX. */
#define CR4_KNOWN (0x1fffULL | BIT(16) | BIT(17) | BIT(18) | CR4_SMEP | CR4_SMAP | CR4_PKE)
/* EFER bits the MSR policy lets a guest write (msr_state). */
#define EFER_KNOWN (EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE)
/* MXCSR bits every x86-64 CPU implements (flags, masks, RC, FZ, DAZ):
 * FXRSTOR faults on the others (SDM vol. 1, 10.5.1.1). */
#define MXCSR_KNOWN 0xffffu
#define FXSAVE_MXCSR 24

static bool canonical(u64 addr, bool la57)
{
	unsigned bits = la57 ? 57 : 48;

	return (u64)((s64)(addr << (64 - bits)) >> (64 - bits)) == addr;
}

/* Memory types a PAT entry or MTRR may hold: UC 0, WC 1, WT 4, WP 5, WB 6,
 * and for the PAT also UC- 7. */
static bool types_ok(u64 val, unsigned n, bool pat)
{
	for (unsigned i = 0; i < n; i++) {
		u8 t = (u8)(val >> (8 * i));

		if (t == 2 || t == 3 || t > (pat ? 7 : 6))
			return false;
	}
	return true;
}

static bool regs_ok(const struct vcpu_state *s)
{
	bool lma = s->msrs.efer & EFER_LMA;
	bool code64 = lma && (s->cs.attr & SEG_ATTR_L);

	if ((s->rflags & RFLAGS_RESERVED) || !(s->rflags & RFLAGS_FIXED))
		return false;
	if ((s->cr0 & ~CR0_KNOWN) || ((s->cr0 & CR0_PG) && !(s->cr0 & CR0_PE)) ||
	    ((s->cr0 & CR0_NW) && !(s->cr0 & CR0_CD)))
		return false;
	if ((s->cr4 & ~CR4_KNOWN) || s->cr8 > 15)
		return false;
	if ((s->msrs.efer & ~EFER_KNOWN) ||
	    lma != ((s->msrs.efer & EFER_LME) && (s->cr0 & CR0_PG)) ||
	    (lma && !(s->cr4 & CR4_PAE)))
		return false;
	/* A 64-bit code segment has D clear; RIP is canonical in it, below
	 * 4 GiB in any other. */
	if (code64 ? (s->cs.attr & SEG_ATTR_DB) || !canonical(s->rip, s->cr4 & CR4_LA57)
		   : s->rip >> 32)
		return false;
	return true;
}

/* Addresses the CPU loads only canonical (WRMSR, LGDT/LIDT in 64-bit mode,
 * MOV to DR): also what the hypervisor's own MOV DR writes. */
static bool addresses_ok(const struct vcpu_state *s)
{
	bool la57 = s->cr4 & CR4_LA57;
	const u64 addrs[] = {
		s->fs.base, s->gs.base, s->tr.base, s->ldtr.base, s->gdtr.base, s->idtr.base,
		s->msrs.kernel_gs_base, s->msrs.lstar, s->msrs.cstar, s->msrs.sysenter_esp,
		s->msrs.sysenter_eip, s->dr[0], s->dr[1], s->dr[2], s->dr[3],
	};

	for (unsigned i = 0; i < ARRAY_SIZE(addrs); i++)
		if (!canonical(addrs[i], la57))
			return false;
	return s->gdtr.limit <= 0xffff && s->idtr.limit <= 0xffff && !s->gdtr.pad && !s->idtr.pad;
}

static bool msrs_ok(const struct vcpu_state *s)
{
	const struct vcpu_state_msrs *m = &s->msrs;

	if (!types_ok(m->pat, 8, true) || (m->tsc_aux >> 32) || m->debugctl ||
	    (m->sfmask >> 32))
		return false;
	if ((m->mtrr_def_type & ~0xcffULL) || !types_ok(m->mtrr_def_type, 1, false))
		return false;
	for (unsigned i = 0; i < ARRAY_SIZE(m->mtrr_var); i += 2)
		if (!types_ok(m->mtrr_var[i], 1, false))
			return false;
	for (unsigned i = 0; i < ARRAY_SIZE(m->mtrr_fixed); i++)
		if (!types_ok(m->mtrr_fixed[i], 8, false))
			return false;
	if (!msr_misc_enable_valid(m->misc_enable))
		return false;
	for (u32 i = 0; i < ARRAY_SIZE(m->amd_perf); i++)
		if (!msr_amd_perf_valid(i, m->amd_perf[i]))
			return false;
	/* kvmclock structures are 4-byte aligned (msr.c's kvmclock_write). */
	return !(m->kvm_system_time & 2) && !(m->kvm_wall_clock & 3);
}

/* DR6 and DR7 bits 63:32 fault on MOV to DR (SDM vol. 3, 19.2.4) and fail
 * VM entry or VMRUN. Their fixed low bits (DR7 bit 10 reads 1, ...) are
 * not checked: emulators store what the guest wrote. */
static bool debug_ok(const struct vcpu_state *s)
{
	return !(s->dr6 >> 32) && !(s->dr7 >> 32) && !(s->pending_dbg >> 32);
}

/* Vectors an exception may carry an error code with (SDM vol. 3, 6.13). */
static bool has_error_code(u8 vector)
{
	return vector == 8 || (vector >= 10 && vector <= 14) || vector == 17 || vector == 21;
}

/* The VM-entry checks of SDM vol. 3, 27.2.1.3 and 27.3.1.5, which AMD-V's
 * EVENTINJ (APM vol. 2, 15.20) also satisfies. */
static bool events_ok(const struct vcpu_state *s)
{
	const struct vcpu_state_event *e = &s->event;
	bool if_set = s->rflags & RFLAGS_IF;

	if (s->shadow & ~(VCPU_SHADOW_STI | VCPU_SHADOW_MOV_SS) ||
	    s->shadow == (VCPU_SHADOW_STI | VCPU_SHADOW_MOV_SS) ||
	    ((s->shadow & VCPU_SHADOW_STI) && !if_set))
		return false;
	if (s->nmi_blocked > 1 || s->activity > VCPU_ACTIVITY_WAIT_SIPI || s->halted_if0 > 1 ||
	    (s->halted_if0 && s->activity != VCPU_ACTIVITY_HALTED) || s->has_lapic > 1 ||
	    s->init_pending > 1 || s->sipi_pending > 1)
		return false;
	if ((s->irq_pending[0] & 0xffff) || (s->timer_deadline && s->timer_vector < 16))
		return false;
	if (!e->valid)
		return !e->type && !e->vector && !e->has_error && !e->error && !e->insn_len && !e->pad;
	if (e->valid != 1 || e->has_error > 1 || e->pad || e->insn_len > 15)
		return false;
	switch (e->type) {
	case VCPU_EVENT_EXT_INTR:
		return !e->has_error && if_set && !s->shadow;
	case VCPU_EVENT_NMI:
		return e->vector == 2 && !e->has_error;
	case VCPU_EVENT_HW_EXCEPTION:
		return e->vector < 32 && e->vector != 2 &&
		       (!e->has_error || (has_error_code(e->vector) && (s->cr0 & CR0_PE)));
	case VCPU_EVENT_SW_INTR:
		return !e->has_error;
	case VCPU_EVENT_PRIV_SW_EXCEPTION:
		return e->vector == 1 && !e->has_error;
	case VCPU_EVENT_SW_EXCEPTION:
		return (e->vector == 3 || e->vector == 4) && !e->has_error;
	}
	return false;
}

static bool padding_zero(const struct vcpu_state *s)
{
	for (unsigned i = 0; i < sizeof(s->pad2); i++)
		if (s->pad2[i])
			return false;
	return true;
}

int vcpu_state_check(const struct vcpu_state *s)
{
	u32 mxcsr;

	__builtin_memcpy(&mxcsr, s->fxsave + FXSAVE_MXCSR, sizeof(mxcsr));
	if (s->version != VCPU_STATE_VERSION || !regs_ok(s) || !addresses_ok(s) || !msrs_ok(s) ||
	    !debug_ok(s) || !events_ok(s) || !padding_zero(s) || (mxcsr & ~MXCSR_KNOWN))
		return -EINVAL;
	if (s->has_lapic && s->cr8 != s->lapic.tpr >> 4)
		return -EINVAL; /* CR8 is the APIC's TPR[7:4] */
	return 0;
}
