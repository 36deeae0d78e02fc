/*
 * Guest timers fire on time (issue 15, item 7; docs/interrupts.md, "The
 * tick"). With the host timer armed only for the 1 kHz scheduler tick, a
 * guest timer was up to 1 ms late; armed for the guest's deadline it is
 * late by one exit and one injection.
 *
 *   timer_oneshot_latency: SAMPLES one-shot local APIC timers 100 us ahead,
 *     waited for in HLT; the median of (TSC in the handler - deadline) is
 *     below 300 us (with the tick alone about 880 us: woken on a tick, the
 *     loop arms 100 us past it and waits for the next). The median, not the
 *     max: the host may deschedule QEMU now and then.
 *   timer_tscdeadline_latency: the same in TSC-deadline mode.
 *   timer_periodic: a periodic timer every 200 us for 100 ms of TSC
 *     delivers at least 50 of its 500 interrupts and not more than the
 *     loop's time makes due (see periodic()): it re-arms itself and never
 *     fires early. How many come is the emulator's
 *     capacity, not the design's: with the tick it was 101 at most, with
 *     exact timers 300-480 on a quiet machine, but 121 in a `make test`
 *     whose matrix ran two QEMUs on two cores (the bound was 200 then, and
 *     failed). The one-shot and TSC-deadline medians above are what shows
 *     that timers are exact; a periodic expiry is re-armed by the same
 *     deadline (devices/vlapic.c, timer_rearm_periodic).
 *
 * The matrix runs it alone and as two VMs sharing one CPU (arg 1; both VMs
 * sleep in HLT between interrupts). There the latency bound is 600 us: the
 * two identical guests run in lockstep, so each waits for the other's
 * handling too, and under Bochs (20 instructions a microsecond) that made
 * 376-412 us where one VM alone took 76; the tick gave 774-890 here (this
 * loop arms just after a tick, so its deadline waits most of the next).
 * The periodic timer runs every 500 us and a tenth of its 200 interrupts
 * must come: under QEMU's TCG one emulated CPU takes about 10,000 timer
 * interrupts a second through a hypervisor (each a wake-up, a switch of VM,
 * an injection and a HLT), fewer on a loaded host (52 to 197 of 200 were
 * seen here), so a tighter bound would measure the emulator.
 */
#include "guest.h"
#include "lapic.h"

#define SAMPLES 200
#define LAT_VECTOR 0x41
#define MSR_TSC_DEADLINE 0x6e0
#define APIC_TIMER_DCR_DIV1 0xb
#define LVT_TSC_DEADLINE (2u << 17)

static volatile u64 irq_tsc;   /* TSC at the last handler entry */
static volatile u32 irq_count; /* interrupts taken */
static u64 lat[SAMPLES];
static u64 tsc_khz;

/* TSC first, then count and EOI; RAX, RDX saved. */
__asm__(".text\n\t.align 16\n\t.globl lat_stub\n"
	"lat_stub:\n\t"
	"push %rax\n\tpush %rdx\n\t"
	"rdtsc\n\tshl $32, %rdx\n\tor %rdx, %rax\n\t"
	"mov %rax, irq_tsc(%rip)\n\t"
	"lock incl irq_count(%rip)\n\t"
	"mov $0xfee000b0, %eax\n\tmovl $0, (%rax)\n\t"
	"pop %rdx\n\tpop %rax\n\tiretq\n");
extern char lat_stub[];

struct idt_gate {
	u16 off0, sel;
	u8 ist, type;
	u16 off1;
	u32 off2, zero;
} __attribute__((packed));

static void install(void)
{
	struct {
		u16 limit;
		u64 base;
	} __attribute__((packed)) idtr;
	struct idt_gate *g;
	ulong a = (ulong)lat_stub;
	u16 cs;

	__asm__ volatile("sidt %0" : "=m"(idtr));
	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	g = (struct idt_gate *)(idtr.base + 16 * LAT_VECTOR);
	*g = (struct idt_gate){ .off0 = (u16)a, .sel = cs, .type = 0x8e, .off1 = (u16)(a >> 16),
				.off2 = (u32)(a >> 32) };
}

static void lapic_write(u32 reg, u32 v) { mmio_write32(LAPIC + reg, v); }

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

/* Sleeps in HLT until an interrupt has come since seen; false after 1 s of TSC. */
static bool wait_irq(u32 seen)
{
	u64 t0 = rdtsc();

	while (irq_count == seen) {
		if (rdtsc() - t0 > tsc_khz * 1000)
			return false;
		__asm__ volatile("sti; hlt; cli" ::: "memory");
	}
	return true;
}

