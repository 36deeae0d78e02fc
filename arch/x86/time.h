/* TSC time: conversions (tsc_khz, tsc_to_ns, ns_to_tsc in hv/platform.h), delays, calibration. */
#ifndef ARCH_X86_TIME_H
#define ARCH_X86_TIME_H

#include "hv/types.h"

/* Sets tsc_khz and the conversion factors; khz must not be 0. */
void time_set_tsc_khz(u64 khz);

/* Busy-waits (needs tsc_khz). */
void udelay(u64 us);

/*
 * Measures the TSC and the local APIC timer (divide by 16) against the PIT's
 * channel 2 over about 10 ms, best of a few tries. Falls back to CPUID leaf
 * 0x16 when the PIT does not count. Sets tsc_khz and apic_timer_hz; returns
 * 0, or -ENODEV when it had to guess.
 */
int time_calibrate(void);

#endif
