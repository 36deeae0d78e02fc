/* A VM's console: its output on the hypervisor's, one "[name] line" at a time. */
#ifndef HV_VM_CONSOLE_H
#define HV_VM_CONSOLE_H

#include "hv/types.h"

struct vm;

void vm_console_write(struct vm *vm, const char *s, size_t n);
/* Prints a partial last line, at the VM's end. */
void vm_console_flush(struct vm *vm);
/* Host console input to the first running VM's UART (CPU 0's tick). */
void vm_console_input_poll(void);

#endif
