/*
 * The Virtual Machine Control Block, AMD APM vol. 2, Appendix B
 * ("Layout of VMCB"): a control area at 0x000 and a state save area at 0x400.
 */
#ifndef SVM_VMCB_H
#define SVM_VMCB_H

#include "hv/types.h"

struct vmcb_seg {
	u16 sel;
	u16 attr;
	u32 limit;
	u64 base;
} __packed;

struct vmcb_control {
	u32 intercept_cr;        /* 0x000: reads bits 0-15, writes bits 16-31 */
	u32 intercept_dr;        /* 0x004 */
	u32 intercept_exceptions;/* 0x008: one bit per vector */
	u32 intercept_misc1;     /* 0x00c */
	u32 intercept_misc2;     /* 0x010 */
	u32 intercept_misc3;     /* 0x014 */
	u8 reserved_018[0x03c - 0x018];
	u16 pause_filter_threshold; /* 0x03c */
	u16 pause_filter_count;  /* 0x03e */
	u64 iopm_base_pa;        /* 0x040 */
	u64 msrpm_base_pa;       /* 0x048 */
	u64 tsc_offset;          /* 0x050 */
	u32 guest_asid;          /* 0x058 */
	u8 tlb_control;          /* 0x05c */
	u8 reserved_05d[3];
	u64 int_ctl;             /* 0x060 */
	u64 int_state;           /* 0x068: bit 0 interrupt shadow */
	u64 exitcode;            /* 0x070 */
	u64 exitinfo1;           /* 0x078 */
	u64 exitinfo2;           /* 0x080 */
	u64 exitintinfo;         /* 0x088 */
	u64 np_ctl;              /* 0x090: bit 0 NP_ENABLE */
	u64 avic_apic_bar;       /* 0x098 */
	u64 ghcb_pa;             /* 0x0a0 */
	u64 eventinj;            /* 0x0a8 */
	u64 n_cr3;               /* 0x0b0 */
	u64 virt_ext;            /* 0x0b8: LBR virtualization, virtual VMLOAD/VMSAVE */
	u32 clean;               /* 0x0c0: VMCB clean bits */
	u32 reserved_0c4;
	u64 nrip;                /* 0x0c8: next RIP (with NRIP save) */
	u8 insn_fetched;         /* 0x0d0: bytes fetched (decode assists) */
	u8 insn_bytes[15];       /* 0x0d1 */
	u8 reserved_0e0[0x400 - 0x0e0];
} __packed;

struct vmcb_save {
	struct vmcb_seg es, cs, ss, ds, fs, gs, gdtr, ldtr, idtr, tr; /* 0x400-0x49f */
	u8 reserved_4a0[0x4cb - 0x4a0];
	u8 cpl;                  /* 0x4cb */
	u32 reserved_4cc;
	u64 efer;                /* 0x4d0 */
	u8 reserved_4d8[0x548 - 0x4d8];
	u64 cr4;                 /* 0x548 */
	u64 cr3;                 /* 0x550 */
	u64 cr0;                 /* 0x558 */
	u64 dr7;                 /* 0x560 */
	u64 dr6;                 /* 0x568 */
	u64 rflags;              /* 0x570 */
	u64 rip;                 /* 0x578 */
	u8 reserved_580[0x5d8 - 0x580];
	u64 rsp;                 /* 0x5d8 */
	u64 s_cet, ssp, isst_addr; /* 0x5e0 */
	u64 rax;                 /* 0x5f8 */
	u64 star;                /* 0x600 */
	u64 lstar;               /* 0x608 */
	u64 cstar;               /* 0x610 */
	u64 sfmask;              /* 0x618 */
	u64 kernel_gs_base;      /* 0x620 */
	u64 sysenter_cs;         /* 0x628 */
	u64 sysenter_esp;        /* 0x630 */
	u64 sysenter_eip;        /* 0x638 */
	u64 cr2;                 /* 0x640 */
	u8 reserved_648[0x668 - 0x648];
	u64 g_pat;               /* 0x668 */
	u64 dbgctl;              /* 0x670 */
	u64 br_from, br_to, lastexcp_from, lastexcp_to; /* 0x678 */
} __packed;

struct vmcb {
	struct vmcb_control control;
	struct vmcb_save save;
	u8 reserved[4096 - 0x400 - sizeof(struct vmcb_save)];
} __packed;

