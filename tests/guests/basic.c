/*
 * basic: the exits a guest can cause and the values it must get back, in
 * each start mode (built as basic-real, basic-prot, basic-long).
 *
 * arg = the VM's configured vCPU count (0 counts as 1). vCPU 0 runs every
 * test; the other vCPUs run the per-vCPU checks, check in and halt; vCPU 0
 * waits for all of them before HC_EXIT(number of failures).
 */
#include "guest.h"

#define MSR_IA32_TSC 0x10
#define MSR_IA32_APIC_BASE 0x1b
#define MSR_MTRR_DEF_TYPE 0x2ff
#define MSR_EFER 0xc0000080

#define APIC_BASE_BSP (1u << 8)
#define APIC_BASE_EN (1u << 11)
#define EFER_LME (1u << 8)
#define EFER_LMA (1u << 10)
#define EFER_SVME (1u << 12)

/* A port no device of the VM claims (ISA-era "reserved" range). */
#define PORT_UNCLAIMED 0x2a0
#define UART_LSR 0x3fd
#define UART_SCR 0x3ff

#define TESTDEV 0xfeb00000ul
#define TESTDEV_SCRATCH32 0x00
#define TESTDEV_SCRATCH64 0x08
#define TESTDEV_ID 0x10
#define TESTDEV_WRITES 0x18
#define TESTDEV_ID_VALUE 0x57535455 /* "UTSW" */

static volatile u32 seen_mask __shared; /* vCPU indices reported by HC_VCPU_INFO */
static volatile u32 checked_in __shared;

/* "name" on vCPU 0, "name/vcpuN" on the others, so every line is unique. */
static const char *tname(char *buf, const char *name, u32 index)
{
	if (!index)
		return name;
	snprintf(buf, 48, "%s/vcpu%u", name, index);
	return buf;
}

/* Checks every vCPU makes about itself. */
static void per_vcpu_checks(const struct vcpu_info *vi, u32 want_cpus)
{
	char n[48];
	u32 r[4], bit = vi->index < 32 ? 1u << vi->index : 0;
	u64 apic_base = 0;

	check_eq(tname(n, "hc_vcpu_info_count", vi->index), vi->count, want_cpus);
	check(vi->index < vi->count, tname(n, "hc_vcpu_info_index", vi->index),
	      "index %u not below count %u", vi->index, vi->count);
	check(bit && !(atomic_or(&seen_mask, bit) & bit), tname(n, "hc_vcpu_info_unique", vi->index),
	      "index %u reported to another vCPU too", vi->index);
	cpuid(1, 0, r);
	check_eq(tname(n, "cpuid_initial_apic_id", vi->index), r[1] >> 24, vi->index);
	int vec = rdmsr_safe(MSR_IA32_APIC_BASE, &apic_base);

	check(vec < 0, tname(n, "msr_apic_base_read", vi->index), "#%d on RDMSR 0x1b", vec);
	check_eq(tname(n, "msr_apic_base", vi->index), apic_base,
		 0xfee00000u | APIC_BASE_EN | (vi->index == 0 ? APIC_BASE_BSP : 0));
}

static void test_cpuid(void)
{
	u32 r[4];
	/* Features the hypervisor does not virtualize (issue 2, item 5), and
	 * the virtual local APIC's, shown whatever the host has (issue 4). */
	const u32 hidden1 = (1u << 3) | (1u << 5) | (1u << 26) | (1u << 27) | (1u << 28);
	const u32 shown1 = (1u << 21) | (1u << 24); /* x2APIC, TSC-deadline */

	cpuid(1, 0, r);
	check(r[2] & (1u << 31), "cpuid_hypervisor_bit", "leaf 1 ECX = %#x, bit 31 clear", r[2]);
	check((r[2] & hidden1) == 0, "cpuid_hidden_features",
	      "leaf 1 ECX = %#x: MONITOR/VMX/XSAVE/OSXSAVE/AVX bits %#x set", r[2], r[2] & hidden1);
	check((r[2] & shown1) == shown1, "cpuid_apic_features",
	      "leaf 1 ECX = %#x: x2APIC (21) or TSC-deadline (24) missing", r[2]);

	cpuid(0x40000000, 0, r);
	check(r[0] >= 0x40000001 && r[0] < 0x40000100, "cpuid_hv_max_leaf",
	      "leaf 0x40000000 EAX = %#x, expected 0x40000001..0x400000ff", r[0]);
	check(r[1] == 0x75737475 && r[2] == 0x00006177 && r[3] == 0, "cpuid_hv_signature",
	      "expected EBX/ECX/EDX 0x75737475 0x6177 0 (\"utsuwa\"), got %#x %#x %#x", r[1], r[2],
	      r[3]);

	/* kvmclock, and nothing else of KVM's (devices/pvclock.h). */
	cpuid(0x40000100, 0, r);
	check(r[0] == 0x40000101 && r[1] == 0x4b4d564b && r[2] == 0x564b4d56 && r[3] == 0x4d,
	      "cpuid_kvm_signature", "leaf 0x40000100: %#x %#x %#x %#x", r[0], r[1], r[2], r[3]);
	cpuid(0x40000101, 0, r);
	check_eq("cpuid_kvm_features", r[0], (1u << 3) | (1u << 24));

	cpuid(0x80000000, 0, r);
	if (check(r[0] >= 0x80000001, "cpuid_ext_max_leaf", "leaf 0x80000000 EAX = %#x", r[0])) {
		cpuid(0x80000001, 0, r);
		check((r[2] & (1u << 2)) == 0, "cpuid_svm_hidden",
		      "leaf 0x80000001 ECX = %#x, SVM (bit 2) set", r[2]);
	}
}

