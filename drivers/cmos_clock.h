/* The machine's own CMOS real-time clock, read once at boot for the guests' RTCs. */
#ifndef DRIVERS_CMOS_CLOCK_H
#define DRIVERS_CMOS_CLOCK_H

#include "hv/types.h"

/* Seconds since 1970-01-01 UTC as the CMOS clock holds them (assumed UTC),
 * or 0 when it reads as nonsense. */
u64 cmos_clock_read_unix(void);

#endif
