/*
 * The PC platform every VM gets besides its APICs and UART: the 8259 PIC
 * pair, the 8254 PIT, the CMOS RTC, PCI configuration mechanism 1 with a
 * host bridge, and the ACPI PM registers (power off, reset, PM timer).
 * ISA interrupt lines go to the PICs and to the I/O APIC (IRQ 0 on pin 2, as
 * the MADT's override says). docs/platform.md describes the devices.
 */
#include "hv/vm_platform.h"
#include "hv/sched.h"
#include "hv/device.h"
#include "hv/vm_console.h"
#include "hv/console.h"
#include "hv/irq.h"
#include "hv/platform.h"
#include "hv/vm.h"
#include "hv/gmem_layout.h"
#include "hv/vm_clock.h"
#include "hv/vm_disks.h"
#include "hv/vm_net.h"
#include "hv/vm_passthru.h"
#include "hv/vm_debug_exit.h"
#include "devices/acpi_pm.h"
#include "devices/apic_bus.h"
#include "devices/pci_host.h"
#include "devices/pic8259.h"
#include "hv/sched.h"
#include "hv/vcpu.h"
#include "devices/pit8254.h"
#include "devices/rtc_cmos.h"
#include "devices/testdev.h"
#include "devices/uart8250.h"
#include "devices/vioapic.h"
#include "drivers/cmos_clock.h"
#include "asm/cpu.h"

#define UART_IRQ 4

/* The VM's clock: nanoseconds of its TSC, which starts at 0 at creation. */
static u64 vm_now_ns(void *ctx)
{
	const struct vm *vm = ctx;

	return vm_guest_ns(vm);
}

static u64 host_unix_seconds(void)
{
	static u64 boot_unix, boot_tsc;

	/* The machine's RTC is read once; later VMs add the TSC time since. */
	if (!boot_tsc) {
		boot_unix = cmos_clock_read_unix();
		boot_tsc = rdtsc();
	}
	return boot_unix + tsc_to_ns(rdtsc() - boot_tsc) / 1000000000;
}

/* The RTC starts from the VM's creation time, as kvmclock's wall clock does. */
static u64 vm_created_unix(void *ctx)
{
	const struct vm *vm = ctx;

	return vm->created_unix;
}

/* ISA line n: the PICs' IRQ n and the I/O APIC's pin n (pin 2 for IRQ 0).
 * Each ISA line has one device (PIT 0, UART 4, RTC 8, SCI 9), so its level
 * is that device's; PCI's shared lines are ORed apart (devices/pci_intx.c). */
static void isa_irq_set(void *ctx, u32 irq, bool level)
{
	struct vm *vm = ctx;

	pic_set_irq(vm->pic, irq, level);
	vioapic_set_line(vm->ioapic, irq == 0 ? 2 : irq, level);
}

static void power_off(void *ctx)
{
	struct vm *vm = ctx;

	kprintf("utsuwa: vm %s: powered off (ACPI S5)\n", vm->name);
	vm_end(vm, VM_ENDED, 0);
}

/* The reset register (ACPI FADT RESET_REG, port 0xCF9): reboot this VM. */
static void reset(void *ctx)
{
	vm_reset_request(ctx);
}

/* Each device's part in the VM: create it, register its ranges and lines. */

/* The UART hands over every byte as the guest writes it. */
static void uart_out(void *ctx, const char *s, size_t n)
{
	vm_console_write(ctx, s, n);
}

static void *uart_create(struct vm *vm)
{
	struct uart8250 *u = uart8250_create(uart_out, vm);

	if (!u)
		return NULL;
	u->irq = vm->isa_irq;
	u->gsi = UART_IRQ;
	vm_console_init(vm);
	u->rx_refill = vm_console_input_next; /* typed input, as the guest reads */
	u->refill_ctx = vm;
	if (bus_register(&vm->pio, 0x3f8, 8, "uart", &uart8250_ops, u)) {
		uart8250_destroy(u);
		return NULL;
	}
	vm->uart = u;
	return u;
}

static void *testdev_create_in(struct vm *vm)
{
	struct testdev *t = testdev_create();

	if (t && bus_register(&vm->mmio, TESTDEV_MMIO_BASE, PAGE_SIZE, "testdev", &testdev_ops, t)) {
		testdev_destroy(t);
		return NULL;
	}
	return t;
}

