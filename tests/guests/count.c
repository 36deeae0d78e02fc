/*
 * count: a guest that counts, for the lifecycle test under Bochs
 * (tests/bochs/lifecycle-vmx.sh), where Linux is too slow to boot in a test.
 * It holds the state a pause, a snapshot and a restore must keep exactly:
 *
 *   - vCPU 0 sleeps (HLT) on the local APIC timer in periodic mode, every
 *     arg ms of guest time; on each interrupt it counts n, reads the guest
 *     clocks (RDTSC and HC_TIME_NS), checks a slice of a 4 MiB pattern in
 *     .bss, passes on any key typed on its UART, and prints
 *       "count: n=N n1=M ns=NS tsc=T back=no|yes bad=B"
 *     back=yes once either clock went backwards between two lines (and stays
 *     yes); bad counts the pattern's words that changed, and vCPU 1's
 *     mismatches.
 *   - vCPU 1 counts n1 on HC_TIMER, every arg ms: for the first half of each
 *     period it computes (a chain of multiplications kept both in a register
 *     and in memory, compared at each step: a mismatch counts in bad), for
 *     the second half it sleeps (HLT) with the timer armed. A pause or a
 *     snapshot finds it running in guest mode or halted with a hypervisor
 *     timer pending, and must keep either exactly.
 *   - a key typed on its UART gives a line "count: key=<hex byte>".
 *
 * Configure with cpus=2 and arg = the period in ms (1..1000). It never ends
 * of itself: the monitor destroys it.
 */
#include "guest.h"

#define LAPIC 0xfee00000ul
#define APIC_EOI 0x0b0
#define APIC_SVR 0x0f0
#define APIC_LVT_TIMER 0x320
#define APIC_TIMER_INIT 0x380
#define APIC_TIMER_DCR 0x3e0
#define APIC_LVT_PERIODIC (1u << 17)

#define COM1 0x3f8
#define UART_LSR_DR 0x01

#define PATTERN_WORDS (1u << 19) /* 4 MiB of u64 */
#define SLICES 64                /* one slice checked per tick: all of it in 64 */

static u64 pattern[PATTERN_WORDS];
static volatile u32 n1 __shared, bad1 __shared;

static u64 pattern_word(u32 i) { return (i + 1) * 0x9e3779b97f4a7c15ull; }

static u32 check_slice(u32 slice)
{
	u32 per = PATTERN_WORDS / SLICES, bad = 0;

	for (u32 i = slice * per; i < (slice + 1) * per; i++)
		bad += pattern[i] != pattern_word(i);
	return bad;
}

static __noreturn void counter_hc_timer(ulong ms)
{
	u64 x = 1;
	volatile u64 y = 1;

	for (;;) {
		u64 end;

		hc_timer((u32)ms * 1000, TIMER_VECTOR);
		end = hc_time_ns() + ms * 500000;
		while (hc_time_ns() < end) {
			for (u32 i = 0; i < 1000; i++) {
				x = x * 6364136223846793005ull + 1442695040888963407ull;
				y = y * 6364136223846793005ull + 1442695040888963407ull;
				if (x != y) {
					bad1++;
					y = x;
				}
			}
		}
		sti_hlt_cli();
		n1++;
	}
}

static __noreturn void counter_lapic(ulong ms)
{
	u32 r[4], n = 0, bad = 0;
	u64 prev_ns = 0, prev_tsc = 0;
	bool back = false;

	for (u32 i = 0; i < PATTERN_WORDS; i++)
		pattern[i] = pattern_word(i);
	cpuid(0x40000010, 0, r); /* TSC kHz: the APIC timer counts at that rate */
	mmio_write32(LAPIC + APIC_SVR, 0x1ff);
	mmio_write32(LAPIC + APIC_TIMER_DCR, 0xb); /* divide by 1 */
	mmio_write32(LAPIC + APIC_LVT_TIMER, APIC_LVT_PERIODIC | TIMER_VECTOR);
	mmio_write32(LAPIC + APIC_TIMER_INIT, r[0] * (u32)ms);
	printf("count: counting every %lu ms (TSC %u kHz)\n", ms, r[0]);
	/* What it sees of the CPU: a VM of a CPU-feature pool must not see what
	 * the pool hides (tests/guests/migrate-test.sh). */
	cpuid(1, 0, r);
	printf("count: cpuid 1.eax=%08x 1.ecx=%08x 80000001.ecx=", r[0], r[2]);
	cpuid(0x80000001, 0, r);
	printf("%08x\n", r[2]);
	for (;;) {
		u64 ns, tsc;

		sti_hlt_cli();
		mmio_write32(LAPIC + APIC_EOI, 0);
		ns = hc_time_ns();
		tsc = rdtsc();
		if (ns < prev_ns || tsc < prev_tsc)
			back = true;
		prev_ns = ns;
		prev_tsc = tsc;
		bad += check_slice(n % SLICES);
		n++;
		while (inb(COM1 + 5) & UART_LSR_DR)
			printf("count: key=%02x\n", inb(COM1));
		printf("count: n=%u n1=%u ns=%llu tsc=%llu back=%s bad=%u\n", n, n1, ns, tsc,
		       back ? "yes" : "no", bad + bad1);
	}
}

int main(ulong arg)
{
	struct vcpu_info vi;

	if (arg < 1 || arg > 1000) {
		printf("FAIL count: period %lu ms, expected 1..1000\n", arg);
		return 1;
	}
	hc_vcpu_info(&vi);
	if (vi.index == 0)
		counter_lapic(arg);
	if (vi.index == 1)
		counter_hc_timer(arg);
	cli_hlt_forever();
}
