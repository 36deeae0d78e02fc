/*
 * vstate: a vCPU's whole state survives the hypervisor's save, wipe and
 * restore (HC_TEST_VSTATE, core/hc_vstate.c). Sets distinctive values in
 * all the state it can reach: the general registers (r8-r15 too), XMM0-15,
 * MXCSR, the x87 control word, the syscall and SYSENTER MSRs,
 * KERNEL_GS_BASE, PAT, TSC_AUX, FS and GS base, DR0-DR3 and DR7, CR4, CR8
 * (the local APIC's TPR), a local APIC timer and an HC_TIMER still pending,
 * kvmclock enabled; makes the call; checks every value came back, the TSC
 * did not go backwards, kvmclock was published again (once), then that both
 * timers still fire, once each. Long mode, one
 * vCPU. Exit: the number of failures.
 */
#include "guest.h"

#define LAPIC 0xfee00000ul
#define APIC_TPR 0x080
#define APIC_EOI 0x0b0
#define APIC_SVR 0x0f0
#define APIC_LVT_TIMER 0x320
#define APIC_TIMER_INIT 0x380
#define APIC_TIMER_CUR 0x390
#define APIC_TIMER_DCR 0x3e0

#define CR4_OSFXSR (1ul << 9)
#define CR4_OSXMMEXCPT (1ul << 10)

/* kvmclock's per-vCPU structure (devices/pvclock.h), at an address the
 * guest names in MSR_KVM_SYSTEM_TIME_NEW with bit 0 set. */
#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01
struct pvclock_time {
	u32 version, pad0;
	u64 tsc_timestamp, system_time;
	u32 mul;
	signed char shift;
	u8 flags, pad[2];
} __attribute__((aligned(32)));
static volatile struct pvclock_time kvmclock;

static u32 lapic_read(u32 reg) { return mmio_read32(LAPIC + reg); }
static void lapic_write(u32 reg, u32 v) { mmio_write32(LAPIC + reg, v); }

/* Register values by encoding (RAX 0 ... R15 15). RAX carries the call and
 * its result, RDX the result's high half, RSP the stack: not compared. */
const u64 gpr_want[16] = {
	0, 0x1111111111111101ull, 0, 0x3333333333333303ull,
	0, 0x5555555555555505ull, 0x6666666666666606ull, 0x7777777777777707ull,
	0x8888888888888808ull, 0x9999999999999909ull, 0xaaaaaaaaaaaaaa0aull, 0xbbbbbbbbbbbbbb0bull,
	0xcccccccccccccc0cull, 0xdddddddddddddd0dull, 0xeeeeeeeeeeeeee0eull, 0xffffffffffffff0full,
};
u64 gpr_got[16];
u8 xmm_want[16][16], xmm_got[16][16];

/* s64 vstate_call(u64 intel): loads every register, makes the hypercall,
 * stores what the registers hold afterwards. */
s64 vstate_call(u64 intel);
__asm__(".text\n"
	".globl vstate_call\n"
	"vstate_call:\n\t"
	"push %rbx\n\tpush %rbp\n\tpush %r12\n\tpush %r13\n\tpush %r14\n\tpush %r15\n\t"
	"push %rdi\n\t"
#define LOAD_XMM(n) "movdqu xmm_want+16*" #n "(%rip), %xmm" #n "\n\t"
	LOAD_XMM(0) LOAD_XMM(1) LOAD_XMM(2) LOAD_XMM(3) LOAD_XMM(4) LOAD_XMM(5) LOAD_XMM(6)
	LOAD_XMM(7) LOAD_XMM(8) LOAD_XMM(9) LOAD_XMM(10) LOAD_XMM(11) LOAD_XMM(12)
	LOAD_XMM(13) LOAD_XMM(14) LOAD_XMM(15)
#define LOAD(reg, n) "mov gpr_want+8*" #n "(%rip), %" #reg "\n\t"
	LOAD(rcx, 1) LOAD(rbx, 3) LOAD(rbp, 5) LOAD(rsi, 6) LOAD(rdi, 7) LOAD(r8, 8) LOAD(r9, 9)
	LOAD(r10, 10) LOAD(r11, 11) LOAD(r12, 12) LOAD(r13, 13) LOAD(r14, 14) LOAD(r15, 15)
	"mov $0x7e00, %eax\n\t" /* HC_TEST_VSTATE */
	"cmpq $0, (%rsp)\n\t"
	"jne 1f\n\t"
	"vmmcall\n\t"
	"jmp 2f\n"
	"1:\tvmcall\n"
	"2:\n\t"
#define STORE(reg, n) "mov %" #reg ", gpr_got+8*" #n "(%rip)\n\t"
	STORE(rcx, 1) STORE(rbx, 3) STORE(rbp, 5) STORE(rsi, 6) STORE(rdi, 7) STORE(r8, 8)
	STORE(r9, 9) STORE(r10, 10) STORE(r11, 11) STORE(r12, 12) STORE(r13, 13) STORE(r14, 14)
	STORE(r15, 15)
#define STORE_XMM(n) "movdqu %xmm" #n ", xmm_got+16*" #n "(%rip)\n\t"
	STORE_XMM(0) STORE_XMM(1) STORE_XMM(2) STORE_XMM(3) STORE_XMM(4) STORE_XMM(5)
	STORE_XMM(6) STORE_XMM(7) STORE_XMM(8) STORE_XMM(9) STORE_XMM(10) STORE_XMM(11)
	STORE_XMM(12) STORE_XMM(13) STORE_XMM(14) STORE_XMM(15)
	"pop %rdi\n\t"
	"pop %r15\n\tpop %r14\n\tpop %r13\n\tpop %r12\n\tpop %rbp\n\tpop %rbx\n\t"
	"ret\n");

