/* One of each device, for the fuzzer and its seeds (fuzz_devices.h). */
#include "fuzz_devices.h"

#include <stdlib.h>
#include "devices/acpi_pm.h"
#include "devices/apic_bus.h"
#include "devices/pci_host.h"
#include "devices/pic8259.h"
#include "devices/pit8254.h"
#include "devices/rtc_cmos.h"
#include "devices/testdev.h"
#include "devices/uart8250.h"
#include "devices/vioapic.h"
#include "hv/mm.h"

void *kzalloc(size_t size)
{
	return calloc(1, size);
}

void kfree(void *p)
{
	free(p);
}

static u64 fuzz_now = 1000000000ULL;

static u64 clock_ns(void *ctx)
{
	return fuzz_now;
}

static u64 unix_seconds(void *ctx)
{
	return 1700000000ULL;
}

static const struct acpi_pm_ops pm_ops = { .now_ns = clock_ns };

const char *const fuzz_device_names[FUZZ_NR_DEVICES] = {
	"uart8250", "pic8259", "pit8254", "rtc_cmos", "acpi_pm",
	"pci_host", "vioapic", "apic_bus", "testdev",
};

int fuzz_devices_create(struct fuzz_devices *d)
{
	fuzz_now = 1000000000ULL;
	d->uart = uart8250_create(NULL, NULL);
	d->pic = pic_create(NULL, NULL);
	d->pit = pit_create(clock_ns, NULL, NULL);
	d->rtc = rtc_cmos_create(clock_ns, unix_seconds, NULL, NULL);
	d->pm = acpi_pm_create(&pm_ops, NULL);
	d->pci = pci_host_create();
	d->bus = apic_bus_create();
	d->ioapic = d->bus ? vioapic_create(d->bus, 0) : NULL;
	d->testdev = testdev_create();
	if (!d->uart || !d->pic || !d->pit || !d->rtc || !d->pm || !d->pci || !d->ioapic ||
	    !d->testdev) {
		fuzz_devices_destroy(d);
		return -ENOMEM;
	}
	return 0;
}

void fuzz_devices_destroy(struct fuzz_devices *d)
{
	if (d->uart)
		uart8250_destroy(d->uart);
	if (d->pic)
		pic_destroy(d->pic);
	if (d->pit)
		pit_destroy(d->pit);
	if (d->rtc)
		rtc_cmos_destroy(d->rtc);
	if (d->pm)
		acpi_pm_destroy(d->pm);
	if (d->pci)
		pci_host_destroy(d->pci);
	if (d->ioapic)
		vioapic_destroy(d->ioapic);
	if (d->bus)
		apic_bus_destroy(d->bus);
	if (d->testdev)
		testdev_destroy(d->testdev);
}

int fuzz_device_save(const struct fuzz_devices *d, unsigned kind, struct snap_writer *w)
{
	switch (kind) {
	case FUZZ_UART8250: return uart8250_save(d->uart, w);
	case FUZZ_PIC8259: return pic_save(d->pic, w);
	case FUZZ_PIT8254: return pit_save(d->pit, w);
	case FUZZ_RTC_CMOS: return rtc_cmos_save(d->rtc, w);
	case FUZZ_ACPI_PM: return acpi_pm_save(d->pm, w);
	case FUZZ_PCI_HOST: return pci_host_save(d->pci, w);
	case FUZZ_VIOAPIC: return vioapic_save(d->ioapic, w);
	case FUZZ_APIC_BUS: return apic_bus_save(d->bus, w);
	case FUZZ_TESTDEV: return testdev_save(d->testdev, w);
	}
	return -EINVAL;
}

int fuzz_device_load(struct fuzz_devices *d, unsigned kind, struct snap_cursor *c)
{
	switch (kind) {
	case FUZZ_UART8250: return uart8250_load(d->uart, c);
	case FUZZ_PIC8259: return pic_load(d->pic, c);
	case FUZZ_PIT8254: return pit_load(d->pit, c);
	case FUZZ_RTC_CMOS: return rtc_cmos_load(d->rtc, c);
	case FUZZ_ACPI_PM: return acpi_pm_load(d->pm, c);
	case FUZZ_PCI_HOST: return pci_host_load(d->pci, c);
	case FUZZ_VIOAPIC: return vioapic_load(d->ioapic, c);
	case FUZZ_APIC_BUS: return apic_bus_load(d->bus, c);
	case FUZZ_TESTDEV: return testdev_load(d->testdev, c);
	}
	return -EINVAL;
}

static void read_all(const struct io_ops *ops, void *dev, u64 n, u8 size)
{
	u64 v;

	for (u64 off = 0; off < n; off += size)
		ops->read(dev, off, size, &v);
}

