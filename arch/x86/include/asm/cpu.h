/* CPU instructions the hypervisor uses: CPUID, MSRs, control registers, TSC, interrupts. */
#ifndef ASM_CPU_H
#define ASM_CPU_H

#include "hv/types.h"

struct cpuid_regs {
	u32 eax, ebx, ecx, edx;
};

static inline struct cpuid_regs cpuid_count(u32 leaf, u32 subleaf)
{
	struct cpuid_regs r;

	__asm__ volatile("cpuid"
			 : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
			 : "a"(leaf), "c"(subleaf));
	return r;
}

static inline struct cpuid_regs cpuid(u32 leaf) { return cpuid_count(leaf, 0); }

static inline u64 rdmsr(u32 msr)
{
	u32 lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((u64)hi << 32) | lo;
}

static inline void wrmsr(u32 msr, u64 v)
{
	__asm__ volatile("wrmsr" ::"c"(msr), "a"((u32)v), "d"((u32)(v >> 32)) : "memory");
}

static inline u64 rdtsc(void)
{
	u32 lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}

#define DEFINE_CR(n)                                                              \
	static inline u64 read_cr##n(void)                                        \
	{                                                                         \
		u64 v;                                                            \
		__asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));                 \
		return v;                                                         \
	}                                                                         \
	static inline void write_cr##n(u64 v)                                     \
	{                                                                         \
		__asm__ volatile("mov %0, %%cr" #n ::"r"(v) : "memory");          \
	}
DEFINE_CR(0)
DEFINE_CR(2)
DEFINE_CR(3)
DEFINE_CR(4)
#undef DEFINE_CR

/* Debug registers DR0-DR3 and DR6 (SDM vol. 3, 19.2): a guest's live in the
 * CPU while it runs (neither VMCB nor VMCS holds them). */
#define DEFINE_DR(n)                                                              \
	static inline u64 read_dr##n(void)                                        \
	{                                                                         \
		u64 v;                                                            \
		__asm__ volatile("mov %%db" #n ", %0" : "=r"(v));                 \
		return v;                                                         \
	}                                                                         \
	static inline void write_dr##n(u64 v)                                     \
	{                                                                         \
		__asm__ volatile("mov %0, %%db" #n ::"r"(v) : "memory");          \
	}
DEFINE_DR(0)
DEFINE_DR(1)
DEFINE_DR(2)
DEFINE_DR(3)
DEFINE_DR(6)
#undef DEFINE_DR

static inline u64 read_rflags(void)
{
	u64 f;

	__asm__ volatile("pushfq; popq %0" : "=r"(f));
	return f;
}

static inline u64 read_rbp(void)
{
	u64 v;

	__asm__ volatile("mov %%rbp, %0" : "=r"(v));
	return v;
}

static inline void cpu_relax(void) { __asm__ volatile("pause" ::: "memory"); }
static inline void irq_disable(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void irq_enable(void) { __asm__ volatile("sti" ::: "memory"); }
/* STI's one-instruction shadow makes "sti; hlt" wait without losing a wake-up. */
static inline void safe_halt(void) { __asm__ volatile("sti; hlt" ::: "memory"); }
static inline void halt(void) { __asm__ volatile("hlt" ::: "memory"); }

static inline void fxsave(void *area) { __asm__ volatile("fxsaveq (%0)" ::"r"(area) : "memory"); }
static inline void fxrstor(const void *area) { __asm__ volatile("fxrstorq (%0)" ::"r"(area) : "memory"); }

static inline u64 irq_save(void)
{
	u64 f = read_rflags();

	irq_disable();
	return f;
}

static inline void irq_restore(u64 flags)
{
	if (flags & (1ULL << 9))
		irq_enable();
}

/* MSR numbers (SDM vol. 4; APM vol. 2 appendix A). */
#define MSR_IA32_APIC_BASE 0x0000001b
#define MSR_IA32_FEATURE_CONTROL 0x0000003a
#define MSR_IA32_MISC_ENABLE 0x000001a0
#define MSR_IA32_PAT 0x00000277
#define MSR_EFER 0xc0000080
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_SFMASK 0xc0000084
#define MSR_FS_BASE 0xc0000100
#define MSR_GS_BASE 0xc0000101
#define MSR_KERNEL_GS_BASE 0xc0000102
#define MSR_TSC_AUX 0xc0000103
#define MSR_VM_CR 0xc0010114
#define MSR_VM_HSAVE_PA 0xc0010117

#endif
