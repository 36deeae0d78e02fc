/*
 * dirtylog: dirty logging as a guest sees it (include/hv/gmem.h), through
 * the test-only hypercalls of docs/hypercalls.md. Long mode, one vCPU,
 * RAM identity-mapped (linear = guest-physical).
 *
 * In a region of 64 pages at 8 MiB that nothing else touches, it writes a
 * known set of pages, has the hypervisor write one more for it, reads
 * another, and checks that a harvest reports exactly those pages of the
 * region; then that a second round sees only the pages written since (the
 * harvested ones were protected again), and that after stop guest writes are
 * no longer recorded but the hypervisor's still are.
 *
 * Then it measures: TSC ticks (instructions under QEMU -icount) per first
 * write to a page with logging on, minus the same writes with it off, over
 * 1024 pages at 9 MiB: "dirtylog: first write to a page: N ticks".
 *
 * With a second vCPU, it also checks that a harvest reaches a vCPU running
 * on another CPU: vCPU 1 writes 16 pages at 10 MiB in rounds that vCPU 0
 * starts, spinning in guest mode in between; every round must show all 16,
 * which it cannot if vCPU 1's CPU kept the writable translations of the
 * round before (the harvest's VM-wide flush kicks it). Under QEMU TCG this
 * does not catch a flush that skips the kick: something else (a timer exit,
 * QEMU's own TLB handling) drops those translations in time there.
 *
 * arg = the VM's RAM size in bytes (0: 16 MiB). Exit code = failures.
 */
#include "guest.h"

#define PAGE 4096ul
#define REGION (8ul << 20)
#define REGION_PAGES 64
#define BENCH (9ul << 20)
#define BENCH_PAGES 1024
#define MAX_PAGES ((32ul << 20) / PAGE)

static u64 bitmap[MAX_PAGES / 64 + 1]; /* one word more than RAM: must stay 0 */

#define OTHER (10ul << 20)
#define OTHER_PAGES 16
#define ROUNDS 4
static volatile u32 round_req __shared, round_done __shared, other_ready __shared;

static s64 log_start(void) { return hypercall(HC_TEST_DIRTY_LOG_START, 0, 0, 0, 0, NULL); }
static s64 log_stop(void) { return hypercall(HC_TEST_DIRTY_LOG_STOP, 0, 0, 0, 0, NULL); }

static s64 harvest(ulong nbits)
{
	return hypercall(HC_TEST_DIRTY_HARVEST, (ulong)bitmap, nbits, 0, 0, NULL);
}

static s64 hv_write(ulong gpa, u64 val)
{
	return hypercall(HC_TEST_WRITE_GPA, gpa, val, 0, 0, NULL);
}

static bool dirty(ulong gpa)
{
	ulong pfn = gpa / PAGE;

	return bitmap[pfn / 64] >> (pfn % 64) & 1;
}

/* The region's pages marked in bitmap, as a 64-bit mask (page n = bit n). */
static u64 region_mask(void)
{
	u64 m = 0;

	for (unsigned i = 0; i < REGION_PAGES; i++)
		if (dirty(REGION + i * PAGE))
			m |= 1ull << i;
	return m;
}

static void poke(unsigned page, unsigned off, u8 v)
{
	*(volatile u8 *)(REGION + page * PAGE + off) = v;
}

static u8 peek(unsigned page, unsigned off)
{
	return *(volatile u8 *)(REGION + page * PAGE + off);
}

static void measure(void)
{
	u64 t0, t1, t2;

	/* Touch every page first so neither pass pays for anything else. */
	for (unsigned i = 0; i < BENCH_PAGES; i++)
		*(volatile u8 *)(BENCH + i * PAGE) = 1;
	check_eq("bench_log_start", (u64)log_start(), 0);
	t0 = rdtsc();
	for (unsigned i = 0; i < BENCH_PAGES; i++)
		*(volatile u8 *)(BENCH + i * PAGE) = 2; /* each one exits */
	t1 = rdtsc();
	for (unsigned i = 0; i < BENCH_PAGES; i++)
		*(volatile u8 *)(BENCH + i * PAGE) = 3; /* writable again: no exit */
	t2 = rdtsc();
	log_stop();
	printf("dirtylog: first write to a page: %lu ticks (logging on %lu, off %lu, %u pages)\n",
	       (ulong)(((t1 - t0) - (t2 - t1)) / BENCH_PAGES), (ulong)(t1 - t0),
	       (ulong)(t2 - t1), BENCH_PAGES);
}

/* vCPU 1: each round, one write to each of its 16 pages; never returns. */
static __noreturn void other_vcpu(void)
{
	other_ready = 1;
	for (u32 r = 1; r <= ROUNDS; r++) {
		/* No PAUSE: QEMU intercepts it, and every exit would flush. */
		while (round_req != r)
			;
		for (unsigned i = 0; i < OTHER_PAGES; i++)
			*(volatile u32 *)(OTHER + i * PAGE + 4 * r) = r;
		round_done = r;
	}
	cli_hlt_forever();
}

