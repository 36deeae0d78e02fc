/* PCI passthrough: pci= in a VM's configuration (core/vm_passthru.c,
 * docs/passthrough.md). */
#ifndef HV_VM_PASSTHRU_H
#define HV_VM_PASSTHRU_H

#include "hv/types.h"

struct vm;
struct hv_config;

/*
 * At boot, after pci_scan() and before any driver probes: every function a
 * configured VM names in pci= is taken from the drivers (claimed, owner
 * "passthrough"), so utsuwa never drives a function a VM is to have. Logs
 * a function that is not there.
 */
void vm_passthru_reserve(const struct hv_config *cfg);

/* Adds one unit ("pci-pt0", ...) per pci= to the VM's devices, on its PCI
 * bus from slot 16. 0, or the error of vm_devices_create after a log line
 * saying why (no such function, in use, no IOMMU, ...). */
int vm_passthru_init(struct vm *vm);

/* Whether the VM has a function passed through: its state is partly in the
 * device, which utsuwa cannot save (snapshot and migration refuse it). */
bool vm_has_passthru(const struct vm *vm);

#endif
