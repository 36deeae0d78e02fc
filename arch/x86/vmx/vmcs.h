/*
 * The Virtual Machine Control Structure: field encodings (SDM vol. 3,
 * Appendix B "Field Encoding in VMCS"), the control bits (25.6-25.8), the
 * capability MSRs (Appendix A) and the basic exit reasons (Appendix C).
 * The VMCS layout in memory is the CPU's own: only VMREAD/VMWRITE touch it.
 */
#ifndef VMX_VMCS_H
#define VMX_VMCS_H

#ifndef __ASSEMBLY__ /* vmx_run.S takes the field encodings alone */
#include "hv/types.h"
#endif

/* ---- 16-bit fields (B.1) ---- */
#define VMCS_VPID 0x0000
#define VMCS_GUEST_ES_SEL 0x0800 /* ES, CS, SS, DS, FS, GS, LDTR, TR: + 2 each */
#define VMCS_GUEST_CS_SEL 0x0802
#define VMCS_GUEST_SS_SEL 0x0804
#define VMCS_GUEST_DS_SEL 0x0806
#define VMCS_GUEST_FS_SEL 0x0808
#define VMCS_GUEST_GS_SEL 0x080a
#define VMCS_GUEST_LDTR_SEL 0x080c
#define VMCS_GUEST_TR_SEL 0x080e
#define VMCS_HOST_ES_SEL 0x0c00
#define VMCS_HOST_CS_SEL 0x0c02
#define VMCS_HOST_SS_SEL 0x0c04
#define VMCS_HOST_DS_SEL 0x0c06
#define VMCS_HOST_FS_SEL 0x0c08
#define VMCS_HOST_GS_SEL 0x0c0a
#define VMCS_HOST_TR_SEL 0x0c0c

/* ---- 64-bit fields (B.2) ---- */
#define VMCS_IO_BITMAP_A 0x2000
#define VMCS_IO_BITMAP_B 0x2002
#define VMCS_MSR_BITMAP 0x2004
#define VMCS_EXIT_MSR_STORE_ADDR 0x2006
#define VMCS_EXIT_MSR_LOAD_ADDR 0x2008
#define VMCS_ENTRY_MSR_LOAD_ADDR 0x200a
#define VMCS_TSC_OFFSET 0x2010
#define VMCS_VIRTUAL_APIC_PAGE 0x2012
#define VMCS_EPT_POINTER 0x201a
#define VMCS_GUEST_PHYSICAL_ADDRESS 0x2400
#define VMCS_LINK_POINTER 0x2800
#define VMCS_GUEST_IA32_DEBUGCTL 0x2802
#define VMCS_GUEST_IA32_PAT 0x2804
#define VMCS_GUEST_IA32_EFER 0x2806
#define VMCS_GUEST_PDPTE0 0x280a /* PDPTE0-3: + 2 each */
#define VMCS_HOST_IA32_PAT 0x2c00
#define VMCS_HOST_IA32_EFER 0x2c02

