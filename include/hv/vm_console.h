/*
 * The console: the hypervisor's serial line shared by its monitor and the
 * VMs' serial consoles (docs/console.md).
 *
 * At most one VM is attached: its UART output passes to the line raw, byte
 * for byte, and what is typed goes to it. The escape key (Ctrl-], 0x1d)
 * switches between the attached VM and the monitor (core/monitor.c). Every
 * VM's output is also kept in a ring of its last VM_CONSOLE_RING bytes; a VM
 * that is not attached has its output shown "[name] line" by line while the
 * monitor has the line, and held (in the ring) while another VM is attached.
 *
 * Input: CPU 0's tick drains the machine's serial port and routes each byte;
 * a VM's input waits in its own queue of VM_CONSOLE_INPUT bytes, from which
 * its UART pulls whenever the guest has made room in the receive FIFO.
 */
#ifndef HV_VM_CONSOLE_H
#define HV_VM_CONSOLE_H

#include "hv/spinlock.h"
#include "hv/types.h"
#include "lib/byteq.h"

#define VM_CONSOLE_ESCAPE 0x1d /* Ctrl-] */
#define VM_CONSOLE_RING 4096   /* output kept per VM */
#define VM_CONSOLE_INPUT 4096  /* input queued per VM, a power of two */
#define VM_CONSOLE_LINE 160    /* a longer line is shown in pieces */

/* One VM's console, inside struct vm (hv/vm.h). */
struct vm_console {
	spinlock_t lock; /* guards the output fields; never taken by the tick */
	char ring[VM_CONSOLE_RING];
	u64 total;      /* bytes ever written: ring[total % size] is the next */
	u64 line_start; /* total at the start of the current line */
	u64 shown;      /* total up to which output has been shown or passed */
	char line[VM_CONSOLE_LINE];
	unsigned line_len;

	/* Input: CPU 0 (interrupts off) produces, the UART consumes. */
	struct byteq input;
	u8 input_buf[VM_CONSOLE_INPUT];
	u64 input_dropped; /* bytes that found the queue full */
};

struct vm;

/* Sets up vm->console at the VM's creation (before its UART is used). */
void vm_console_init(struct vm *vm);
/* Guest output (its UART, HC_CONSOLE_WRITE), any CPU. */
void vm_console_write(struct vm *vm, const char *s, size_t n);
/* At the VM's end: shows a partial last line; if it was attached, the
 * console goes back to the monitor. */
void vm_console_flush(struct vm *vm);
/* Before the VM's memory is freed: the console keeps no pointer to it. */
void vm_console_forget(struct vm *vm);

/* The UART's rx_refill (devices/uart8250.h): the VM's next queued byte. */
int vm_console_input_next(void *vm);
/* Queues input for the VM: how many of the n bytes fit (the rest are
 * counted in input_dropped). CPU 0 with interrupts off only. */
size_t vm_console_input_push(struct vm *vm, const u8 *s, size_t n);

/* Which VM has the console; NULL: the monitor. */
struct vm *vm_console_attached(void);
/* Gives the console to vm (the monitor's `console VM`, a boot's console=):
 * what it wrote of its current line is shown again, raw. -EINVAL if the
 * VM is not running. */
int vm_console_attach(struct vm *vm);

/* Routes one byte typed on the console: to the attached VM's queue, or the
 * monitor's; the escape key switches. From CPU 0's tick. */
void vm_console_input_byte(u8 c);
/* The tick's part: drains the serial port, feeds the attached VM's UART. */
void vm_console_input_poll(void);

/* For the monitor (CPU 0's scheduler loop): */
/* Its next typed byte, or -1. */
int vm_console_monitor_getc(void);
/* Something for the monitor to do: a byte typed or a switch made. */
bool vm_console_monitor_pending(void);
/* The switches since the last call: CONSOLE_EV_* bits. */
#define CONSOLE_EV_DETACHED 0x1 /* the escape key, or the attached VM ended */
#define CONSOLE_EV_ATTACHED 0x2 /* the escape key went back to the last VM */
#define CONSOLE_EV_NO_VM 0x4    /* the escape key, with no VM to go back to */
#define CONSOLE_EV_OUTPUT 0x8   /* a VM's line was shown under the monitor's prompt */

/* The monitor's prompt is on the screen with nothing after it: a VM's line
 * shown now starts on a line of its own, and the monitor draws the prompt
 * (and what was typed) again below it (CONSOLE_EV_OUTPUT). */
void vm_console_prompt_shown(void);
/* Enter was pressed: the line is the command's now. */
void vm_console_prompt_closed(void);
/* A message (kprintf: the hypervisor's, or a VM's prefixed line) is about
 * to be written: if the prompt is open, start a line of its own first. */
void vm_console_message_starts(void);
unsigned vm_console_take_events(void);
/* Shows every VM's output held while another VM was attached ("[name] ..."). */
void vm_console_show_held(void);
/* The VM the escape key would go back to, or NULL. */
struct vm *vm_console_last(void);

#endif
