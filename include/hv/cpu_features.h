/*
 * Names for CPUID feature bits, as Linux's /proc/cpuinfo spells them (upper
 * case): for messages that say which features a host lacks (a migration's
 * refusal; later the feature pools of issue 14). Pure code, host-tested.
 */
#ifndef HV_CPU_FEATURES_H
#define HV_CPU_FEATURES_H

#include "hv/types.h"

/* CPUID leaf (and subleaf), register (0 EAX, 1 EBX, 2 ECX, 3 EDX), bit:
 * its name, or NULL for a reserved or unnamed bit. */
const char *cpu_feature_name(u32 leaf, u32 subleaf, unsigned reg, unsigned bit);

/* The names of mask's bits in that register, space-separated, unnamed ones
 * as "bitN", into buf (always terminated; cut short with "..." when it does
 * not fit). Returns the length written. */
size_t cpu_feature_list(char *buf, size_t size, u32 leaf, u32 subleaf, unsigned reg, u32 mask);

/*
 * CPU-feature pools (seed 000's Extended Migration; docs/migration.md,
 * "CPU-feature pools"). A feature set is what a VM sees in the words below
 * and its CPUID.1.EAX signature (family, model, stepping). A host reports
 * the set a VM created on it sees; a pool's set is the baseline of several
 * hosts' (cpu_featureset_meet); a VM with cpu=pool:NAME sees only that.
 * Text form, one word: SIG:W0.W1.W2.W3.W4.W5.W6, nine hex numbers at most
 * eight digits each, e.g. 00000f61:80202001.078bfbfd.0.0.0.1.20100800.
 */
#define CPU_FEATURE_WORDS 7
struct cpu_feature_word {
	u32 leaf, subleaf;
	u8 reg; /* 0 EAX, 1 EBX, 2 ECX, 3 EDX */
};
/* 1.ECX, 1.EDX, 7.0.EBX, 7.0.ECX, 7.0.EDX, 80000001h.ECX, 80000001h.EDX */
extern const struct cpu_feature_word cpu_feature_words[CPU_FEATURE_WORDS];

struct cpu_featureset {
	u32 sig; /* CPUID.1.EAX */
	u32 w[CPU_FEATURE_WORDS];
};
#define CPU_FEATURESET_TEXT_MAX (8 + 1 + 7 * 8 + 6 + 1) /* all digits: 71 and a NUL */

/* 0, or -EINVAL (s[0..n) is not the text form). */
int cpu_featureset_parse(const char *s, size_t n, struct cpu_featureset *out);
/* The text form into buf (CPU_FEATURESET_TEXT_MAX bytes). */
void cpu_featureset_format(const struct cpu_featureset *f, char *buf);
/* The baseline of a and b: the features both have; the lower of the two
 * family/model signatures (family, then model, then stepping). */
void cpu_featureset_meet(struct cpu_featureset *a, const struct cpu_featureset *b);
/* Family and model as CPUID.1.EAX encodes them (SDM vol. 2A, CPUID, "Version
 * Information"): the extended fields count only for family 0Fh (and model
 * for family 06h). */
u32 cpu_sig_family(u32 sig);
u32 cpu_sig_model(u32 sig);

#define CPU_POOL_NAME_MAX 16
#define CPU_POOLS_MAX 8
struct cpu_pool {
	char name[CPU_POOL_NAME_MAX]; /* empty: a free slot */
	struct cpu_featureset set;
};
/* This host's pools (core/cpu_pool.c): from pool= at boot, the monitor's
 * pool command and PUT /pools/NAME. Defines or replaces NAME: 0, -EINVAL
 * for a bad name, -ENOSPC when CPU_POOLS_MAX are defined. */
int cpu_pool_define(const char *name, const struct cpu_featureset *set);
/* A copy of pool NAME's set: 0, or -ENOENT. */
int cpu_pool_get(const char *name, struct cpu_featureset *out);
/* Pool i (0..CPU_POOLS_MAX) into out: false when the slot is free. */
bool cpu_pool_at(unsigned i, struct cpu_pool *out);
/* A name of 1 to 15 characters of a-z A-Z 0-9 _ -. */
bool cpu_pool_name_ok(const char *s, size_t n);

#endif