_Static_assert(sizeof(struct vmcb) == 4096, "VMCB is one page");
_Static_assert(__builtin_offsetof(struct vmcb, control.tsc_offset) == 0x050, "tsc_offset");
_Static_assert(__builtin_offsetof(struct vmcb, control.exitcode) == 0x070, "exitcode");
_Static_assert(__builtin_offsetof(struct vmcb, control.eventinj) == 0x0a8, "eventinj");
_Static_assert(__builtin_offsetof(struct vmcb, control.nrip) == 0x0c8, "nrip");
_Static_assert(__builtin_offsetof(struct vmcb, save.cpl) == 0x4cb, "cpl");
_Static_assert(__builtin_offsetof(struct vmcb, save.efer) == 0x4d0, "efer");
_Static_assert(__builtin_offsetof(struct vmcb, save.cr4) == 0x548, "cr4");
_Static_assert(__builtin_offsetof(struct vmcb, save.rip) == 0x578, "rip");
_Static_assert(__builtin_offsetof(struct vmcb, save.rsp) == 0x5d8, "rsp");
_Static_assert(__builtin_offsetof(struct vmcb, save.rax) == 0x5f8, "rax");
_Static_assert(__builtin_offsetof(struct vmcb, save.cr2) == 0x640, "cr2");
_Static_assert(__builtin_offsetof(struct vmcb, save.g_pat) == 0x668, "g_pat");

/* VMCB int_state (offset 0x068): bit 0, the guest is in an interrupt shadow. */
#define INT_STATE_SHADOW BIT(0)

/* intercept_misc1 (APM vol. 2, B.1 offset 0x00c) */
#define INTERCEPT_INTR BIT(0)
#define INTERCEPT_NMI BIT(1)
#define INTERCEPT_SMI BIT(2)
#define INTERCEPT_INIT BIT(3)
#define INTERCEPT_VINTR BIT(4)
#define INTERCEPT_TR_WRITE BIT(13)
#define INTERCEPT_RDTSC BIT(14)
#define INTERCEPT_CPUID BIT(18)
#define INTERCEPT_IRET BIT(20)
#define INTERCEPT_INVD BIT(22)
#define INTERCEPT_HLT BIT(24)
#define INTERCEPT_INVLPG BIT(25)
#define INTERCEPT_INVLPGA BIT(26)
#define INTERCEPT_IOIO_PROT BIT(27)
#define INTERCEPT_MSR_PROT BIT(28)
#define INTERCEPT_TASK_SWITCH BIT(29)
#define INTERCEPT_SHUTDOWN BIT(31)
/* intercept_misc2 (offset 0x010) */
#define INTERCEPT_VMRUN BIT(0)
#define INTERCEPT_VMMCALL BIT(1)
#define INTERCEPT_VMLOAD BIT(2)
#define INTERCEPT_VMSAVE BIT(3)
#define INTERCEPT_STGI BIT(4)
#define INTERCEPT_CLGI BIT(5)
#define INTERCEPT_SKINIT BIT(6)
#define INTERCEPT_RDTSCP BIT(7)
#define INTERCEPT_MONITOR BIT(10)
#define INTERCEPT_MWAIT BIT(11)
#define INTERCEPT_MWAIT_COND BIT(12)
#define INTERCEPT_XSETBV BIT(13)
#define INTERCEPT_RDPRU BIT(14)

/* intercept_cr (offset 0x000): reads of CRn are bit n, writes bit 16 + n
 * (APM vol. 2, 15.9). */
#define INTERCEPT_CR0_READ BIT(0)
#define INTERCEPT_CR3_READ BIT(3)
#define INTERCEPT_CR4_READ BIT(4)
#define INTERCEPT_CR0_WRITE BIT(16 + 0)
#define INTERCEPT_CR3_WRITE BIT(16 + 3)
#define INTERCEPT_CR4_WRITE BIT(16 + 4)
#define INTERCEPT_CR8_WRITE BIT(16 + 8)
/* intercept_dr (offset 0x004): reads of DRn are bit n, writes bit 16 + n. */
#define INTERCEPT_DR0_7_READ 0xffU
#define INTERCEPT_DR0_7_WRITE (0xffU << 16)

