/*
 * crashme (issue 15, item 3): seeded random instruction bytes run at CPL 0
 * and CPL 3, in 64-bit, 32-bit (compatibility) and 16-bit code segments,
 * on every vCPU of the VM, to find what random guest code can do to the
 * hypervisor. The guest itself may well break (random CPL 0 code can load
 * any CR3 or IDT); run it with on_crash=reset and it carries on where it
 * was: its progress lives in a page that a reset keeps (PERSIST_PA).
 *
 * Each snippet: 4 KiB of random bytes in the vCPU's code page (a user page
 * of its own mapping, SANDBOX_VA), general registers random or pointing
 * into its data pages, RFLAGS with IF and sometimes TF, DF, AC or IOPL 3,
 * then IRETQ to it (crashme-entry.S). It ends at the first exception or
 * interrupt: every gate of the guest's IDT takes an IST stack and puts the
 * machine back. A local APIC timer (periodic, ~1 ms) ends snippets that
 * loop with interrupts on; one that loops or halts with them off is ended
 * by an NMI: the PIT's, every 55 ms to every vCPU through the I/O APIC
 * (so a VM whose vCPUs all loop with interrupts off goes on), and one from
 * another vCPU that sees it make no progress for 100 ms (should a snippet
 * have reprogrammed the PIT or the I/O APIC; vCPU 0 sets both again every
 * second). Random CPL 0 code can still wreck the guest past all of that
 * (its IDT, its handlers, its tables overwritten): the hypervisor's
 * watchdog (HC_WATCHDOG), which vCPU 0 renews only while every vCPU makes
 * progress, then reports the VM hung and resets it (on_crash=reset).
 *
 * arg: bits 0-23 the snippets per vCPU, bits 24-31 the seed. Snippet i of
 * vCPU c with seed s always gets the same bytes, registers and mode, so a
 * snippet that breaks the host can be found again. vCPU 0 prints, every
 * 4096 snippets and at the end:
 *   crashme: seed S: N snippets (ring0 64/32/16 ..., ring3 ...), vectors
 *   UD=.. GP=.. PF=.. ..., timer T, nmi-kicks K, resets R
 * and ends with HC_EXIT 0 when every vCPU has run its share.
 */
#include "guest.h"
#include "tss64.h"
#include "lapic.h"
#include "crashme.h"

#define CM_TIMER_VECTOR 0x40

/* The sandbox: one 2 MiB user page at SANDBOX_VA (backed by SANDBOX_PA),
 * 32 KiB per vCPU: a code page, then seven data pages (its stack at the top). */
#define SANDBOX_VA 0x40000000ul
#define SANDBOX_PA 0x800000ul
#define SLOT 0x8000ul
#define CODE_BYTES 4096
#define STACK_TOP16 0x6ff0 /* SP in the 16-bit data segment (base: the data pages) */
#define STACK_RANDOM 512

/* Kept across a reset (memory is, docs/config.md on_crash): progress. */
#define PERSIST_PA 0xa00000ul
#define PERSIST_MAGIC 0x656d6873617263ull /* "crashme" */

/* Page-table bits (SDM vol. 3A, 4.5). */
#define PTE_P 0x1ull
#define PTE_W 0x2ull
#define PTE_U 0x4ull
#define PTE_PS 0x80ull

#define STALL_NS 100000000ull

/* The hypervisor's watchdog: renewed every second at most, while every
 * vCPU still running snippets has run one since the last renewal. */
#define WATCHDOG_MS 5000
#define WATCHDOG_RENEW_NS 1000000000ull

struct cm_cpu {
	u64 krsp;
	u64 cr0, cr3, cr4, efer;
	u8 gdtr[16];
	u8 idtr[16];
	u64 vector, error, rip, cs;
	u64 in_snippet;
	/* C only from here. */
	u64 gdt[CM_GDT_ENTRIES];
} __attribute__((aligned(1 << CM_CPU_SHIFT)));

