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

TEST(featureset_text)
{
	struct cpu_featureset f, g;
	char buf[CPU_FEATURESET_TEXT_MAX];
	const char *t = "00000f61:80202001.78bfbfd.0.0.0.1.20100800";

	CHECK_EQ(cpu_featureset_parse(t, strlen(t), &f), 0);
	CHECK_EQ(f.sig, 0xf61);
	CHECK_EQ(f.w[0], 0x80202001);
	CHECK_EQ(f.w[5], 1);
	CHECK_EQ(f.w[6], 0x20100800);
	cpu_featureset_format(&f, buf);
	CHECK_STR(buf, t);
	memset(buf, 'f', sizeof(buf));
	memset(&f, 0xff, sizeof(f));
	cpu_featureset_format(&f, buf);
	CHECK_EQ(strlen(buf), CPU_FEATURESET_TEXT_MAX - 1);
	CHECK_EQ(cpu_featureset_parse(buf, strlen(buf), &g), 0);
	CHECK(!memcmp(&f, &g, sizeof(f)));
	static const char *const bad[] = {
		"", "f61", "f61:", "f61:1.2.3.4.5.6", "f61:1.2.3.4.5.6.7.8", "f61:1.2.3.4.5.6.",
		"f61:1..3.4.5.6.7", "f61:1.2.3.4.5.6.123456789", "x61:1.2.3.4.5.6.7",
		"f61:1.2.3.4.5.6.7 ", "f61;1.2.3.4.5.6.7", ":1.2.3.4.5.6.7",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_EQ(cpu_featureset_parse(bad[i], strlen(bad[i]), &g), -EINVAL);
}

/* The baseline: features both have; the lower family, then model, then stepping. */
TEST(featureset_meet)
{
	struct cpu_featureset a = { 0x00800f12, { 0xf, 0xff, 3, 0, 0, 0x41, 0x1 } }; /* 17h model 1 */
	struct cpu_featureset b = { 0x00000f61, { 0x9, 0xf0, 1, 0, 4, 0x01, 0x3 } }; /* 0Fh model 6 */
	struct cpu_featureset c = { 0x000306a9, { 0, 0, 0, 0, 0, 0, 0 } };           /* 06h model 3Ah */

	CHECK_EQ(cpu_sig_family(a.sig), 0x17);
	CHECK_EQ(cpu_sig_model(a.sig), 1);
	CHECK_EQ(cpu_sig_family(c.sig), 6);
	CHECK_EQ(cpu_sig_model(c.sig), 0x3a);
	cpu_featureset_meet(&a, &b);
	CHECK_EQ(a.sig, 0xf61);
	CHECK_EQ(a.w[0], 9);
	CHECK_EQ(a.w[1], 0xf0);
	CHECK_EQ(a.w[2], 1);
	CHECK_EQ(a.w[4], 0);
	CHECK_EQ(a.w[5], 1);
	CHECK_EQ(a.w[6], 1);
	cpu_featureset_meet(&a, &c);
	CHECK_EQ(a.sig, 0x306a9); /* family 6 < 0Fh */
	b.sig = 0x00000f62;
	a.sig = 0x00000f63;
	cpu_featureset_meet(&a, &b);
	CHECK_EQ(a.sig, 0xf62);   /* same family and model: the lower stepping */
}

TEST(pools)
{
	struct cpu_featureset f = { 0xf61, { 1, 2, 3, 4, 5, 6, 7 } }, g;
	struct cpu_pool p;
	char name[4] = "p0";

	CHECK_EQ(cpu_pool_get("web", &g), -ENOENT);
	CHECK_EQ(cpu_pool_define("web", &f), 0);
	CHECK_EQ(cpu_pool_get("web", &g), 0);
	CHECK(!memcmp(&f, &g, sizeof(f)));
	f.w[0] = 9;
	CHECK_EQ(cpu_pool_define("web", &f), 0); /* replaced */
	CHECK_EQ(cpu_pool_get("web", &g), 0);
	CHECK_EQ(g.w[0], 9);
	CHECK_EQ(cpu_pool_define("", &f), -EINVAL);
	CHECK_EQ(cpu_pool_define("a b", &f), -EINVAL);
	CHECK_EQ(cpu_pool_define("0123456789abcdef", &f), -EINVAL); /* 16 characters */
	for (int i = 1; i < CPU_POOLS_MAX; i++) {
		name[1] = (char)('0' + i);
		CHECK_EQ(cpu_pool_define(name, &f), 0);
	}
	CHECK_EQ(cpu_pool_define("one-more", &f), -ENOSPC);
	CHECK(cpu_pool_at(0, &p));
	CHECK_STR(p.name, "web");
	CHECK(!cpu_pool_at(CPU_POOLS_MAX, &p));
}

int main(void)
{
	RUN(names);
	RUN(lists);
	RUN(cut_short);
	RUN(featureset_text);
	RUN(featureset_meet);
	RUN(pools);
	return unit_done();
}
