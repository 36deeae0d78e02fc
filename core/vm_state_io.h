/*
 * The pieces of snapshot and restore (core/vm_snapshot.c) that live
 * migration (core/migrate_send.c, core/migrate_recv.c) uses too: the VM's
 * state besides its memory as snapshot sections, a VM built from a
 * snapshot's configuration, and a loaded VM listed and run.
 */
#ifndef CORE_VM_STATE_IO_H
#define CORE_VM_STATE_IO_H

#include "hv/snapshot.h"
#include "hv/types.h"

struct vm;

/* Of a quiesced VM: one section per vCPU, one per device, the VM section
 * (its guest TSC, which stands still while it is paused). */
int vm_state_save(struct snap_writer *w, struct vm *vm);
/* Into a VM built by vm_build_from_snapshot: the VM section, any memory
 * sections, every device, every vCPU; *what names the part at fault.
 * -ENOENT (missing) or -EINVAL (cannot be loaded); the caller frees the VM. */
int vm_state_load(const struct snapshot *s, struct vm *vm, u64 *guest_tsc, const char **what);
/* The VM of the snapshot's configuration section, called name, built but
 * not listed and not loaded from its image; NULL with err set. */
struct vm *vm_build_from_snapshot(const struct snapshot *s, const char *name, char *err, size_t n);
/* A loaded VM: its NIC on the switch, its guest TSC set (kvmclock
 * published again) and listed, still paused; then run. An error of
 * vm_net_join (said on the console): nothing done, the caller frees it. */
int vm_state_start(struct vm *vm, u64 guest_tsc);
void vm_state_run(struct vm *vm);

#endif
