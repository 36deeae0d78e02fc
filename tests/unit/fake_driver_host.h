/*
 * The hypervisor's services a machine driver (drivers/) calls, on the host,
 * for the driver unit tests: the log (counted in log_lines, printed when
 * DRIVER_TEST_VERBOSE is set), heap and page allocation from the C
 * library (pages zeroed and aligned, as page_alloc gives them), and delays
 * that return at once. A driver's rings and buffers live as long as the
 * hypervisor, and each test makes new ones, so leak detection is off.
 */
#ifndef FAKE_DRIVER_HOST_H
#define FAKE_DRIVER_HOST_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "detect_leaks=0"; }

static unsigned log_lines __attribute__((unused));
void kprintf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (getenv("DRIVER_TEST_VERBOSE"))
		vfprintf(stderr, fmt, ap);
	va_end(ap);
	log_lines++;
}
void *kzalloc(size_t size) { return calloc(1, size); }
void kfree(void *p) { free(p); }
u64 page_alloc(u64 n, u64 align)
{
	void *p = aligned_alloc(align, n * 4096);

	if (p)
		memset(p, 0, n * 4096);
	return (u64)(uintptr_t)p;
}
void page_free(u64 pa, u64 n) { free((void *)(uintptr_t)pa); }
void hw_delay_us(u64 us) {}
/* The IOMMU: the ranges a driver granted to its device, for tests to check. */
#define FAKE_GRANTS_MAX 4096
static struct { u64 pa, size; } fake_grants[FAKE_GRANTS_MAX];
static unsigned fake_nr_grants;
int iommu_grant_host(u64 pa, u64 size, unsigned perm)
{
	if (fake_nr_grants < FAKE_GRANTS_MAX)
		fake_grants[fake_nr_grants++] = (typeof(fake_grants[0])){ pa, size };
	return 0;
}
int iommu_revoke_host(u64 pa, u64 size) { return 0; }
/* Whether [pa, pa + len) lies in one granted range. */
static inline bool fake_granted(u64 pa, u64 len)
{
	for (unsigned i = 0; i < fake_nr_grants; i++)
		if (pa >= fake_grants[i].pa && pa + len <= fake_grants[i].pa + fake_grants[i].size)
			return true;
	return false;
}

#endif