static void latency(bool tsc_deadline, bool shared)
{
	const char *name = tsc_deadline ? "timer_tscdeadline_latency" : "timer_oneshot_latency";
	/* 100 us ahead; bound 300 us, 600 us for two VMs on one CPU. */
	u64 ahead = tsc_khz / 10, bound = tsc_khz * (shared ? 6 : 3) / 10;
	unsigned lost = 0;

	lapic_write(APIC_TIMER_DCR, APIC_TIMER_DCR_DIV1); /* counts at the TSC rate (CPUID 0x40000010) */
	lapic_write(APIC_LVT_TIMER, LAT_VECTOR | (tsc_deadline ? LVT_TSC_DEADLINE : 0));
	__asm__ volatile("mfence" ::: "memory");
	for (unsigned i = 0; i < SAMPLES; i++) {
		u32 seen = irq_count;
		u64 d;

		if (tsc_deadline) {
			d = rdtsc() + ahead;
			wrmsr_safe(MSR_TSC_DEADLINE, d);
		} else {
			/* The count starts at the write: the deadline is at most
			 * the TSC read just after it plus the count. */
			lapic_write(APIC_TIMER_INIT, (u32)ahead);
			d = rdtsc() + ahead;
		}
		if (!wait_irq(seen)) {
			lost++;
			lat[i] = ~0ull;
			continue;
		}
		lat[i] = irq_tsc > d ? irq_tsc - d : 0;
	}
	lapic_write(APIC_LVT_TIMER, LAT_VECTOR | (1u << 16));
	sort(lat, SAMPLES);
	check(lost == 0 && lat[SAMPLES / 2] < bound, name,
	      "%u lost; latency in us: min %llu median %llu max %llu (bound %llu)", lost,
	      lat[0] * 1000 / tsc_khz, lat[SAMPLES / 2] * 1000 / tsc_khz,
	      lat[SAMPLES - 1 - lost] * 1000 / tsc_khz, bound * 1000 / tsc_khz);
	printf("%s: median %llu us, min %llu us, max %llu us\n", name,
	       lat[SAMPLES / 2] * 1000 / tsc_khz, lat[0] * 1000 / tsc_khz,
	       lat[SAMPLES - 1 - lost] * 1000 / tsc_khz);
}

/*
 * The periodic timer counted over the loop's own time: the loop looks at
 * the TSC only when an interrupt has brought it out of HLT and the handler
 * has returned, and with interrupts off, so nothing is counted after it.
 * When the guest spends all its time in the handler (each interrupt taking
 * longer than a period through the hypervisor, as under Bochs with shadow
 * paging), the next one is taken at the CLI after HLT before the CLI runs,
 * the loop seldom gets to look, and it overran its 100 ms by up to 29%
 * (18 looks for 531 interrupts): the interrupts due are those of the time
 * it ran, not of 100 ms.
 */
static void periodic(bool shared)
{
	u64 period = shared ? tsc_khz / 2 : tsc_khz / 5, span = tsc_khz * 100; /* 100 ms */
	u32 first, n, due, least = (shared ? 200 : 500) / 10;
	u64 t0, ran;

	lapic_write(APIC_TIMER_DCR, APIC_TIMER_DCR_DIV1);
	lapic_write(APIC_LVT_TIMER, LAT_VECTOR | APIC_LVT_PERIODIC);
	lapic_write(APIC_TIMER_INIT, (u32)period);
	first = irq_count;
	t0 = rdtsc();
	while ((ran = rdtsc() - t0) < span)
		__asm__ volatile("sti; hlt; cli" ::: "memory");
	n = irq_count - first;
	lapic_write(APIC_TIMER_INIT, 0);
	lapic_write(APIC_LVT_TIMER, LAT_VECTOR | (1u << 16));
	due = (u32)(ran / period);
	check(n >= least && n <= due + due / 20, "timer_periodic",
	      "%u interrupts in %llu us, %u due, at least %u wanted", n, ran * 1000 / tsc_khz, due,
	      least);
	printf("timer_periodic: %u interrupts in %llu us of TSC (%u due, every %llu us)\n", n,
	       ran * 1000 / tsc_khz, due, period * 1000 / tsc_khz);
}

int main(ulong arg)
{
	u32 r[4];

	cpuid(0x40000010, 0, r);
	tsc_khz = r[0];
	if (!check(tsc_khz >= 1000, "timer_tsc_khz", "CPUID 0x40000010 EAX %u", r[0]))
		return (int)failures;
	install();
	lapic_write(APIC_SVR, 0x1ff);
	latency(false, arg == 1);
	latency(true, arg == 1);
	periodic(arg == 1);
	printf("timers: %u failure(s)\n", failures);
	return (int)failures;
}
