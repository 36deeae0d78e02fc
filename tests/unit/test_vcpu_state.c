/* vcpu_state_check (core/vcpu_state_check.c): states a guest can reach pass,
 * each way of being unreachable is refused. */
#include "unit.h"
#include "hv/vcpu_state.h"
#include "hv/guest_ctx.h"

#include <string.h>

static struct vcpu_state_seg seg(u16 sel, u64 base, u32 limit, u16 attr)
{
	return (struct vcpu_state_seg){ .base = base, .limit = limit, .sel = sel, .attr = attr };
}

static void fxsave_defaults(struct vcpu_state *s)
{
	u16 fcw = 0x37f;
	u32 mxcsr = 0x1f80;

	memcpy(s->fxsave, &fcw, 2);
	memcpy(s->fxsave + 24, &mxcsr, 4);
}

/* What Linux's vCPU looks like in its kernel: 64-bit, paging, SYSCALL set up. */
static struct vcpu_state long_mode(void)
{
	struct vcpu_state s;

	memset(&s, 0, sizeof(s));
	s.version = VCPU_STATE_VERSION;
	s.rip = 0xffffffff81000123ull;
	s.rflags = RFLAGS_FIXED | RFLAGS_IF | RFLAGS_ZF;
	s.cs = seg(0x10, 0, 0xffffffff, 0xa9b);
	s.ss = s.ds = s.es = seg(0x18, 0, 0xffffffff, 0xc93);
	s.fs = seg(0, 0x7f0012340000ull, 0xffffffff, 0);
	s.gs = seg(0, 0xffff888007a00000ull, 0xffffffff, 0);
	s.tr = seg(0x40, 0xfffffe0000003000ull, 0x4087, 0x8b);
	s.ldtr = seg(0, 0, 0, 0);
	s.gdtr.base = 0xfffffe0000001000ull;
	s.gdtr.limit = 0x7f;
	s.idtr.base = 0xfffffe0000000000ull;
	s.idtr.limit = 0xfff;
	s.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_PG;
	s.cr3 = 0x1234000;
	s.cr4 = CR4_PAE | CR4_PGE | CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_PSE;
	s.cr8 = 0;
	s.dr6 = 0xffff0ff0;
	s.dr7 = 0x400;
	s.dr[0] = 0xffffffff81234567ull;
	s.msrs.efer = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;
	s.msrs.pat = 0x0407050600070106ull;
	s.msrs.star = 0x0023001000000000ull;
	s.msrs.lstar = 0xffffffff81a00000ull;
	s.msrs.cstar = 0xffffffff81a01000ull;
	s.msrs.sfmask = 0x47700;
	s.msrs.kernel_gs_base = 0;
	s.msrs.mtrr_def_type = 0xc06;
	s.msrs.kvm_system_time = 0x3000001;
	s.msrs.misc_enable = 0x1808;        /* TCC on, fast strings off; BTS/PEBS unavailable */
	s.msrs.amd_perf[0] = 0x0000000f00530076ull; /* EventSelect 0xf76, USR, OS, EN */
	s.msrs.amd_perf[4] = 0x0000ffffffffffffull;
	fxsave_defaults(&s);
	s.has_lapic = 1;
	s.lapic.tpr = 0;
	s.irq_pending[1] = 1ull << 3; /* vector 67 */
	s.timer_deadline = 123456;
	s.timer_vector = 0x40;
	return s;
}

/* Power-on (SDM vol. 3, Table 10-1): real mode at F000:FFF0. */
static struct vcpu_state power_on(void)
{
	struct vcpu_state s;

	memset(&s, 0, sizeof(s));
	s.version = VCPU_STATE_VERSION;
	s.rip = 0xfff0;
	s.rflags = 2;
	s.cs = seg(0xf000, 0xffff0000, 0xffff, 0x9b);
	s.ds = s.es = s.fs = s.gs = s.ss = seg(0, 0, 0xffff, 0x93);
	s.tr = seg(0, 0, 0xffff, 0x8b);
	s.ldtr = seg(0, 0, 0xffff, 0x82);
	s.gdtr.limit = s.idtr.limit = 0xffff;
	s.cr0 = 0x60000010;
	s.dr6 = 0xffff0ff0;
	s.dr7 = 0x400;
	s.msrs.pat = 0x0007040600070406ull;
	s.msrs.misc_enable = 0x1801;
	fxsave_defaults(&s);
	return s;
}

