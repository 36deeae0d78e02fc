/*
 * The paravirtual clock: the scale factors give nanoseconds within a part in
 * 10^9 for TSC rates from 1 MHz to 10 GHz, the filled structures read as a
 * guest reads them, and the version protocol leaves an even number.
 */
#include "unit.h"
#include "devices/pvclock.h"

#include <string.h>

/* ns for ticks of a clock at khz, as exact as a long double gets. */
static long double exact_ns(u64 ticks, u64 khz)
{
	return (long double)ticks * 1000000.0L / (long double)khz;
}

TEST(scale_is_precise_across_rates)
{
	static const u64 rates[] = { 1000, 14318, 1000000, 1193182, 2000000, 2994374,
				     3000000, 4200000, 10000000 };

	for (unsigned i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		struct pvclock_vcpu_time_info t;
		u32 mul;
		s8 shift;

		pvclock_scale(rates[i], &mul, &shift);
		CHECK(mul >= 0x80000000u); /* the top bit used: full precision */
		memset(&t, 0, sizeof(t));
		pvclock_fill_time(&t, rates[i]);
		/* One hour of ticks: within 10^-9 relative (3.6 us), plus rounding. */
		u64 ticks = rates[i] * 1000 * 3600;
		long double want = exact_ns(ticks, rates[i]);
		long double got = (long double)pvclock_read_ns(&t, ticks);
		CHECK(got <= want + 1 && got >= want - want / 1e9L - 1);
	}
}

TEST(one_gigahertz_is_one_tick_per_ns)
{
	struct pvclock_vcpu_time_info t = { 0 };

	pvclock_fill_time(&t, 1000000);
	CHECK_EQ(t.tsc_shift, 1);
	CHECK_EQ(t.tsc_to_system_mul, 0x80000000u);
	CHECK_EQ(pvclock_read_ns(&t, 1000000000ULL), 1000000000ULL);
}

TEST(time_fill_sets_stable_zero_based_clock)
{
	struct pvclock_vcpu_time_info t;

	memset(&t, 0xaa, sizeof(t));
	t.version = 6;
	pvclock_fill_time(&t, 2000000);
	CHECK_EQ(t.version, 8);
	CHECK_EQ(t.tsc_timestamp, 0);
	CHECK_EQ(t.system_time, 0);
	CHECK_EQ(t.flags, PVCLOCK_TSC_STABLE_BIT);
	CHECK_EQ(pvclock_read_ns(&t, 0), 0);
	CHECK_EQ(pvclock_read_ns(&t, 2000000000ULL), 1000000000ULL); /* 1 s at 2 GHz */
	/* An odd version left by the guest: the next even one after it. */
	t.version = 9;
	pvclock_fill_time(&t, 2000000);
	CHECK_EQ(t.version, 10);
}

TEST(wall_clock_fill)
{
	struct pvclock_wall_clock w = { 0 };

	pvclock_fill_wall(&w, 1795321414ULL);
	CHECK_EQ(w.version, 2);
	CHECK_EQ(w.sec, 1795321414u);
	CHECK_EQ(w.nsec, 0);
}

int main(void)
{
	RUN(scale_is_precise_across_rates);
	RUN(one_gigahertz_is_one_tick_per_ns);
	RUN(time_fill_sets_stable_zero_based_clock);
	RUN(wall_clock_fill);
	return unit_done();
}
