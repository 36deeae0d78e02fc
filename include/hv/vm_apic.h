/* Setting up a VM's local APICs and I/O APIC (core/vm_apic.c). */
#ifndef HV_VM_APIC_H
#define HV_VM_APIC_H

#include "hv/types.h"

struct vm;
struct vcpu;

/* The vCPU's local APIC (xAPIC at 0xFEE00000), attached to the bus. */
int vm_apic_add_vcpu(struct vm *vm, struct vcpu *v);
/* Before running v: act on a VM reset, INIT, SIPI; false while it waits
 * for a SIPI. */
bool vcpu_startup(struct vcpu *v);

#endif