struct msr_value {
	const char *name;
	u32 msr;
	u64 val;
};

static const struct msr_value msrs[] = {
	{ "star", 0xc0000081, 0x0023001000000000ull },
	{ "lstar", 0xc0000082, 0xffffffff81a01234ull },
	{ "cstar", 0xc0000083, 0xffffffff81b05678ull },
	{ "sfmask", 0xc0000084, 0x47700 },
	{ "fs_base", 0xc0000100, 0x00007fffdeadb000ull },
	{ "gs_base", 0xc0000101, 0x0000123456789000ull },
	{ "kernel_gs_base", 0xc0000102, 0xffff888012345678ull },
	{ "tsc_aux", 0xc0000103, 0x12345678 },
	{ "sysenter_cs", 0x174, 0x10 },
	{ "sysenter_esp", 0x175, 0xfffffe0000001000ull },
	{ "sysenter_eip", 0x176, 0xffffffff81c0abcdull },
	{ "pat", 0x277, 0x0007010600070406ull }, /* PA2 WC instead of UC- */
};

static const u64 dr_want[4] = { 0x1000, 0xffffffff81000000ull, 0x7fff0000, 0x200008 };
/* No breakpoint enabled (L0-L3, G0-G3 clear), but GE and the R/W and LEN
 * fields of DR0 and DR1 set. */
#define DR7_WANT 0x00d50600ull
#define MXCSR_WANT 0x5fc0u /* round up, DAZ, all masked */
#define FCW_WANT 0x027fu   /* 53-bit precision, all masked */