_Static_assert(sizeof(struct cm_cpu) == 1 << CM_CPU_SHIFT, "crashme.h: 256 bytes a vCPU");
_Static_assert(__builtin_offsetof(struct cm_cpu, krsp) == CM_KRSP, "crashme.h");
_Static_assert(__builtin_offsetof(struct cm_cpu, cr0) == CM_CR0, "crashme.h");
_Static_assert(__builtin_offsetof(struct cm_cpu, cr3) == CM_CR3, "crashme.h");
_Static_assert(__builtin_offsetof(struct cm_cpu, cr4) == CM_CR4, "crashme.h");
_Static_assert(__builtin_offsetof(struct cm_cpu, efer) == CM_EFER, "crashme.h");
_Static_assert(__builtin_offsetof(struct cm_cpu, gdtr) == CM_GDTR, "crashme.h");
_Static_assert(__builtin_offsetof(struct cm_cpu, idtr) == CM_IDTR, "crashme.h");
_Static_assert(__builtin_offsetof(struct cm_cpu, vector) == CM_VECTOR, "crashme.h");
_Static_assert(__builtin_offsetof(struct cm_cpu, error) == CM_ERROR, "crashme.h");
_Static_assert(__builtin_offsetof(struct cm_cpu, rip) == CM_RIP, "crashme.h");
_Static_assert(__builtin_offsetof(struct cm_cpu, cs) == CM_CS, "crashme.h");
_Static_assert(__builtin_offsetof(struct cm_cpu, in_snippet) == CM_IN_SNIPPET, "crashme.h");

struct cm_frame {
	u64 rip, cs, rflags, rsp, ss, ds;
	u64 gpr[15];
};
_Static_assert(__builtin_offsetof(struct cm_frame, ds) == CF_DS, "crashme.h");
_Static_assert(__builtin_offsetof(struct cm_frame, gpr) == CF_GPR, "crashme.h");


struct gate64 {
	u16 offset0, sel;
	u8 ist, type;
	u16 offset1;
	u32 offset2, reserved;
};

/* What a reset keeps (at PERSIST_PA). */
struct persist {
	u64 magic;
	u64 resets;
	u64 done[CM_MAX_CPUS];            /* snippets each vCPU has finished */
	u64 running[CM_MAX_CPUS];         /* the snippet each vCPU runs, plus 1 */
	u64 vm_ended;                     /* snippets during which the VM was reset */
	u64 by_mode[6];                   /* ring 0 64/32/16, ring 3 64/32/16 */
	u64 by_vector[256];
	u64 nmi_kicks;
};

/* Used by crashme-entry.S. */
struct cm_cpu cm_cpus[CM_MAX_CPUS];
u8 cm_ist[CM_MAX_CPUS][1 << CM_IST_SHIFT] __attribute__((aligned(1 << CM_IST_SHIFT)));
extern const u8 cm_stubs[], cm_stubs_end[];
void cm_enter(struct cm_cpu *cpu, const struct cm_frame *f);

static struct gate64 idt[256] __attribute__((aligned(16)));
static struct tss64 tss[CM_MAX_CPUS] __attribute__((aligned(16)));
static u8 rsp0_stack[CM_MAX_CPUS][4096] __attribute__((aligned(16)));
static u64 pml4[512] __attribute__((aligned(4096)));
static u64 pdpt[512] __attribute__((aligned(4096)));
static u64 pd_low[512] __attribute__((aligned(4096)));  /* 0-1 GiB, the kernel's */
static u64 pd_sandbox[512] __attribute__((aligned(4096)));
static u64 pd_high[512] __attribute__((aligned(4096))); /* 3-4 GiB: the APIC pages */

static volatile u32 nr_cpus __shared;
static volatile u32 tables_ready __shared;
static volatile u64 progress[CM_MAX_CPUS] __shared;   /* snippets this boot */
static volatile u64 last_seen[CM_MAX_CPUS] __shared;  /* ns of the last change */
static volatile u32 finished __shared;
static volatile u32 cpu_done[CM_MAX_CPUS] __shared;
static volatile u32 persist_lock __shared;

static struct persist *const per = (struct persist *)PERSIST_PA;