static void test_msr(void)
{
	static const u32 unknown[] = { 0xc0011234, 0x12345 };
	char n[48];
	u64 v = 0, old = 0, t0, t1;
	int vec;

	for (unsigned i = 0; i < ARRAY_SIZE(unknown); i++) {
		snprintf(n, sizeof(n), "msr_unknown_rdmsr_%#x", unknown[i]);
		vec = rdmsr_safe(unknown[i], &v);
		check(vec == X86_GP, n, "expected #GP, got %s%d (value %#llx)",
		      vec < 0 ? "no fault" : "#", vec, v);
		snprintf(n, sizeof(n), "msr_unknown_wrmsr_%#x", unknown[i]);
		vec = wrmsr_safe(unknown[i], 0x1234);
		check(vec == X86_GP, n, "expected #GP, got %s%d", vec < 0 ? "no fault" : "#", vec);
	}

	vec = rdmsr_safe(MSR_EFER, &v);
	if (check(vec < 0, "msr_efer_read", "#%d on RDMSR EFER", vec)) {
		check((v & EFER_SVME) == 0, "msr_efer_svme_hidden", "EFER = %#llx, SVME set", v);
#if defined(GUEST_MODE_LONG)
		check_eq("msr_efer_long", v & (EFER_LME | EFER_LMA), EFER_LME | EFER_LMA);
#else
		check_eq("msr_efer_not_long", v & (EFER_LME | EFER_LMA), 0);
#endif
	}

	vec = rdmsr_safe(MSR_MTRR_DEF_TYPE, &old);
	if (check(vec < 0, "msr_mtrr_def_type_read", "#%d on RDMSR 0x2ff", vec)) {
		/* E (bit 11) set, fixed range off, default type 6 (WB). */
		vec = wrmsr_safe(MSR_MTRR_DEF_TYPE, 0x806);
		rdmsr_safe(MSR_MTRR_DEF_TYPE, &v);
		check(vec < 0 && v == 0x806, "msr_mtrr_def_type_write",
		      "wrote 0x806 (%s), read back %#llx", vec < 0 ? "no fault" : "faulted", v);
		wrmsr_safe(MSR_MTRR_DEF_TYPE, old);
	}

	t0 = rdtsc();
	vec = rdmsr_safe(MSR_IA32_TSC, &v);
	t1 = rdtsc();
	check(vec < 0 && v >= t0 && v <= t1, "msr_tsc",
	      "RDMSR 0x10 = %#llx (%s), expected between RDTSC %#llx and %#llx", v,
	      vec < 0 ? "no fault" : "faulted", t0, t1);
}

static void test_pio(void)
{
	outb(UART_SCR, 0xa5);
	check_eq("pio_uart_scratch_a5", inb(UART_SCR), 0xa5);
	outb(UART_SCR, 0x5a);
	check_eq("pio_uart_scratch_5a", inb(UART_SCR), 0x5a);
	check_eq("pio_uart_lsr", inb(UART_LSR), 0x60);
	uart_puts("uart: hello through THR\n");

	check_eq("pio_unclaimed_inb", inb(PORT_UNCLAIMED), 0xff);
	check_eq("pio_unclaimed_inw", inw(PORT_UNCLAIMED), 0xffff);
	check_eq("pio_unclaimed_inl", inl(PORT_UNCLAIMED), 0xffffffff);
	outb(PORT_UNCLAIMED, 0x12);
	outw(PORT_UNCLAIMED, 0x1234);
	outl(PORT_UNCLAIMED, 0x12345678);
	check_eq("pio_unclaimed_write_ignored", inl(PORT_UNCLAIMED), 0xffffffff);
}

