/*
 * conform: the CPU a guest sees behaves as the SDM and APM say, or as
 * docs/cpu.md says utsuwa differs on purpose (long mode, one vCPU).
 *
 *   - hypercalls from CPL 3 return HC_EPERM and do nothing; the VM goes on
 *   - HC_EXIT with a code that is no int is refused (HC_EINVAL)
 *   - WRMSR to EFER clearing LME in long mode: #GP, EFER unchanged
 *   - MOV to CR4 of OSXSAVE, PKE or CET while CPUID hides XSAVE, PKU and
 *     CET: #GP; CPUID offers no CET, whose MSRs #GP
 *   - IA32_MISC_ENABLE keeps its writable bits, #GP for unmodelled ones
 *   - CPUID.1:EDX.APIC follows IA32_APIC_BASE.EN; the APIC moves with its
 *     base MSR and back
 *   - WRMSR of a non-canonical FS/GS/KernelGS base: #GP
 *   - XGETBV without OSXSAVE, MONITOR and RDTSCP when hidden: #UD
 *   - an injected fault's frame has RFLAGS.RF set
 *   - AMD's PerfEvtSel0-3/PerfCtr0-3 hold values and do not count (AMD
 *     vendor); no architectural PMU on Intel (CPUID 0xA version 0, #GP)
 *   - those MSRs survive the vCPU state round trip (HC_TEST_VSTATE)
 *
 * arg = 1: once every check passed, end with HC_EXIT(-3) passed as a
 * sign-extended 64-bit RBX (the matrix expects -3); otherwise return the
 * number of failures.
 */
#include "guest.h"

#define MSR_IA32_APIC_BASE 0x1b
#define MSR_IA32_PMC0 0xc1
#define MSR_IA32_PERFEVTSEL0 0x186
#define MSR_IA32_MISC_ENABLE 0x1a0
#define MSR_IA32_U_CET 0x6a0
#define MSR_IA32_S_CET 0x6a2
#define MSR_EFER 0xc0000080
#define MSR_AMD_PERF_EVTSEL0 0xc0010000
#define MSR_AMD_PERF_CTR0 0xc0010004
#define MSR_AMD_PERF_CTL_EXT0 0xc0010200 /* PerfCtrExtCore, not offered */

#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)
#define EFER_NXE (1ULL << 11)
#define CR4_OSXSAVE (1ULL << 18)
#define CR4_PKE (1ULL << 22)
#define CR4_CET (1ULL << 23)
#define RFLAGS_RF (1ULL << 16)
#define APIC_BASE_EN (1ULL << 11)

static bool amd;

static u64 rdmsr_or(u32 msr, u64 dflt)
{
	u64 v;

	return rdmsr_safe(msr, &v) < 0 ? v : dflt;
}

