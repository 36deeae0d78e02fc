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
	for (unsigned i = 0; i < ARRAY_SIZE(kinds); i++)
		measure(&kinds[i], backend);
	return 0;
}
