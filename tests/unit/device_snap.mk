UNIT_TESTS += test_device_snap
DEVICE_SNAP_SRCS := devices/uart8250.c devices/uart8250_snap.c devices/pic8259.c \
	devices/pic8259_snap.c devices/pit8254.c devices/pit8254_snap.c devices/rtc_cmos.c \
	devices/rtc_cmos_snap.c devices/acpi_pm.c devices/acpi_pm_snap.c devices/pci_host.c \
	devices/pci_host_snap.c devices/vioapic.c devices/vioapic_snap.c devices/apic_bus.c \
	devices/apic_bus_snap.c devices/vlapic.c devices/testdev.c devices/testdev_snap.c devices/pci_intx.c
# '=': SNAPSHOT_SRCS comes from snapshot_format.mk, included after this file.
test_device_snap_SRCS = tests/unit/test_device_snap.c $(DEVICE_SNAP_SRCS) $(SNAPSHOT_SRCS)
$(BUILD)/unit/test_device_snap: $(wildcard devices/*.h) tests/unit/snap_host_alloc.h
