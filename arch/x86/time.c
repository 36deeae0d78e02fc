/*
 * TSC ticks <-> nanoseconds by multiply and shift: one 64x64->128 multiply
 * each (no division, no libgcc), exact to about 1e-9 and free of overflow
 * for any uptime below 2^64 ns (584 years).
 */
#include "arch/x86/time.h"
#include "hv/platform.h"
#include "asm/cpu.h"

#define MULT_SHIFT 32
#define NSEC_PER_MSEC 1000000ULL

u64 tsc_khz;
static u64 ns_per_tick_mult;  /* (10^6 << 32) / tsc_khz: ns per tick, fixed point */
static u64 ticks_per_ns_mult; /* (tsc_khz << 32) / 10^6: ticks per ns, fixed point */

void time_set_tsc_khz(u64 khz)
{
	if (khz == 0 || khz >= (1ULL << 32))
		khz = 1000000; /* never divide by zero: a clearly wrong 1 GHz */
	tsc_khz = khz;
	ns_per_tick_mult = (NSEC_PER_MSEC << MULT_SHIFT) / khz;
	ticks_per_ns_mult = (khz << MULT_SHIFT) / NSEC_PER_MSEC;
}

u64 tsc_to_ns(u64 ticks)
{
	return (u64)(((unsigned __int128)ticks * ns_per_tick_mult) >> MULT_SHIFT);
}

/* Whole milliseconds: for durations printed in logs and by the monitor. */
u64 tsc_to_ms(u64 ticks)
{
	return tsc_khz ? ticks / tsc_khz : 0;
}

u64 ns_to_tsc(u64 ns)
{
	return (u64)(((unsigned __int128)ns * ticks_per_ns_mult) >> MULT_SHIFT);
}

void udelay(u64 us)
{
	u64 start = rdtsc(), ticks = ns_to_tsc(us * 1000);

	while (rdtsc() - start < ticks)
		cpu_relax();
}
