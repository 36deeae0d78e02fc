/*
 * What the machine's device drivers (drivers/) use to touch hardware:
 * device registers (MMIO, mapped uncached by drivers/pci.c), ordering
 * barriers, delays, and interrupt masking around a lock an interrupt handler
 * also takes. Under HOST_TEST these are functions the unit test provides,
 * so a driver's real code runs against a fake device in host memory (as
 * Xen's tools/tests run its vPCI code behind a shim).
 */
#ifndef DRIVERS_HW_H
#define DRIVERS_HW_H

#include "hv/types.h"

#ifdef HOST_TEST
u32 mmio_read32(const volatile void *p);
void mmio_write32(volatile void *p, u32 v);
u16 mmio_read16(const volatile void *p);
void mmio_write16(volatile void *p, u16 v);
u8 mmio_read8(const volatile void *p);
void mmio_write8(volatile void *p, u8 v);
void hw_delay_us(u64 us);
static inline u64 hw_irq_save(void) { return 0; }
static inline void hw_irq_restore(u64 flags) { (void)flags; }
#else
#include "arch/x86/time.h"
#include "asm/cpu.h"

/* One access of exactly this width: device registers have side effects. */
static inline u32 mmio_read32(const volatile void *p) { return *(const volatile u32 *)p; }
static inline void mmio_write32(volatile void *p, u32 v) { *(volatile u32 *)p = v; }
static inline u16 mmio_read16(const volatile void *p) { return *(const volatile u16 *)p; }
static inline void mmio_write16(volatile void *p, u16 v) { *(volatile u16 *)p = v; }
static inline u8 mmio_read8(const volatile void *p) { return *(const volatile u8 *)p; }
static inline void mmio_write8(volatile void *p, u8 v) { *(volatile u8 *)p = v; }
static inline void hw_delay_us(u64 us) { udelay(us); }
static inline u64 hw_irq_save(void) { return irq_save(); }
static inline void hw_irq_restore(u64 flags) { irq_restore(flags); }
#endif

/*
 * Orders our writes to DMA memory (queue entries) before the register write
 * that tells the device to look (a doorbell), and the device's writes we
 * read after an interrupt. On x86 stores are not reordered with older
 * stores and an uncached store waits for them (SDM vol. 3A, 9.2.2), so only
 * the compiler must be stopped; a full fence keeps it obviously right.
 */
static inline void hw_mb(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

#endif