static u64 read_cr4(void)
{
	u64 v;

	__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

static int write_cr4_safe(u64 v)
{
	ulong vector = (ulong)-1, error = 0;

	__asm__ volatile("1: mov %2, %%cr4\n2:\n\t" EXTABLE(1b, 2b)
			 : "+S"(vector), "+D"(error) : "r"(v) : "memory");
	return (int)vector;
}

/* ---- hypercalls from CPL 3 ---- */

static const char user_text[] = "FAIL this line was written from CPL 3\n";
static volatile s64 user_ret[4];
static volatile u64 user_cs;

static void user_main(void)
{
	u64 cs;

	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	user_cs = cs;
	user_ret[0] = hypercall(HC_CONSOLE_WRITE, (ulong)user_text, sizeof(user_text) - 1, 0, 0,
				NULL);
	user_ret[1] = hypercall(HC_EXIT, 99, 0, 0, 0, NULL);
	user_ret[2] = hypercall(HC_NOP, 0, 0, 0, 0, NULL);
	user_ret[3] = hypercall(HC_TIME_NS, 0, 0, 0, 0, NULL);
	ring3_return();
}

static void check_ring3_hypercalls(void)
{
	ring3_setup();
	ring3_run(user_main);
	check_eq("ring3_ran_at_cpl3", user_cs & 3, 3);
	check_eq("ring3_console_write_refused", (u64)user_ret[0], (u64)HC_EPERM);
	check_eq("ring3_exit_refused", (u64)user_ret[1], (u64)HC_EPERM);
	check_eq("ring3_nop_refused", (u64)user_ret[2], (u64)HC_EPERM);
	check_eq("ring3_time_refused", (u64)user_ret[3], (u64)HC_EPERM);
	/* Still here, and CPL 0 may call. */
	check_eq("ring0_nop_after_ring3", (u64)hypercall(HC_NOP, 0, 0, 0, 0, NULL), 0);
}

/* ---- HC_EXIT codes that are no int ---- */

static void check_exit_codes(void)
{
	check_eq("hc_exit_2^32_refused", (u64)hypercall(HC_EXIT, 1ULL << 32, 0, 0, 0, NULL),
		 (u64)HC_EINVAL);
	check_eq("hc_exit_2^32+5_refused",
		 (u64)hypercall(HC_EXIT, (1ULL << 32) + 5, 0, 0, 0, NULL), (u64)HC_EINVAL);
	check_eq("hc_exit_2^63_refused", (u64)hypercall(HC_EXIT, 1ULL << 63, 0, 0, 0, NULL),
		 (u64)HC_EINVAL);
	check_eq("hc_exit_-2^31-1_refused",
		 (u64)hypercall(HC_EXIT, (u64)-0x80000001LL, 0, 0, 0, NULL), (u64)HC_EINVAL);
}

/* ---- EFER ---- */

static void check_efer(void)
{
	u64 efer = rdmsr_or(MSR_EFER, 0), now;

	check_eq("efer_long_mode", efer & (EFER_LME | EFER_LMA), EFER_LME | EFER_LMA);
	/* SDM vol. 3, 10.8.5 / APM vol. 2, 3.1.7: LME may not change with paging on. */
	check_eq("efer_clear_lme_in_long_mode_gp", (u64)wrmsr_safe(MSR_EFER, efer & ~EFER_LME), 13);
	check_eq("efer_clear_lme_and_lma_gp",
		 (u64)wrmsr_safe(MSR_EFER, efer & ~(EFER_LME | EFER_LMA)), 13);
	check_eq("efer_unchanged_after_gp", rdmsr_or(MSR_EFER, 0), efer);
	/* LMA is the CPU's: writing it 0 with LME kept is no change. */
	check_eq("efer_write_lma_0_ok", (u64)wrmsr_safe(MSR_EFER, efer & ~EFER_LMA), (u64)-1);
	now = rdmsr_or(MSR_EFER, 0);
	check_eq("efer_lma_kept", now, efer);
}

/* ---- CR4 and CPUID agree ---- */

static void check_cr4_and_cet(void)
{
	u64 cr4 = read_cr4();
	u32 r1[4], r7[4] = { 0, 0, 0, 0 }, r0[4];

	cpuid(0, 0, r0);
	cpuid(1, 0, r1);
	if (r0[0] >= 7)
		cpuid(7, 0, r7);
	check_eq("cpuid_xsave_hidden", r1[2] & (1u << 26), 0);
	check_eq("cpuid_pku_hidden", r7[2] & (1u << 3), 0);
	check_eq("cpuid_cet_ss_hidden", r7[2] & (1u << 7), 0);
	check_eq("cpuid_cet_ibt_hidden", r7[3] & (1u << 20), 0);
	check_eq("cr4_osxsave_gp", (u64)write_cr4_safe(cr4 | CR4_OSXSAVE), 13);
	check_eq("cr4_pke_gp", (u64)write_cr4_safe(cr4 | CR4_PKE), 13);
	check_eq("cr4_cet_gp", (u64)write_cr4_safe(cr4 | CR4_CET), 13);
	check_eq("cr4_unchanged", read_cr4(), cr4);
	check_eq("cr4_same_value_ok", (u64)write_cr4_safe(cr4), (u64)-1);
	/* What CPUID offers, CR4 takes. */
	if (r7[1] & 1) { /* FSGSBASE */
		check_eq("cr4_fsgsbase_ok", (u64)write_cr4_safe(cr4 | (1ULL << 16)), (u64)-1);
		check_eq("cr4_fsgsbase_set", read_cr4(), cr4 | (1ULL << 16));
		write_cr4_safe(cr4);
	}
	/* No CET offered, none there. */
	check_eq("u_cet_gp", (u64)rdmsr_safe(MSR_IA32_U_CET, &(u64){ 0 }), 13);
	check_eq("s_cet_gp", (u64)rdmsr_safe(MSR_IA32_S_CET, &(u64){ 0 }), 13);
}

/* ---- IA32_MISC_ENABLE ---- */

static void check_misc_enable(void)
{
	u64 v = rdmsr_or(MSR_IA32_MISC_ENABLE, ~0ULL);

	check_eq("misc_enable_reset", v, 0x1801); /* fast strings; BTS, PEBS unavailable */
	check_eq("misc_enable_write", (u64)wrmsr_safe(MSR_IA32_MISC_ENABLE, 0x1808), (u64)-1);
	check_eq("misc_enable_kept", rdmsr_or(MSR_IA32_MISC_ENABLE, 0), 0x1808);
	check_eq("misc_enable_ro_ignored", (u64)wrmsr_safe(MSR_IA32_MISC_ENABLE, 0x0089), (u64)-1);
	check_eq("misc_enable_ro_kept", rdmsr_or(MSR_IA32_MISC_ENABLE, 0), 0x1809);
	check_eq("misc_enable_limit_cpuid_gp",
		 (u64)wrmsr_safe(MSR_IA32_MISC_ENABLE, 0x1809 | (1ULL << 22)), 13);
	check_eq("misc_enable_reserved_gp",
		 (u64)wrmsr_safe(MSR_IA32_MISC_ENABLE, 0x1809 | (1ULL << 40)), 13);
	check_eq("misc_enable_after_gp", rdmsr_or(MSR_IA32_MISC_ENABLE, 0), 0x1809);
	wrmsr_safe(MSR_IA32_MISC_ENABLE, 0x1808); /* for the vCPU state check */
}

/* ---- the CPUID APIC bit ---- */

static bool cpuid_apic(void)
{
	u32 r[4];

	cpuid(1, 0, r);
	return r[3] & (1u << 9);
}

static void check_apic_bit(void)
{
	u64 base = rdmsr_or(MSR_IA32_APIC_BASE, 0);

	check(base & APIC_BASE_EN, "apic_enabled", "IA32_APIC_BASE %#llx", base);
	check_eq("cpuid_apic_while_enabled", cpuid_apic(), 1);
	check_eq("apic_disable", (u64)wrmsr_safe(MSR_IA32_APIC_BASE, base & ~APIC_BASE_EN),
		 (u64)-1);
	check_eq("cpuid_apic_while_disabled", cpuid_apic(), 0);
	check_eq("apic_enable_again", (u64)wrmsr_safe(MSR_IA32_APIC_BASE, base), (u64)-1);
	check_eq("cpuid_apic_enabled_again", cpuid_apic(), 1);
}

/*
 * Item 6 of issue 15: the APIC moved by IA32_APIC_BASE answers at its new
 * base and nothing at the old (SDM vol. 3, 11.4.4, "Local APIC Status and
 * Location"), then moves back.
 */
static void check_apic_relocation(void)
{
	u64 base = rdmsr_or(MSR_IA32_APIC_BASE, 0);
	u64 moved = (base & 0xfff) | 0xfef00000ull;
	u32 version = mmio_read32(0xfee00030);

	check_eq("apic_relocate", (u64)wrmsr_safe(MSR_IA32_APIC_BASE, moved), (u64)-1);
	check_eq("apic_version_at_new_base", mmio_read32(0xfef00030), version);
	check_eq("apic_old_base_empty", mmio_read32(0xfee00030), 0xffffffff);
	check_eq("apic_move_back", (u64)wrmsr_safe(MSR_IA32_APIC_BASE, base), (u64)-1);
	check_eq("apic_version_back", mmio_read32(0xfee00030), version);
}

/*
 * WRMSR of a non-canonical FS, GS or KernelGS base: #GP (SDM vol. 4 / APM
 * vol. 2, the segment base MSRs), the base unchanged. These MSRs are the
 * guest's own (not intercepted, docs/cpu.md), so the CPU checks: an AMD CPU
 * does, QEMU's TCG does not (it stores the value). Checked on VT-x (Bochs);
 * on AMD-V only said.
 */
static void check_canonical_bases(void)
{
	static const u32 msrs[] = { 0xc0000100, 0xc0000101, 0xc0000102 };
	static const char *const names[] = { "fs_base_noncanonical_gp", "gs_base_noncanonical_gp",
					      "kernel_gs_base_noncanonical_gp" };

	if (amd) {
		u64 was = rdmsr_or(msrs[0], 1);
		int vec = wrmsr_safe(msrs[0], 0x0000800000000000ull);

		printf("conform: non-canonical FS base: %s (the CPU's own check; QEMU's TCG has none)\n",
		       vec == 13 ? "#GP" : "taken");
		wrmsr_safe(msrs[0], was);
		return;
	}
	for (unsigned i = 0; i < 3; i++) {
		u64 was = rdmsr_or(msrs[i], 1);

		check_eq(names[i], (u64)wrmsr_safe(msrs[i], 0x0000800000000000ull), 13);
		check_eq("base_msr_unchanged", rdmsr_or(msrs[i], 1), was);
	}
}

/* Instructions CPUID does not offer: #UD (SDM vol. 2: each one's "Protected
 * Mode Exceptions"). XGETBV needs CR4.OSXSAVE, which XSAVE's absence keeps
 * clear; MONITOR and RDTSCP are hidden (docs/cpu.md). */
static void check_hidden_instructions(void)
{
	u32 r1[4], r81[4];
	ulong vector;

	cpuid(1, 0, r1);
	cpuid(0x80000001, 0, r81);
	vector = (ulong)-1;
	__asm__ volatile("1: xgetbv\n2:\n\t" EXTABLE(1b, 2b)
			 : "+S"(vector), "+D"((ulong){ 0 }) : "c"(0) : "rax", "rdx", "memory");
	check_eq("xgetbv_ud_without_osxsave", vector, 6);
	if (!(r1[2] & (1u << 3))) {
		vector = (ulong)-1;
		__asm__ volatile("1: monitor\n2:\n\t" EXTABLE(1b, 2b)
				 : "+S"(vector), "+D"((ulong){ 0 }) : "a"(0ul), "c"(0), "d"(0) : "memory");
		check_eq("monitor_ud_when_hidden", vector, 6);
	}
	if (!(r81[3] & (1u << 27))) {
		vector = (ulong)-1;
		__asm__ volatile("1: rdtscp\n2:\n\t" EXTABLE(1b, 2b)
				 : "+S"(vector), "+D"((ulong){ 0 }) : : "rax", "rcx", "rdx", "memory");
		check_eq("rdtscp_ud_when_hidden", vector, 6);
	}
}

/* ---- RF in an injected fault's frame ---- */

static int injected_ud(void)
{
	ulong vector = (ulong)-1, error = 0;

	/* Instructions the guest is told it lacks, which exit and come back as
	 * an injected #UD: VMLOAD on AMD-V, VMXOFF on VT-x. */
	if (hc_intel)
		__asm__ volatile("1: vmxoff\n2:\n\t" EXTABLE(1b, 2b)
				 : "+S"(vector), "+D"(error) : : "memory");
	else
		__asm__ volatile("1: vmload %%rax\n2:\n\t" EXTABLE(1b, 2b)
				 : "+S"(vector), "+D"(error) : "a"(0) : "memory");
	return (int)vector;
}

static void check_rf(void)
{
	exc_rflags = 0;
	check_eq("injected_gp", (u64)rdmsr_safe(0xc0011234, &(u64){ 0 }), 13);
	check(exc_rflags & RFLAGS_RF, "injected_gp_frame_rf", "pushed RFLAGS %#llx", exc_rflags);
	exc_rflags = 0;
	check_eq("injected_ud", (u64)injected_ud(), 6);
	check(exc_rflags & RFLAGS_RF, "injected_ud_frame_rf", "pushed RFLAGS %#llx", exc_rflags);
}

/*
 * Single-stepping over an instruction the hypervisor emulates (CPUID exits
 * on both back ends): the #DB trap comes after it, as after any other
 * instruction, with DR6.BS set and TF in the pushed RFLAGS (SDM vol. 3,
 * 18.3.1.4; APM vol. 2, 13.1.2). where says which instruction trapped: 1
 * after CPUID, 2 only after the NOP behind it (the emulated one was missed).
 * The runtime clears TF when it resumes at a fixup.
 */
static void check_single_step(void)
{
	ulong vector = -1, error = 0, dr6;
	u32 where = 0, a = 0, b, c, d;

	__asm__ volatile("mov %[clear], %%dr6\n\t"
			 "pushfq\n\torq $0x100, (%%rsp)\n\tpopfq\n\t"
			 "cpuid\n"
			 "1:\tnop\n"
			 "2:\tnop\n\t"
			 "movl $0, %[where]\n\t"
			 "jmp 5f\n"
			 "3:\tmovl $1, %[where]\n\t"
			 "jmp 5f\n"
			 "4:\tmovl $2, %[where]\n"
			 "5:\n\t" EXTABLE(1b, 3b) EXTABLE(2b, 4b)
			 : "+S"(vector), "+D"(error), [where] "=m"(where), "+a"(a), "=b"(b), "=c"(c),
			   "=d"(d)
			 : [clear] "r"(0xffff0ff0ul)
			 : "memory", "cc");
	__asm__ volatile("mov %%dr6, %0" : "=r"(dr6));
	check(where == 1 && vector == 1, "single_step_emulated_cpuid",
	      "#DB after %s (vector %lu)", where == 1 ? "CPUID" : where == 2 ? "the NOP after it" : "nothing",
	      vector);
	check(dr6 & (1ul << 14), "single_step_dr6_bs", "DR6 %#lx", dr6);
	check(exc_rflags & 0x100, "single_step_frame_tf", "pushed RFLAGS %#llx", exc_rflags);
	__asm__ volatile("mov %0, %%dr6" ::"r"(0xffff0ff0ul));
}

/*
 * String I/O across a page end (issue 15): an INSD whose 4 bytes straddle two
 * linear pages that map frames far apart must put each half in its own
 * frame, as the CPU would; an INSD into a page that is not present raises
 * #PF with CR2 = that address and changes nothing. The port is PCI
 * configuration data for the host bridge's ID, 0x12378086. Page tables of
 * our own at linear 1 TiB (PML4 slot 2): page 0 -> frame a, page 1 -> frame
 * c (b lies between them and must stay untouched), page 2 not present,
 * page 3 beyond RAM.
 */
static u8 frames[3][4096] __attribute__((aligned(4096)));
static u64 pdpt[512] __attribute__((aligned(4096))), pd[512] __attribute__((aligned(4096))),
	pt[512] __attribute__((aligned(4096)));

static void check_string_io(void)
{
	const ulong window = 2ul << 39;
	ulong cr3, vector = -1, error = 0, cr2, rdi;
	u64 *pml4;

	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	pml4 = (u64 *)(cr3 & ~0xffful);
	pt[0] = (ulong)frames[0] | 3;
	pt[1] = (ulong)frames[2] | 3;
	pd[0] = (ulong)pt | 3;
	pdpt[0] = (ulong)pd | 3;
	pml4[2] = (ulong)pdpt | 3;
	__asm__ volatile("mov %0, %%cr3" ::"r"(cr3) : "memory"); /* flush */
	memset(frames, 0x55, sizeof(frames));

	outl(0xcf8, 0x80000000u); /* bus 0, device 0, function 0, register 0 */
	rdi = window + 4096 - 2;
	__asm__ volatile("rep insl" : "+D"(rdi), "+c"((ulong){ 1 }) : "d"(0xcfc) : "memory");
	check(frames[0][4094] == 0x86 && frames[0][4095] == 0x80 && frames[2][0] == 0x37 &&
		      frames[2][1] == 0x12,
	      "insd_across_pages", "a: %02x %02x, c: %02x %02x", frames[0][4094], frames[0][4095],
	      frames[2][0], frames[2][1]);
	check(frames[1][0] == 0x55 && frames[1][1] == 0x55, "insd_across_pages_next_frame_untouched",
	      "the frame after a holds %02x %02x", frames[1][0], frames[1][1]);

	/* page 2: not present. The fixup gets the vector in RSI and the
	 * error code in RDI (guest.h, EXTABLE): a write to a page not present. */
	error = window + 2 * 4096 + 8;
	__asm__ volatile("1:\trep insl\n2:\n\t" EXTABLE(1b, 2b)
			 : "+S"(vector), "+D"(error), "+c"((ulong){ 1 })
			 : "d"(0xcfc)
			 : "memory");
	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	check(vector == 14 && cr2 == window + 2 * 4096 + 8 && error == 2, "insd_not_present_pf",
	      "vector %lu, CR2 %#lx, error %#lx", vector, cr2, error);

	/* page 3: guest-physical 1 GiB, beyond this VM's RAM, where nothing is:
	 * a CPU's INSD writes to nowhere and its OUTSB reads all ones; both go
	 * on (the VM is not stopped). */
	pt[3] = 0x40000000ul | 3;
	__asm__ volatile("mov %0, %%cr3" ::"r"(cr3) : "memory");
	rdi = window + 3 * 4096 + 16;
	__asm__ volatile("rep insl" : "+D"(rdi), "+c"((ulong){ 2 }) : "d"(0xcfc) : "memory");
	check(rdi == window + 3 * 4096 + 24, "insd_to_nothing_goes_on", "RDI %#lx", rdi);
	rdi = window + 3 * 4096 + 16; /* as RSI */
	__asm__ volatile("rep outsb" : "+S"(rdi), "+c"((ulong){ 3 }) : "d"(0x80) : "memory");
	check(rdi == window + 3 * 4096 + 19, "outsb_from_nothing_goes_on", "RSI %#lx", rdi);
	pml4[2] = 0;
	__asm__ volatile("mov %0, %%cr3" ::"r"(cr3) : "memory");
}

/* ---- performance counters ---- */

static const u64 evtsel[4] = { 0x530076, 0x4300c0, 0x0000000f00130076ULL, 0 };
static const u64 ctr[4] = { 0, 0x7fffffffffffULL, 0x123456789abcULL, 0xfffffffffff0ULL };

static void check_amd_pmu(void)
{
	u64 v;
	bool all = true;

	for (u32 i = 0; i < 4; i++) {
		all &= wrmsr_safe(MSR_AMD_PERF_EVTSEL0 + i, evtsel[i]) < 0;
		all &= wrmsr_safe(MSR_AMD_PERF_CTR0 + i, ctr[i]) < 0;
	}
	check(all, "amd_perf_writes", "a write to PerfEvtSel0-3/PerfCtr0-3 faulted");
	delay_ns(100000); /* enabled, counting events: none counted */
	for (u32 i = 0; i < 4; i++) {
		char name[32];

		snprintf(name, sizeof(name), "amd_perfevtsel%u", i);
		check_eq(name, rdmsr_or(MSR_AMD_PERF_EVTSEL0 + i, ~0ULL), evtsel[i]);
		snprintf(name, sizeof(name), "amd_perfctr%u_holds", i);
		check_eq(name, rdmsr_or(MSR_AMD_PERF_CTR0 + i, ~0ULL), ctr[i]);
	}
	check_eq("amd_perfevtsel_reserved_gp", (u64)wrmsr_safe(MSR_AMD_PERF_EVTSEL0 + 1, 1ULL << 21),
		 13);
	check_eq("amd_perfctr_48_bits", (u64)wrmsr_safe(MSR_AMD_PERF_CTR0 + 3, 0xffff000000000001ULL),
		 (u64)-1);
	check_eq("amd_perfctr_48_bits_read", rdmsr_or(MSR_AMD_PERF_CTR0 + 3, 0), 1);
	wrmsr_safe(MSR_AMD_PERF_CTR0 + 3, ctr[3]);
	check_eq("amd_perf_ext_gp", (u64)rdmsr_safe(MSR_AMD_PERF_CTL_EXT0, &v), 13);
}

static void check_pmu(void)
{
	u32 r[4];
	u64 v;

	cpuid(0, 0, r);
	if (r[0] >= 0xa) {
		cpuid(0xa, 0, r);
		check_eq("cpuid_0a_no_arch_pmu", r[0] & 0xff, 0);
	}
	check_eq("ia32_perfevtsel0_gp", (u64)rdmsr_safe(MSR_IA32_PERFEVTSEL0, &v), 13);
	check_eq("ia32_pmc0_gp", (u64)rdmsr_safe(MSR_IA32_PMC0, &v), 13);
	check_eq("ia32_perf_global_ctrl_gp", (u64)rdmsr_safe(0x38f, &v), 13);
	if (amd)
		check_amd_pmu();
	else
		check_eq("amd_perfevtsel0_gp_on_intel", (u64)rdmsr_safe(MSR_AMD_PERF_EVTSEL0, &v), 13);
}

/* ---- the vCPU state keeps them ---- */

static void check_vstate(void)
{
	check_eq("vstate_roundtrip", (u64)hypercall(HC_TEST_VSTATE, 0, 0, 0, 0, NULL), 0);
	check_eq("vstate_misc_enable", rdmsr_or(MSR_IA32_MISC_ENABLE, 0), 0x1808);
	if (amd) {
		check_eq("vstate_amd_perfevtsel2", rdmsr_or(MSR_AMD_PERF_EVTSEL0 + 2, 0), evtsel[2]);
		check_eq("vstate_amd_perfctr1", rdmsr_or(MSR_AMD_PERF_CTR0 + 1, 0), ctr[1]);
	}
	wrmsr_safe(MSR_IA32_MISC_ENABLE, 0x1801);
}

int main(ulong arg)
{
	u32 r[4];

	cpuid(0, 0, r);
	amd = r[1] == 0x68747541 && r[3] == 0x69746e65 && r[2] == 0x444d4163; /* AuthenticAMD */
	printf("conform: %s vendor\n", amd ? "AMD" : "non-AMD");
	check_ring3_hypercalls();
	check_exit_codes();
	check_efer();
	check_cr4_and_cet();
	check_misc_enable();
	check_apic_bit();
	check_apic_relocation();
	check_canonical_bases();
	check_hidden_instructions();
	check_rf();
	check_single_step();
	check_string_io();
	check_pmu();
	check_vstate();
	printf("conform: %u failure(s)\n", failures);
	if (arg == 1 && !failures)
		hypercall(HC_EXIT, (ulong)-3LL, 0, 0, 0, NULL); /* does not return */
	return (int)failures;
}
