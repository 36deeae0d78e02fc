/*
 * spin: a busy loop that makes no exits of its own, to see the scheduler
 * preempt it. For about 300 ms of HC_TIME_NS it reads RDTSC back to back and
 * counts the gaps longer than 4 ms: the times another vCPU ran on its CPU.
 * Two spin VMs sharing one CPU with 10 ms slices see about 15 each.
 *
 * arg = the fewest preemptions to expect. Exit 0 when met, else 1.
 */
#include "guest.h"

#define RUN_NS 300000000ull
#define GAP_NS 4000000ull

int main(ulong arg)
{
	u64 n0, n1, t0, t1, ticks_per_ms, gap, prev, now, end, longest = 0;
	u32 preempted = 0, spins = 0;

	/* TSC ticks per ms against HC_TIME_NS; both run on while we are preempted. */
	n0 = hc_time_ns();
	t0 = rdtsc();
	while (hc_time_ns() - n0 < 20000000)
		cpu_relax();
	n1 = hc_time_ns();
	t1 = rdtsc();
	ticks_per_ms = (t1 - t0) * 1000000 / (n1 - n0);
	gap = ticks_per_ms * (GAP_NS / 1000000);
	if (!ticks_per_ms) {
		printf("FAIL spin: TSC does not advance (%llu ticks in %llu ns)\n", t1 - t0, n1 - n0);
		return 1;
	}

	end = n1 + RUN_NS;
	prev = rdtsc();
	for (;;) {
		now = rdtsc();
		if (now - prev > gap) {
			preempted++;
			if (now - prev > longest)
				longest = now - prev;
		}
		prev = now;
		if ((++spins & 0xffff) == 0 && hc_time_ns() >= end)
			break;
	}
	printf("spin: preempted %u times in %llu ms, longest gap %llu ms (%llu TSC ticks/ms)\n",
	       preempted, RUN_NS / 1000000, longest / ticks_per_ms, ticks_per_ms);
	check(preempted >= arg, "spin_preempted", "preempted %u times, expected at least %lu",
	      preempted, arg);
	return (int)failures;
}
