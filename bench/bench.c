/*
 * The exit benchmark guest (long mode): the round trip of each exit kind in
 * TSC ticks, printed as
 *
 *   exit <kind> <backend> min=<N> median=<N>
 *
 * for kind cpuid (CPUID leaf 0), vmcall (VMMCALL/VMCALL HC_NOP), pio (OUT to
 * the UART scratch register 0x3ff), msr (RDMSR IA32_APIC_BASE) and mmio (a
 * 32-bit read of the test device's ID register), backend svm (AMD) or vmx
 * (Intel), or kvm when KVM runs it (tools/kvm-runner, make bench-peer; the
 * vmcall figure is then KVM's VMMCALL round trip with RAX = 0, which KVM
 * answers in the kernel with -KVM_ENOSYS). HLT wake-up and interrupt
 * injection are for later.
 *
 * Then the guest timer's latency, printed as
 *
 *   timer latency <backend> min=<N> median=<N> max=<N>
 *
 * TIMER_SAMPLES times: the local APIC timer in TSC-deadline mode is armed
 * TIMER_AHEAD ticks ahead and the guest spins with interrupts on; a figure
 * is the TSC read first thing in the handler minus the deadline. It
 * includes the hypervisor's path from its own timer's expiry (a #VMEXIT for
 * the host interrupt) to the injection, as KVM's tscdeadline_latency test
 * (kvm-unit-tests) measures it. Under KVM (bench-peer) only with an
 * in-kernel local APIC: kvm-runner -i, and the guest's arg 1.
 *
 * What a figure includes: the exiting instruction itself and everything the
 * hypervisor executes from the #VMEXIT to the VMRUN/VMRESUME that resumes the
 * guest past it. Each sample is
 *
 *   lfence; rdtsc; lfence; <save t0>; <setup>; <instruction>; lfence; rdtsc
 *
 * and the same sequence without the instruction (setup kept) is timed as the
 * baseline; a figure is sample - min(baseline). Under QEMU's
 * -icount shift=0,sleep=off one TSC tick is one executed instruction (guest
 * and hypervisor alike), so the figures are instruction counts, the same on
 * every host. On hardware they are cycles; LFENCE orders RDTSC on Intel and
 * on AMD CPUs whose OS made LFENCE dispatch-serialising.
 *
 * WARMUP samples are taken and dropped first, then SAMPLES are kept; median
 * is the upper median (element SAMPLES/2 of the sorted samples).
 */
#include "guest.h"

#define WARMUP 20
#define SAMPLES 200