static void *ioapic_create(struct vm *vm)
{
	/* The I/O APIC's ID follows the local APICs' (0 .. vCPUs-1). */
	struct vioapic *io = vioapic_create(vm->apic_bus, (u8)vm->cfg.cpus);

	if (io && bus_register(&vm->mmio, VIOAPIC_BASE, VIOAPIC_MMIO_SIZE, "ioapic",
			       &vioapic_mmio_ops, io)) {
		vioapic_destroy(io);
		return NULL;
	}
	vm->ioapic = io;
	return io;
}

/* The PICs' INT output is the BSP's LINT0 (core/vcpu_irq.c takes the
 * vector when the local APIC lets it in): a rising output wakes vCPU 0 to
 * look. Under the PIC's lock: only flags and a wake-up. */
static void pic_int_changed(void *ctx, bool level)
{
	struct vm *vm = ctx;
	struct vcpu *v = vm->vcpus[0];

	if (!level || !v)
		return;
	v->irq_work = true;
	sched_wake(v);
}

/*
 * A read of an 8259 shows the requests due by now, though the host timer
 * that watches the PIT, the RTC and the PM timer (CPU 0's: core/sched_timer.c)
 * may not have fired yet. That timer can be late: CPU 0 with interrupts off,
 * or, under an emulator, the emulator's timer thread not yet scheduled. A
 * guest that polls the IRR with interrupts off (a BIOS, DOS, pic-real's first
 * check) must still find the PIT's edge there, as on a PC.
 */
static int pic_read_now(struct vm *vm, const struct io_ops *ops, u64 offset, u8 size, u64 *val)
{
	vm_devices_catch_up(vm, vm_now_ns(vm));
	return ops->read(vm->pic, offset, size, val);
}

static int pic_master_read(void *dev, u64 offset, u8 size, u64 *val)
{
	return pic_read_now(dev, &pic_master_ops, offset, size, val);
}

static int pic_slave_read(void *dev, u64 offset, u8 size, u64 *val)
{
	return pic_read_now(dev, &pic_slave_ops, offset, size, val);
}

static int pic_master_write(void *dev, u64 offset, u8 size, u64 val)
{
	return pic_master_ops.write(((struct vm *)dev)->pic, offset, size, val);
}

static int pic_slave_write(void *dev, u64 offset, u8 size, u64 val)
{
	return pic_slave_ops.write(((struct vm *)dev)->pic, offset, size, val);
}

static const struct io_ops pic_master_now_ops = { .read = pic_master_read, .write = pic_master_write };
static const struct io_ops pic_slave_now_ops = { .read = pic_slave_read, .write = pic_slave_write };

static void *pic_create_in(struct vm *vm)
{
	struct pic8259 *p = pic_create(pic_int_changed, vm);

	if (p && (bus_register(&vm->pio, PIC_MASTER_BASE, PIC_NR_PORTS, "pic1", &pic_master_now_ops, vm) ||
		  bus_register(&vm->pio, PIC_SLAVE_BASE, PIC_NR_PORTS, "pic2", &pic_slave_now_ops, vm) ||
		  bus_register(&vm->pio, PIC_ELCR_BASE, PIC_ELCR_NR_PORTS, "elcr", &pic_elcr_ops, p))) {
		pic_destroy(p);
		return NULL;
	}
	vm->pic = p;
	return p;
}

/* The guest wrote counter 0 or the control word (on any CPU): CPU 0, which
 * watches the PIT, arms its timer anew. */
static void pit_reprogrammed(void *ctx)
{
	sched_timer_changed(ctx);
}

static u64 pit_next_v(void *dev) { return pit_next_event_ns(dev); }
static u64 rtc_next_v(void *dev) { return rtc_next_event_ns(dev); }
static u64 acpi_pm_next_v(void *dev) { return acpi_pm_next_event_ns(dev); }

static void *pit_create_in(struct vm *vm)
{
	struct pit8254 *p = pit_create(vm_now_ns, vm, &vm->isa_irq);

	if (p && (bus_register(&vm->pio, PIT_BASE, PIT_NR_PORTS, "pit", &pit_ops, p) ||
		  bus_register(&vm->pio, PIT_PORT61, 1, "port61", &pit_port61_ops, p))) {
		pit_destroy(p);
		return NULL;
	}
	if (p)
		pit_set_reprogrammed(p, pit_reprogrammed, vm);
	return p;
}

static void pit_tick(void *dev, u64 now)
{
	if (pit_next_event_ns(dev) <= now)
		pit_update(dev, now);
}

