/*
 * The local APIC (SDM vol. 3A, chapter "Advanced Programmable Interrupt
 * Controller (APIC)"): enabling it, EOI, IPIs, and its timer.
 */
#include "arch/x86/lapic.h"
#include "hv/console.h"
#include "hv/percpu.h"
#include "hv/platform.h"
#include "asm/apic_regs.h"
#include "asm/cpu.h"
#include "asm/idmap.h"
#include "asm/percpu.h"

#define CPUID_1_ECX_X2APIC BIT(21)
#define CPUID_1_ECX_TSC_DEADLINE BIT(24)
#define MSR_IA32_TSC_DEADLINE 0x6e0
/* How long to wait for the xAPIC to accept an IPI; it takes well under a microsecond. */
#define ICR_SPIN_MAX 10000000u

u64 apic_timer_hz;

static volatile u32 *apic_mmio; /* xAPIC mode: the register page */
static bool x2apic;

static u32 apic_read(u32 reg)
{
	if (x2apic)
		return (u32)rdmsr(X2APIC_MSR_BASE + (reg >> 4));
	return apic_mmio[reg / 4];
}

static void apic_write(u32 reg, u32 v)
{
	if (x2apic)
		wrmsr(X2APIC_MSR_BASE + (reg >> 4), v);
	else
		apic_mmio[reg / 4] = v;
}

void apic_init(u64 madt_addr)
{
	u64 msr = rdmsr(MSR_IA32_APIC_BASE);
	u64 base = msr & APIC_BASE_ADDR_MASK;

	/* Firmware that enabled x2APIC (machines with APIC IDs above 254) may not
	 * be taken back to xAPIC mode without a full disable; stay with it. */
	if ((msr & APIC_BASE_EXTD) && (cpuid(1).ecx & CPUID_1_ECX_X2APIC)) {
		x2apic = true;
		kprintf("apic: x2APIC mode (left on by the firmware)\n");
		return;
	}
	if (madt_addr && madt_addr != base)
		kprintf("apic: the MADT says the local APIC is at 0x%lx, IA32_APIC_BASE says "
			"0x%lx; using the MSR\n", madt_addr, base);
	if (idmap_set_uncached(base, PAGE_SIZE))
		panic("apic: registers at 0x%lx are outside the identity map", base);
	apic_mmio = (volatile u32 *)(uintptr_t)base;
}

void apic_enable_cpu(void)
{
	u64 msr = rdmsr(MSR_IA32_APIC_BASE);
	u64 want = msr | APIC_BASE_EN | (x2apic ? APIC_BASE_EXTD : 0);
	u32 max_lvt;

	/* Globally enabled (and in the boot CPU's mode); xAPIC -> x2APIC may be
	 * done in one write (SDM vol. 3A, "x2APIC State Transitions"). */
	if (want != msr)
		wrmsr(MSR_IA32_APIC_BASE, want);
	/* Software-enable first: while disabled, LVT masks cannot be cleared. */
	apic_write(APIC_SVR, APIC_SVR_ENABLE | VECTOR_SPURIOUS);
	apic_write(APIC_TPR, 0);
	max_lvt = (apic_read(APIC_VERSION) >> 16) & 0xff;
	apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED | VECTOR_TIMER);
	if (max_lvt >= 4)
		apic_write(APIC_LVT_PERF, APIC_LVT_MASKED);
	if (max_lvt >= 5)
		apic_write(APIC_LVT_THERMAL, APIC_LVT_MASKED);
	/* The 8259s are masked: nothing comes through LINT0. LINT1 carries the
	 * platform's NMI, wired to the boot CPU. */
	apic_write(APIC_LVT_LINT0, APIC_LVT_MASKED | APIC_LVT_DM_EXTINT);
	apic_write(APIC_LVT_LINT1, (msr & APIC_BASE_BSP) ? APIC_LVT_DM_NMI
							 : APIC_LVT_MASKED | APIC_LVT_DM_NMI);
	apic_write(APIC_LVT_ERROR, APIC_LVT_MASKED);
	/* The ESR latches on write: two writes clear it (xAPIC). */
	apic_write(APIC_ESR, 0);
	apic_write(APIC_ESR, 0);
	lapic_eoi(); /* anything the firmware left in service */
}

void apic_lint0_extint(void)
{
	apic_write(APIC_LVT_LINT0, APIC_LVT_DM_EXTINT);
}

u32 apic_id(void)
{
	u32 id = apic_read(APIC_ID);

	return x2apic ? id : id >> 24;
}

bool apic_x2apic_mode(void) { return x2apic; }
u64 apic_mmio_base(void) { return (u64)(uintptr_t)apic_mmio; }

void lapic_eoi(void)
{
	apic_write(APIC_EOI, 0);
}