/* ---- 32-bit fields (B.3) ---- */
#define VMCS_PIN_BASED_CTLS 0x4000
#define VMCS_PROC_BASED_CTLS 0x4002
#define VMCS_EXCEPTION_BITMAP 0x4004
#define VMCS_PF_ERROR_MASK 0x4006
#define VMCS_PF_ERROR_MATCH 0x4008
#define VMCS_CR3_TARGET_COUNT 0x400a
#define VMCS_EXIT_CTLS 0x400c
#define VMCS_EXIT_MSR_STORE_COUNT 0x400e
#define VMCS_EXIT_MSR_LOAD_COUNT 0x4010
#define VMCS_ENTRY_CTLS 0x4012
#define VMCS_ENTRY_MSR_LOAD_COUNT 0x4014
#define VMCS_ENTRY_INTR_INFO 0x4016
#define VMCS_ENTRY_EXCEPTION_ERROR 0x4018
#define VMCS_ENTRY_INSN_LEN 0x401a
#define VMCS_TPR_THRESHOLD 0x401c
#define VMCS_PROC_BASED_CTLS2 0x401e
#define VMCS_VM_INSN_ERROR 0x4400
#define VMCS_EXIT_REASON 0x4402
#define VMCS_EXIT_INTR_INFO 0x4404
#define VMCS_EXIT_INTR_ERROR 0x4406
#define VMCS_IDT_VECTORING_INFO 0x4408
#define VMCS_IDT_VECTORING_ERROR 0x440a
#define VMCS_EXIT_INSN_LEN 0x440c
#define VMCS_EXIT_INSN_INFO 0x440e
/* Its register operand 2 (INVEPT, INVPCID, ...: the type), Table 28-13. */
#define INSN_INFO_REG2(i) (((i) >> 28) & 0xf)
#define VMCS_GUEST_ES_LIMIT 0x4800 /* ES ... TR: + 2 each, then GDTR, IDTR */
#define VMCS_GUEST_GDTR_LIMIT 0x4810
#define VMCS_GUEST_IDTR_LIMIT 0x4812
#define VMCS_GUEST_ES_AR 0x4814 /* ES ... TR: + 2 each */
#define VMCS_GUEST_CS_AR 0x4816
#define VMCS_GUEST_SS_AR 0x4818
#define VMCS_GUEST_INTERRUPTIBILITY 0x4824
#define VMCS_GUEST_ACTIVITY_STATE 0x4826
#define VMCS_GUEST_IA32_SYSENTER_CS 0x482a
#define VMCS_PREEMPTION_TIMER_VALUE 0x482e
#define VMCS_HOST_IA32_SYSENTER_CS 0x4c00

/* ---- natural-width fields (B.4) ---- */
#define VMCS_CR0_GUEST_HOST_MASK 0x6000
#define VMCS_CR4_GUEST_HOST_MASK 0x6002
#define VMCS_CR0_READ_SHADOW 0x6004
#define VMCS_CR4_READ_SHADOW 0x6006
#define VMCS_EXIT_QUALIFICATION 0x6400
#define VMCS_GUEST_CR0 0x6800
#define VMCS_GUEST_CR3 0x6802
#define VMCS_GUEST_CR4 0x6804
#define VMCS_GUEST_ES_BASE 0x6806 /* ES ... TR: + 2 each, then GDTR, IDTR */
#define VMCS_GUEST_CS_BASE 0x6808
#define VMCS_GUEST_GDTR_BASE 0x6816
#define VMCS_GUEST_IDTR_BASE 0x6818
#define VMCS_GUEST_DR7 0x681a
#define VMCS_GUEST_RSP 0x681c
#define VMCS_GUEST_RIP 0x681e
#define VMCS_GUEST_RFLAGS 0x6820
#define VMCS_GUEST_PENDING_DBG 0x6822
#define VMCS_GUEST_IA32_SYSENTER_ESP 0x6824
#define VMCS_GUEST_IA32_SYSENTER_EIP 0x6826
#define VMCS_HOST_CR0 0x6c00
#define VMCS_HOST_CR3 0x6c02
#define VMCS_HOST_CR4 0x6c04
#define VMCS_HOST_FS_BASE 0x6c06
#define VMCS_HOST_GS_BASE 0x6c08
#define VMCS_HOST_TR_BASE 0x6c0a
#define VMCS_HOST_GDTR_BASE 0x6c0c
#define VMCS_HOST_IDTR_BASE 0x6c0e
#define VMCS_HOST_IA32_SYSENTER_ESP 0x6c10
#define VMCS_HOST_IA32_SYSENTER_EIP 0x6c12
#define VMCS_HOST_RSP 0x6c14
#define VMCS_HOST_RIP 0x6c16

/* The guest segment registers in field order (B.1.2, B.3.3, B.4.3). */
#ifndef __ASSEMBLY__
enum vmcs_seg { VMCS_SEG_ES, VMCS_SEG_CS, VMCS_SEG_SS, VMCS_SEG_DS, VMCS_SEG_FS,
		VMCS_SEG_GS, VMCS_SEG_LDTR, VMCS_SEG_TR };
