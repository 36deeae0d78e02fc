/* TSC <-> ns conversions (arch/x86/time.c): exact enough, and no overflow over long uptimes. */
#include "unit.h"
#include "arch/x86/time.h"
#include "hv/platform.h"

static u64 absdiff(u64 a, u64 b) { return a > b ? a - b : b - a; }

TEST(one_second_at_common_rates)
{
	const u64 rates[] = { 1000000, 2000031, 2399999, 3000000, 4700123 };

	for (unsigned i = 0; i < ARRAY_SIZE(rates); i++) {
		time_set_tsc_khz(rates[i]);
		CHECK_EQ(tsc_khz, rates[i]);
		CHECK(absdiff(tsc_to_ns(rates[i] * 1000), 1000000000ULL) <= 1);
		CHECK(absdiff(ns_to_tsc(1000000000ULL), rates[i] * 1000) <= 1);
		CHECK_EQ(tsc_to_ns(0), 0);
		CHECK(ns_to_tsc(1000) >= rates[i] / 1000 - 1); /* a microsecond */
	}
}

TEST(long_uptimes_do_not_overflow)
{
	const u64 khz = 3500000, day_ns = 86400ULL * 1000000000ULL;

	time_set_tsc_khz(khz);
	/* 100 days of ticks: 3.0e16, times a 32-bit multiplier would overflow 64 bits. */
	u64 ticks = 100 * 86400ULL * khz * 1000;
	u64 ns = tsc_to_ns(ticks);
	CHECK(absdiff(ns, 100 * day_ns) < 100 * day_ns / 1000000000); /* 1e-9 */
	CHECK(absdiff(ns_to_tsc(100 * day_ns), ticks) < ticks / 1000000000);
	/* Round trips stay close: within the ticks of one truncated nanosecond, plus 1e-9. */
	for (u64 t = 1; t < (1ULL << 60); t = t * 7 + 3)
		CHECK(absdiff(ns_to_tsc(tsc_to_ns(t)), t) <= khz / 1000000 + 1 + t / 1000000000);
}

TEST(a_zero_rate_is_refused)
{
	time_set_tsc_khz(0);
	CHECK(tsc_khz != 0);
	CHECK(tsc_to_ns(tsc_khz * 1000) > 0);
}

int main(void)
{
	RUN(one_second_at_common_rates);
	RUN(long_uptimes_do_not_overflow);
	RUN(a_zero_rate_is_refused);
	return unit_done();
}
