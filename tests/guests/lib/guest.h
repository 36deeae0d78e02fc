/*
 * The test-guest runtime: what a guest program gets from lib/.
 *
 * One C source builds for three start modes (tests/guests/guests.mk):
 * GUEST_MODE_REAL (gcc -m16, 16-bit real mode, linked at 0x1000),
 * GUEST_MODE_PROT (gcc -m32, 32-bit protected mode, paging off, at 1 MiB) and
 * GUEST_MODE_LONG (gcc -m64, 64-bit long mode, identity-mapped, at 1 MiB).
 * The hypervisor's side of the contract is docs/config.md and
 * include/hv/hypercall.h; the start code (lib/start-<mode>.S) clears .bss
 * once, then every vCPU calls guest_entry(), which detects the vendor,
 * installs the exception handlers and calls main(arg).
 *
 * No libgcc: 32- and 16-bit guests must not divide 64-bit numbers (the linker
 * says so if one does); use div64_u32().
 */
#ifndef GUEST_H
#define GUEST_H

#include "hv/hypercall.h" /* the ABI, shared with the hypervisor */

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef signed long long s64;
typedef unsigned long ulong; /* register width */
typedef __SIZE_TYPE__ size_t;
typedef _Bool bool;
#define true 1
#define false 0
#define NULL ((void *)0)

#if defined(GUEST_MODE_REAL)
#define GUEST_MODE_NAME "real"
#elif defined(GUEST_MODE_PROT)
#define GUEST_MODE_NAME "prot"
#elif defined(GUEST_MODE_LONG)
#define GUEST_MODE_NAME "long"
#else
#error "build with -DGUEST_MODE_REAL, -DGUEST_MODE_PROT or -DGUEST_MODE_LONG"
#endif

#define __noreturn __attribute__((noreturn))
#define __printf(a, b) __attribute__((format(printf, a, b)))
/* Shared between vCPUs that start together: must not be in .bss, which the
   first vCPU clears while the others may already run (start-<mode>.S). */
#define __shared __attribute__((section(".data")))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The vector HC_TIMER raises in the tests; its handler counts in timer_count. */
#define TIMER_VECTOR 0x40

/* Exception vectors (SDM vol. 3, 6.3.1). */
#define X86_UD 6
#define X86_GP 13
#define X86_PF 14

/* ---- provided by the program ---- */
int main(ulong arg);

/* ---- start code and exception handling (start-<mode>.S, runtime.c) ---- */
extern bool hc_intel;               /* VMCALL (Intel) rather than VMMCALL (AMD) */
/*
 * Running on KVM with tools/kvm-runner rather than on utsuwa (CPUID leaf
 * 0x40000000 says "KVMKVMKVM"), for bench-peer (bench/README.md). KVM keeps
 * VMMCALL to itself, so there printf() writes to the UART and hc_exit() is an
 * OUT to PEER_EXIT_PORT, which ends the runner (like QEMU's isa-debug-exit).
 */
extern bool on_kvm;
#define PEER_EXIT_PORT 0xf4
extern volatile u32 timer_count;    /* incremented by the TIMER_VECTOR handler */
#if defined(GUEST_MODE_LONG)
/* NMIs (long mode): vector 2 calls guest_nmi(), which a program may define;
 * the runtime's (weak) one counts in nmi_count. */
void guest_nmi(void);
extern volatile u32 nmi_count;
/* Gate vec of the runtime's IDT (the one loaded) to handler, in this code
 * segment: type 0x8e for a present DPL-0 interrupt gate, another for the
 * tests of bad gates; ist 0 or an IST index (SDM vol. 3, 6.14.1). */
void idt_set_gate(unsigned vec, const void *handler, u8 type, u8 ist);
/*
 * Assembly (for a top-level __asm__ in .text) of an interrupt entry stub
 * called name that saves the caller-saved registers, calls the C function
 * fn(arg) and returns with IRETQ: for vectors without an error code.
 */
