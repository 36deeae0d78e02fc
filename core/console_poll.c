/*
 * The console's hardware side, on CPU 0's 1 kHz tick (include/hv/vm_console.h).
 *
 * At 115200 baud the line brings at most 11.52 bytes a millisecond, fewer
 * than the 16 the machine's receive FIFO holds, so draining it completely on
 * every tick loses nothing. Each byte only goes into a queue here; the
 * attached VM's UART is topped up from its queue, and CPU 0 is told to leave
 * its guest when the monitor has something to do (it runs between slices,
 * with interrupts on: core/vcpu_run.c).
 */
#include "hv/vm_console.h"
#include "hv/vm.h"
#include "devices/uart8250.h"
#include "drivers/serial.h"
#include "asm/percpu.h"

/* Bounds the time spent in the tick if a broken port always says "ready". */
#define POLL_MAX_BYTES 256

void vm_console_input_poll(void)
{
	struct vm *vm;
	int c;

	for (int n = 0; n < POLL_MAX_BYTES && (c = serial_getc()) >= 0; n++)
		vm_console_input_byte((u8)c);
	vm = vm_console_attached();
	if (vm)
		uart8250_rx_refill(vm->uart);
	if (vm_console_monitor_pending())
		this_cpu()->need_resched = true;
}
