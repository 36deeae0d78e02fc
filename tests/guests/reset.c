/*
 * reset: a guest's reboot restarts its VM alone, at power-on. The first
 * boot marks a CMOS RAM byte (kept by a reset, as on a PC: it is battery
 * backed) and leaves state a reset must clear: the test device's scratch
 * register, an unmasked I/O APIC entry, a software-enabled local APIC with
 * a raised TPR. Then it writes the reset to port 0xCF9
 * (the PCI reset control register: SYS_RST, then RST_CPU). The second boot
 * finds the CMOS mark, checks that the devices are back at their reset
 * values, and exits with its failure count (expect=0). Meant to run beside
 * another VM, which must not notice.
 */
#include "guest.h"

#define LAPIC 0xfee00000ul
#define IOAPIC 0xfec00000ul
#define TESTDEV 0xfeb00000ul
#define CMOS_MARK 0x50 /* general-purpose CMOS RAM, outside the checksummed bytes */

static u32 ioapic_read(u32 reg)
{
	mmio_write32(IOAPIC, reg);
	return mmio_read32(IOAPIC + 0x10);
}

static void ioapic_write(u32 reg, u32 v)
{
	mmio_write32(IOAPIC, reg);
	mmio_write32(IOAPIC + 0x10, v);
}

static void first_boot(void)
{
	cmos_write(CMOS_MARK, 1);
	mmio_write32(TESTDEV, 0x1234abcd);         /* SCRATCH32 */
	ioapic_write(0x10 + 2 * 5, 0x41);          /* pin 5: vector 0x41, unmasked */
	mmio_write32(LAPIC + 0xf0, 0x1ff);         /* SVR: software-enabled */
	mmio_write32(LAPIC + 0x80, 0x20);          /* TPR */
	printf("reset: first boot; resetting through port 0xcf9\n");
	outb(0xcf9, 0x02);
	outb(0xcf9, 0x06);
	delay_ns(100000000ull);
	check(false, "reset_happens", "still running 100 ms after the reset");
}

int main(ulong arg)
{
	u8 boots = cmos_read(CMOS_MARK);

	if (boots == 0) {
		first_boot();
		return 1;
	}
	printf("reset: boot %u\n", boots + 1);
	check_eq("reset_cmos_ram_kept", boots, 1);
	check_eq("reset_testdev_cleared", mmio_read32(TESTDEV), 0);
	check_eq("reset_ioapic_masked", ioapic_read(0x10 + 2 * 5), 1u << 16);
	check_eq("reset_lapic_svr", mmio_read32(LAPIC + 0xf0), 0xff);
	check_eq("reset_lapic_tpr", mmio_read32(LAPIC + 0x80), 0);
	check_eq("reset_lapic_id", mmio_read32(LAPIC + 0x20) >> 24, 0);
	cmos_write(CMOS_MARK, 2);
	printf("reset: %u failure(s)\n", failures);
	return (int)failures;
}
