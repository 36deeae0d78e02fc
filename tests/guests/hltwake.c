/*
 * hltwake: `sti; hlt` wakes on the interrupt that comes next, never sleeps
 * past one it has already taken (issue 15; docs/interrupts.md, "HLT").
 *
 * On a CPU, STI holds interrupts back for one more instruction, so in
 * `sti; hlt` an interrupt pending or arriving at the STI is taken only once
 * the HLT has begun, and the HLT returns with it. Every idle loop that must
 * not miss its wake-up (Linux's among them) is built on that. If a
 * hypervisor lets the interrupt in between the two (a host interrupt exit
 * there, and an entry that loses the shadow), its handler returns to the
 * HLT, which then sleeps until some other interrupt comes: in Linux, a
 * `sleep 1` that took minutes, a console that stopped reading input.
 *
 * The loop: a local APIC one-shot timer 0-50 us ahead, then `sti; hlt;
 * cli` until the timer's interrupt has come; the PIT, every 10 ms through
 * the I/O APIC, interrupts too. Run as two VMs on one CPU (the matrix's
 * hltwake-two), each VM's timer expiries become host interrupts while the
 * other is at its `sti; hlt`. Both handlers look at the RIP the interrupt
 * came from: the HLT's own address means it was taken between STI and HLT,
 * which a CPU never does.
 *
 *   hlt_wakes: of ROUNDS timer interrupts and the PIT's meanwhile, none was
 *   taken in the STI shadow, before the HLT.
 * And the run ends: the hypervisor's own idle HLT once slept for good under
 * QEMU 7.2, its timer interrupt lost (core/sched_timer.c), which this loop,
 * arming a host deadline every few microseconds, hit one run in two.
 * Long mode, one vCPU; arg = 1: HC_EXIT(0) when it passed.
 */
#include "guest.h"
#include "lapic.h"

#define ROUNDS 20000
#define LAT_VECTOR 0x41
#define PIT_VECTOR 0x52 /* a higher class than LAT_VECTOR: taken first when both wait */
#define APIC_TIMER_DCR_DIV1 0xb

static volatile u32 lat_count, pit_count;
static volatile u32 in_shadow; /* interrupts taken at the HLT, after the STI */
extern const char hw_hlt[];

/* Both handlers get the interrupted RIP (the frame's, above the nine
 * registers the stub saves). */
void on_irq(ulong rip, ulong pit);
void on_irq(ulong rip, ulong pit)
{
	if (rip == (ulong)hw_hlt)
		in_shadow++;
	if (pit)
		pit_count++;
	else
		lat_count++;
	mmio_write32(LAPIC + APIC_EOI, 0);
}

#define RIP_STUB(name, pit)                                                    \
	#name ":\n\t"                                                          \
	"push %rax\n\tpush %rcx\n\tpush %rdx\n\tpush %rsi\n\tpush %rdi\n\t"    \
	"push %r8\n\tpush %r9\n\tpush %r10\n\tpush %r11\n\t"                   \
	"mov 72(%rsp), %rdi\n\tmov $" #pit ", %esi\n\tcall on_irq\n\t"          \
	"pop %r11\n\tpop %r10\n\tpop %r9\n\tpop %r8\n\t"                       \
	"pop %rdi\n\tpop %rsi\n\tpop %rdx\n\tpop %rcx\n\tpop %rax\n\tiretq\n"
__asm__(".text\n" RIP_STUB(lat_stub, 0) RIP_STUB(pit_stub, 1));
extern char lat_stub[], pit_stub[];

/* One copy of the HLT, so that its address is known. */
static __attribute__((noinline)) void sti_hw_hlt_cli(void)
{
	__asm__ volatile("sti\n\t.globl hw_hlt\nhw_hlt:\n\thlt\n\tcli" ::: "memory");
}

/* PIT counter 0 in mode 2 every 10 ms -> ISA IRQ 0 -> I/O APIC pin 2 ->
 * PIT_VECTOR, fixed, edge, to this vCPU's APIC (ID 0). */
static void pit_start(void)
{
	mmio_write32(IOAPIC, 0x10 + 2 * 2 + 1);
	mmio_write32(IOAPIC + 0x10, 0);
	mmio_write32(IOAPIC, 0x10 + 2 * 2);
	mmio_write32(IOAPIC + 0x10, PIT_VECTOR);
	outb(0x43, 0x34);
	outb(0x40, 11932 & 0xff); /* 1.193182 MHz / 11932 = 100 Hz */
	outb(0x40, 11932 >> 8);
}

static void pit_stop(void)
{
	mmio_write32(IOAPIC, 0x10 + 2 * 2);
	mmio_write32(IOAPIC + 0x10, 1u << 16);
	outb(0x43, 0x30); /* mode 0: no more edges */
}

int main(ulong arg)
{
	u64 tsc_khz, t0, ms;
	u32 r[4], pit_first;

	cpuid(0x40000010, 0, r);
	tsc_khz = r[0];
	if (!check(tsc_khz >= 1000, "hlt_tsc_khz", "CPUID 0x40000010 EAX %u", r[0]))
		return (int)failures;
	idt_set_gate(LAT_VECTOR, lat_stub, 0x8e, 0);
	idt_set_gate(PIT_VECTOR, pit_stub, 0x8e, 0);
	mmio_write32(LAPIC + APIC_SVR, 0x1ff);
	mmio_write32(LAPIC + APIC_TIMER_DCR, APIC_TIMER_DCR_DIV1); /* the TSC's rate */
	mmio_write32(LAPIC + APIC_LVT_TIMER, LAT_VECTOR);           /* one-shot */
	pit_start();
	pit_first = pit_count;
	t0 = rdtsc();
	for (u32 i = 0; i < ROUNDS; i++) {
		u32 seen = lat_count;

		/* 1 to 50 us ahead, spread by a prime step. */
		mmio_write32(LAPIC + APIC_TIMER_INIT, (u32)(1 + (i * 7919u) % (tsc_khz / 20)));
		while (lat_count == seen)
			sti_hw_hlt_cli();
	}
	pit_stop();
	ms = (rdtsc() - t0) / tsc_khz;
	check(in_shadow == 0, "hlt_wakes",
	      "%u of %u timer and %u PIT interrupts taken between STI and HLT (in %llu ms)",
	      in_shadow, ROUNDS, pit_count - pit_first, ms);
	printf("hltwake: %u HLTs in %llu ms, %u PIT interrupts, %u taken before the HLT\n",
	       ROUNDS, ms, pit_count - pit_first, in_shadow);
	return arg == 1 && !failures ? 0 : (int)failures;
}