/* splitmix64: one 64-bit state per snippet, from seed, vCPU and index. */
static u64 mix(u64 *s)
{
	u64 z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static u64 desc(u32 base, u32 limit, u8 access, u8 flags)
{
	return (limit & 0xffffull) | ((u64)(base & 0xffffff) << 16) | ((u64)access << 40) |
	       ((u64)((limit >> 16) & 0xf) << 48) | ((u64)(flags & 0xf) << 52) |
	       ((u64)(base >> 24) << 56);
}

/* SDM vol. 3A, 3.4.5: access byte P|DPL|S|type; flags G, D/B, L. */
#define ACC_CODE(dpl) (0x9a | ((dpl) << 5))
#define ACC_DATA(dpl) (0x92 | ((dpl) << 5))
#define FL_G 0x8
#define FL_DB 0x4
#define FL_L 0x2

static void gdt_build(u32 c)
{
	u64 *g = cm_cpus[c].gdt;
	u32 code = (u32)(SANDBOX_VA + c * SLOT), data = code + 0x1000;
	u64 t = (u64)(ulong)&tss[c];

	g[0] = 0;
	g[CM_SEL_KCODE64 >> 3] = desc(0, 0xfffff, ACC_CODE(0), FL_G | FL_L);
	g[CM_SEL_KDATA >> 3] = desc(0, 0xfffff, ACC_DATA(0), FL_G | FL_DB);
	g[CM_SEL_KCODE32 >> 3] = desc(0, 0xfffff, ACC_CODE(0), FL_G | FL_DB);
	g[CM_SEL_KCODE16 >> 3] = desc(code, 0xffff, ACC_CODE(0), 0);
	g[CM_SEL_KDATA16 >> 3] = desc(data, 0xffff, ACC_DATA(0), 0);
	g[CM_SEL_UCODE64 >> 3] = desc(0, 0xfffff, ACC_CODE(3), FL_G | FL_L);
	g[CM_SEL_UDATA >> 3] = desc(0, 0xfffff, ACC_DATA(3), FL_G | FL_DB);
	g[CM_SEL_UCODE32 >> 3] = desc(0, 0xfffff, ACC_CODE(3), FL_G | FL_DB);
	g[CM_SEL_UCODE16 >> 3] = desc(code, 0xffff, ACC_CODE(3), 0);
	g[CM_SEL_UDATA16 >> 3] = desc(data, 0xffff, ACC_DATA(3), 0);
	/* A 64-bit available TSS takes two slots (SDM vol. 3A, 8.2.3). */
	g[CM_SEL_TSS >> 3] = desc((u32)t, sizeof(struct tss64) - 1, 0x89, 0);
	g[(CM_SEL_TSS >> 3) + 1] = t >> 32;

	tss[c].rsp[0] = (u64)(ulong)(rsp0_stack[c] + sizeof(rsp0_stack[c]));
	for (unsigned i = 0; i < 3; i++)
		tss[c].ist[i] = (u64)(ulong)(cm_ist[c] + (i + 1) * 4096);
	tss[c].iomap_base = sizeof(struct tss64); /* no I/O bitmap: IOPL decides */
}

/* Once, by vCPU 0: the IDT and the page tables everyone shares. */
static void tables_build(void)
{
	for (unsigned v = 0; v < 256; v++) {
		u64 a = (u64)(ulong)(cm_stubs + v * 16);
		u8 ist = v == 2 ? CM_IST_NMI : v == 8 || v == 18 ? CM_IST_DF : CM_IST_ANY;

		idt[v] = (struct gate64){ (u16)a, CM_SEL_KCODE64, ist, 0x8e, (u16)(a >> 16),
					  (u32)(a >> 32), 0 };
	}
	/* The kernel's first GiB and the APIC pages: supervisor. The sandbox:
	 * the only user page (U set at every level on its path, 4.6). */
	for (u64 i = 0; i < 512; i++) {
		pd_low[i] = (i << 21) | PTE_P | PTE_W | PTE_PS;
		pd_high[i] = (0xc0000000ull + (i << 21)) | PTE_P | PTE_W | PTE_PS;
	}
	pd_sandbox[0] = SANDBOX_PA | PTE_P | PTE_W | PTE_U | PTE_PS;
	pdpt[0] = (u64)(ulong)pd_low | PTE_P | PTE_W;
	pdpt[1] = (u64)(ulong)pd_sandbox | PTE_P | PTE_W | PTE_U;
	pdpt[3] = (u64)(ulong)pd_high | PTE_P | PTE_W;
	pml4[0] = (u64)(ulong)pdpt | PTE_P | PTE_W | PTE_U;
}

static u64 rdmsr(u32 msr)
{
	u32 lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((u64)hi << 32) | lo;
}

/* This vCPU onto the tables; what cm_common puts back, noted. */
static void cpu_load(u32 c)
{
	struct cm_cpu *cpu = &cm_cpus[c];
	struct __attribute__((packed)) { u16 limit; u64 base; } gdtr, idtr;
	u64 cr3 = (u64)(ulong)pml4;

	gdtr.limit = sizeof(cpu->gdt) - 1;
	gdtr.base = (u64)(ulong)cpu->gdt;
	idtr.limit = sizeof(idt) - 1;
	idtr.base = (u64)(ulong)idt;
	memcpy(cpu->gdtr, &gdtr, sizeof(gdtr));
	memcpy(cpu->idtr, &idtr, sizeof(idtr));
	__asm__ volatile("lgdt %0\n\t"
			 "pushq %1\n\t"
			 "lea 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\n\t"
			 "mov %2, %%eax\n\t"
			 "mov %%eax, %%ds\n\tmov %%eax, %%es\n\tmov %%eax, %%ss\n\t"
			 "lidt %3\n\t"
			 "mov %4, %%cr3"
			 :
			 : "m"(gdtr), "i"(CM_SEL_KCODE64), "i"(CM_SEL_KDATA), "m"(idtr), "r"(cr3)
			 : "rax", "memory");
	__asm__ volatile("ltr %w0" : : "r"(CM_SEL_TSS));
	__asm__ volatile("mov %%cr0, %0" : "=r"(cpu->cr0));
	__asm__ volatile("mov %%cr4, %0" : "=r"(cpu->cr4));
	cpu->cr3 = cr3;
	cpu->efer = rdmsr(0xc0000080);
}

static void lapic_w(u32 reg, u32 v) { mmio_write32(LAPIC + reg, v); }

static void timer_arm(void)
{
	lapic_w(APIC_SVR, 0x1ff);             /* software-enabled, spurious 0xff */
	lapic_w(APIC_TIMER_DCR, 0xb);         /* divide by 1 */
	lapic_w(APIC_LVT_TIMER, APIC_LVT_PERIODIC | CM_TIMER_VECTOR);
	lapic_w(APIC_TIMER_INIT, 1000000);
}

/* The NMI watchdog that needs no running vCPU: PIT counter 0 in mode 2 at
 * its slowest (1.193182 MHz / 65536, every 55 ms) -> ISA IRQ 0 -> I/O APIC
 * pin 2 -> an NMI to every vCPU (physical destination 0xff, edge). NMIs
 * between snippets are dropped (crashme-entry.S). */
#define PIT_REARM_NS 1000000000ull

static u64 pit_armed_ns;

static void pit_nmi_arm(u64 now)
{
	mmio_write32(IOAPIC, 0x10 + 2 * 2 + 1);   /* entry 2, high: every APIC */
	mmio_write32(IOAPIC + 0x10, 0xffu << 24);
	mmio_write32(IOAPIC, 0x10 + 2 * 2);       /* entry 2, low: NMI, edge, unmasked */
	mmio_write32(IOAPIC + 0x10, APIC_DM_NMI);
	outb(0x43, 0x34);                         /* counter 0, LSB then MSB, mode 2 */
	outb(0x40, 0);                            /* 0: 65536 */
	outb(0x40, 0);
	pit_armed_ns = now;
}

static void lock(void)
{
	while (__atomic_exchange_n(&persist_lock, 1, __ATOMIC_ACQUIRE))
		cpu_relax();
}

static void unlock(void)
{
	__atomic_store_n(&persist_lock, 0, __ATOMIC_RELEASE);
}

/* Snippet i of vCPU c: its bytes and how it starts. */
static unsigned snippet_make(u64 seed, u32 c, u64 i, struct cm_frame *f)
{
	u64 s = seed * 0x100000001b3ull ^ ((u64)c << 56) ^ i;
	u64 code = SANDBOX_VA + c * SLOT, data = code + 0x1000, top = code + SLOT - 16;
	unsigned mode = (unsigned)(i % 6), ring = mode / 3 ? 3 : 0, width = mode % 3;
	u64 *bytes = (u64 *)code;
	u64 r;

	for (unsigned k = 0; k < CODE_BYTES / 8; k++)
		bytes[k] = mix(&s);
	/* The stack's top too: a POP, RET or IRET takes random values (an
	 * IRETD there may ask for virtual-8086 mode, which a CPU in IA-32e
	 * mode ignores, SDM vol. 2A "IRET"). */
	for (u64 *p = (u64 *)(top - STACK_RANDOM); p < (u64 *)(top + 16); p++)
		*p = mix(&s);
	for (unsigned k = 0; k < 15; k++) {
		r = mix(&s);
		/* Half the registers point into the data pages, as addresses a
		 * snippet would use; the rest are anything. */
		f->gpr[k] = r & 1 ? data + (r >> 8) % (SLOT - 0x1000 - 8) : mix(&s);
	}
	r = mix(&s);
	f->rflags = 0x202;                        /* IF */
	if (!(r & 7))
		f->rflags |= 0x100;               /* TF: one instruction, then #DB */
	if (!(r & 0x18))
		f->rflags |= 0x400;               /* DF */
	if (!(r & 0x60))
		f->rflags |= 0x40000;             /* AC */
	if (!(r & 0x380))
		f->rflags |= 0x3000;              /* IOPL 3: CLI, IN, OUT at ring 3 */
	f->rip = width == 2 ? 0 : code;
	f->rsp = width == 2 ? STACK_TOP16 : top;
	if (ring == 0) {
		f->cs = width == 0 ? CM_SEL_KCODE64 : width == 1 ? CM_SEL_KCODE32 : CM_SEL_KCODE16;
		f->ss = width == 2 ? CM_SEL_KDATA16 : CM_SEL_KDATA;
	} else {
		f->cs = width == 0 ? CM_SEL_UCODE64 : width == 1 ? CM_SEL_UCODE32 : CM_SEL_UCODE16;
		f->ss = width == 2 ? CM_SEL_UDATA16 : CM_SEL_UDATA;
	}
	f->ds = f->ss;
	return mode;
}

static void report(u64 seed, bool last)
{
	static const struct { u8 v; const char *name; } names[] = {
		{ 0, "DE" }, { 1, "DB" }, { 2, "NMI" }, { 3, "BP" }, { 4, "OF" }, { 5, "BR" },
		{ 6, "UD" }, { 7, "NM" }, { 8, "DF" }, { 10, "TS" }, { 11, "NP" }, { 12, "SS" },
		{ 13, "GP" }, { 14, "PF" }, { 16, "MF" }, { 17, "AC" }, { 18, "MC" }, { 19, "XM" },
	};
	char line[512];
	int n;
	u64 total = 0, other = 0;

	for (unsigned c = 0; c < CM_MAX_CPUS; c++)
		total += per->done[c];
	n = snprintf(line, sizeof(line),
		     "crashme: seed %lu: %lu snippets (ring0 %lu/%lu/%lu, ring3 %lu/%lu/%lu), vectors",
		     (unsigned long)seed, (unsigned long)total, (unsigned long)per->by_mode[0],
		     (unsigned long)per->by_mode[1], (unsigned long)per->by_mode[2],
		     (unsigned long)per->by_mode[3], (unsigned long)per->by_mode[4],
		     (unsigned long)per->by_mode[5]);
	for (unsigned k = 0; k < ARRAY_SIZE(names); k++)
		if (per->by_vector[names[k].v])
			n += snprintf(line + n, sizeof(line) - (size_t)n, " %s=%lu", names[k].name,
				      (unsigned long)per->by_vector[names[k].v]);
	for (unsigned v = 20; v < 256; v++)
		if (v != CM_TIMER_VECTOR)
			other += per->by_vector[v];
	snprintf(line + n, sizeof(line) - (size_t)n,
		 " other=%lu, timer %lu, nmi-kicks %lu, resets %lu (%lu snippets)%s\n",
		 (unsigned long)other, (unsigned long)per->by_vector[CM_TIMER_VECTOR],
		 (unsigned long)per->nmi_kicks, (unsigned long)per->resets,
		 (unsigned long)per->vm_ended, last ? ", done" : "");
	printf("%s", line);
}

static u64 wd_renewed_ns, wd_progress[CM_MAX_CPUS];

/* vCPU 0: renew the hypervisor's watchdog if every vCPU moved on. */
static void watchdog_renew(u64 now)
{
	if (now - wd_renewed_ns < WATCHDOG_RENEW_NS)
		return;
	for (u32 o = 0; o < nr_cpus; o++)
		if (!cpu_done[o] && progress[o] == wd_progress[o])
			return;
	for (u32 o = 0; o < nr_cpus; o++)
		wd_progress[o] = progress[o];
	hypercall(HC_WATCHDOG, WATCHDOG_MS, 0, 0, 0, NULL);
	wd_renewed_ns = now;
}

/* A vCPU that has made no progress for STALL_NS is sent an NMI. */
static void watch(u32 c, u64 now)
{
	for (u32 o = 0; o < nr_cpus; o++) {
		u64 p = progress[o];

		if (o == c || cpu_done[o])
			continue;
		if (last_seen[o] == 0 || p != progress[o]) {
			last_seen[o] = now;
			continue;
		}
		if (now - last_seen[o] > STALL_NS) {
			lapic_w(APIC_ICR_HI, o << 24);
			lapic_w(APIC_ICR_LO, APIC_DM_NMI);
			last_seen[o] = now;
			lock();
			per->nmi_kicks++;
			unlock();
		}
	}
}

/* An exception in crashme's own code, not a snippet's (crashme-entry.S):
 * a bug here, not a finding. */
__noreturn void cm_kernel_fault(u64 vector, u64 error, u64 rip);
__noreturn void cm_kernel_fault(u64 vector, u64 error, u64 rip)
{
	printf("crashme: exception %lu (error %#lx) at %#lx in crashme itself\n",
	       (unsigned long)vector, (unsigned long)error, (unsigned long)rip);
	hc_exit(2);
}

int main(ulong arg)
{
	u64 want = arg & 0xffffff, seed = (arg >> 24) & 0xff;
	struct vcpu_info vi;
	struct cm_frame f;
	u32 c;

	if (hc_vcpu_info(&vi) || vi.count > CM_MAX_CPUS || !want)
		return 1;
	c = vi.index;
	if (c == 0) {
		nr_cpus = vi.count;
		if (per->magic != PERSIST_MAGIC) {
			memset(per, 0, sizeof(*per));
			per->magic = PERSIST_MAGIC;
		} else {
			/* The VM was reset (on_crash=reset, or a snippet asked for
			 * it): the snippets that were running are done; go on
			 * after them. */
			per->resets++;
			for (unsigned o = 0; o < CM_MAX_CPUS; o++)
				if (per->running[o] && per->running[o] - 1 == per->done[o]) {
					per->done[o]++;
					per->vm_ended++;
				}
		}
		tables_build();
		__atomic_store_n(&tables_ready, 1, __ATOMIC_RELEASE);
	}
	while (!__atomic_load_n(&tables_ready, __ATOMIC_ACQUIRE))
		cpu_relax();
	gdt_build(c);
	cpu_load(c);
	timer_arm();
	if (c == 0) {
		pit_nmi_arm(hc_time_ns());
		hypercall(HC_WATCHDOG, WATCHDOG_MS, 0, 0, 0, NULL);
		wd_renewed_ns = hc_time_ns();
	}

	while (per->done[c] < want) {
		u64 i = per->done[c];
		unsigned mode = snippet_make(seed, c, i, &f);
		u64 v;

		per->running[c] = i + 1;
		cm_enter(&cm_cpus[c], &f);
		v = cm_cpus[c].vector & 0xff;
		if (v >= 32)
			lapic_w(APIC_EOI, 0);
		lock();
		per->done[c] = i + 1;
		per->by_mode[mode]++;
		per->by_vector[v]++;
		unlock();
		progress[c]++;
		if ((i & 63) == 63) {
			u64 now = hc_time_ns();

			watch(c, now);
			timer_arm(); /* a CPL 0 snippet may have written the APIC */
			/* Not each time: a reload restarts the PIT's count. */
			if (c == 0 && now - pit_armed_ns > PIT_REARM_NS)
				pit_nmi_arm(now);
			if (c == 0)
				watchdog_renew(now);
		}
		if (c == 0 && (i & 4095) == 4095)
			report(seed, false);
	}
	cpu_done[c] = 1;
	__atomic_fetch_add(&finished, 1, __ATOMIC_ACQ_REL);
	if (c != 0) {
		/* Done: keep watching vCPU 0 (it may be stuck) until it ends the VM. */
		for (;;) {
			watch(c, hc_time_ns());
			delay_ns(10000000);
		}
	}
	while (__atomic_load_n(&finished, __ATOMIC_ACQUIRE) < nr_cpus) {
		u64 now = hc_time_ns();

		watch(c, now);
		watchdog_renew(now);
		delay_ns(10000000);
	}
	report(seed, true);
	return 0;
}
