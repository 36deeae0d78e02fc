/*
 * Descriptor tables in 64-bit mode: the GDT with its TSS descriptor, the TSS,
 * IDT gates, and the instructions that load them. Layouts from SDM vol. 3A:
 * "Segment Descriptors", "TSS Descriptor in 64-bit mode", "Task State Segment
 * (TSS) in 64-bit mode" (Figure "64-Bit TSS Format") and "64-Bit Mode IDT"
 * (Figure "64-Bit IDT Gate Descriptors").
 */
#ifndef ASM_DESC_H
#define ASM_DESC_H

#include "hv/types.h"

/* The hypervisor's selectors: the same in entry.S's boot GDT and every per-CPU GDT. */
#define SEL_CODE64 0x08
#define SEL_DATA 0x10
#define SEL_TSS 0x18
#define GDT_ENTRIES 5 /* null, code, data, and the 16-byte TSS descriptor */

/* Flat code/data descriptors: base 0, limit 4 GiB, present, DPL 0. */
#define DESC_CODE64 0x00af9a000000ffffULL /* type 0xa (execute/read), S, P, L=1, G */
#define DESC_DATA 0x00cf92000000ffffULL   /* type 0x2 (read/write), S, P, D/B, G */
#define DESC_TYPE_TSS_AVAIL 0x9           /* 64-bit TSS (available) */

struct tss64 {
	u32 reserved0;
	u64 rsp[3];
	u64 reserved1;
	u64 ist[7]; /* IST1..IST7: stacks an IDT gate can switch to */
	u64 reserved2;
	u16 reserved3;
	u16 iomap_base; /* >= the TSS limit: no I/O permission bitmap */
} __packed;
_Static_assert(sizeof(struct tss64) == 104, "64-bit TSS");
_Static_assert(offsetof(struct tss64, ist) == 0x24, "TSS IST1");

/* The TSS descriptor: 16 bytes in 64-bit mode, two GDT slots. */
static inline void gdt_set_tss(u64 *gdt, unsigned index, const struct tss64 *tss)
{
	u64 base = (u64)(uintptr_t)tss, limit = sizeof(*tss) - 1;

	gdt[index] = (limit & 0xffff) | ((base & 0xffffff) << 16) |
		     ((u64)DESC_TYPE_TSS_AVAIL << 40) | BIT(47) /* P */ |
		     (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
	gdt[index + 1] = base >> 32;
}

struct idt_gate {
	u16 offset_lo;
	u16 selector;
	u8 ist;       /* bits 0-2: IST index, 0 = none */
	u8 type_attr; /* P, DPL, type (0xe: 64-bit interrupt gate) */
	u16 offset_mid;
	u32 offset_hi;
	u32 reserved;
} __packed;
_Static_assert(sizeof(struct idt_gate) == 16, "64-bit IDT gate");

#define IDT_GATE_INTR 0x8e /* present, DPL 0, 64-bit interrupt gate: IF cleared on entry */

static inline struct idt_gate idt_make_gate(u64 handler, u8 ist)
{
	return (struct idt_gate){
		.offset_lo = handler & 0xffff,
		.selector = SEL_CODE64,
		.ist = ist & 7,
		.type_attr = IDT_GATE_INTR,
		.offset_mid = (handler >> 16) & 0xffff,
		.offset_hi = handler >> 32,
	};
}

struct desc_ptr {
	u16 limit;
	u64 base;
} __packed;
_Static_assert(sizeof(struct desc_ptr) == 10, "GDTR/IDTR image");

static inline void lgdt(const struct desc_ptr *p) { __asm__ volatile("lgdt %0" ::"m"(*p)); }
static inline void lidt(const struct desc_ptr *p) { __asm__ volatile("lidt %0" ::"m"(*p)); }
static inline void ltr(u16 sel) { __asm__ volatile("ltr %0" ::"r"(sel)); }

static inline void sgdt(struct desc_ptr *p) { __asm__ volatile("sgdt %0" : "=m"(*p)); }
static inline void sidt(struct desc_ptr *p) { __asm__ volatile("sidt %0" : "=m"(*p)); }

/*
 * Reloads CS (through a far return) and the data segment registers after a
 * new GDT. FS and GS get the null selector; load GS before setting its base:
 * a selector load rewrites the base.
 */
static inline void load_segments(void)
{
	u64 tmp;

	__asm__ volatile("pushq %[cs]\n\t"
			 "leaq 1f(%%rip), %[tmp]\n\t"
			 "pushq %[tmp]\n\t"
			 "lretq\n"
			 "1:\n\t"
			 "movl %[ds], %k[tmp]\n\t"
			 "movw %w[tmp], %%ds\n\t"
			 "movw %w[tmp], %%es\n\t"
			 "movw %w[tmp], %%ss\n\t"
			 "xorl %k[tmp], %k[tmp]\n\t"
			 "movw %w[tmp], %%fs\n\t"
			 "movw %w[tmp], %%gs"
			 : [tmp] "=&r"(tmp)
			 : [cs] "i"(SEL_CODE64), [ds] "i"(SEL_DATA)
			 : "memory");
}

#endif
