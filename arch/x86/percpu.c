/* The per-CPU blocks (hv/percpu.h): index = percpu id, the boot CPU is 0. */
#include "hv/percpu.h"

struct percpu percpu_area[MAX_CPUS];
unsigned nr_cpus;
