/*
 * Snapshot and restore of a whole VM (include/hv/vm_lifecycle.h), in the
 * format of docs/snapshot.md: the configuration, guest RAM in 2 MiB pieces,
 * one section per vCPU (struct vcpu_state), one per device (its ops table's
 * save/load), and a VM section (its clock). Snapshots are kept in
 * hypervisor memory, in 2 MiB chunks (core/snapshot_alloc.c).
 *
 * A snapshot is taken of a quiesced VM (paused for the copy if it ran); a
 * restore checks the whole snapshot before it builds anything, then builds
 * a new VM that is not in the VM table (no tick, no console reaches it)
 * until every section has been loaded; any failure frees it again, so a
 * damaged snapshot changes nothing.
 */
#include "hv/vm_lifecycle.h"
#include "core/vm_state_io.h"
#include "hv/config_format.h"
#include "hv/console.h"
#include "hv/device.h"
#include "hv/gmem.h"
#include "hv/migrate.h"
#include "hv/hv.h"
#include "hv/sched.h"
#include "hv/snapshot.h"
#include "hv/snapshot_vm.h"
#include "hv/vcpu.h"
#include "hv/vcpu_state.h"
#include "hv/vm.h"
#include "hv/vm_clock.h"
#include "hv/vm_net.h"
#include "hv/vm_passthru.h"
#include "arch/x86/emul/cpuid.h"
#include "asm/cpu.h"
#include "lib/format.h"
#include "lib/string.h"

#define MAX_SNAPSHOTS 8
#define SNAP_VM_NAME "vm"

struct stored_snapshot {
	bool used;
	char vm[VM_NAME_MAX]; /* whose */
	struct snapshot snap;
};

static struct stored_snapshot store[MAX_SNAPSHOTS]; /* id = index + 1; CPU 0 only */

/* ---- taking one ---- */

static int save_vm_section(struct snap_writer *w, struct vm *vm)
{
	snap_section_begin(w, SNAP_SEC_VM, 0, SNAP_VM_NAME);
	snap_put_u64(w, vm_guest_tsc(vm)); /* stands still: the VM is quiesced, its clock stopped */
	snap_put_u64(w, vm->created_unix);
	snap_put_u32(w, vm->resets);
	snap_put_u64(w, vm->clock.khz); /* after the rest: older snapshots lack it */
	return snap_section_end(w);
}

/* struct vcpu_state is plain data with fixed-size fields and explicit
 * padding (include/hv/vcpu_state.h); its bytes, little-endian x86-64, are
 * the section's payload, and the section's length is the check that the
 * reader's layout is the writer's. */
static int save_vcpus(struct snap_writer *w, struct vm *vm)
{
	static struct vcpu_state st; /* 1.5 KiB+: not on the stack; CPU 0 only */
	int err;

	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		char name[SNAP_NAME_LEN];

		err = vcpu_get_state(vm->vcpus[i], &st);
		if (err)
			return err;
		fmt_snprintf(name, sizeof(name), "vcpu.%u", i);
		snap_section_begin(w, SNAP_SEC_VCPU, i, name);
		snap_put_bytes(w, &st, sizeof(st));
		err = snap_section_end(w);
		if (err)
			return err;
	}
	return 0;
}

static int save_devices(struct snap_writer *w, struct vm *vm)
{
	for (unsigned i = 0; i < vm->devices.nr; i++) {
		const struct vm_device *d = &vm->devices.list[i];
		u64 f;
		int err;

		if (!d->ops->save)
			return -ENOTSUP;
		snap_section_begin(w, SNAP_SEC_DEVICE, i, d->ops->name);
		f = irq_save(); /* device locks are also taken by CPU 0's tick */
		err = d->ops->save(d->dev, w);
		irq_restore(f);
		if (!err)
			err = snap_section_end(w);
		if (err)
			return err;
	}
	return 0;
}

