/*
 * The PCI bus's INTx# wiring (devices/pci_intx.c): which GSI each slot's pins
 * reach (the DSDT's _PRT says the same, test_acpi_tables), the wired OR of
 * the functions sharing a line, a restore that records without driving, and
 * the whole path to a vCPU through the real I/O APIC: a level line shared by
 * two functions is delivered again after the EOI while either still asserts.
 */
#include "unit.h"
#include "devices/pci_intx.h"

#include <string.h>
#include "asm/apic_regs.h"
#include "devices/apic_bus.h"
#include "devices/pci_host.h"
#include "devices/vioapic.h"
#include "devices/vlapic.h"
#include "hv/mm.h"

void *kzalloc(size_t size)
{
	return calloc(1, size);
}

void kfree(void *p)
{
	free(p);
}

/* The output, recorded: each call's GSI and level. */
static struct {
	u32 gsi;
	bool level;
} calls[64];
static unsigned nr_calls;

static void record_set(void *ctx, u32 gsi, bool level)
{
	if (nr_calls < 64)
		calls[nr_calls] = (typeof(calls[0])){ gsi, level };
	nr_calls++;
}

static void fake_init(struct pci_intx *x)
{
	nr_calls = 0;
	pci_intx_init(x, (struct irq_sink){ .set = record_set });
}

TEST(routing)
{
	/* The VM's disks (slots 4-7) and NIC (slot 8) on INTA#: a line each. */
	CHECK_EQ(pci_intx_gsi(4, 1), 20);
	CHECK_EQ(pci_intx_gsi(5, 1), 21);
	CHECK_EQ(pci_intx_gsi(6, 1), 22);
	CHECK_EQ(pci_intx_gsi(7, 1), 23);
	CHECK_EQ(pci_intx_gsi(8, 1), 16);
	/* The usual swizzle: INTB# of a slot is INTA# of the next. */
	CHECK_EQ(pci_intx_gsi(4, 2), 21);
	CHECK_EQ(pci_intx_gsi(7, 4), 18);
	for (unsigned slot = 0; slot < 32; slot++) {
		for (unsigned pin = 1; pin <= 4; pin++) {
			int g = pci_intx_gsi(slot, pin);

			CHECK(g >= 16 && g <= 23); /* never an ISA line */
			CHECK_EQ(g, pci_intx_gsi((slot + 8) % 32, pin));
		}
	}
	CHECK_EQ(pci_intx_gsi(4, 0), -1); /* no interrupt pin */
	CHECK_EQ(pci_intx_gsi(4, 5), -1);
	CHECK_EQ(pci_intx_gsi(32, 1), -1);
}

TEST(one_function)
{
	struct pci_intx x;

	fake_init(&x);
	pci_intx_set(&x, PCI_DEVFN(4, 0), 1, true);
	CHECK_EQ(nr_calls, 1);
	CHECK(calls[0].gsi == 20 && calls[0].level);
	CHECK(pci_intx_level(&x, 20));
	pci_intx_set(&x, PCI_DEVFN(4, 0), 1, true); /* no change: nothing sent */
	CHECK_EQ(nr_calls, 1);
	pci_intx_set(&x, PCI_DEVFN(4, 0), 1, false);
	CHECK_EQ(nr_calls, 2);
	CHECK(calls[1].gsi == 20 && !calls[1].level);
	CHECK(!pci_intx_level(&x, 20));
	pci_intx_set(&x, PCI_DEVFN(4, 0), 1, false);
	CHECK_EQ(nr_calls, 2);
	pci_intx_set(&x, PCI_DEVFN(4, 0), 0, true); /* no pin: nothing */
	pci_intx_set(&x, PCI_DEVFN(4, 0), 9, true);
	CHECK_EQ(nr_calls, 2);
	CHECK(!pci_intx_level(&x, 20));
	CHECK(!pci_intx_level(&x, 3)); /* not a PCI line */
}

/* Slot 4 and slot 12 both reach GSI 20; so do two functions of slot 4. */
TEST(shared_line_is_the_or)
{
	struct pci_intx x;
	const u8 a = PCI_DEVFN(4, 0), b = PCI_DEVFN(12, 0), c = PCI_DEVFN(4, 3);

	fake_init(&x);
	pci_intx_set(&x, a, 1, true);
	pci_intx_set(&x, b, 1, true);
	pci_intx_set(&x, c, 1, true);
	CHECK_EQ(nr_calls, 1); /* raised once */
	pci_intx_set(&x, a, 1, false);
	pci_intx_set(&x, c, 1, false);
	CHECK_EQ(nr_calls, 1); /* b still holds it */
	CHECK(pci_intx_level(&x, 20));
	pci_intx_set(&x, b, 1, false);
	CHECK_EQ(nr_calls, 2);
	CHECK(calls[1].gsi == 20 && !calls[1].level);
	/* Another line is another line. */
	pci_intx_set(&x, a, 1, true);
	pci_intx_set(&x, PCI_DEVFN(5, 0), 1, true);
	CHECK_EQ(nr_calls, 4);
	CHECK(calls[3].gsi == 21 && calls[3].level);
	pci_intx_set(&x, a, 1, false);
	CHECK_EQ(nr_calls, 5);
	CHECK(calls[4].gsi == 20 && !calls[4].level);
	CHECK(pci_intx_level(&x, 21));
}

