/*
 * The PC platform every VM gets besides its APICs and UART: the 8259 PIC
 * pair, the 8254 PIT, the CMOS RTC, PCI configuration mechanism 1 with a
 * host bridge, and the ACPI PM registers (power off, reset, PM timer).
 * ISA interrupt lines go to the PICs and to the I/O APIC (IRQ 0 on pin 2, as
 * the MADT's override says). docs/platform.md describes the devices.
 */
#include "hv/vm_platform.h"
#include "hv/console.h"
#include "hv/irq.h"
#include "hv/platform.h"
#include "hv/vm.h"
#include "hv/vm_clock.h"
#include "devices/acpi_pm.h"
#include "devices/pci_host.h"
#include "devices/pic8259.h"
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

/* ISA line n: the PICs' IRQ n and the I/O APIC's pin n (pin 2 for IRQ 0). */
static void isa_irq_set(void *ctx, u32 irq, bool level)
{
	struct vm *vm = ctx;

	pic_set_irq(vm->pic, irq, level);
	vioapic_set_line(vm->ioapic, irq == 0 ? 2 : irq, level);
}

static void uart_irq(void *ctx, bool level)
{
	isa_irq_set(ctx, UART_IRQ, level);
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

int vm_platform_init(struct vm *vm)
{
	struct acpi_pm_ops pm_ops = { .now_ns = vm_now_ns, .poweroff = power_off, .reset = reset,
				      .ctx = vm };
	int err = 0;

	vm->created_unix = host_unix_seconds();
	vm->isa_irq = (struct irq_sink){ .set = isa_irq_set, .ctx = vm };
	/* The PIC's output (ExtINT through LINT0) is not delivered: guests that
	 * use the I/O APIC, as Linux does, mask the PICs. */
	vm->pic = pic_create(NULL, NULL);
	vm->pit = pit_create(vm_now_ns, vm, &vm->isa_irq);
	vm->rtc = rtc_cmos_create(vm_now_ns, vm_created_unix, vm, &vm->isa_irq);
	vm->pci = pci_host_create();
	vm->acpi_pm = acpi_pm_create(&pm_ops, &vm->isa_irq);
	if (!vm->pic || !vm->pit || !vm->rtc || !vm->pci || !vm->acpi_pm)
		return -ENOMEM;
	rtc_cmos_set_memory(vm->rtc, vm->cfg.mem, 0);
	vm->uart->irq_ctx = vm;
	vm->uart->raise_irq = uart_irq;

	struct {
		u64 base, len;
		const char *name;
		const struct io_ops *ops;
		void *dev;
	} ranges[] = {
		{ PIC_MASTER_BASE, PIC_NR_PORTS, "pic1", &pic_master_ops, vm->pic },
		{ PIC_SLAVE_BASE, PIC_NR_PORTS, "pic2", &pic_slave_ops, vm->pic },
		{ PIC_ELCR_BASE, PIC_ELCR_NR_PORTS, "elcr", &pic_elcr_ops, vm->pic },
		{ PIT_BASE, PIT_NR_PORTS, "pit", &pit_ops, vm->pit },
		{ PIT_PORT61, 1, "port61", &pit_port61_ops, vm->pit },
		{ RTC_BASE, RTC_NR_PORTS, "rtc", &rtc_cmos_ops, vm->rtc },
		{ PCI_HOST_BASE, PCI_HOST_NR_PORTS, "pci", &pci_host_ops, vm->pci },
		{ ACPI_PM_BASE, ACPI_PM_NR_PORTS, "acpi-pm", &acpi_pm_ops, vm->acpi_pm },
	};
	for (unsigned i = 0; !err && i < ARRAY_SIZE(ranges); i++)
		err = bus_register(&vm->pio, ranges[i].base, ranges[i].len, ranges[i].name,
				   ranges[i].ops, ranges[i].dev);
	pci_host_set_cf9(vm->pci, &acpi_pm_rcr_ops, vm->acpi_pm);
	return err;
}

void vm_platform_reset(struct vm *vm)
{
	uart8250_reset(vm->uart);
	testdev_reset(vm->testdev);
	pic_reset(vm->pic);
	pit_reset(vm->pit);
	rtc_cmos_reset(vm->rtc);
	pci_host_reset(vm->pci);
	acpi_pm_reset(vm->acpi_pm);
	vioapic_reset(vm->ioapic);
}

/* From the scheduler tick: let the timers that are due raise their lines. */
void vm_platform_tick(struct vm *vm)
{
	u64 now = vm_now_ns(vm);

	if (pit_next_event_ns(vm->pit) <= now)
		pit_update(vm->pit, now);
	if (rtc_next_event_ns(vm->rtc) <= now)
		rtc_update(vm->rtc, now);
	if (acpi_pm_next_event_ns(vm->acpi_pm) <= now)
		acpi_pm_update(vm->acpi_pm, now);
}