TEST(reachable_states_pass)
{
	struct vcpu_state s = long_mode();

	CHECK_EQ(vcpu_state_check(&s), 0);
	s = power_on();
	CHECK_EQ(vcpu_state_check(&s), 0);
	/* 32-bit protected mode with paging, no long mode. */
	s = power_on();
	s.cr0 = CR0_PE | CR0_PG | CR0_ET;
	s.cs = seg(8, 0, 0xffffffff, 0xc9b);
	s.rip = 0xc0001000;
	CHECK_EQ(vcpu_state_check(&s), 0);
	/* An exception with its error code waiting to be delivered, an STI shadow. */
	s = long_mode();
	s.event = (struct vcpu_state_event){ .valid = 1, .type = VCPU_EVENT_HW_EXCEPTION,
					     .vector = 14, .has_error = 1, .error = 2 };
	s.shadow = VCPU_SHADOW_STI;
	CHECK_EQ(vcpu_state_check(&s), 0);
	/* An external interrupt mid-delivery; halted with IF clear. */
	s = long_mode();
	s.event = (struct vcpu_state_event){ .valid = 1, .type = VCPU_EVENT_EXT_INTR, .vector = 0x30 };
	s.activity = VCPU_ACTIVITY_HALTED;
	CHECK_EQ(vcpu_state_check(&s), 0);
	s = long_mode();
	s.rflags &= ~RFLAGS_IF;
	s.activity = VCPU_ACTIVITY_HALTED;
	s.halted_if0 = 1;
	CHECK_EQ(vcpu_state_check(&s), 0);
	/* 5-level paging allows 57-bit canonical addresses. */
	s = long_mode();
	s.cr4 |= CR4_LA57;
	s.msrs.lstar = 0xff00000000001000ull;
	CHECK_EQ(vcpu_state_check(&s), 0);
}

