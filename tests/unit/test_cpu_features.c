/*
 * CPUID feature-bit names (core/cpu_features.c): bits checked against the
 * SDM's and APM's tables, lists with unnamed bits, and lists cut short.
 */
#include <string.h>
#include "unit.h"
#include "hv/cpu_features.h"

static int str_is(const char *a, const char *b) { return a && !strcmp(a, b); }
#define CHECK_STR(a, b) CHECK(str_is((a), (b)))

TEST(names)
{
	CHECK_STR(cpu_feature_name(1, 0, 2, 0), "SSE3");
	CHECK_STR(cpu_feature_name(1, 0, 2, 28), "AVX");
	CHECK_STR(cpu_feature_name(1, 0, 2, 31), "HYPERVISOR");
	CHECK_STR(cpu_feature_name(1, 0, 3, 25), "SSE");
	CHECK_STR(cpu_feature_name(7, 0, 1, 5), "AVX2");
	CHECK_STR(cpu_feature_name(7, 0, 1, 8), "BMI2");
	CHECK_STR(cpu_feature_name(7, 0, 2, 22), "RDPID");
	CHECK_STR(cpu_feature_name(0x80000001, 0, 2, 0), "LAHF-LM");
	CHECK_STR(cpu_feature_name(0x80000001, 0, 2, 6), "SSE4A");
	CHECK_STR(cpu_feature_name(0x80000001, 0, 3, 27), "RDTSCP");
	CHECK_STR(cpu_feature_name(0x80000001, 0, 3, 29), "LM");
	CHECK(!cpu_feature_name(1, 0, 2, 16));      /* reserved */
	CHECK(!cpu_feature_name(1, 0, 0, 0));       /* EAX holds no flags */
	CHECK(!cpu_feature_name(7, 1, 1, 0));       /* a subleaf not listed */
	CHECK(!cpu_feature_name(1, 0, 2, 32));
}

TEST(lists)
{
	char buf[64];

	CHECK_EQ(cpu_feature_list(buf, sizeof(buf), 0x80000001, 0, 2, 0x41), 13);
	CHECK_STR(buf, "LAHF-LM SSE4A");
	cpu_feature_list(buf, sizeof(buf), 1, 0, 2, 1u << 16 | 1u << 0);
	CHECK_STR(buf, "SSE3 bit16");
	CHECK_EQ(cpu_feature_list(buf, sizeof(buf), 1, 0, 2, 0), 0);
	CHECK_STR(buf, "");
}

TEST(cut_short)
{
	char buf[16];
	size_t n = cpu_feature_list(buf, sizeof(buf), 1, 0, 3, 0xffffffff);

	CHECK(n < sizeof(buf));
	CHECK_EQ(strlen(buf), n);
	CHECK(n >= 3 && !strcmp(buf + n - 3, "..."));
	CHECK(!strncmp(buf, "FPU VME DE", 10));
	CHECK_EQ(cpu_feature_list(buf, 1, 1, 0, 3, 1), 0);
	CHECK_STR(buf, "");
}

int main(void)
{
	RUN(names);
	RUN(lists);
	RUN(cut_short);
	return unit_done();
}