static int save_memory(struct snap_writer *w, struct vm *vm)
{
	struct gmem_layout l = gmem_layout_of(gmem_size(vm));

	/* By guest-physical address: RAM below the PCI hole, then above 4 GiB. */
	for (u64 gpa = 0; gpa < gmem_end(vm); gpa += SZ_2M) {
		u64 len = MIN(SZ_2M, gmem_layout_ram_after(l, gpa));
		const void *p;
		int err;

		if (!len)
			continue; /* the hole */
		p = gmem_map(vm, gpa, len, false);
		if (!p)
			return -EFAULT;
		err = snap_save_ram_piece(w, gpa, p, (u32)(len / PAGE_SIZE));
		if (err)
			return err;
	}
	return 0;
}

int vm_state_save(struct snap_writer *w, struct vm *vm)
{
	int err = save_vcpus(w, vm);

	if (!err)
		err = save_devices(w, vm);
	if (!err)
		err = save_vm_section(w, vm);
	return err;
}

static int write_snapshot(struct vm *vm, struct snapshot *out)
{
	static struct snap_vm_config cfg; /* 1 KiB+ */
	struct snap_writer w;
	int err;

	memset(&cfg, 0, sizeof(cfg));
	strlcpy(cfg.name, vm->name, sizeof(cfg.name));
	cfg.mem_size = gmem_size(vm);
	cfg.nr_vcpus = vm->nr_vcpus;
	err = config_format_vm(&vm->cfg, NULL, cfg.line, sizeof(cfg.line));
	if (!err)
		err = snap_writer_init(&w, &snap_page_alloc);
	if (err)
		return err;
	/* In the order snap_verify wants: (type, instance) increasing. */
	err = snap_save_config(&w, &cfg);
	/* Nothing may write guest memory behind the copy: devices finish
	 * what they have in flight first (a queue's used ring saved in memory
	 * must match the index saved with the device). */
	vm_devices_quiesce(vm);
	if (!err)
		err = save_memory(&w, vm);
	if (!err)
		err = vm_state_save(&w, vm);
	if (err) {
		snap_writer_abort(&w);
		return err;
	}
	return snap_writer_finish(&w, out);
}

int vm_snapshot(struct vm *vm, unsigned *id, char *err, size_t n)
{
	bool was_running = vm->state == VM_RUNNING;
	u64 t0 = rdtsc(); /* under QEMU -icount, TSC ticks are instructions (bench/snapshot.sh) */
	int slot = -1, ret;

	for (int i = 0; i < MAX_SNAPSHOTS && slot < 0; i++)
		if (!store[i].used)
			slot = i;
	if (migrate_busy(vm))
		return vm_err(err, n, -EBUSY, "snapshot: vm %s is being migrated", vm->name);
	if (vm_has_passthru(vm))
		return vm_err(err, n, -ENOTSUP, "snapshot: vm %s has a PCI function passed through "
			    "(pci=): its state is in the device and cannot be saved", vm->name);
	if (slot < 0)
		return vm_err(err, n, -ENOSPC, "snapshot: already %d snapshots; drop one first",
			    MAX_SNAPSHOTS);
	if (vm->state != VM_RUNNING && vm->state != VM_PAUSED)
		return vm_err(err, n, -EINVAL, "snapshot: vm %s is %s, not running or paused",
			    vm->name, vm_state_name(vm));
	if (was_running) {
		ret = vm_pause(vm, err, n);
		if (ret)
			return ret;
	}
	ret = write_snapshot(vm, &store[slot].snap);
	if (was_running)
		vm_resume(vm, NULL, 0);
	if (ret)
		return vm_err(err, n, ret, "snapshot: vm %s: %s (error %d)", vm->name,
			    ret == -ENOMEM ? "not enough memory" : "cannot be saved", ret);
	store[slot].used = true;
	strlcpy(store[slot].vm, vm->name, sizeof(store[slot].vm));
	*id = (unsigned)slot + 1;
	kprintf("utsuwa: vm %s: snapshot %u taken, %lu KiB, in %lu TSC ticks\n", vm->name, *id,
		store[slot].snap.len >> 10, rdtsc() - t0);
	return 0;
}

/* ---- restoring one ---- */