#define TIMED(setup, insn, ...)                                                          \
	({                                                                               \
		u64 d_;                                                                  \
		__asm__ volatile("lfence\n\trdtsc\n\tlfence\n\t"                         \
				 "shl $32, %%rdx\n\tor %%rdx, %%rax\n\tmov %%rax, %%r8\n\t" \
				 setup "\n\t" insn "\n\t"                                \
				 "lfence\n\trdtsc\n\t"                                   \
				 "shl $32, %%rdx\n\tor %%rdx, %%rax\n\tsub %%r8, %%rax"  \
				 : "=a"(d_)                                              \
				 :                                                       \
				 : "rdx", "r8", "memory", ##__VA_ARGS__);                \
		d_;                                                                      \
	})

#define HC_SETUP "xor %%eax, %%eax" /* HC_NOP */
#define PIO_SETUP "mov $0x3ff, %%edx\n\tmov $0x5a, %%al"
#define MSR_SETUP "mov $0x1b, %%ecx" /* IA32_APIC_BASE */
#define MMIO_SETUP "mov $0xfeb00010, %%ecx" /* test device ID register */

static u64 cpuid_run(bool base)
{
	return base ? TIMED("xor %%eax, %%eax", "", "rbx", "rcx")
		    : TIMED("xor %%eax, %%eax", "cpuid", "rbx", "rcx");
}

static u64 vmmcall_run(bool base)
{
	return base ? TIMED(HC_SETUP, "", "rbx", "rcx", "rsi")
		    : TIMED(HC_SETUP, "vmmcall", "rbx", "rcx", "rsi");
}

static u64 vmcall_run(bool base)
{
	return base ? TIMED(HC_SETUP, "", "rbx", "rcx", "rsi")
		    : TIMED(HC_SETUP, "vmcall", "rbx", "rcx", "rsi");
}

static u64 pio_run(bool base)
{
	return base ? TIMED(PIO_SETUP, "") : TIMED(PIO_SETUP, "outb %%al, %%dx");
}

static u64 msr_run(bool base)
{
	return base ? TIMED(MSR_SETUP, "", "rcx") : TIMED(MSR_SETUP, "rdmsr", "rcx");
}

static u64 mmio_run(bool base)
{
	return base ? TIMED(MMIO_SETUP, "", "rcx") : TIMED(MMIO_SETUP, "movl (%%rcx), %%eax", "rcx");
}

struct kind {
	const char *name;
	u64 (*run)(bool base);
};

static u64 samples[SAMPLES];

static void sort(u64 *a, unsigned n)
{
	for (unsigned i = 1; i < n; i++) {
		u64 v = a[i];
		unsigned j = i;

		for (; j && a[j - 1] > v; j--)
			a[j] = a[j - 1];
		a[j] = v;
	}
}

static void measure(const struct kind *k, const char *backend)
{
	u64 base = ~0ull;

	for (unsigned i = 0; i < WARMUP; i++) {
		k->run(true);
		k->run(false);
	}
	for (unsigned i = 0; i < SAMPLES; i++) {
		u64 b = k->run(true);

		if (b < base)
			base = b;
		samples[i] = k->run(false);
	}
	for (unsigned i = 0; i < SAMPLES; i++)
		samples[i] = samples[i] > base ? samples[i] - base : 0;
	sort(samples, SAMPLES);
	printf("exit %s %s min=%llu median=%llu\n", k->name, backend, samples[0],
	       samples[SAMPLES / 2]);
}

/* ---- guest timer latency ---- */

#define TIMER_SAMPLES 1000
#define TIMER_AHEAD 20000 /* ticks: 20 us of a 1 GHz TSC, 20,000 instructions under icount */
#define LAT_VECTOR 0x41
#define MSR_TSC_DEADLINE 0x6e0
#define LAPIC_BASE 0xfee00000ul

static u64 lat[TIMER_SAMPLES];
volatile u64 lat_tsc; /* written by lat_stub: the TSC at handler entry */

/* The handler: the TSC first, then EOI (xAPIC EOI register), touching only
 * RAX and RDX, which it saves. */
__asm__(".text\n\t.align 16\n\t.globl lat_stub\n"
	"lat_stub:\n\t"
	"push %rax\n\tpush %rdx\n\t"
	"rdtsc\n\tshl $32, %rdx\n\tor %rdx, %rax\n\t"
	"mov %rax, lat_tsc(%rip)\n\t"
	"mov $0xfee000b0, %eax\n\tmovl $0, (%rax)\n\t"
	"pop %rdx\n\tpop %rax\n\tiretq\n");
extern char lat_stub[];

struct idt_gate {
	u16 off0, sel;
	u8 ist, type;
	u16 off1;
	u32 off2, zero;
} __attribute__((packed));

/* Points LAT_VECTOR of the runtime's IDT at lat_stub. */
static void lat_install(void)
{
	struct {
		u16 limit;
		u64 base;
	} __attribute__((packed)) idtr;
	struct idt_gate *g;
	u16 cs;
	ulong a = (ulong)lat_stub;

	__asm__ volatile("sidt %0" : "=m"(idtr));
	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	g = (struct idt_gate *)(idtr.base + 16 * LAT_VECTOR);
	g->off0 = (u16)a;
	g->sel = cs;
	g->ist = 0;
	g->type = 0x8e;
	g->off1 = (u16)(a >> 16);
	g->off2 = (u32)(a >> 32);
	g->zero = 0;
}

static inline void lapic_w(u32 reg, u32 v) { *(volatile u32 *)(LAPIC_BASE + reg) = v; }

static void timer_latency(const char *backend)
{
	u32 r[4];

	cpuid(1, 0, r);
	if (!(r[2] & (1u << 24))) {
		printf("timer latency %s: no TSC-deadline timer shown (CPUID.1:ECX[24])\n", backend);
		return;
	}
	lat_install();
	lapic_w(0xf0, 0x1ff);                       /* SVR: software-enabled */
	lapic_w(0x320, LAT_VECTOR | (2u << 17));    /* LVT timer: TSC-deadline mode */
	__asm__ volatile("mfence" ::: "memory");
	for (unsigned i = 0; i < WARMUP + TIMER_SAMPLES; i++) {
		u64 d = rdtsc() + TIMER_AHEAD;

		lat_tsc = 0;
		wrmsr_safe(MSR_TSC_DEADLINE, d);
		irq_enable();
		while (!lat_tsc)
			;
		irq_disable();
		if (i >= WARMUP)
			lat[i - WARMUP] = lat_tsc > d ? lat_tsc - d : 0;
	}
	sort(lat, TIMER_SAMPLES);
	printf("timer latency %s min=%llu median=%llu max=%llu\n", backend, lat[0],
	       lat[TIMER_SAMPLES / 2], lat[TIMER_SAMPLES - 1]);
}

int main(ulong arg)
{
	const struct kind kinds[] = {
		{ "cpuid", cpuid_run },
		{ "vmcall", hc_intel ? vmcall_run : vmmcall_run },
		{ "pio", pio_run },
		{ "msr", msr_run },
		{ "mmio", mmio_run },
	};
	const char *backend = on_kvm ? "kvm" : hc_intel ? "vmx" : "svm";
	u64 pair = ~0ull;

	for (unsigned i = 0; i < SAMPLES; i++) {
		u64 d = TIMED("", "");

		if (d < pair)
			pair = d;
	}
	printf("bench: %s, %u samples after %u warm-up, TSC ticks per round trip "
	       "(instructions under -icount shift=0); empty RDTSC pair %llu\n",
	       backend, SAMPLES, WARMUP, pair);
	/* Under KVM the timer needs an in-kernel local APIC (kvm-runner -i),
	 * which adds to every exit: bench/peer/init runs the guest twice, the
	 * exits without it (arg 0), the timer with it (arg 1). */
	if (!on_kvm || arg != 1)
		for (unsigned i = 0; i < ARRAY_SIZE(kinds); i++)
			measure(&kinds[i], backend);
	if (!on_kvm || arg == 1)
		timer_latency(backend);
	return 0;
}
