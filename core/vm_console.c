#include "hv/vm_console.h"
#include "hv/console.h"
#include "hv/vm.h"
#include "devices/uart8250.h"
#include "drivers/serial.h"

static void emit(struct vm *vm)
{
	kprintf("[%s] %.*s\n", vm->name, (int)vm->console_len, vm->console_line);
	vm->console_len = 0;
}

void vm_console_write(struct vm *vm, const char *s, size_t n)
{
	spin_lock(&vm->console_lock);
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '\n') {
			emit(vm);
		} else if (c != '\r') {
			/* Control characters would garble the host log. */
			vm->console_line[vm->console_len++] = (c >= 0x20 && c < 0x7f) || c == '\t' ? c : '.';
			if (vm->console_len == sizeof(vm->console_line))
				emit(vm);
		}
	}
	spin_unlock(&vm->console_lock);
}

void vm_console_flush(struct vm *vm)
{
	spin_lock(&vm->console_lock);
	if (vm->console_len)
		emit(vm);
	spin_unlock(&vm->console_lock);
}

/*
 * Keyboard input on the hypervisor's serial console goes to the first VM
 * that is still running, into its UART's receive FIFO (which raises IRQ 4
 * when the guest enabled it). Polled from CPU 0's tick: at 1 kHz and 16
 * bytes a tick, faster than a 115200-baud line can deliver.
 */
void vm_console_input_poll(void)
{
	struct vm *target = NULL;

	for (unsigned i = 0; i < CONFIG_MAX_VMS && !target; i++)
		if (vms[i] && vms[i]->state == VM_RUNNING)
			target = vms[i];
	for (int n = 0; n < 16; n++) {
		int c = serial_getc();

		if (c < 0)
			break;
		if (target)
			uart8250_rx_push(target->uart, (u8)c);
	}
}
