/*
 * A tiny host test framework. Each tests/unit/test_*.c is its own program,
 * built with ASan and UBSan from the same sources the hypervisor ships.
 *
 *   TEST(name) { CHECK(x == 1); CHECK_EQ(a, b); }
 *   int main(void) { RUN(name); return unit_done(); }
 */
#ifndef UNIT_H
#define UNIT_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

static int unit_failed_checks;
static int unit_tests_run, unit_tests_failed;
static const char *unit_current;

#define TEST(name) static void test_##name(void)

#define CHECK(cond)                                                                 \
	do {                                                                        \
		if (!(cond)) {                                                      \
			fprintf(stderr, "%s:%d: %s: CHECK(%s) failed\n", __FILE__,  \
				__LINE__, unit_current, #cond);                     \
			unit_failed_checks++;                                       \
		}                                                                   \
	} while (0)

#define CHECK_EQ(a, b)                                                              \
	do {                                                                        \
		unsigned long long _a = (unsigned long long)(a);                    \
		unsigned long long _b = (unsigned long long)(b);                    \
		if (_a != _b) {                                                     \
			fprintf(stderr, "%s:%d: %s: %s == %s failed: 0x%llx != 0x%llx\n", \
				__FILE__, __LINE__, unit_current, #a, #b, _a, _b);  \
			unit_failed_checks++;                                       \
		}                                                                   \
	} while (0)

#define RUN(name)                                                                   \
	do {                                                                        \
		int _before = unit_failed_checks;                                   \
		unit_current = #name;                                               \
		test_##name();                                                      \
		unit_tests_run++;                                                   \
		if (unit_failed_checks != _before) {                                \
			unit_tests_failed++;                                        \
			printf("FAIL %s\n", #name);                                 \
		}                                                                   \
	} while (0)

/* Prints "unit <program>: N passed, N failed" and returns the exit status. */
static inline int unit_done_named(const char *prog)
{
	printf("unit %s: %d passed, %d failed\n", prog, unit_tests_run - unit_tests_failed,
	       unit_tests_failed);
	return unit_tests_failed ? 1 : 0;
}
#define unit_done() unit_done_named(__FILE__)

#endif
