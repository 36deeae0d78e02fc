/* A VM's paging= (docs/config.md): nested paging or shadow page tables. */
#ifndef HV_VM_PAGING_H
#define HV_VM_PAGING_H

#include "hv/types.h"

struct vm;
struct vcpu;

/* Sets vm->shadow from its configuration and what the CPU has; -EINVAL,
 * with a message naming the VM, when it cannot have what it asks for. */
int vm_paging_init(struct vm *vm);
/* The vCPU's shadow tables when the VM has shadow paging. -ENOMEM. */
int vm_paging_vcpu_init(struct vcpu *v);
void vm_paging_vcpu_free(struct vcpu *v);
/* Under shadow paging, a line of its counts (the monitor's info, a VM's
 * end); nothing under nested paging. */
void vm_paging_report(const struct vm *vm);

#endif
