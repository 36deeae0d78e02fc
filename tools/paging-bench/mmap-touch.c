/*
 * utsuwa-mmap-touch, for the Linux guest's initramfs
 * (scripts/build-linux-guest.sh): the "mmap" workload of make bench-paging
 * (bench/paging.sh, bench/README.md "Paging").
 *
 *   utsuwa-mmap-touch [ROUNDS [MIB]]      (default 16 rounds of 4 MiB)
 *
 * Each round maps MIB MiB of private anonymous memory, writes one byte in
 * every 4 KiB page (a page fault each: the kernel allocates, zeroes and maps
 * a page; no huge pages: MADV_NOHUGEPAGE), reads them all back, and unmaps
 * it (the kernel tears the page tables down and flushes the TLB). Every
 * fault and the unmap are page-table work the hypervisor pays for under
 * shadow paging. Prints "utsuwa-mmap-touch: rounds=<R> mib=<M> sum=<S>" and
 * exits 0, or a message and 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

int main(int argc, char **argv)
{
	long rounds = argc > 1 ? atol(argv[1]) : 16;
	long mib = argc > 2 ? atol(argv[2]) : 4;
	size_t len = (size_t)mib << 20;
	unsigned long sum = 0;

	if (rounds <= 0 || mib <= 0 || mib > 1024) {
		fprintf(stderr, "usage: utsuwa-mmap-touch [ROUNDS [MIB]]\n");
		return 1;
	}
	for (long r = 0; r < rounds; r++) {
		volatile unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
						 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED) {
			perror("utsuwa-mmap-touch: mmap");
			return 1;
		}
		madvise((void *)p, len, MADV_NOHUGEPAGE);
		for (size_t off = 0; off < len; off += 4096)
			p[off] = (unsigned char)(r + off / 4096);
		for (size_t off = 0; off < len; off += 4096)
			sum += p[off];
		if (munmap((void *)p, len)) {
			perror("utsuwa-mmap-touch: munmap");
			return 1;
		}
	}
	printf("utsuwa-mmap-touch: rounds=%ld mib=%ld sum=%lu\n", rounds, mib, sum);
	return 0;
}
