/*
 * Local APIC registers and bits (SDM vol. 3A, chapter "Advanced Programmable
 * Interrupt Controller (APIC)": table "Local APIC Register Address Map",
 * figures "Interrupt Command Register (ICR)", "Local Vector Table (LVT)",
 * "Divide Configuration Register"). xAPIC offsets from the MMIO base; in
 * x2APIC mode register offset r is MSR 0x800 + (r >> 4) (section "x2APIC
 * Register Address Space").
 */
#ifndef ASM_APIC_REGS_H
#define ASM_APIC_REGS_H

#define APIC_ID 0x020
#define APIC_VERSION 0x030
#define APIC_TPR 0x080
#define APIC_EOI 0x0b0
#define APIC_LDR 0x0d0
#define APIC_DFR 0x0e0
#define APIC_SVR 0x0f0
#define APIC_ESR 0x280
#define APIC_ICR_LO 0x300
#define APIC_ICR_HI 0x310
#define APIC_LVT_TIMER 0x320
#define APIC_LVT_THERMAL 0x330
#define APIC_LVT_PERF 0x340
#define APIC_LVT_LINT0 0x350
#define APIC_LVT_LINT1 0x360
#define APIC_LVT_ERROR 0x370
#define APIC_TIMER_INIT 0x380
#define APIC_TIMER_CUR 0x390
#define APIC_TIMER_DIV 0x3e0

#define X2APIC_MSR_BASE 0x800
#define X2APIC_MSR_ICR 0x830 /* one 64-bit register: destination in bits 63:32 */

/* IA32_APIC_BASE MSR (0x1b). */
#define APIC_BASE_BSP (1ULL << 8)
#define APIC_BASE_EXTD (1ULL << 10) /* x2APIC mode */
#define APIC_BASE_EN (1ULL << 11)   /* globally enabled */
#define APIC_BASE_ADDR_MASK 0x000ffffffffff000ULL

#define APIC_SVR_ENABLE (1u << 8)

/* ICR low dword. */
#define APIC_ICR_DM_FIXED (0u << 8)
#define APIC_ICR_DM_NMI (4u << 8)
#define APIC_ICR_DM_INIT (5u << 8)
#define APIC_ICR_DM_STARTUP (6u << 8)
#define APIC_ICR_BUSY (1u << 12)     /* delivery status: send pending (xAPIC only) */
#define APIC_ICR_ASSERT (1u << 14)
#define APIC_ICR_LEVEL (1u << 15)
#define APIC_ICR_ALL_BUT_SELF (3u << 18)
#define APIC_ICR_DEST_SHIFT 24       /* in ICR high (xAPIC): bits 56-63 of the ICR */

/* LVT entries. */
#define APIC_LVT_MASKED (1u << 16)
#define APIC_LVT_DM_NMI (4u << 8)
#define APIC_LVT_DM_EXTINT (7u << 8)
#define APIC_LVT_TIMER_PERIODIC (1u << 17)
#define APIC_LVT_TIMER_TSC_DEADLINE (2u << 17) /* SDM vol. 3A, "TSC-Deadline Mode" */

/* Divide Configuration Register: bits 0, 1 and 3. */
#define APIC_DIV_16 0x3

#endif