static void test_hypercalls(void)
{
	static const char msg[] = "hello through HC_CONSOLE_WRITE\n";
	u64 t0, t1;
	s64 ret;

	ret = hc_console_write(msg, sizeof(msg) - 1);
	check(ret == (s64)sizeof(msg) - 1, "hc_console_write", "expected %u, got %lld",
	      (u32)sizeof(msg) - 1, ret);
	ret = hypercall(HC_NOP, 0, 0, 0, 0, NULL);
	check(ret == 0, "hc_nop", "expected 0, got %lld", ret);
	ret = hc_yield();
	check(ret == 0, "hc_yield", "expected 0, got %lld", ret);

	t0 = hc_time_ns();
	for (volatile int i = 0; i < 100000; i++)
		;
	t1 = hc_time_ns();
	check(t1 > t0 && (s64)t0 >= 0, "hc_time_ns_advances", "%llu then %llu", t0, t1);

	ret = hypercall(HC_WATCHDOG + 1, 0, 0, 0, 0, NULL); /* the first number not taken */
	check(ret == HC_ENOSYS, "hc_unknown_next", "expected %d, got %lld", HC_ENOSYS, ret);
	ret = hypercall(0x7777, 0, 0, 0, 0, NULL);
	check(ret == HC_ENOSYS, "hc_unknown_7777", "expected %d, got %lld", HC_ENOSYS, ret);
}

/* HLT with IF=1 is woken by the HC_TIMER interrupt, no sooner than asked. */
static void test_timer_hlt(void)
{
	const u32 us = 2000;
	u32 before = timer_count, wakeups = 0;
	u64 t0 = hc_time_ns(), dt;
	s64 ret = hc_timer(us, TIMER_VECTOR);

	if (!check(ret == 0, "hc_timer", "expected 0, got %lld", ret))
		return;
	while (timer_count == before && wakeups < 1000) {
		sti_hlt_cli();
		wakeups++;
	}
	dt = hc_time_ns() - t0;
	check(timer_count == before + 1 && dt >= us * 1000ull, "timer_hlt_wakeup",
	      "%u interrupt(s) after %llu ns (%u HLT wake-ups), expected 1 after >= %u ns",
	      timer_count - before, dt, wakeups, us * 1000);
}

/*
 * The timer expires while IF=0 (and the hypervisor sees it, at the exits of
 * the delay); "sti; hlt" must then take it at once, as an idle loop expects.
 * If the hypervisor loses it, this vCPU sleeps for ever: say so first.
 */
static void test_timer_hlt_pending(void)
{
	u32 before = timer_count;

	printf("timer_hlt_pending: HLT with the timer interrupt already pending "
	       "(a hang here means it was lost)\n");
	hc_timer(1, TIMER_VECTOR);
	delay_ns(2000000);
	sti_hlt_cli();
	check(timer_count == before + 1, "timer_hlt_pending",
	      "%u interrupt(s), expected 1", timer_count - before);
}

#if defined(GUEST_MODE_REAL)
/* INT n goes through the IVT and returns after the instruction (on VT-x
 * without unrestricted guest the hypervisor delivers it, which the CPU
 * refuses in virtual-8086 mode: arch/x86/vmx/vmx_rmode.c). */
static void test_soft_int(void)
{
	u32 before = timer_count;

	__asm__ volatile("int %0" : : "i"(TIMER_VECTOR) : "memory");
	__asm__ volatile("int %0" : : "i"(TIMER_VECTOR) : "memory");
	check(timer_count == before + 2, "soft_int_ivt", "%u interrupt(s), expected 2",
	      timer_count - before);
}
#endif

/* The timer interrupts a busy loop that causes no exits of its own. */
static void test_timer_busy(void)
{
	const u32 us = 3000;
	u32 before = timer_count;
	u64 t0 = hc_time_ns(), dt;
	u32 spins = 0;

	hc_timer(us, TIMER_VECTOR);
	irq_enable();
	for (;;) {
		if (timer_count != before)
			break;
		/* Give up after 2 s; look at the clock only now and then. */
		if ((++spins & 0xfffff) == 0 && hc_time_ns() - t0 > 2000000000ull)
			break;
	}
	irq_disable();
	dt = hc_time_ns() - t0;
	check(timer_count == before + 1 && dt >= us * 1000ull, "timer_busy_loop",
	      "%u interrupt(s) after %llu ns, expected 1 after >= %u ns", timer_count - before,
	      dt, us * 1000);
}

