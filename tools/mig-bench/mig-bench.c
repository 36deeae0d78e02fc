/*
 * mig-bench, for the Linux guest's initramfs (scripts/build-linux-guest.sh):
 * the guest side of `make bench-migrate` (bench/migrate.sh, bench/README.md
 * "Live migration"). /init runs it with utsuwa.migbench=<mode>,<MiB>,<MiB/s>.
 *
 *   mig-bench idle                 reads CLOCK_MONOTONIC in a tight loop
 *   mig-bench dirty MIB RATE       the same, and writes one word into a 4 KiB
 *                                  page of a MIB MiB buffer, RATE MiB worth
 *                                  of pages a second (a decimal: 0.25 is
 *                                  64 pages), round and round
 *
 * The loop keeps the longest gap between two successive clock reads: a
 * vCPU that stops (a migration's pause, a hypervisor's page fault, another
 * task) shows as a gap, as far as the guest's clock sees it. The clock is
 * the kernel's clocksource (kvm-clock or tsc: printed first), read through
 * the vDSO, so a read costs no exit. Dirtying is paced by the same clock:
 * after t seconds, RATE * 256 * t pages have been written.
 *
 * Prints one line a second of that clock,
 *   mig-bench: t=<s> maxgap_us=<N> dirtied=<pages> print_us=<N> back_us=<N>
 * maxgap_us the longest gap within that second (so the line after a stop
 * carries it), dirtied all pages written so far, print_us how long the
 * previous line's write took (a stop then shows there), back_us the largest
 * step backwards of the clock within that second (0: none; a clock that
 * goes back is a bug of the hypervisor's, counted apart from the gaps);
 * and every 10 lines
 *   mig-bench: t=<s> worst_us=<N> backwards=<N>
 * the longest gap since the start and how many reads went backwards. Runs
 * until the VM ends.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define PAGE 4096
#define MIB (1024 * 1024)

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The kernel's clocksource, for the record: what CLOCK_MONOTONIC reads. */
static void print_clocksource(void)
{
	char cs[64] = "unknown";
	FILE *f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "r");

	if (f) {
		if (fgets(cs, sizeof(cs), f))
			cs[strcspn(cs, "\n")] = 0;
		fclose(f);
	}
	printf("mig-bench: clocksource=%s\n", cs);
}

static void usage(void)
{
	printf("mig-bench: error usage: mig-bench idle | mig-bench dirty MIB MIB_PER_S\n");
	exit(2);
}

int main(int argc, char **argv)
{
	uint64_t mib = 0, npages = 0, dirtied = 0, next = 0;
	double rate = 0;
	uint64_t start, prev, line_at, gap_max = 0, worst = 0, lines = 0, print_gap = 0;
	uint64_t back_max = 0, backwards = 0;
	volatile uint64_t *buf = NULL;

	if (argc < 2)
		usage();
	if (!strcmp(argv[1], "dirty")) {
		if (argc < 4)
			usage();
		mib = strtoull(argv[2], NULL, 0);
		rate = strtod(argv[3], NULL);
		if (!mib || !(rate > 0))
			usage();
		npages = mib * MIB / PAGE;
		/* Touched once now and locked: the pages exist before the
		 * migration, so a write later is a write, not a first fault. */
		buf = mmap(NULL, mib * MIB, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		if (buf == MAP_FAILED) {
			perror("mig-bench: mmap");
			return 1;
		}
		for (uint64_t i = 0; i < npages; i++)
			buf[i * (PAGE / 8)] = i;
		mlock((void *)buf, mib * MIB);
	} else if (strcmp(argv[1], "idle")) {
		usage();
	}
	print_clocksource();
	printf("mig-bench: mode=%s mib=%llu rate_mib_s=%g pages=%llu\n", argv[1],
	       (unsigned long long)mib, rate, (unsigned long long)npages);
	fflush(stdout);

	start = prev = line_at = now_ns();
	for (;;) {
		uint64_t t = now_ns();

		if (t < prev) {
			backwards++;
			if (prev - t > back_max)
				back_max = prev - t;
			/* The loop goes on from the later reading: pacing and
			 * the next gap are measured from the highest time seen. */
			t = prev;
		}
		if (t - prev > gap_max)
			gap_max = t - prev;
		prev = t;
		/* Pages owed by now: rate MiB/s is rate * 256 pages a second. */
		if (buf) {
			uint64_t owed = (uint64_t)((double)(t - start) * rate * (MIB / PAGE) / 1e9);

			while (dirtied < owed) {
				buf[next * (PAGE / 8)] = t + dirtied;
				next = next + 1 == npages ? 0 : next + 1;
				dirtied++;
			}
		}
		if (t - line_at >= 1000000000ull) {
			if (gap_max > worst)
				worst = gap_max;
			if (print_gap > worst)
				worst = print_gap;
			printf("mig-bench: t=%llu maxgap_us=%llu dirtied=%llu print_us=%llu back_us=%llu\n",
			       (unsigned long long)((t - start) / 1000000000ull),
			       (unsigned long long)(gap_max / 1000), (unsigned long long)dirtied,
			       (unsigned long long)(print_gap / 1000), (unsigned long long)(back_max / 1000));
			if (++lines % 10 == 0)
				printf("mig-bench: t=%llu worst_us=%llu backwards=%llu\n",
				       (unsigned long long)((t - start) / 1000000000ull),
				       (unsigned long long)(worst / 1000), (unsigned long long)backwards);
			fflush(stdout);
			gap_max = back_max = 0;
			/* The write's own time is kept apart (the next line's
			 * print_us), not counted as a gap of the loop's. */
			prev = now_ns();
			if (prev < t) { /* backwards across the write: the next line's */
				backwards++;
				back_max = t - prev;
				prev = t;
			}
			line_at = prev;
			print_gap = prev - t;
		}
	}
}
