/* The legacy 8259A interrupt controllers, which the hypervisor keeps silent. */
#ifndef ARCH_X86_I8259_H
#define ARCH_X86_I8259_H

/* Moves their vectors off the exception range (to 0x30-0x3f) and masks every line. */
void i8259_disable(void);

#endif