#define GUEST_IRQ_STUB(name, fn, arg)                                          \
	#name ":\n\t"                                                          \
	"push %rax\n\tpush %rcx\n\tpush %rdx\n\tpush %rsi\n\tpush %rdi\n\t"    \
	"push %r8\n\tpush %r9\n\tpush %r10\n\tpush %r11\n\t"                   \
	"mov $" #arg ", %edi\n\tcall " #fn "\n\t"                               \
	"pop %r11\n\tpop %r10\n\tpop %r9\n\tpop %r8\n\t"                       \
	"pop %rdi\n\tpop %rsi\n\tpop %rdx\n\tpop %rcx\n\tpop %rax\n\tiretq\n"
#endif

/*
 * An instruction that may fault: its address and where to resume are put in
 * the .extable section. The exception handler looks the faulting IP up there
 * and resumes at the fixup with the vector in ESI/RSI and the error code in
 * EDI/RDI (registers, not memory: vCPUs fault at the same time). The asm lists
 * them as "+S" (set to -1 before) and "+D".
 */
#define EXTABLE(insn, fixup) \
	".pushsection .extable, \"a\"\n\t.long " #insn ", " #fixup "\n\t.popsection\n\t"

__noreturn void unhandled_exception(ulong vector, ulong error, ulong ip);

#if defined(GUEST_MODE_LONG)
/* The RFLAGS image the CPU pushed for the last exception resumed through
 * .extable (long mode; one per VM, so meaningful in one-vCPU guests). */
extern volatile u64 exc_rflags;

/*
 * Ring 3 (lib/ring3.c, long mode, one vCPU): ring3_setup() gives the guest a
 * GDT with user segments and a TSS, marks the identity map user-accessible
 * and installs the return gate; ring3_run(fn) runs fn at CPL 3 on a stack
 * of its own, with IF clear, until fn calls ring3_return(). Exceptions in
 * fn go through the same handlers (.extable works at CPL 3). fn may call
 * hypercall() (the runtime's code and data are user pages) but not printf.
 */
void ring3_setup(void);
/* IST n (1-7) of ring3_setup's TSS: the stack at top (SDM vol. 3, 6.14.5). */
void ring3_set_ist(unsigned n, void *top);
void ring3_run(void (*fn)(void));
__noreturn void ring3_return(void);
#endif

/* ---- hypercalls (runtime.c) ---- */
struct hc_regs {
	ulong ax, bx, cx, dx;
};
/* Returns the 64-bit result (EDX:EAX below long mode); *out gets the registers. */
s64 hypercall(ulong nr, ulong b, ulong c, ulong d, ulong s, struct hc_regs *out);

struct vcpu_info {
	u32 index, pcpu, count;
};
s64 hc_console_write(const void *buf, ulong len);
s64 hc_yield(void);
u64 hc_time_ns(void);
s64 hc_timer(u32 us, u32 vector);
int hc_vcpu_info(struct vcpu_info *vi);
__noreturn void hc_exit(u32 code);

/* ---- console (runtime.c): one HC_CONSOLE_WRITE per call (the UART on KVM) ---- */
int printf(const char *fmt, ...) __printf(1, 2);
int snprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);
int vsnprintf(char *buf, size_t size, const char *fmt, __builtin_va_list ap);
void uart_puts(const char *s); /* through the UART's THR, port 0x3f8 */

/* ---- checks (runtime.c): PASS/FAIL lines, failures counted for the VM ---- */
extern volatile u32 failures;
bool check(bool ok, const char *name, const char *fmt, ...) __printf(3, 4);
/* check() that prints only a failure: for many checks under one PASS line. */
bool expect(bool ok, const char *name, const char *fmt, ...) __printf(3, 4);
bool check_eq(const char *name, u64 got, u64 want);

/* ---- helpers (runtime.c) ---- */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
u64 div64_u32(u64 n, u32 d, u32 *rem);
void delay_ns(u64 ns); /* busy-waits on HC_TIME_NS */