/* A restore records the level; the I/O APIC already holds the line. */
TEST(restore_records_without_driving)
{
	struct pci_intx x;

	fake_init(&x);
	pci_intx_restore(&x, PCI_DEVFN(4, 0), 1, true);
	pci_intx_restore(&x, PCI_DEVFN(12, 0), 1, true);
	CHECK_EQ(nr_calls, 0);
	CHECK(pci_intx_level(&x, 20));
	pci_intx_set(&x, PCI_DEVFN(4, 0), 1, false);
	CHECK_EQ(nr_calls, 0); /* slot 12 still asserts */
	pci_intx_set(&x, PCI_DEVFN(12, 0), 1, false);
	CHECK_EQ(nr_calls, 1);
	CHECK(calls[0].gsi == 20 && !calls[0].level);
}

/* ---- through the I/O APIC to a vCPU ---- */

static struct vioapic *io;

static u64 cb_now(void *ctx)
{
	return 0;
}

static void cb_eoi(void *ctx, u8 vector)
{
	vioapic_eoi(io, vector);
}

static void cb_wake(void *ctx)
{
}

static const struct vlapic_ops lapic_ops = {
	.now_tsc = cb_now,
	.eoi = cb_eoi,
	.wake = cb_wake,
};

static void rte_set(unsigned pin, u64 rte)
{
	vioapic_mmio_ops.write(io, IOAPIC_REGSEL, 4, IOAPIC_REG_REDTBL + 2 * pin + 1);
	vioapic_mmio_ops.write(io, IOAPIC_WIN, 4, (u32)(rte >> 32));
	vioapic_mmio_ops.write(io, IOAPIC_REGSEL, 4, IOAPIC_REG_REDTBL + 2 * pin);
	vioapic_mmio_ops.write(io, IOAPIC_WIN, 4, (u32)rte);
}

/*
 * Linux's setup for a PCI line (level, active low, fasteoi): the handler of
 * one function's interrupt runs, that function lowers its pin, the EOI
 * follows. With the other function still asserting, the EOI delivers again.
 */
TEST(shared_level_line_redelivers_after_eoi)
{
	static struct apic_bus bus;
	struct vlapic_config cfg = { .id = 0, .bsp = true, .tsc_khz = 1000000,
				     .timer_khz = 100000, .ops = &lapic_ops };
	struct vlapic *lapic;
	struct pci_intx x;
	const u8 disk = PCI_DEVFN(4, 0), other = PCI_DEVFN(12, 0);
	const u8 vec = 0x41;
	u64 v = 0;

	memset(&bus, 0, sizeof(bus));
	lapic = vlapic_create(&cfg);
	CHECK(lapic != NULL);
	CHECK_EQ(apic_bus_attach(&bus, lapic), 0);
	vlapic_mmio_ops.write(lapic, APIC_SVR, 4, APIC_SVR_ENABLE | 0xff);
	io = vioapic_create(&bus, 1);
	CHECK(io != NULL);
	pci_intx_init(&x, (struct irq_sink){ .set = vioapic_irq_set, .ctx = io });
	rte_set(20, IOAPIC_RTE_LEVEL | IOAPIC_RTE_POLARITY_LOW | vec); /* physical 0 */

	pci_intx_set(&x, disk, 1, true);
	CHECK_EQ(io->level, 1u << 20); /* that input alone: no ISA pin */
	CHECK_EQ(vlapic_pending(lapic), vec);
	vlapic_ack(lapic, vec);
	pci_intx_set(&x, other, 1, true); /* Remote IRR: nothing more yet */
	CHECK_EQ(vlapic_pending(lapic), -1);
	pci_intx_set(&x, disk, 1, false); /* the handler read the disk's ISR */
	vlapic_mmio_ops.write(lapic, APIC_EOI, 4, 0);
	CHECK_EQ(vlapic_pending(lapic), vec); /* the other still asserts */
	vlapic_ack(lapic, vec);
	pci_intx_set(&x, other, 1, false);
	vlapic_mmio_ops.write(lapic, APIC_EOI, 4, 0);
	CHECK_EQ(vlapic_pending(lapic), -1);
	vioapic_mmio_ops.write(io, IOAPIC_REGSEL, 4, IOAPIC_REG_REDTBL + 2 * 20);
	vioapic_mmio_ops.read(io, IOAPIC_WIN, 4, &v);
	CHECK_EQ(v & IOAPIC_RTE_REMOTE_IRR, 0);
	CHECK_EQ(io->level, 0);
	vioapic_destroy(io);
	vlapic_destroy(lapic);
}

int main(void)
{
	RUN(routing);
	RUN(one_function);
	RUN(shared_line_is_the_or);
	RUN(restore_records_without_driving);
	RUN(shared_level_line_redelivers_after_eoi);
	return unit_done();
}
