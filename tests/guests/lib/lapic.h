/*
 * The local APIC's registers for test guests, in xAPIC mode at its default
 * base (SDM vol. 3, table 11-1 "Local APIC Register Address Map").
 */
#ifndef GUEST_LAPIC_H
#define GUEST_LAPIC_H

#define LAPIC 0xfee00000ul
#define IOAPIC 0xfec00000ul
#define APIC_ID 0x020
#define APIC_EOI 0x0b0
#define APIC_SVR 0x0f0
#define APIC_ICR_LO 0x300
#define APIC_ICR_HI 0x310
#define APIC_LVT_TIMER 0x320
#define APIC_TIMER_INIT 0x380
#define APIC_TIMER_DCR 0x3e0
#define APIC_LVT_PERIODIC (1u << 17)
#define APIC_DM_NMI (4u << 8)

#endif
