/*
 * A guest's watchdog (HC_WATCHDOG; core/vm_watchdog.c, docs/hypercalls.md):
 * armed and renewed by the guest, checked by CPU 0.
 */
#ifndef HV_VM_WATCHDOG_H
#define HV_VM_WATCHDOG_H

#include "hv/types.h"

struct vm;

/* Arm (or renew) for ms of guest time; 0 turns it off. 0, or HC_EINVAL
 * above HC_WATCHDOG_MAX_MS. From the guest's vCPU (the hypercall). */
s64 vm_watchdog_set(struct vm *vm, u64 ms);
/* Off, as at power-on (a reset). */
void vm_watchdog_off(struct vm *vm);
/* CPU 0, where the monitor runs (a VM may be paused there): acts on every
 * running VM whose watchdog has expired. */
void vm_watchdog_poll(void);

#endif