static ulong read_cr4(void)
{
	ulong v;
	__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

static void write_cr4(ulong v)
{
	__asm__ volatile("mov %0, %%cr4" ::"r"(v) : "memory");
}

static u64 read_cr8(void)
{
	u64 v;
	__asm__ volatile("mov %%cr8, %0" : "=r"(v));
	return v;
}

static void set_debug_registers(void)
{
	__asm__ volatile("mov %0, %%db0" ::"r"(dr_want[0]));
	__asm__ volatile("mov %0, %%db1" ::"r"(dr_want[1]));
	__asm__ volatile("mov %0, %%db2" ::"r"(dr_want[2]));
	__asm__ volatile("mov %0, %%db3" ::"r"(dr_want[3]));
	__asm__ volatile("mov %0, %%db7" ::"r"(DR7_WANT));
}

static void check_debug_registers(void)
{
	u64 v[5];

	__asm__ volatile("mov %%db0, %0" : "=r"(v[0]));
	__asm__ volatile("mov %%db1, %0" : "=r"(v[1]));
	__asm__ volatile("mov %%db2, %0" : "=r"(v[2]));
	__asm__ volatile("mov %%db3, %0" : "=r"(v[3]));
	__asm__ volatile("mov %%db7, %0" : "=r"(v[4]));
	check_eq("vstate_dr0", v[0], dr_want[0]);
	check_eq("vstate_dr1", v[1], dr_want[1]);
	check_eq("vstate_dr2", v[2], dr_want[2]);
	check_eq("vstate_dr3", v[3], dr_want[3]);
	check_eq("vstate_dr7", v[4], DR7_WANT);
}

int main(ulong arg)
{
	u32 r[4], mxcsr = MXCSR_WANT, mxcsr_got = 0, before = timer_count, left;
	u16 fcw = FCW_WANT, fcw_got = 0;
	u64 t0, t1, ns0, armed_ns, val;
	u32 kvm_version, kvm_mul;
	s64 ret;
	bool ok;

	irq_disable();
	write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT); /* SSE on */
	for (unsigned i = 0; i < 16; i++)
		for (unsigned j = 0; j < 16; j++)
			xmm_want[i][j] = (u8)(0x10 * i + j + 1);
	__asm__ volatile("ldmxcsr %0" ::"m"(mxcsr));
	__asm__ volatile("fninit; fldcw %0" ::"m"(fcw));

	ok = true;
	for (unsigned i = 0; i < ARRAY_SIZE(msrs); i++)
		ok &= wrmsr_safe(msrs[i].msr, msrs[i].val) < 0;
	check(ok, "vstate_msrs_written", "a WRMSR faulted");
	check_eq("vstate_kvmclock_on", wrmsr_safe(MSR_KVM_SYSTEM_TIME_NEW,
						   (u64)(ulong)&kvmclock | 1), (u64)-1);
	kvm_version = kvmclock.version;
	kvm_mul = kvmclock.mul;
	set_debug_registers();

	/* The local APIC: software-enabled, TPR 0x30 through CR8, and a
	 * one-shot timer of about 200 ms at the TSC rate that must still be
	 * pending after the round trip; an HC_TIMER of 250 ms too. */
	lapic_write(APIC_SVR, 0x1ff);
	__asm__ volatile("mov %0, %%cr8" ::"r"(3ull));
	cpuid(0x40000010, 0, r); /* TSC kHz */
	lapic_write(APIC_TIMER_DCR, 0xb);
	lapic_write(APIC_LVT_TIMER, TIMER_VECTOR);
	armed_ns = hc_time_ns();
	lapic_write(APIC_TIMER_INIT, r[0] * 200);
	check_eq("vstate_hc_timer_armed", (u64)hc_timer(250000, TIMER_VECTOR), 0);

	ns0 = hc_time_ns();
	t0 = rdtsc();
	ret = vstate_call(hc_intel);
	t1 = rdtsc();
	left = lapic_read(APIC_TIMER_CUR); /* before the slow part: the checks' output */

	check_eq("vstate_call", (u64)ret, 0);
	check(t1 >= t0, "vstate_tsc_monotonic", "TSC went from %llu back to %llu",
	      (unsigned long long)t0, (unsigned long long)t1);
	check(hc_time_ns() >= ns0, "vstate_time_monotonic", "HC_TIME_NS went backwards");
	for (unsigned i = 0; i < 16; i++) {
		if (i == 0 || i == 2 || i == 4)
			continue;
		check(gpr_got[i] == gpr_want[i], "vstate_gpr", "register %u: %llx, want %llx", i,
		      (unsigned long long)gpr_got[i], (unsigned long long)gpr_want[i]);
	}
	check(!memcmp(xmm_got, xmm_want, sizeof(xmm_got)), "vstate_xmm", "XMM0-15 changed");
	__asm__ volatile("stmxcsr %0" : "=m"(mxcsr_got));
	__asm__ volatile("fnstcw %0" : "=m"(fcw_got));
	check_eq("vstate_mxcsr", mxcsr_got, MXCSR_WANT);
	check_eq("vstate_fcw", fcw_got, FCW_WANT);
	for (unsigned i = 0; i < ARRAY_SIZE(msrs); i++) {
		val = 0;
		check(rdmsr_safe(msrs[i].msr, &val) < 0 && val == msrs[i].val, msrs[i].name,
		      "MSR %x reads %llx, want %llx", msrs[i].msr, (unsigned long long)val,
		      (unsigned long long)msrs[i].val);
	}
	check_debug_registers();
	check(kvm_version && !(kvm_version & 1) && kvmclock.version == kvm_version + 2,
	      "vstate_kvmclock_republished", "version %u, then %u", kvm_version, kvmclock.version);
	check(kvmclock.mul == kvm_mul && kvmclock.tsc_timestamp == 0 && kvmclock.system_time == 0,
	      "vstate_kvmclock_same_clock", "mul %u (was %u), timestamp %llu, system time %llu",
	      kvmclock.mul, kvm_mul, (unsigned long long)kvmclock.tsc_timestamp,
	      (unsigned long long)kvmclock.system_time);
	check_eq("vstate_cr4_sse", read_cr4() & (CR4_OSFXSR | CR4_OSXMMEXCPT),
		 CR4_OSFXSR | CR4_OSXMMEXCPT);
	check_eq("vstate_cr8", read_cr8(), 3);
	check_eq("vstate_apic_tpr", lapic_read(APIC_TPR), 0x30);
	check_eq("vstate_apic_svr", lapic_read(APIC_SVR), 0x1ff);
	check_eq("vstate_apic_lvt_timer", lapic_read(APIC_LVT_TIMER), TIMER_VECTOR);
	check(left > 0 && left < r[0] * 200, "vstate_apic_timer_pending",
	      "current count %u of %u", left, r[0] * 200);
	check_eq("vstate_no_interrupt_yet", timer_count, before);

	/* Both timers fire after the round trip, each once, not early. */
	irq_enable();
	while (timer_count < before + 2 && hc_time_ns() - armed_ns < 2000000000ull)
		cpu_relax();
	irq_disable();
	check(hc_time_ns() - armed_ns >= 250000000ull, "vstate_timers_not_early",
	      "both fired %llu ns after arming", (unsigned long long)(hc_time_ns() - armed_ns));
	lapic_write(APIC_EOI, 0);
	delay_ns(20000000);
	check_eq("vstate_timers_fired_once_each", timer_count, before + 2);
	printf("vstate: %u failure(s)\n", failures);
	return (int)failures;
}
