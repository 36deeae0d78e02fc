/*
 * CPUID feature-bit names (include/hv/cpu_features.h). Bit positions: Intel
 * SDM vol. 2A, CPUID, Tables 3-8 (leaf 1 ECX), 3-11 (leaf 1 EDX) and the
 * leaf 7 description; AMD APM vol. 3, Appendix E.3.2 (Fn0000_0001) and E.4.2
 * (Fn8000_0001). Names as Linux's arch/x86/include/asm/cpufeatures.h shows
 * them in /proc/cpuinfo, upper case, '_' as '-'.
 */
#include "hv/cpu_features.h"
#include "lib/format.h"
#include "lib/string.h"

struct feature_word {
	u32 leaf, subleaf;
	u8 reg;
	const char *names[32];
};

static const struct feature_word words[] = {
	{ 0x1, 0, 2, {
		"SSE3", "PCLMULQDQ", "DTES64", "MONITOR", "DS-CPL", "VMX", "SMX", "EST",
		"TM2", "SSSE3", "CID", "SDBG", "FMA", "CX16", "XTPR", "PDCM",
		NULL, "PCID", "DCA", "SSE4-1", "SSE4-2", "X2APIC", "MOVBE", "POPCNT",
		"TSC-DEADLINE-TIMER", "AES", "XSAVE", "OSXSAVE", "AVX", "F16C", "RDRAND",
		"HYPERVISOR" } },
	{ 0x1, 0, 3, {
		"FPU", "VME", "DE", "PSE", "TSC", "MSR", "PAE", "MCE",
		"CX8", "APIC", NULL, "SEP", "MTRR", "PGE", "MCA", "CMOV",
		"PAT", "PSE36", "PN", "CLFLUSH", NULL, "DTS", "ACPI", "MMX",
		"FXSR", "SSE", "SSE2", "SS", "HT", "TM", "IA64", "PBE" } },
	{ 0x7, 0, 1, {
		"FSGSBASE", "TSC-ADJUST", "SGX", "BMI1", "HLE", "AVX2", "FDP-EXCPTN-ONLY", "SMEP",
		"BMI2", "ERMS", "INVPCID", "RTM", "CQM", "ZERO-FCS-FDS", "MPX", "RDT-A",
		"AVX512F", "AVX512DQ", "RDSEED", "ADX", "SMAP", "AVX512IFMA", NULL, "CLFLUSHOPT",
		"CLWB", "INTEL-PT", "AVX512PF", "AVX512ER", "AVX512CD", "SHA-NI", "AVX512BW",
		"AVX512VL" } },
	{ 0x7, 0, 2, {
		"PREFETCHWT1", "AVX512VBMI", "UMIP", "PKU", "OSPKE", "WAITPKG", "AVX512-VBMI2",
		"SHSTK", "GFNI", "VAES", "VPCLMULQDQ", "AVX512-VNNI", "AVX512-BITALG", "TME",
		"AVX512-VPOPCNTDQ", NULL, "LA57", NULL, NULL, NULL, NULL, NULL, "RDPID", "KL",
		"BUS-LOCK-DETECT", "CLDEMOTE", NULL, "MOVDIRI", "MOVDIR64B", "ENQCMD", "SGX-LC",
		"PKS" } },
	{ 0x7, 0, 3, {
		NULL, NULL, "AVX512-4VNNIW", "AVX512-4FMAPS", "FSRM", "UINTR", NULL, NULL,
		"AVX512-VP2INTERSECT", "SRBDS-CTRL", "MD-CLEAR", "RTM-ALWAYS-ABORT", NULL,
		"TSX-FORCE-ABORT", "SERIALIZE", "HYBRID-CPU", "TSXLDTRK", NULL, "PCONFIG",
		"ARCH-LBR", "IBT", NULL, "AMX-BF16", "AVX512-FP16", "AMX-TILE", "AMX-INT8",
		"SPEC-CTRL", "INTEL-STIBP", "FLUSH-L1D", "ARCH-CAPABILITIES", "CORE-CAPABILITIES",
		"SPEC-CTRL-SSBD" } },
	{ 0x80000001, 0, 2, {
		"LAHF-LM", "CMP-LEGACY", "SVM", "EXTAPIC", "CR8-LEGACY", "ABM", "SSE4A",
		"MISALIGNSSE", "3DNOWPREFETCH", "OSVW", "IBS", "XOP", "SKINIT", "WDT", NULL,
		"LWP", "FMA4", "TCE", NULL, "NODEID-MSR", NULL, "TBM", "TOPOEXT", "PERFCTR-CORE",
		"PERFCTR-NB", NULL, "BPEXT", "PTSC", "PERFCTR-LLC", "MWAITX" } },
	/* Bits 0-9, 12-17, 23 and 24 repeat leaf 1's EDX on AMD (APM E.4.2). */
	{ 0x80000001, 0, 3, {
		"FPU", "VME", "DE", "PSE", "TSC", "MSR", "PAE", "MCE",
		"CX8", "APIC", NULL, "SYSCALL", "MTRR", "PGE", "MCA", "CMOV",
		"PAT", "PSE36", NULL, "MP", "NX", NULL, "MMXEXT", "MMX",
		"FXSR", "FXSR-OPT", "PDPE1GB", "RDTSCP", NULL, "LM", "3DNOWEXT", "3DNOW" } },
};