/* int_ctl (offset 0x060); V_TPR is the guest's CR8 while V_INTR_MASKING is
 * set (APM vol. 2, 15.21.1 "Virtual Interrupt Control"). */
#define V_TPR_MASK 0xfULL
#define V_IRQ BIT(8)
#define V_INTR_PRIO_SHIFT 16
#define V_IGN_TPR BIT(20)
#define V_INTR_MASKING BIT(24)
#define V_INTR_VECTOR_SHIFT 32

/* tlb_control (offset 0x05c) */
#define TLB_CONTROL_NONE 0
#define TLB_CONTROL_FLUSH_ALL 1
#define TLB_CONTROL_FLUSH_ASID 3

#define NP_ENABLE BIT(0)

/* EVENTINJ (APM vol. 2, 15.20) */
#define EVENTINJ_TYPE_INTR (0ULL << 8)
#define EVENTINJ_TYPE_NMI (2ULL << 8)
#define EVENTINJ_TYPE_EXCEPTION (3ULL << 8)
#define EVENTINJ_TYPE_SOFT (4ULL << 8)
#define EVENTINJ_EV BIT(11)
#define EVENTINJ_VALID BIT(31)

/* Exit codes (APM vol. 2, Appendix C) */
#define SVM_EXIT_CR8_WRITE 0x018 /* CRn reads are 0x000 + n, writes 0x010 + n */
#define SVM_EXIT_CR_LAST 0x01f
#define SVM_EXIT_DR_READ 0x020 /* DRn reads are 0x020 + n, writes 0x030 + n */
#define SVM_EXIT_DR_LAST 0x03f
#define SVM_EXIT_EXCP_BASE 0x040
#define SVM_EXIT_INTR 0x060
#define SVM_EXIT_NMI 0x061
#define SVM_EXIT_SMI 0x062
#define SVM_EXIT_INIT 0x063
#define SVM_EXIT_VINTR 0x064
#define SVM_EXIT_TR_WRITE 0x06d
#define SVM_EXIT_RDTSC 0x06e
#define SVM_EXIT_CPUID 0x072
#define SVM_EXIT_IRET 0x074
#define SVM_EXIT_INVD 0x076
#define SVM_EXIT_PAUSE 0x077
#define SVM_EXIT_HLT 0x078
#define SVM_EXIT_INVLPG 0x079
#define SVM_EXIT_INVLPGA 0x07a
#define SVM_EXIT_IOIO 0x07b
#define SVM_EXIT_MSR 0x07c
#define SVM_EXIT_TASK_SWITCH 0x07d
#define SVM_EXIT_SHUTDOWN 0x07f
#define SVM_EXIT_VMRUN 0x080
#define SVM_EXIT_VMMCALL 0x081
#define SVM_EXIT_VMLOAD 0x082
#define SVM_EXIT_VMSAVE 0x083
#define SVM_EXIT_STGI 0x084
#define SVM_EXIT_CLGI 0x085
#define SVM_EXIT_SKINIT 0x086
#define SVM_EXIT_RDTSCP 0x087
#define SVM_EXIT_MONITOR 0x08a
#define SVM_EXIT_MWAIT 0x08b
#define SVM_EXIT_MWAIT_COND 0x08c
#define SVM_EXIT_XSETBV 0x08d
#define SVM_EXIT_RDPRU 0x08e
#define SVM_EXIT_NPF 0x400
#define SVM_EXIT_INVALID ((u64)-1)

/* IOIO EXITINFO1 (APM vol. 2, 15.10.2) */
#define IOIO_TYPE_IN BIT(0)
#define IOIO_STR BIT(2)
#define IOIO_REP BIT(3)
#define IOIO_SZ8 BIT(4)
#define IOIO_SZ16 BIT(5)
#define IOIO_SZ32 BIT(6)
#define IOIO_PORT_SHIFT 16

/* NPF EXITINFO1: a #PF-style error code (APM vol. 2, 15.25.6) */
#define NPF_P BIT(0)
#define NPF_RW BIT(1)
#define NPF_ID BIT(4)
/* Which access faulted (APM vol. 2, 15.25.6): the final guest-physical
 * address, or a guest page-table entry during the guest's walk. */
#define NPF_FINAL BIT(32)
#define NPF_WALK BIT(33)

#endif