#endif
#define VMCS_GUEST_SEL(s) (VMCS_GUEST_ES_SEL + 2 * (s))
#define VMCS_GUEST_LIMIT(s) (VMCS_GUEST_ES_LIMIT + 2 * (s))
#define VMCS_GUEST_AR(s) (VMCS_GUEST_ES_AR + 2 * (s))
#define VMCS_GUEST_BASE(s) (VMCS_GUEST_ES_BASE + 2 * (s))

/* ---- capability MSRs (Appendix A) ---- */
#define MSR_IA32_VMX_BASIC 0x480
#define MSR_IA32_VMX_PINBASED_CTLS 0x481
#define MSR_IA32_VMX_PROCBASED_CTLS 0x482
#define MSR_IA32_VMX_EXIT_CTLS 0x483
#define MSR_IA32_VMX_ENTRY_CTLS 0x484
#define MSR_IA32_VMX_MISC 0x485
#define MSR_IA32_VMX_CR0_FIXED0 0x486
#define MSR_IA32_VMX_CR0_FIXED1 0x487
#define MSR_IA32_VMX_CR4_FIXED0 0x488
#define MSR_IA32_VMX_CR4_FIXED1 0x489
#define MSR_IA32_VMX_PROCBASED_CTLS2 0x48b
#define MSR_IA32_VMX_EPT_VPID_CAP 0x48c
#define MSR_IA32_VMX_TRUE_PINBASED_CTLS 0x48d
#define MSR_IA32_VMX_TRUE_PROCBASED_CTLS 0x48e
#define MSR_IA32_VMX_TRUE_EXIT_CTLS 0x48f
#define MSR_IA32_VMX_TRUE_ENTRY_CTLS 0x490

/* MSRs the VMCS guest and host state hold (SDM vol. 4, Table 2-2). */
#define MSR_IA32_SYSENTER_CS 0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176

/* IA32_FEATURE_CONTROL (SDM vol. 3, 24.7 "Enabling and Entering VMX Operation") */
#define FEATURE_CONTROL_LOCK BIT(0)
#define FEATURE_CONTROL_VMX_OUTSIDE_SMX BIT(2)

/* IA32_VMX_BASIC (A.1) */
#define VMX_BASIC_REVISION(b) ((u32)(b) & 0x7fffffff)
#define VMX_BASIC_VMCS_SIZE(b) (((b) >> 32) & 0x1fff)
#define VMX_BASIC_MEM_TYPE(b) (((b) >> 50) & 0xf)
#define VMX_BASIC_TRUE_CTLS (1ULL << 55)
#define VMX_MEM_TYPE_WB 6

/* IA32_VMX_MISC (A.6): the preemption timer ticks when this TSC bit changes. */
#define VMX_MISC_TIMER_RATE(m) ((m) & 0x1f)

/* IA32_VMX_EPT_VPID_CAP (A.10) */
#define EPT_CAP_WALK_4 (1ULL << 6)
#define EPT_CAP_WB (1ULL << 14)
#define EPT_CAP_2M_PAGES (1ULL << 16)
#define EPT_CAP_INVEPT (1ULL << 20)
#define EPT_CAP_AD (1ULL << 21) /* accessed and dirty flags (29.3.5) */
#define EPT_CAP_INVEPT_SINGLE (1ULL << 25)
#define EPT_CAP_INVEPT_ALL (1ULL << 26)
#define VPID_CAP_INVVPID (1ULL << 32)
#define VPID_CAP_INVVPID_ADDRESS (1ULL << 40)
#define VPID_CAP_INVVPID_SINGLE (1ULL << 41)
#define VPID_CAP_INVVPID_ALL (1ULL << 42)