static inline void cpu_relax(void)
{
	/* Not PAUSE: QEMU's SVM intercepts every PAUSE (DESIGN.md). */
	__asm__ volatile("" ::: "memory");
}

/* ---- instructions ---- */
static inline void cpuid(u32 leaf, u32 subleaf, u32 r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(subleaf));
}

static inline u64 rdtsc(void)
{
	u32 lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}

/* Return -1 when the instruction did not fault, else the exception vector. */
static inline int rdmsr_safe(u32 msr, u64 *val)
{
	u32 lo = 0, hi = 0;
	ulong vector = (ulong)-1, error = 0;

	__asm__ volatile("1: rdmsr\n2:\n\t" EXTABLE(1b, 2b)
			 : "+a"(lo), "+d"(hi), "+S"(vector), "+D"(error) : "c"(msr) : "memory");
	*val = ((u64)hi << 32) | lo;
	return (int)vector;
}

static inline int wrmsr_safe(u32 msr, u64 val)
{
	ulong vector = (ulong)-1, error = 0;

	__asm__ volatile("1: wrmsr\n2:\n\t" EXTABLE(1b, 2b)
			 : "+S"(vector), "+D"(error)
			 : "c"(msr), "a"((u32)val), "d"((u32)(val >> 32)) : "memory");
	return (int)vector;
}

static inline u8 inb(u16 port)
{
	u8 v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline u16 inw(u16 port)
{
	u16 v;
	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline u32 inl(u16 port)
{
	u32 v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline void outb(u16 port, u8 v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}
static inline void outw(u16 port, u16 v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}
static inline void outl(u16 port, u32 v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

/* CMOS RAM through its index (0x70) and data (0x71) ports; a reset keeps
 * it, which is how the test guests remember a boot across one. */
static inline u8 cmos_read(u8 reg)
{
	outb(0x70, reg);
	return inb(0x71);
}
static inline void cmos_write(u8 reg, u8 v)
{
	outb(0x70, reg);
	outb(0x71, v);
}

static inline void irq_enable(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void irq_disable(void) { __asm__ volatile("cli" ::: "memory"); }
/* STI's one-instruction shadow makes "sti; hlt" wait without a lost wake-up. */
static inline void sti_hlt_cli(void) { __asm__ volatile("sti; hlt; cli" ::: "memory"); }
static inline __noreturn void cli_hlt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt" ::: "memory");
}

static inline u32 atomic_add(volatile u32 *p, u32 v)
{
	return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST);
}
static inline u32 atomic_or(volatile u32 *p, u32 v)
{
	return __atomic_fetch_or(p, v, __ATOMIC_SEQ_CST);
}

#if !defined(GUEST_MODE_REAL)
/* MMIO: plain MOVs the hypervisor must decode (paging off or identity-mapped). */
static inline u8 mmio_read8(ulong addr)
{
	u8 v;
	__asm__ volatile("movb (%1), %0" : "=q"(v) : "r"(addr) : "memory");
	return v;
}
static inline u16 mmio_read16(ulong addr)
{
	u16 v;
	__asm__ volatile("movw (%1), %0" : "=r"(v) : "r"(addr) : "memory");
	return v;
}
static inline u32 mmio_read32(ulong addr)
{
	u32 v;
	__asm__ volatile("movl (%1), %0" : "=r"(v) : "r"(addr) : "memory");
	return v;
}
static inline void mmio_write32(ulong addr, u32 v)
{
	__asm__ volatile("movl %0, (%1)" : : "r"(v), "r"(addr) : "memory");
}
#endif
#if defined(GUEST_MODE_LONG)
static inline u64 mmio_read64(ulong addr)
{
	u64 v;
	__asm__ volatile("movq (%1), %0" : "=r"(v) : "r"(addr) : "memory");
	return v;
}
static inline void mmio_write64(ulong addr, u64 v)
{
	__asm__ volatile("movq %0, (%1)" : : "r"(v), "r"(addr) : "memory");
}
#endif

#endif