void fuzz_device_exercise(struct fuzz_devices *d, unsigned kind)
{
	u64 t, v;

	fuzz_now += 1234567;
	switch (kind) {
	case FUZZ_UART8250:
		read_all(&uart8250_ops, d->uart, UART8250_NR_PORTS, 1);
		uart8250_ops.write(d->uart, UART_THR, 1, '\n');
		break;
	case FUZZ_PIC8259:
		read_all(&pic_master_ops, d->pic, PIC_NR_PORTS, 1);
		read_all(&pic_slave_ops, d->pic, PIC_NR_PORTS, 1);
		pic_pending_vector(d->pic);
		pic_ack(d->pic);
		pic_set_irq(d->pic, 3, true);
		pic_ack(d->pic);
		break;
	case FUZZ_PIT8254:
		for (unsigned i = 0; i < 3; i++) {
			pit_ops.read(d->pit, i, 1, &v);
			pit_ops.read(d->pit, i, 1, &v);
		}
		pit_port61_ops.read(d->pit, 0, 1, &v);
		t = pit_next_event_ns(d->pit);
		if (t != PIT_NO_EVENT && t > fuzz_now && t - fuzz_now < 10000000000ULL)
			fuzz_now = t;
		pit_update(d->pit, fuzz_now);
		pit_ops.write(d->pit, PIT_CONTROL, 1, 0xe2); /* read-back of counter 0 */
		pit_ops.read(d->pit, 0, 1, &v);
		break;
	case FUZZ_RTC_CMOS:
		for (unsigned i = 0; i < CMOS_SIZE; i++) {
			rtc_cmos_ops.write(d->rtc, 0, 1, i);
			rtc_cmos_ops.read(d->rtc, 1, 1, &v);
		}
		t = rtc_next_event_ns(d->rtc);
		if (t != RTC_NO_EVENT && t > fuzz_now && t - fuzz_now < 10000000000ULL)
			fuzz_now = t;
		rtc_update(d->rtc, fuzz_now);
		break;
	case FUZZ_ACPI_PM:
		read_all(&acpi_pm_ops, d->pm, ACPI_PM_NR_PORTS, 2);
		acpi_pm_ops.read(d->pm, ACPI_PM_TMR, 4, &v);
		t = acpi_pm_next_event_ns(d->pm);
		if (t != ACPI_PM_NO_EVENT && t > fuzz_now && t - fuzz_now < 10000000000ULL)
			fuzz_now = t;
		acpi_pm_update(d->pm, fuzz_now);
		break;
	case FUZZ_PCI_HOST:
		pci_host_ops.read(d->pci, PCI_HOST_CONFIG_DATA, 4, &v);
		for (unsigned reg = 0; reg < PCI_CFG_SIZE; reg += 4) {
			pci_host_ops.write(d->pci, PCI_HOST_CONFIG_ADDRESS, 4, PCI_ADDR_ENABLE | reg);
			pci_host_ops.read(d->pci, PCI_HOST_CONFIG_DATA, 4, &v);
		}
		break;
	case FUZZ_VIOAPIC:
		vioapic_mmio_ops.read(d->ioapic, IOAPIC_WIN, 4, &v);
		for (u32 i = 0; i < VIOAPIC_NR_PINS; i++)
			vioapic_set_line(d->ioapic, i, !(i & 1));
		for (u32 vec = 0x20; vec < 0x100; vec += 0x11)
			vioapic_eoi(d->ioapic, (u8)vec);
		break;
	case FUZZ_APIC_BUS:
		break; /* nothing to drive without vLAPICs */
	case FUZZ_TESTDEV:
		read_all(&testdev_ops, d->testdev, 0x20, 8);
		break;
	}
}

void fuzz_devices_stir(struct fuzz_devices *d)
{
	const char *s;
	u64 v;

	uart8250_ops.write(d->uart, UART_LCR, 1, 0x83);
	uart8250_ops.write(d->uart, UART_DLL, 1, 1);
	uart8250_ops.write(d->uart, UART_LCR, 1, 0x03);
	uart8250_ops.write(d->uart, UART_IER, 1, 0x0f);
	uart8250_ops.write(d->uart, UART_MCR, 1, 0x0b);
	for (s = "login"; *s; s++)
		uart8250_ops.write(d->uart, UART_THR, 1, (u8)*s);
	for (s = "root\n"; *s; s++)
		uart8250_rx_push(d->uart, (u8)*s);
	pic_master_ops.write(d->pic, 0, 1, 0x11);
	pic_master_ops.write(d->pic, 1, 1, 0x30);
	pic_master_ops.write(d->pic, 1, 1, 0x04);
	pic_master_ops.write(d->pic, 1, 1, 0x01);
	pic_set_irq(d->pic, 4, true);
	pit_ops.write(d->pit, PIT_CONTROL, 1, 0x34);
	pit_ops.write(d->pit, 0, 1, 0xa9);
	pit_ops.write(d->pit, 0, 1, 0x04);
	pit_port61_ops.write(d->pit, 0, 1, 1);
	rtc_cmos_ops.write(d->rtc, 0, 1, RTC_REG_B);
	rtc_cmos_ops.write(d->rtc, 1, 1, RTC_B_24H | RTC_B_PIE);
	acpi_pm_ops.write(d->pm, ACPI_PM1_EN, 2, ACPI_PM1_PWRBTN_EN | ACPI_PM1_TMR_EN);
	acpi_pm_power_button(d->pm);
	pci_host_ops.write(d->pci, PCI_HOST_CONFIG_ADDRESS, 4, PCI_ADDR_ENABLE | PCI_COMMAND);
	pci_host_ops.write(d->pci, PCI_HOST_CONFIG_DATA, 2, PCI_COMMAND_MEMORY);
	vioapic_mmio_ops.write(d->ioapic, IOAPIC_REGSEL, 4, IOAPIC_REG_REDTBL + 2);
	vioapic_mmio_ops.write(d->ioapic, IOAPIC_WIN, 4, 0x8031);
	vioapic_set_line(d->ioapic, 1, true);
	testdev_ops.write(d->testdev, TESTDEV_SCRATCH64, 8, 0x1122334455667788ULL);
	fuzz_now += 5000000;
	pit_update(d->pit, fuzz_now);
	pit_ops.read(d->pit, 0, 1, &v);
}