static void *rtc_create_in(struct vm *vm)
{
	struct rtc_cmos *r = rtc_cmos_create(vm_now_ns, vm_created_unix, vm, &vm->isa_irq);

	if (r && bus_register(&vm->pio, RTC_BASE, RTC_NR_PORTS, "rtc", &rtc_cmos_ops, r)) {
		rtc_cmos_destroy(r);
		return NULL;
	}
	if (r) { /* RAM below the PCI hole and above 4 GiB, as the e820 map says */
		struct gmem_layout l = gmem_layout_of(vm->cfg.mem);

		rtc_cmos_set_memory(r, l.low, l.high);
	}
	return r;
}

static void rtc_tick(void *dev, u64 now)
{
	if (rtc_next_event_ns(dev) <= now)
		rtc_update(dev, now);
}

static void *pci_create_in(struct vm *vm)
{
	struct pci_host *p = pci_host_create();

	if (p && bus_register(&vm->pio, PCI_HOST_BASE, PCI_HOST_NR_PORTS, "pci", &pci_host_ops, p)) {
		pci_host_destroy(p);
		return NULL;
	}
	/* INTx# reaches the I/O APIC alone: its lines are GSIs 16-23, which
	 * no 8259 input has (devices/pci_intx.h). */
	if (p)
		pci_intx_init(&p->intx, (struct irq_sink){ .set = vioapic_irq_set, .ctx = vm->ioapic });
	vm->pci = p;
	return p;
}

/* After the PCI host: port 0xCF9 resets through the ACPI PM's reset logic. */
static void *acpi_pm_create_in(struct vm *vm)
{
	struct acpi_pm_ops pm_ops = { .now_ns = vm_now_ns, .poweroff = power_off, .reset = reset,
				      .ctx = vm };
	struct acpi_pm *pm = acpi_pm_create(&pm_ops, &vm->isa_irq);

	if (pm && bus_register(&vm->pio, ACPI_PM_BASE, ACPI_PM_NR_PORTS, "acpi-pm", &acpi_pm_ops,
			       pm)) {
		acpi_pm_destroy(pm);
		return NULL;
	}
	if (pm)
		pci_host_set_cf9(vm->pci, &acpi_pm_rcr_ops, pm);
	vm->acpi_pm = pm;
	return pm;
}

static void acpi_pm_tick(void *dev, u64 now)
{
	if (acpi_pm_next_event_ns(dev) <= now)
		acpi_pm_update(dev, now);
}

/* The ops tables take void *: one typed wrapper per device function. */
#define VOID_FN(fn, type) \
	static void fn##_v(void *dev) { fn((type *)dev); }
VOID_FN(uart8250_reset, struct uart8250)
VOID_FN(uart8250_destroy, struct uart8250)
VOID_FN(testdev_reset, struct testdev)
VOID_FN(testdev_destroy, struct testdev)
VOID_FN(vioapic_reset, struct vioapic)
VOID_FN(vioapic_destroy, struct vioapic)
VOID_FN(pic_reset, struct pic8259)
VOID_FN(pic_destroy, struct pic8259)
VOID_FN(pit_reset, struct pit8254)
VOID_FN(pit_destroy, struct pit8254)
VOID_FN(rtc_cmos_reset, struct rtc_cmos)
VOID_FN(rtc_cmos_destroy, struct rtc_cmos)
VOID_FN(pci_host_reset, struct pci_host)
VOID_FN(pci_host_destroy, struct pci_host)
VOID_FN(acpi_pm_reset, struct acpi_pm)
VOID_FN(acpi_pm_destroy, struct acpi_pm)
VOID_FN(apic_bus_destroy, struct apic_bus)

#define SAVE_LOAD_FN(prefix, type)                                                  \
	static int prefix##_save_v(const void *dev, struct snap_writer *w)          \
	{                                                                           \
		return prefix##_save((const type *)dev, w);                         \
	}                                                                           \
	static int prefix##_load_v(void *dev, struct snap_cursor *c)                \
	{                                                                           \
		return prefix##_load((type *)dev, c);                               \
	}
SAVE_LOAD_FN(uart8250, struct uart8250)
SAVE_LOAD_FN(testdev, struct testdev)
SAVE_LOAD_FN(vioapic, struct vioapic)
SAVE_LOAD_FN(pic, struct pic8259)
SAVE_LOAD_FN(pit, struct pit8254)
SAVE_LOAD_FN(rtc_cmos, struct rtc_cmos)
SAVE_LOAD_FN(pci_host, struct pci_host)
SAVE_LOAD_FN(acpi_pm, struct acpi_pm)
SAVE_LOAD_FN(apic_bus, struct apic_bus)

