/*
 * The architectural state of a vCPU beyond its general registers, in a
 * vendor-neutral form: what loaders set at start, what the instruction
 * emulator reads, and what a register dump prints. Back ends convert to and
 * from their VMCB or VMCS.
 */
#ifndef HV_GUEST_CTX_H
#define HV_GUEST_CTX_H

#include "hv/types.h"

/*
 * Segment attributes in the packed 12-bit form of the VMCB (APM vol. 2,
 * 15.5.1 "VMCB segment attributes"): bits 0-7 are descriptor bits 40-47
 * (type, S, DPL, P), bits 8-11 are descriptor bits 52-55 (AVL, L, D/B, G).
 */
#define SEG_ATTR_TYPE(a) ((a) & 0xf)
#define SEG_ATTR_S BIT(4)
#define SEG_ATTR_DPL(a) (((a) >> 5) & 3)
#define SEG_ATTR_P BIT(7)
#define SEG_ATTR_L BIT(9)
#define SEG_ATTR_DB BIT(10)
#define SEG_ATTR_G BIT(11)

struct seg {
	u16 sel;
	u16 attr;
	u32 limit;
	u64 base;
};

struct dtable {
	u64 base;
	u32 limit;
};

struct guest_ctx {
	struct seg cs, ds, es, fs, gs, ss, tr, ldtr;
	struct dtable gdtr, idtr;
	u64 cr0, cr2, cr3, cr4, efer;
	u8 cpl;
};

/* Control register and EFER bits used outside the back ends (SDM vol. 3, 2.5; APM vol. 2, 3.1). */
#define CR0_PE BIT(0)
#define CR0_MP BIT(1)
#define CR0_EM BIT(2)
#define CR0_TS BIT(3)
#define CR0_ET BIT(4)
#define CR0_NE BIT(5)
#define CR0_WP BIT(16)
#define CR0_AM BIT(18)
#define CR0_NW BIT(29)
#define CR0_CD BIT(30)
#define CR0_PG BIT(31)

#define CR4_PSE BIT(4)
#define CR4_PAE BIT(5)
#define CR4_PGE BIT(7)
#define CR4_OSFXSR BIT(9)
#define CR4_OSXMMEXCPT BIT(10)
#define CR4_UMIP BIT(11)
#define CR4_LA57 BIT(12)
#define CR4_VMXE BIT(13)
#define CR4_FSGSBASE BIT(16)
#define CR4_PCIDE BIT(17)
#define CR4_OSXSAVE BIT(18)
#define CR4_SMEP BIT(20)
#define CR4_SMAP BIT(21)
#define CR4_PKE BIT(22)

#define EFER_SCE BIT(0)
#define EFER_LME BIT(8)
#define EFER_LMA BIT(10)
#define EFER_NXE BIT(11)
#define EFER_SVME BIT(12)

#define RFLAGS_CF BIT(0)
#define RFLAGS_FIXED BIT(1)
#define RFLAGS_PF BIT(2)
#define RFLAGS_ZF BIT(6)
#define RFLAGS_SF BIT(7)
#define RFLAGS_TF BIT(8)
#define RFLAGS_IF BIT(9)
#define RFLAGS_DF BIT(10)
#define RFLAGS_OF BIT(11)
#define RFLAGS_RF BIT(16)
#define RFLAGS_VM BIT(17)

/* The guest's execution mode, as the decoder needs it. */
enum cpu_mode {
	MODE_REAL,   /* 16-bit real mode (or virtual-8086) */
	MODE_PROT16, /* protected mode, 16-bit code segment */
	MODE_PROT32, /* protected mode, 32-bit code segment */
	MODE_LONG64, /* long mode, 64-bit code segment */
};

static inline enum cpu_mode guest_ctx_mode(const struct guest_ctx *c, u64 rflags)
{
	if (!(c->cr0 & CR0_PE) || (rflags & RFLAGS_VM))
		return MODE_REAL;
	if ((c->efer & EFER_LMA) && (c->cs.attr & SEG_ATTR_L))
		return MODE_LONG64;
	return (c->cs.attr & SEG_ATTR_DB) ? MODE_PROT32 : MODE_PROT16;
}

#endif
