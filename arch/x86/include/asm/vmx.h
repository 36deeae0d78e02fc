/*
 * The VMX instructions (SDM vol. 3, chapter 31 "VMX Instruction Reference")
 * and the two host-interrupt helpers the VT-x back end needs after an exit.
 *
 * The instructions that can fail report it in the flags: CF = 1 is
 * VMfailInvalid (no current VMCS), ZF = 1 is VMfailValid (the reason is in
 * the VM-instruction error field); both read as "not above" (31.2).
 * VMREAD/VMWRITE on the hot path are not checked: the VMCS is current and
 * the fields exist, or the back end has a bug the next entry reports.
 */
#ifndef ASM_VMX_H
#define ASM_VMX_H

#include "hv/types.h"

/* true on success */
static inline bool vmxon(u64 pa)
{
	bool fail;

	__asm__ volatile("vmxon %1" : "=@ccna"(fail) : "m"(pa) : "memory");
	return !fail;
}

static inline bool vmclear(u64 pa)
{
	bool fail;

	__asm__ volatile("vmclear %1" : "=@ccna"(fail) : "m"(pa) : "memory");
	return !fail;
}

static inline bool vmptrld(u64 pa)
{
	bool fail;

	__asm__ volatile("vmptrld %1" : "=@ccna"(fail) : "m"(pa) : "memory");
	return !fail;
}

/* The current VMCS, or ~0 when there is none. */
static inline u64 vmptrst(void)
{
	u64 pa;

	__asm__ volatile("vmptrst %0" : "=m"(pa) : : "memory");
	return pa;
}

static inline u64 vmread(u64 field)
{
	u64 v;

	__asm__ volatile("vmread %1, %0" : "=rm"(v) : "r"(field) : "cc");
	return v;
}

static inline void vmwrite(u64 field, u64 v)
{
	__asm__ volatile("vmwrite %1, %0" : : "r"(field), "rm"(v) : "cc");
}

/* VMWRITE that says whether it worked (setup paths). */
static inline bool vmwrite_checked(u64 field, u64 v)
{
	bool fail;

	__asm__ volatile("vmwrite %2, %1" : "=@ccna"(fail) : "r"(field), "rm"(v));
	return !fail;
}

struct invept_desc {
	u64 eptp, reserved;
};

struct invvpid_desc {
	u64 vpid, linear;
};

static inline bool invept(u64 type, u64 eptp)
{
	struct invept_desc d = { eptp, 0 };
	bool fail;

	__asm__ volatile("invept %2, %1" : "=@ccna"(fail) : "r"(type), "m"(d) : "memory");
	return !fail;
}

static inline bool invvpid_linear(u64 type, u16 vpid, u64 linear)
{
	struct invvpid_desc d = { vpid, linear };
	bool fail;

	__asm__ volatile("invvpid %2, %1" : "=@ccna"(fail) : "r"(type), "m"(d) : "memory");
	return !fail;
}

static inline bool invvpid(u64 type, u16 vpid)
{
	return invvpid_linear(type, vpid, 0);
}

/*
 * A VM exit leaves RFLAGS.IF clear, so a host interrupt that made the exit
 * (external-interrupt exiting, without "acknowledge interrupt on exit") is
 * still pending in the local APIC. STI's one-instruction shadow covers the
 * NOP; the interrupt is taken right after it, before CLI.
 */
static inline void vmx_take_host_irq(void)
{
	__asm__ volatile("sti; nop; cli" ::: "memory");
}

/*
 * With NMI exiting, an NMI in guest mode is consumed by the exit (28.1):
 * hand it to the host's NMI handler (the panic path stops CPUs by NMI).
 */
static inline void vmx_take_host_nmi(void)
{
	__asm__ volatile("int $2" ::: "memory");
}

#endif