TEST(unreachable_states_refused)
{
	struct vcpu_state good = long_mode(), s;
	int refused = 0, cases = 0;
	u32 mxcsr = 0x11f80;

#define BAD(...)                                            \
	do {                                                \
		s = good;                                   \
		__VA_ARGS__;                                \
		cases++;                                    \
		if (vcpu_state_check(&s) == -EINVAL)        \
			refused++;                          \
		else                                        \
			fprintf(stderr, "accepted: %s\n", #__VA_ARGS__); \
	} while (0)
	BAD(s.version = VCPU_STATE_VERSION + 1);
	BAD(s.rip = 0x0000800000000000ull);          /* non-canonical in 64-bit code */
	BAD(s.cs.attr = 0x49b; s.rip = 0x100000000ull); /* 32-bit code above 4 GiB */
	BAD(s.cs.attr |= SEG_ATTR_DB);               /* L and D both set */
	BAD(s.rflags &= ~RFLAGS_FIXED);
	BAD(s.rflags |= 1ull << 22);
	BAD(s.rflags |= 1ull << 15);
	BAD(s.cr0 |= 1ull << 32);
	BAD(s.cr0 |= 1ull << 7);
	BAD(s.cr0 &= ~CR0_PE);                       /* PG without PE */
	BAD(s.cr0 |= CR0_NW);                        /* NW without CD */
	BAD(s.cr4 |= CR4_VMXE);
	BAD(s.cr4 |= 1ull << 25);
	BAD(s.cr4 &= ~CR4_PAE);                      /* long mode without PAE */
	BAD(s.cr8 = 16);
	BAD(s.cr8 = 2);                              /* not the APIC's TPR */
	BAD(s.msrs.efer |= EFER_SVME);
	BAD(s.msrs.efer &= ~EFER_LMA);               /* LME and PG, yet no LMA */
	BAD(s.msrs.efer &= ~EFER_LME);               /* LMA without LME */
	BAD(s.msrs.pat = 0x0007040600070402ull);     /* type 2 */
	BAD(s.msrs.pat = 0x0007040600070408ull);
	BAD(s.msrs.tsc_aux = 1ull << 32);
	BAD(s.msrs.debugctl = 1);
	BAD(s.msrs.sfmask = 1ull << 32);
	BAD(s.msrs.mtrr_def_type = 0xc02);
	BAD(s.msrs.mtrr_def_type = 0x1006);
	BAD(s.msrs.mtrr_var[2] = 3);
	BAD(s.msrs.mtrr_fixed[4] = 0x0606060606060607ull);
	BAD(s.msrs.kvm_system_time = 0x3000003);
	BAD(s.msrs.kvm_wall_clock = 0x3000002);
	BAD(s.msrs.lstar = 0x0000800000000000ull);
	BAD(s.msrs.kernel_gs_base = 0x8000000000000000ull);
	BAD(s.msrs.misc_enable = 0);                  /* BTS/PEBS unavailable are read-only 1 */
	BAD(s.msrs.misc_enable |= 1ull << 22);        /* limit CPUID maxval: not modelled */
	BAD(s.msrs.misc_enable |= 1ull << 7);         /* no PMU to say is available */
	BAD(s.msrs.amd_perf[1] = 1ull << 21);         /* PerfEvtSel reserved */
	BAD(s.msrs.amd_perf[3] = 1ull << 40);         /* HostOnly: the guest has no SVM */
	BAD(s.msrs.amd_perf[7] = 1ull << 48);         /* PerfCtr is 48 bits */
	BAD(s.fs.base = 0x0001000000000000ull);
	BAD(s.gdtr.base = 0x00f0000000000000ull);
	BAD(s.idtr.limit = 0x10000);
	BAD(s.gdtr.pad = 1);
	BAD(s.dr[3] = 0x0000800000000000ull);        /* MOV to DR3 would #GP */
	BAD(s.dr6 = 1ull << 32);
	BAD(s.dr7 |= 1ull << 32);
	BAD(s.pending_dbg = 1ull << 40);
	BAD(memcpy(s.fxsave + 24, &mxcsr, 4));       /* FXRSTOR would #GP */
	BAD(s.shadow = 4);
	BAD(s.shadow = VCPU_SHADOW_STI | VCPU_SHADOW_MOV_SS);
	BAD(s.shadow = VCPU_SHADOW_STI; s.rflags &= ~RFLAGS_IF); /* STI left IF set */
	BAD(s.nmi_blocked = 2);
	BAD(s.activity = 3);
	BAD(s.halted_if0 = 1);                       /* not halted */
	BAD(s.init_pending = 2);
	BAD(s.irq_pending[0] = 1u << 8);             /* vector 8 */
	BAD(s.timer_vector = 8);
	BAD(s.pad2[3] = 1);
	BAD(s.event.type = 1; s.event.vector = 1);   /* no event has type 1 */
	BAD(s.event.vector = 5);                     /* not valid, yet a vector */
	BAD(s.event = (struct vcpu_state_event){ .valid = 2, .type = 3, .vector = 13 });
	BAD(s.event = (struct vcpu_state_event){ .valid = 1, .type = 3, .vector = 32 });
	BAD(s.event = (struct vcpu_state_event){ .valid = 1, .type = 3, .vector = 2 });
	BAD(s.event = (struct vcpu_state_event){ .valid = 1, .type = 3, .vector = 6, .has_error = 1 });
	BAD(s.event = (struct vcpu_state_event){ .valid = 1, .type = 2, .vector = 3 });
	BAD(s.event = (struct vcpu_state_event){ .valid = 1, .type = 0, .vector = 0x30, .has_error = 1 });
	BAD(s.event = (struct vcpu_state_event){ .valid = 1, .type = 0, .vector = 0x30 };
	    s.rflags &= ~RFLAGS_IF);                 /* an interrupt with IF clear */
	BAD(s.event = (struct vcpu_state_event){ .valid = 1, .type = 0, .vector = 0x30 };
	    s.shadow = VCPU_SHADOW_MOV_SS);
	BAD(s.event = (struct vcpu_state_event){ .valid = 1, .type = 6, .vector = 5 });
	BAD(s.event = (struct vcpu_state_event){ .valid = 1, .type = 4, .vector = 0x80, .insn_len = 16 });
	CHECK_EQ(refused, cases);
	CHECK_EQ(cases, 69);
}

/* An error code in real mode: no such delivery. */
TEST(real_mode_error_code_refused)
{
	struct vcpu_state s = power_on();

	s.event = (struct vcpu_state_event){ .valid = 1, .type = 3, .vector = 13, .has_error = 1 };
	CHECK_EQ(vcpu_state_check(&s), -EINVAL);
	s.event.has_error = 0;
	CHECK_EQ(vcpu_state_check(&s), 0);
}

int main(void)
{
	RUN(reachable_states_pass);
	RUN(unreachable_states_refused);
	RUN(real_mode_error_code_refused);
	return unit_done();
}