/* Sends one IPI and waits until the APIC has taken it (xAPIC delivery status). */
static int icr_send(u32 dest, u32 lo)
{
	u64 flags = irq_save();
	int ret = 0;

	if (x2apic) {
		wrmsr(X2APIC_MSR_ICR, ((u64)dest << 32) | lo);
	} else {
		/* ICR high first: the write to ICR low sends. */
		apic_write(APIC_ICR_HI, dest << APIC_ICR_DEST_SHIFT);
		apic_write(APIC_ICR_LO, lo);
		ret = -EIO;
		for (u32 i = 0; i < ICR_SPIN_MAX; i++) {
			if (!(apic_read(APIC_ICR_LO) & APIC_ICR_BUSY)) {
				ret = 0;
				break;
			}
			cpu_relax();
		}
	}
	irq_restore(flags);
	return ret;
}

void ipi_send(u32 cpu, u8 vector)
{
	if (cpu >= nr_cpus) {
		kprintf("ipi_send: no CPU %u\n", cpu);
		return;
	}
	if (icr_send(percpu_area[cpu].apic_id, APIC_ICR_DM_FIXED | APIC_ICR_ASSERT | vector))
		kprintf("ipi_send: the local APIC did not send vector %u to CPU %u\n", vector, cpu);
}

/* INIT and STARTUP as in the MP initialization example (SDM vol. 3A, "MP
 * Initialization Example"): edge-triggered, assert, physical destination. */
int apic_send_init(u32 dest)
{
	return icr_send(dest, APIC_ICR_DM_INIT | APIC_ICR_ASSERT);
}

int apic_send_startup(u32 dest, u8 vector)
{
	return icr_send(dest, APIC_ICR_DM_STARTUP | APIC_ICR_ASSERT | vector);
}

void apic_send_nmi_others(void)
{
	icr_send(0, APIC_ICR_DM_NMI | APIC_ICR_ASSERT | APIC_ICR_ALL_BUT_SELF);
}

void apic_timer_oneshot(u32 count, bool masked)
{
	apic_write(APIC_TIMER_DIV, APIC_DIV_16);
	apic_write(APIC_LVT_TIMER, VECTOR_TIMER | (masked ? APIC_LVT_MASKED : 0));
	apic_write(APIC_TIMER_INIT, count);
}

u32 apic_timer_current(void)
{
	return apic_read(APIC_TIMER_CUR);
}

void apic_timer_stop(void)
{
	apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED | VECTOR_TIMER);
	apic_write(APIC_TIMER_INIT, 0);
}

void timer_start_periodic(u32 hz)
{
	u64 count = hz ? apic_timer_hz / hz : 0;

	if (count == 0)
		count = 1;
	if (count > 0xffffffffu)
		count = 0xffffffffu;
	apic_write(APIC_TIMER_DIV, APIC_DIV_16);
	apic_write(APIC_LVT_TIMER, VECTOR_TIMER | APIC_LVT_TIMER_PERIODIC);
	apic_write(APIC_TIMER_INIT, (u32)count);
}

/* ---- the timer as a deadline (hv/platform.h) ---- */

enum deadline_mode { DL_TSC, DL_ONESHOT };
static enum deadline_mode dl_mode;
static u64 counts_per_tsc; /* APIC counts at divide-by-16 per TSC tick, 32.32 fixed point */

void timer_deadline_start(void)
{
	u32 lvt = VECTOR_TIMER;

	if (this_cpu()->id == 0) {
		dl_mode = (cpuid(1).ecx & CPUID_1_ECX_TSC_DEADLINE) ? DL_TSC : DL_ONESHOT;
		/* No 128-bit division here (no libgcc); counts at divide-by-16
		 * are far below 2^32 a second on any machine. */
		u64 hz = apic_timer_hz < (1ULL << 32) ? apic_timer_hz : (1ULL << 32) - 1;

		counts_per_tsc = (hz << 32) / (tsc_khz * 1000);
		if (counts_per_tsc == 0)
			counts_per_tsc = 1;
	}
	if (dl_mode == DL_TSC)
		lvt |= APIC_LVT_TIMER_TSC_DEADLINE;
	apic_write(APIC_TIMER_INIT, 0);
	apic_write(APIC_TIMER_DIV, APIC_DIV_16);
	/* In TSC-deadline mode the LVT write comes before the MSR write, with
	 * a fence between them (SDM vol. 3A, "TSC-Deadline Mode"). */
	apic_write(APIC_LVT_TIMER, lvt);
	__asm__ volatile("mfence" ::: "memory");
}

void timer_deadline_set(u64 tsc)
{
	u64 now, count;

	if (dl_mode == DL_TSC) {
		wrmsr(MSR_IA32_TSC_DEADLINE, tsc ? tsc : 1); /* 0 would disarm */
		return;
	}
	now = rdtsc();
	count = tsc > now ? (u64)(((unsigned __int128)(tsc - now) * counts_per_tsc) >> 32) : 0;
	/* Rounded up, and never 0: a 0 initial count stops the timer. */
	count += 1;
	if (count > 0xffffffffu)
		count = 0xffffffffu;
	apic_write(APIC_TIMER_INIT, (u32)count);
}

void apic_reevaluate(void)
{
	/* TPR is 0 whenever the hypervisor runs; writing it again changes
	 * nothing on a CPU, and makes QEMU's APIC compute its output anew. */
	apic_write(APIC_TPR, 0);
}

const char *timer_deadline_mode(void)
{
	return dl_mode == DL_TSC ? "tsc-deadline" : "one-shot";
}
