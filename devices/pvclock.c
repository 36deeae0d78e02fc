/* The paravirtual clock's arithmetic and structures (devices/pvclock.h). */
#include "devices/pvclock.h"

#define NSEC_PER_SEC 1000000000ULL

void pvclock_scale(u64 tsc_khz, u32 *mul, s8 *shift)
{
	u64 hz = tsc_khz * 1000, scaled = hz, q, r;
	s8 s = 0;

	if (!hz) { /* no rate: the loops below would never end */
		*mul = 0;
		*shift = 0;
		return;
	}
	/* The shift that brings the tick rate into (NSEC_PER_SEC,
	 * 2 * NSEC_PER_SEC]: then a scaled tick is [0.5, 1) ns and
	 * NSEC_PER_SEC * 2^32 / (hz * 2^shift) fits 32 bits with its top bit set. */
	while (scaled > 2 * NSEC_PER_SEC) {
		scaled >>= 1;
		s--;
	}
	while (scaled <= NSEC_PER_SEC) {
		scaled <<= 1;
		s++;
	}
	/* mul = 10^9 * 2^(32 - s) / hz exactly. 10^9 * 2^32 fits 64 bits; a
	 * negative s adds quotient bits by long division, one at a time. */
	if (s > 0)
		hz <<= s;
	q = (NSEC_PER_SEC << 32) / hz;
	r = (NSEC_PER_SEC << 32) % hz;
	for (s8 i = s; i < 0; i++) {
		q <<= 1;
		r <<= 1; /* r < hz < 2^38: no overflow */
		if (r >= hz) {
			q |= 1;
			r -= hz;
		}
	}
	*mul = (u32)q;
	*shift = s;
}

void pvclock_fill_time(struct pvclock_vcpu_time_info *t, u64 tsc_khz)
{
	u32 version = (t->version | 1) + 1; /* next even number */
	u32 mul;
	s8 shift;

	pvclock_scale(tsc_khz, &mul, &shift);
	__atomic_store_n(&t->version, version - 1, __ATOMIC_RELEASE);
	t->tsc_timestamp = 0;
	t->system_time = 0;
	t->tsc_to_system_mul = mul;
	t->tsc_shift = shift;
	t->flags = PVCLOCK_TSC_STABLE_BIT;
	__atomic_store_n(&t->version, version, __ATOMIC_RELEASE);
}

void pvclock_fill_wall(struct pvclock_wall_clock *w, u64 unix_sec)
{
	u32 version = (w->version | 1) + 1;

	__atomic_store_n(&w->version, version - 1, __ATOMIC_RELEASE);
	w->sec = (u32)unix_sec;
	w->nsec = 0;
	__atomic_store_n(&w->version, version, __ATOMIC_RELEASE);
}

u64 pvclock_read_ns(const struct pvclock_vcpu_time_info *t, u64 tsc)
{
	u64 delta = tsc - t->tsc_timestamp;

	if (t->tsc_shift < 0)
		delta >>= -t->tsc_shift;
	else
		delta <<= t->tsc_shift;
	return t->system_time + (u64)(((unsigned __int128)delta * t->tsc_to_system_mul) >> 32);
}
