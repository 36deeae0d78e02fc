/* The per-CPU blocks (hv/percpu.h): index = percpu id, the boot CPU is 0. */
#include "hv/percpu.h"

struct percpu percpu_area[MAX_CPUS];
unsigned nr_cpus;

int percpu_index_of(u64 base)
{
	u64 first = (u64)(uintptr_t)&percpu_area[0];

	if (base < first || base >= first + sizeof(percpu_area) ||
	    (base - first) % sizeof(percpu_area[0]))
		return -1;
	return (int)((base - first) / sizeof(percpu_area[0]));
}