const char *cpu_feature_name(u32 leaf, u32 subleaf, unsigned reg, unsigned bit)
{
	if (bit >= 32)
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(words); i++)
		if (words[i].leaf == leaf && words[i].subleaf == subleaf && words[i].reg == reg)
			return words[i].names[bit];
	return NULL;
}

size_t cpu_feature_list(char *buf, size_t size, u32 leaf, u32 subleaf, unsigned reg, u32 mask)
{
	size_t len = 0;

	if (!size)
		return 0;
	buf[0] = 0;
	for (unsigned bit = 0; bit < 32; bit++) {
		const char *name = cpu_feature_name(leaf, subleaf, reg, bit);
		char one[32];
		size_t n;

		if (!(mask & (1u << bit)))
			continue;
		if (name)
			n = (size_t)fmt_snprintf(one, sizeof(one), "%s%s", len ? " " : "", name);
		else
			n = (size_t)fmt_snprintf(one, sizeof(one), "%sbit%u", len ? " " : "", bit);
		if (len + n + 1 > size) {
			/* No room for this name: end with "..." where it fits. */
			while (len && len + 4 > size)
				len--;
			if (len + 4 <= size)
				memcpy(buf + len, "...", 4), len += 3;
			buf[len] = 0;
			return len;
		}
		memcpy(buf + len, one, n + 1);
		len += n;
	}
	return len;
}

/* ---- feature sets and pools ---- */

const struct cpu_feature_word cpu_feature_words[CPU_FEATURE_WORDS] = {
	{ 0x1, 0, 2 }, { 0x1, 0, 3 }, { 0x7, 0, 1 }, { 0x7, 0, 2 },
	{ 0x7, 0, 3 }, { 0x80000001, 0, 2 }, { 0x80000001, 0, 3 },
};

/* One hex number of 1-8 digits at s[*i], ending at n or at the separator. */
static bool hex32(const char *s, size_t n, size_t *i, char sep, u32 *out)
{
	size_t start = *i;
	u32 v = 0;

	while (*i < n && s[*i] != sep) {
		int d = fmt_hex_digit(s[*i]);

		if (d < 0 || *i - start == 8)
			return false;
		v = v << 4 | (u32)d;
		(*i)++;
	}
	if (*i == start)
		return false;
	*out = v;
	return true;
}

int cpu_featureset_parse(const char *s, size_t n, struct cpu_featureset *out)
{
	struct cpu_featureset f;
	size_t i = 0;

	if (!hex32(s, n, &i, ':', &f.sig) || i == n)
		return -EINVAL;
	for (int w = 0; w < CPU_FEATURE_WORDS; w++) {
		i++; /* the ':' or '.' before it */
		if (!hex32(s, n, &i, '.', &f.w[w]))
			return -EINVAL;
		if ((w < CPU_FEATURE_WORDS - 1) != (i < n))
			return -EINVAL; /* too few words, or something after the last */
	}
	*out = f;
	return 0;
}

void cpu_featureset_format(const struct cpu_featureset *f, char *buf)
{
	fmt_snprintf(buf, CPU_FEATURESET_TEXT_MAX, "%08x:%x.%x.%x.%x.%x.%x.%x", f->sig, f->w[0],
		     f->w[1], f->w[2], f->w[3], f->w[4], f->w[5], f->w[6]);
}

u32 cpu_sig_family(u32 sig)
{
	u32 fam = sig >> 8 & 0xf;

	return fam == 0xf ? fam + (sig >> 20 & 0xff) : fam;
}

u32 cpu_sig_model(u32 sig)
{
	u32 fam = sig >> 8 & 0xf, model = sig >> 4 & 0xf;

	return fam == 0x6 || fam == 0xf ? model | (sig >> 16 & 0xf) << 4 : model;
}

void cpu_featureset_meet(struct cpu_featureset *a, const struct cpu_featureset *b)
{
	u32 fa = cpu_sig_family(a->sig), fb = cpu_sig_family(b->sig);
	u32 ma = cpu_sig_model(a->sig), mb = cpu_sig_model(b->sig);

	for (int w = 0; w < CPU_FEATURE_WORDS; w++)
		a->w[w] &= b->w[w];
	if (fb < fa || (fb == fa && (mb < ma || (mb == ma && (b->sig & 0xf) < (a->sig & 0xf)))))
		a->sig = b->sig;
}

bool cpu_pool_name_ok(const char *s, size_t n)
{
	if (!n || n >= CPU_POOL_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return false;
	}
	return true;
}
