/*
 * A VM's life after creation: pause, resume, destroy, create at run time,
 * snapshot and restore (core/vm_lifecycle.c). Each of them first quiesces
 * the VM: every vCPU off its CPU and out of the run queue, so nothing of the
 * VM runs or touches its devices while the action takes place.
 *
 * Every function returns 0 or a negative errno, and on failure writes one
 * line saying why into err (err may be NULL): the monitor prints it.
 */
#ifndef HV_VM_LIFECYCLE_H
#define HV_VM_LIFECYCLE_H

#include "hv/types.h"

struct vm;

/* How the actions fail: one line into err (if not NULL), and ret back. */
int vm_err(char *err, size_t n, int ret, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The VM of that name among those that exist (not destroyed), or NULL. */
struct vm *vm_find(const char *name);

/* "running", "paused", "ended", "stopped", "resetting". */
const char *vm_state_name(const struct vm *vm);

/* Stop every vCPU of the VM and keep them stopped; guest time stands still
 * while paused (docs/lifecycle.md). -EINVAL unless the VM is running. */
int vm_pause(struct vm *vm, char *err, size_t n);
/* Run a paused VM again where it was. -EINVAL unless it is paused. */
int vm_resume(struct vm *vm, char *err, size_t n);
/* Press the VM's ACPI power button: the guest shuts down if it listens. */
int vm_power_button(struct vm *vm, char *err, size_t n);
/* on_crash=pause: from a vCPU's CPU, pause the VM it crashed (its clock runs on). */
void vm_crash_pause(struct vm *vm);
/* Reset the VM as the guest's own reset would (the monitor's `reset`). */
int vm_reset_now(struct vm *vm, char *err, size_t n);
/* Stop the VM if it runs, free every page and device it holds, forget it. */
int vm_destroy(struct vm *vm, char *err, size_t n);
/* Create and start a VM from one configuration word (docs/config.md). */
int vm_create_line(const char *line, char *err, size_t n);
/* The same, the VM left paused before its first instruction (the
 * management API's "start": false): vm_resume starts it. */
int vm_create_paused(const char *line, char *err, size_t n);

struct vm_config;
/* CPUs a VM created at run time may use: every CPU no VM owns, or its pin
 * list if no VM runs there. 0, with err set, when none. */
u64 vm_runtime_affinity(const struct vm_config *c, char *err, size_t n);

/* Snapshots are kept in hypervisor memory, numbered from 1. */
/* Take one of a running or paused VM; its number in *id. The VM carries on
 * as it was (a running VM is paused for the copy, then resumed). */
int vm_snapshot(struct vm *vm, unsigned *id, char *err, size_t n);
/* A new VM called name, continuing from snapshot id. */
int vm_restore(unsigned id, const char *name, char *err, size_t n);
/* Forget a snapshot, freeing its memory. */
int vm_snapshot_drop(unsigned id, char *err, size_t n);
/* Test aid: flip one byte of a stored snapshot, to show a restore refuses
 * a damaged one (the monitor's `damage`). */
int vm_snapshot_damage(unsigned id, u64 offset, char *err, size_t n);
/* Each stored snapshot: its number, whose VM, its size. */
void vm_snapshot_list(void (*out)(void *ctx, unsigned id, const char *vm, u64 bytes), void *ctx);

#endif
