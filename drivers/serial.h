/* The hypervisor's own 16550 serial port (COM1, 0x3f8), polled. */
#ifndef DRIVERS_SERIAL_H
#define DRIVERS_SERIAL_H

#include "hv/types.h"

void serial_init(void);
void serial_putc(char c);
/* A received byte, or -1 when none is waiting. */
int serial_getc(void);

#endif
