/*
 * One of each device that has a snapshot payload, for the fuzzer and its
 * seed generator: create, save, load, and drive a loaded device through its
 * registers and timers (so a state that passes a load's checks but breaks
 * the device shows up under the sanitizers).
 */
#ifndef FUZZ_DEVICES_H
#define FUZZ_DEVICES_H

#include "hv/snapshot.h"
#include "hv/types.h"

enum fuzz_device_kind {
	FUZZ_UART8250,
	FUZZ_PIC8259,
	FUZZ_PIT8254,
	FUZZ_RTC_CMOS,
	FUZZ_ACPI_PM,
	FUZZ_PCI_HOST,
	FUZZ_VIOAPIC,
	FUZZ_APIC_BUS,
	FUZZ_TESTDEV,
	FUZZ_NR_DEVICES,
};

struct fuzz_devices {
	struct uart8250 *uart;
	struct pic8259 *pic;
	struct pit8254 *pit;
	struct rtc_cmos *rtc;
	struct acpi_pm *pm;
	struct pci_host *pci;
	struct apic_bus *bus;
	struct vioapic *ioapic;
	struct testdev *testdev;
};

extern const char *const fuzz_device_names[FUZZ_NR_DEVICES];

int fuzz_devices_create(struct fuzz_devices *d);
void fuzz_devices_destroy(struct fuzz_devices *d);
int fuzz_device_save(const struct fuzz_devices *d, unsigned kind, struct snap_writer *w);
int fuzz_device_load(struct fuzz_devices *d, unsigned kind, struct snap_cursor *c);
/* Reads every register, asks for the next timer event and advances to it. */
void fuzz_device_exercise(struct fuzz_devices *d, unsigned kind);
/* Puts the devices in a busy state through their registers (for seeds). */
void fuzz_devices_stir(struct fuzz_devices *d);

#endif