static int load_vm_section(const struct snapshot *s, struct vm *vm, u64 *guest_tsc)
{
	struct snap_cursor c;

	if (snap_find(s, SNAP_SEC_VM, 0, &c))
		return -ENOENT;
	*guest_tsc = snap_get_u64(&c);
	vm->created_unix = snap_get_u64(&c);
	vm->resets = snap_get_u32(&c);
	if (!snap_cursor_done(&c)) {
		/* The rate the guest was told (hv/vm_clock.h): kept, as its
		 * CPUID says. A snapshot without it keeps this host's. */
		u64 khz = snap_get_u64(&c);

		if (khz < 1000 || khz > 100000000) /* 1 MHz to 100 GHz */
			return -EINVAL;
		vm_clock_set_khz(vm, khz);
		cpuid_policy_set_tsc_khz((struct cpuid_policy *)vm->cpuid, (u32)khz);
	}
	return snap_cursor_done(&c) ? 0 : -EINVAL;
}

static int load_memory(const struct snapshot *s, struct vm *vm, const char **what)
{
	struct snap_cursor c;
	struct gmem_layout l = gmem_layout_of(gmem_size(vm));
	int err;

	for (err = snap_first(s, &c); !err; err = snap_next(&c)) {
		u64 gpa = (u64)c.instance << SNAP_MEM_PIECE_SHIFT;
		u64 len;
		void *p;

		if (c.type != SNAP_SEC_MEMORY)
			continue;
		*what = SNAP_MEMORY_NAME;
		len = MIN(SZ_2M, gmem_layout_ram_after(l, gpa)); /* 0: past RAM or in the hole */
		if (!len)
			return -EINVAL;
		p = gmem_map(vm, gpa, len, true);
		if (!p || snap_load_ram_piece(&c, gpa, p, (u32)(len / PAGE_SIZE)))
			return -EINVAL;
	}
	return 0;
}

static int load_devices(const struct snapshot *s, struct vm *vm, const char **what)
{
	for (unsigned i = 0; i < vm->devices.nr; i++) {
		const struct vm_device *d = &vm->devices.list[i];
		struct snap_cursor c;
		int err;

		*what = d->ops->name;
		if (snap_find(s, SNAP_SEC_DEVICE, i, &c) || strcmp(c.name, d->ops->name) ||
		    !d->ops->load)
			return -ENOENT;
		err = d->ops->load(d->dev, &c);
		if (err || !snap_cursor_done(&c))
			return -EINVAL;
	}
	return 0;
}

static int load_vcpus(const struct snapshot *s, struct vm *vm, const char **what)
{
	static struct vcpu_state st;

	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		struct snap_cursor c;

		*what = "vcpu";
		if (snap_find(s, SNAP_SEC_VCPU, i, &c))
			return -ENOENT;
		if (snap_cursor_left(&c) != sizeof(st))
			return -EINVAL;
		snap_get_bytes(&c, &st, sizeof(st));
		if (!snap_cursor_done(&c) || st.id != i || vcpu_set_state(vm->vcpus[i], &st))
			return -EINVAL;
		/* Runnable vCPUs are parked until the VM starts; halted ones wait. */
		vm->vcpus[i]->state = st.activity == VCPU_ACTIVITY_RUNNING ? VCPU_PARKED :
									      VCPU_BLOCKED;
	}
	return 0;
}

int vm_state_load(const struct snapshot *s, struct vm *vm, u64 *guest_tsc, const char **what)
{
	int ret = load_vm_section(s, vm, guest_tsc);

	if (ret)
		*what = SNAP_VM_NAME;
	if (!ret)
		ret = load_memory(s, vm, what);
	if (!ret)
		ret = load_devices(s, vm, what);
	if (!ret)
		ret = load_vcpus(s, vm, what);
	return ret;
}

int vm_state_start(struct vm *vm, u64 guest_tsc)
{
	int err = vm_net_join(vm);

	if (err)
		return err;
	vm->awaiting_state = false;
	/* Paused until listed: the tick leaves it alone while it is assembled. */
	vm->state = VM_PAUSED;
	vm_set_guest_tsc(vm, guest_tsc);
	vm_list(vm);
	return 0;
}

void vm_state_run(struct vm *vm)
{
	vm->state = VM_RUNNING;
	sched_vm_resume(vm);
}