/* vCPU 0's side: logging is on; every round of vCPU 1's must be seen whole. */
static void other_rounds(ulong pages)
{
	while (!other_ready)
		cpu_relax();
	harvest(pages);
	for (u32 r = 1; r <= ROUNDS; r++) {
		u32 seen = 0;

		round_req = r;
		while (round_done != r)
			cpu_relax();
		harvest(pages);
		for (unsigned i = 0; i < OTHER_PAGES; i++)
			seen += dirty(OTHER + i * PAGE);
		check(seen == OTHER_PAGES, "other_vcpu_round", "round %u: %u of %u pages", r, seen,
		      OTHER_PAGES);
	}
}

int main(ulong arg)
{
	ulong ram = arg ? arg : 16ul << 20, pages = ram / PAGE;
	u64 want, got;
	s64 n;

	struct vcpu_info vi;

	if (hc_vcpu_info(&vi) == 0 && vi.index != 0)
		other_vcpu();
	if (pages > MAX_PAGES || REGION + REGION_PAGES * PAGE > ram || BENCH + BENCH_PAGES * PAGE > ram) {
		printf("FAIL dirtylog: RAM of %lu bytes does not fit the test\n", ram);
		return 1;
	}
	/* Written before logging starts: not news. */
	for (unsigned i = 0; i < REGION_PAGES; i++)
		poke(i, 0, 0xee);

	check_eq("log_start", (u64)log_start(), 0);
	/* Round 1: the guest writes pages 0, 1, 5, 17 (at its last byte) and
	 * 63 (twice), reads 30; the hypervisor writes page 40 for it. */
	poke(0, 0, 1);
	poke(1, 100, 2);
	poke(5, 7, 3);
	poke(17, PAGE - 1, 4);
	poke(63, 0, 5);
	poke(63, 8, 6);
	check_eq("read_back_after_trap", peek(17, PAGE - 1), 4);
	(void)peek(30, 0);
	check_eq("hv_write", (u64)hv_write(REGION + 40 * PAGE + 16, 0x1122334455667788ull), 0);
	check_eq("hv_write_seen", *(volatile u64 *)(REGION + 40 * PAGE + 16), 0x1122334455667788ull);
	check_eq("hv_write_outside_ram", (u64)hv_write(ram - 4, 0), (u64)HC_EFAULT);

	/* One bit more than RAM has pages: it must come back 0. */
	for (unsigned i = 0; i < sizeof(bitmap) / 8; i++)
		bitmap[i] = ~0ull;
	n = harvest(pages + 64);
	want = 1ull << 0 | 1ull << 1 | 1ull << 5 | 1ull << 17 | 1ull << 63 | 1ull << 40;
	got = region_mask();
	check(got == want, "round1_region", "got %#lx want %#lx", (ulong)got, (ulong)want);
	check(n >= 6, "round1_count", "%ld pages marked, at least 6 expected", (long)n);
	check(bitmap[pages / 64] == 0, "round1_past_ram", "word past RAM %#lx",
	      (ulong)bitmap[pages / 64]);
	check(dirty((ulong)bitmap), "round1_bitmap_page", "%s", "the bitmap page, written by both, not marked");

	/* Round 2: page 1 again (protected again by the harvest) and page 2. */
	poke(1, 0, 7);
	poke(2, 0, 8);
	n = harvest(pages);
	want = 1ull << 1 | 1ull << 2;
	got = region_mask();
	check(got == want, "round2_region", "got %#lx want %#lx", (ulong)got, (ulong)want);
	check_eq("round2_data", peek(1, 0) + peek(2, 0) + peek(1, 100), 7 + 8 + 2);

	/* Bad buffers are refused, not written. */
	check_eq("harvest_outside_ram", (u64)hypercall(HC_TEST_DIRTY_HARVEST, ram - 8, pages, 0, 0,
						       NULL), (u64)HC_EFAULT);

	if (hc_vcpu_info(&vi) == 0 && vi.count > 1)
		other_rounds(pages);

	/* After stop: guest writes are not trapped; hypervisor writes are still marked. */
	log_stop();
	harvest(pages);
	poke(3, 0, 9);
	hv_write(REGION + 4 * PAGE, 10);
	harvest(pages);
	got = region_mask();
	check(got == 1ull << 4, "stopped_region", "got %#lx want %#lx", (ulong)got, 1ul << 4);
	check_eq("stopped_write_landed", peek(3, 0), 9);

	measure();
	printf("dirtylog: %u failures\n", failures);
	return (int)failures;
}