/* HC_TIMER with 0 microseconds cancels the pending one. */
static void test_timer_cancel(void)
{
	u32 before = timer_count;
	s64 ret;

	hc_timer(1000, TIMER_VECTOR);
	ret = hc_timer(0, TIMER_VECTOR);
	irq_enable();
	delay_ns(10000000);
	irq_disable();
	check(ret == 0 && timer_count == before, "timer_cancel",
	      "cancel returned %lld, %u interrupt(s) in the next 10 ms, expected 0", ret,
	      timer_count - before);
}

#if !defined(GUEST_MODE_REAL)
static void test_mmio(void)
{
	u32 w0 = mmio_read32(TESTDEV + TESTDEV_WRITES), w1;

	check_eq("mmio_id", mmio_read32(TESTDEV + TESTDEV_ID), TESTDEV_ID_VALUE);
	check_eq("mmio_id_byte", mmio_read8(TESTDEV + TESTDEV_ID), 0x55);
	check_eq("mmio_id_word", mmio_read16(TESTDEV + TESTDEV_ID + 2), 0x5753);
	mmio_write32(TESTDEV + TESTDEV_SCRATCH32, 0x12345678);
	check_eq("mmio_scratch32", mmio_read32(TESTDEV + TESTDEV_SCRATCH32), 0x12345678);
	mmio_write32(TESTDEV + TESTDEV_SCRATCH32, 0xcafef00d);
	check_eq("mmio_scratch32_again", mmio_read32(TESTDEV + TESTDEV_SCRATCH32), 0xcafef00d);
#if defined(GUEST_MODE_LONG)
	mmio_write64(TESTDEV + TESTDEV_SCRATCH64, 0x0123456789abcdefull);
	check_eq("mmio_scratch64", mmio_read64(TESTDEV + TESTDEV_SCRATCH64), 0x0123456789abcdefull);
	w1 = mmio_read32(TESTDEV + TESTDEV_WRITES);
	check_eq("mmio_write_count", w1 - w0, 3);
#else
	/* A 32-bit guest reaches the 64-bit register in halves. */
	mmio_write32(TESTDEV + TESTDEV_SCRATCH64, 0x89abcdef);
	mmio_write32(TESTDEV + TESTDEV_SCRATCH64 + 4, 0x01234567);
	check_eq("mmio_scratch64_low", mmio_read32(TESTDEV + TESTDEV_SCRATCH64), 0x89abcdef);
	check_eq("mmio_scratch64_high", mmio_read32(TESTDEV + TESTDEV_SCRATCH64 + 4), 0x01234567);
	w1 = mmio_read32(TESTDEV + TESTDEV_WRITES);
	check_eq("mmio_write_count", w1 - w0, 4);
#endif
	/* A write to the read-only register is ignored. */
	mmio_write32(TESTDEV + TESTDEV_ID, 0);
	check_eq("mmio_id_read_only", mmio_read32(TESTDEV + TESTDEV_ID), TESTDEV_ID_VALUE);
}
#endif

/* vCPU 0 waits (yielding) until every other vCPU has checked in. */
static void test_smp(u32 count)
{
	u64 t0 = hc_time_ns();

	while (checked_in < count - 1 && hc_time_ns() - t0 < 30000000000ull)
		hc_yield();
	check(checked_in == count - 1 && seen_mask == (count >= 32 ? ~0u : (1u << count) - 1),
	      "smp_checkin", "%u of %u other vCPUs checked in, index mask %#x", checked_in,
	      count - 1, seen_mask);
}

static __noreturn void secondary(const struct vcpu_info *vi, u32 want_cpus)
{
	per_vcpu_checks(vi, want_cpus);
	atomic_add(&checked_in, 1);
	/* vCPU 0 is running (waiting for us), so halting with IF=0 is allowed. */
	cli_hlt_forever();
}

int main(ulong arg)
{
	u32 want_cpus = arg ? (u32)arg : 1;
	struct vcpu_info vi;
	int ret = hc_vcpu_info(&vi);

	if (ret == 0 && vi.index != 0)
		secondary(&vi, want_cpus);
	printf("basic: %s mode, vCPU %u of %u on CPU %u, %s\n", GUEST_MODE_NAME, vi.index,
	       vi.count, vi.pcpu, hc_intel ? "VMCALL" : "VMMCALL");
	check(ret == 0, "hc_vcpu_info", "returned %d", ret);
	per_vcpu_checks(&vi, want_cpus);
	test_cpuid();
	test_msr();
	test_pio();
	test_hypercalls();
	test_timer_hlt();
	test_timer_hlt_pending();
	test_timer_busy();
	test_timer_cancel();
#if !defined(GUEST_MODE_REAL)
	test_mmio();
#else
	test_soft_int();
#endif
	if (vi.count > 1)
		test_smp(vi.count);
	printf("basic: %u failure(s)\n", failures);
	return (int)failures;
}