struct vm *vm_build_from_snapshot(const struct snapshot *s, const char *name, char *err,
				    size_t n)
{
	static struct snap_vm_config sc;
	static struct hv_config hc;
	u64 affinity;
	struct vm *vm;

	if (snap_load_config(s, &sc))
		return vm_err(err, n, 0, "restore: the snapshot's configuration section is bad"), NULL;
	config_init(&hc);
	if (config_parse(&hc, sc.line, strlen(sc.line), NULL, NULL) || hc.nr_vms != 1 ||
	    hc.vms[0].mem != sc.mem_size || hc.vms[0].cpus != sc.nr_vcpus)
		return vm_err(err, n, 0, "restore: the snapshot's configuration does not parse"), NULL;
	strlcpy(hc.vms[0].name, name, sizeof(hc.vms[0].name));
	affinity = vm_runtime_affinity(&hc.vms[0], err, n);
	if (!affinity)
		return NULL;
	vm = vm_build(&hc.vms[0], hv_boot_info(), affinity, false);
	if (!vm)
		vm_err(err, n, 0, "restore: vm '%s' cannot be built (the log says why)", name);
	return vm;
}

int vm_restore(unsigned id, const char *name, char *err, size_t n)
{
	struct stored_snapshot *st = id >= 1 && id <= MAX_SNAPSHOTS ? &store[id - 1] : NULL;
	const char *what = "config";
	u64 t0 = rdtsc(), guest_tsc;
	struct vm *vm;
	int ret;

	if (!st || !st->used)
		return vm_err(err, n, -ENOENT, "restore: no snapshot %u", id);
	if (vm_find(name))
		return vm_err(err, n, -EEXIST, "restore: a VM named '%s' exists already", name);
	ret = snap_verify(&st->snap, err, n);
	if (ret)
		return ret; /* err names the section */
	vm = vm_build_from_snapshot(&st->snap, name, err, n);
	if (!vm)
		return -EINVAL;
	ret = vm_state_load(&st->snap, vm, &guest_tsc, &what);
	if (ret) {
		vm_free(vm);
		return vm_err(err, n, ret, "restore: snapshot %u: section '%s' %s; nothing restored",
			    id, what, ret == -ENOENT ? "is missing" : "cannot be loaded");
	}
	ret = vm_state_start(vm, guest_tsc);
	if (ret) {
		vm_free(vm);
		return vm_err(err, n, ret, "restore: vm '%s' cannot join the switch; nothing restored",
			      name);
	}
	kprintf("utsuwa: vm %s: restored from snapshot %u (of vm %s), in %lu TSC ticks\n",
		vm->name, id, st->vm, rdtsc() - t0);
	vm_state_run(vm);
	return 0;
}

int vm_snapshot_drop(unsigned id, char *err, size_t n)
{
	struct stored_snapshot *st = id >= 1 && id <= MAX_SNAPSHOTS ? &store[id - 1] : NULL;

	if (!st || !st->used)
		return vm_err(err, n, -ENOENT, "drop: no snapshot %u", id);
	snap_free(&st->snap);
	st->used = false;
	return 0;
}

int vm_snapshot_damage(unsigned id, u64 offset, char *err, size_t n)
{
	struct stored_snapshot *st = id >= 1 && id <= MAX_SNAPSHOTS ? &store[id - 1] : NULL;
	u8 *p;

	if (!st || !st->used)
		return vm_err(err, n, -ENOENT, "damage: no snapshot %u", id);
	if (offset >= st->snap.len)
		return vm_err(err, n, -ERANGE, "damage: snapshot %u has %lu bytes", id, st->snap.len);
	p = st->snap.chunks[offset >> st->snap.chunk_shift];
	p[offset & ((1ULL << st->snap.chunk_shift) - 1)] ^= 0x5a;
	return 0;
}

void vm_snapshot_list(void (*out)(void *ctx, unsigned id, const char *vm, u64 bytes), void *ctx)
{
	for (unsigned i = 0; i < MAX_SNAPSHOTS; i++)
		if (store[i].used)
			out(ctx, i + 1, store[i].vm, store[i].snap.len);
}