/* ---- VM-execution controls (25.6) ---- */
/* Pin-based (25.6.1, Table 25-5) */
#define PIN_EXTERNAL_INTERRUPT_EXITING BIT(0)
#define PIN_NMI_EXITING BIT(3)
#define PIN_VIRTUAL_NMIS BIT(5)
#define PIN_PREEMPTION_TIMER BIT(6)
/* Primary processor-based (25.6.2, Table 25-6) */
#define PROC_INTERRUPT_WINDOW_EXITING BIT(2)
#define PROC_USE_TSC_OFFSETTING BIT(3)
#define PROC_HLT_EXITING BIT(7)
#define PROC_INVLPG_EXITING BIT(9)
#define PROC_MWAIT_EXITING BIT(10)
#define PROC_RDPMC_EXITING BIT(11)
#define PROC_RDTSC_EXITING BIT(12)
#define PROC_CR3_LOAD_EXITING BIT(15)
#define PROC_CR3_STORE_EXITING BIT(16)
#define PROC_CR8_LOAD_EXITING BIT(19)
#define PROC_CR8_STORE_EXITING BIT(20)
#define PROC_USE_TPR_SHADOW BIT(21)
#define PROC_NMI_WINDOW_EXITING BIT(22)
#define PROC_MOV_DR_EXITING BIT(23)
#define PROC_UNCOND_IO_EXITING BIT(24)
#define PROC_USE_IO_BITMAPS BIT(25)
#define PROC_USE_MSR_BITMAPS BIT(28)
#define PROC_MONITOR_EXITING BIT(29)
#define PROC_SECONDARY_CTLS BIT(31)
/* Secondary processor-based (25.6.2, Table 25-7) */
#define PROC2_ENABLE_EPT BIT(1)
#define PROC2_ENABLE_RDTSCP BIT(3)
#define PROC2_ENABLE_VPID BIT(5)
#define PROC2_UNRESTRICTED_GUEST BIT(7)
#define PROC2_ENABLE_INVPCID BIT(12)

/* ---- VM-exit controls (25.7.1) ---- */
#define EXIT_SAVE_DEBUG_CTLS BIT(2)
#define EXIT_HOST_ADDR_SPACE_SIZE BIT(9)
#define EXIT_ACK_INTERRUPT BIT(15)
#define EXIT_SAVE_IA32_PAT BIT(18)
#define EXIT_LOAD_IA32_PAT BIT(19)
#define EXIT_SAVE_IA32_EFER BIT(20)
#define EXIT_LOAD_IA32_EFER BIT(21)
#define EXIT_SAVE_PREEMPTION_TIMER BIT(22)

/* ---- VM-entry controls (25.8.1) ---- */
#define ENTRY_LOAD_DEBUG_CTLS BIT(2)
#define ENTRY_IA32E_MODE_GUEST BIT(9)
#define ENTRY_LOAD_IA32_PAT BIT(14)
#define ENTRY_LOAD_IA32_EFER BIT(15)

/* EPTP (25.6.11): memory type WB, a 4-level walk (length - 1 = 3). */
#define EPTP_WB 6
#define EPTP_WALK_4 (3 << 3)
#define EPTP_AD BIT(6) /* the CPU sets accessed and dirty flags in EPT entries */

/*
 * Event injection (25.8.3), the VM-exit interruption and
 * IDT-vectoring information (25.9.2, 25.9.3): the same layout.
 */
#define INTR_INFO_VECTOR(i) ((u8)(i))
#define INTR_INFO_TYPE(i) (((i) >> 8) & 7)
#define INTR_TYPE_EXT_INTR 0
#define INTR_TYPE_NMI 2
#define INTR_TYPE_HW_EXCEPTION 3
#define INTR_TYPE_SW_INTR 4
#define INTR_TYPE_PRIV_SW_EXCEPTION 5
#define INTR_TYPE_SW_EXCEPTION 6
#define INTR_INFO_ERROR_VALID BIT(11)
#define INTR_INFO_NMI_UNBLOCKED BIT(12) /* exit information only */
#define INTR_INFO_VALID BIT(31)

/* Guest interruptibility state (25.4.2, Table 25-3) */
#define INTERRUPTIBILITY_STI BIT(0)
#define INTERRUPTIBILITY_MOV_SS BIT(1)
#define INTERRUPTIBILITY_NMI BIT(3)

/* Guest segment access rights (25.4.1, Table 25-2) */
#define VMX_AR_UNUSABLE BIT(16)

/* ---- exit information (25.9, 28.2) ---- */
#define EXIT_REASON_BASIC(r) ((u16)(r))
#define EXIT_REASON_ENTRY_FAIL BIT(31)