/* The bus the local APICs (attached with the vCPUs, later) and the I/O
 * APIC send on: first, so the I/O APIC can be given it. */
static void *apic_bus_create_in(struct vm *vm)
{
	vm->apic_bus = apic_bus_create();
	return vm->apic_bus;
}

static const struct device_ops uart_dev = {
	.save = uart8250_save_v, .load = uart8250_load_v,
	.name = "uart", .create = uart_create,
	.reset = uart8250_reset_v,
	.destroy = uart8250_destroy_v,
};
static const struct device_ops testdev_dev = {
	.save = testdev_save_v, .load = testdev_load_v,
	.name = "testdev", .create = testdev_create_in,
	.reset = testdev_reset_v,
	.destroy = testdev_destroy_v,
};
static const struct device_ops ioapic_dev = {
	.save = vioapic_save_v, .load = vioapic_load_v,
	.name = "ioapic", .create = ioapic_create,
	.reset = vioapic_reset_v,
	.destroy = vioapic_destroy_v,
};
static const struct device_ops pic_dev = {
	.save = pic_save_v, .load = pic_load_v,
	.name = "pic", .create = pic_create_in,
	.reset = pic_reset_v,
	.destroy = pic_destroy_v,
};
static const struct device_ops pit_dev = {
	.save = pit_save_v, .load = pit_load_v,
	.name = "pit", .create = pit_create_in, .tick = pit_tick,
	.next_event_ns = pit_next_v,
	.reset = pit_reset_v,
	.destroy = pit_destroy_v,
};
static const struct device_ops rtc_dev = {
	.save = rtc_cmos_save_v, .load = rtc_cmos_load_v,
	.name = "rtc", .create = rtc_create_in, .tick = rtc_tick,
	.next_event_ns = rtc_next_v,
	.reset = rtc_cmos_reset_v,
	.destroy = rtc_cmos_destroy_v,
};
static const struct device_ops pci_dev = {
	.save = pci_host_save_v, .load = pci_host_load_v,
	.name = "pci", .create = pci_create_in,
	.reset = pci_host_reset_v,
	.destroy = pci_host_destroy_v,
};
static const struct device_ops acpi_pm_dev = {
	.save = acpi_pm_save_v, .load = acpi_pm_load_v,
	.name = "acpi-pm", .create = acpi_pm_create_in, .tick = acpi_pm_tick,
	.next_event_ns = acpi_pm_next_v,
	.reset = acpi_pm_reset_v,
	.destroy = acpi_pm_destroy_v,
};

/* Creation order: the UART and I/O APIC before the ISA lines that reach
 * them are used, the PCI host before the ACPI PM (port 0xCF9). Reset and
 * save walk the same order; destroy the reverse. */
static const struct device_ops apic_bus_dev = {
	.save = apic_bus_save_v, .load = apic_bus_load_v,
	.name = "apic-bus", .create = apic_bus_create_in,
	.destroy = apic_bus_destroy_v,
};

static const struct device_ops *const platform_devices[] = {
	&apic_bus_dev, &uart_dev, &testdev_dev, &ioapic_dev, &pic_dev, &pit_dev, &rtc_dev, &pci_dev, &acpi_pm_dev,
};

int vm_platform_init(struct vm *vm)
{
	vm->created_unix = host_unix_seconds();
	vm->isa_irq = (struct irq_sink){ .set = isa_irq_set, .ctx = vm };
	int err = vm_devices_create(vm, platform_devices, ARRAY_SIZE(platform_devices));

	/* The test device's INTx# register drives the PCI bus's wiring,
	 * which is created after it. */
	if (!err)
		testdev_set_wires(vm_device_find(vm, "testdev")->dev, &vm->pci->intx);

	/* On the PCI host, after the platform. */
	if (!err)
		err = vm_disks_init(vm);
	if (!err)
		err = vm_net_init(vm);
	if (!err)
		err = vm_passthru_init(vm);
	return err ? err : vm_debug_exit_init(vm);
}

void vm_platform_reset(struct vm *vm)
{
	vm_devices_reset(vm);
}

/* From the scheduler tick: let the timers that are due raise their lines. */
void vm_platform_tick(struct vm *vm)
{
	vm_devices_tick(vm, vm_now_ns(vm));
}