/* Exit qualification of I/O instructions (28.2.1, Table 28-5) */
#define IO_QUAL_SIZE(q) (((q) & 7) + 1)
#define IO_QUAL_IN BIT(3)
#define IO_QUAL_STRING BIT(4)
#define IO_QUAL_REP BIT(5)
#define IO_QUAL_PORT(q) ((u16)((q) >> 16))

/* Exit qualification of control-register accesses (28.2.1, Table 28-3) */
#define CR_QUAL_CR(q) ((q) & 0xf)
#define CR_QUAL_TYPE(q) (((q) >> 4) & 3)
#define CR_QUAL_TYPE_MOV_TO_CR 0
#define CR_QUAL_TYPE_MOV_FROM_CR 1
#define CR_QUAL_GPR(q) (((q) >> 8) & 0xf)

/* Exit qualification of EPT violations (28.2.1, Table 28-7) */
#define EPT_QUAL_READ BIT(0)
#define EPT_QUAL_WRITE BIT(1)
#define EPT_QUAL_FETCH BIT(2)
#define EPT_QUAL_PRESENT (BIT(3) | BIT(4) | BIT(5)) /* the translation allowed R, W or X */
/* Bit 7: the guest-linear address is valid; then bit 8 clear means the
 * access was to a guest paging-structure entry (SDM vol. 3, table 28-7). */
#define EPT_QUAL_LINEAR_VALID BIT(7)
#define EPT_QUAL_TRANSLATED BIT(8)

/* ---- basic exit reasons (Appendix C) ---- */
#define EXIT_EXCEPTION_NMI 0
#define EXIT_EXTERNAL_INTERRUPT 1
#define EXIT_TRIPLE_FAULT 2
#define EXIT_INIT 3
#define EXIT_SIPI 4
#define EXIT_IO_SMI 5
#define EXIT_OTHER_SMI 6
#define EXIT_INTERRUPT_WINDOW 7
#define EXIT_NMI_WINDOW 8
#define EXIT_TASK_SWITCH 9
#define EXIT_CPUID 10
#define EXIT_GETSEC 11
#define EXIT_HLT 12
#define EXIT_INVD 13
#define EXIT_INVLPG 14
#define EXIT_RDPMC 15
#define EXIT_RDTSC 16
#define EXIT_RSM 17
#define EXIT_VMCALL 18
#define EXIT_VMCLEAR 19
#define EXIT_VMLAUNCH 20
#define EXIT_VMPTRLD 21
#define EXIT_VMPTRST 22
#define EXIT_VMREAD 23
#define EXIT_VMRESUME 24
#define EXIT_VMWRITE 25
#define EXIT_VMXOFF 26
#define EXIT_VMXON 27
#define EXIT_CR_ACCESS 28
#define EXIT_DR_ACCESS 29
#define EXIT_IO_INSTRUCTION 30
#define EXIT_RDMSR 31
#define EXIT_WRMSR 32
#define EXIT_INVALID_GUEST_STATE 33
#define EXIT_MSR_LOADING 34
#define EXIT_MWAIT 36
#define EXIT_MONITOR_TRAP_FLAG 37
#define EXIT_MONITOR 39
#define EXIT_PAUSE 40
#define EXIT_MACHINE_CHECK 41
#define EXIT_EPT_VIOLATION 48
#define EXIT_EPT_MISCONFIG 49
#define EXIT_INVEPT 50
#define EXIT_RDTSCP 51
#define EXIT_PREEMPTION_TIMER 52
#define EXIT_INVVPID 53
#define EXIT_WBINVD 54
#define EXIT_XSETBV 55
#define EXIT_INVPCID 58
#define EXIT_VMFUNC 59
#define EXIT_ENCLS 60
#define NR_VMX_EXIT_REASONS 70

/* INVEPT / INVVPID types (31.3 "INVEPT", "INVVPID") */
#define INVEPT_SINGLE_CONTEXT 1
#define INVEPT_ALL_CONTEXT 2
#define INVVPID_ADDRESS 0
#define INVVPID_SINGLE_CONTEXT 1
#define INVVPID_ALL_CONTEXT 2

#endif
