/* Creating VMs from their configuration, and ending them. */
#include "hv/vm.h"
#include "drivers/iommu.h"
#include "hv/console.h"
#include "hv/exit.h"
#include "hv/image_store.h"
#include "hv/loader.h"
#include "hv/mm.h"
#include "hv/sched.h"
#include "hv/vcpu.h"
#include "hv/vendor.h"
#include "hv/vm_apic.h"
#include "hv/vm_linux.h"
#include "loaders/linux.h"
#include "loaders/multiboot_guest.h"
#include "hv/vm_paging.h"
#include "hv/vm_platform.h"
#include "hv/vm_lifecycle.h"
#include "hv/vm_verdict.h"
#include "devices/apic_bus.h"
#include "devices/vlapic.h"
#include "hv/vm_console.h"
#include "hv/intercept.h"
#include "arch/x86/emul/cpuid.h"
#include "hv/cpu_features.h"
#include "arch/x86/emul/msr.h"
#include "devices/testdev.h"
#include "devices/uart8250.h"
#include "asm/cpu.h"
#include "hv/platform.h"
#include "lib/format.h"
#include "lib/string.h"

struct vm *vms[CONFIG_MAX_VMS];
unsigned nr_vms;
static unsigned vms_ended; /* of the VMs in vms[], how many have ended */
static spinlock_t vms_lock = SPINLOCK_INIT;
static enum on_done on_done;

static void all_ended(void);

static struct cpuid_leaf host_cpuid(u32 leaf, u32 subleaf)
{
	struct cpuid_regs r = cpuid_count(leaf, subleaf);

	return (struct cpuid_leaf){ r.eax, r.ebx, r.ecx, r.edx };
}

/* x87 and SSE state at reset (SDM vol. 1, 10.5.1 and vol. 3, table 10-1). */
void fpu_reset(struct fpu_state *f)
{
	memset(f, 0, sizeof(*f));
	f->fxsave[0] = 0x7f; /* FCW = 0x037f */
	f->fxsave[1] = 0x03;
	*(u32 *)&f->fxsave[24] = 0x1f80; /* MXCSR */
}

/* regs0: vCPU 0's registers from a loader that starts only it (Linux): the
 * others then wait for the guest's INIT-SIPI-SIPI. NULL: raw images, where
 * every vCPU starts at the entry with its own stack. */
static int create_vcpus(struct vm *vm, u64 affinity, const struct guest_ctx *ctx,
			const struct vcpu_regs *regs0)
{
	for (u32 i = 0; i < vm->cfg.cpus; i++) {
		struct vcpu *v = kzalloc(sizeof(*v));
		int err;

		if (!v)
			return -ENOMEM;
		/* In the VM from the start, so vm_free takes it whatever fails below. */
		vm->vcpus[vm->nr_vcpus++] = v;
		v->vm = vm;
		v->id = i;
		v->extint = i == 0 ? vm->pic : NULL; /* the PICs drive the BSP's LINT0 */
		v->cpu = -1;
		v->fpu_cpu = -1;
		v->offered = -1;
		v->sipi_vector = -1;
		v->affinity = affinity;
		fpu_reset(&v->fpu);
		msr_vcpu_reset(v);
		if (regs0) {
			v->regs = *regs0;
			v->wait_sipi = i != 0;
		} else {
			start_regs(&vm->cfg, i, &v->regs);
		}
		err = vm_apic_add_vcpu(vm, v);
		if (!err)
			err = vm_paging_vcpu_init(v);
		if (!err)
			err = vendor->vcpu_init(v, ctx);
		if (err)
			return err;
	}
	return 0;
}

/*
 * Puts the VM's image in its memory and sets vm->start_ctx (and, for Linux,
 * vm->start_regs0): at creation and again at every reset. 0, or -EINVAL
 * with a message naming the VM.
 */
/* The boot module holding cfg's image; NULL, with a message, if none. */
static const struct boot_module *image_module(const struct vm_config *cfg,
					      const struct boot_info *bi)
{
	const struct boot_module *mod = image_find(bi, cfg->image);

	if (!mod)
		kprintf("utsuwa: vm '%s': image '%s': no boot module or stored image of that name\n", cfg->name,
			cfg->image);
	return mod;
}

int vm_load_image(struct vm *vm)
{
	const struct vm_config *cfg = &vm->cfg;
	const struct boot_module *mod = image_module(cfg, vm->bi);
	const char *why = "";

	if (!mod)
		return -EINVAL;
	const void *image = (const void *)(uintptr_t)mod->start;
	u64 size = mod->end - mod->start;

	/* A bzImage, then a Multiboot kernel, else a raw image (docs/config.md). */
	vm->pc_boot = true;
	if (linux_is_bzimage(image, size))
		return vm_load_linux(vm, vm->bi, mod, &vm->start_ctx, &vm->start_regs0) ? -EINVAL : 0;
	if (multiboot_guest_find_header(image, size) >= 0)
		return vm_load_multiboot(vm, vm->bi, mod, &vm->start_ctx, &vm->start_regs0) ? -EINVAL
											     : 0;
	vm->pc_boot = false;
	if (load_raw(vm, image, size, loader_load_address(cfg), &why)) {
		kprintf("utsuwa: vm '%s': image '%s': %s\n", cfg->name, cfg->image, why);
		return -EINVAL;
	}
	if (start_state_build(vm, cfg->mode, &vm->start_ctx)) {
		kprintf("utsuwa: vm '%s': no room for the start state in its memory\n", cfg->name);
		return -EINVAL;
	}
	return 0;
}

/*
 * Everything a VM holds, freed: vCPUs with their back-end state and local
 * APICs, devices, the APIC bus, guest memory, the CPUID policy. Takes a VM
 * built only in part (a failed vm_create) as well as a whole one; its
 * vCPUs must be off every CPU (vm_destroy quiesces first).
 */
/* Slots of VMs built and not yet listed: an incoming migration holds one
 * across many polls of CPU 0's loop, while the API may build others. */
static bool slot_held[CONFIG_MAX_VMS]; /* CPU 0 only */

void vm_free(struct vm *vm)
{
	if (vms[vm->id] != vm)
		slot_held[vm->id] = false; /* built, never listed */
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = vm->vcpus[i];

		if (v->lapic)
			vlapic_destroy(v->lapic);
		vendor->vcpu_destroy(v);
		vm_paging_vcpu_free(v);
		/* No CPU's fpu_owner can mistake a later vCPU at this address for
		 * this one: a new vCPU starts with fpu_cpu = -1 and is restored. */
		kfree(v);
	}
	vm_devices_destroy(vm);
	vendor->vm_destroy(vm);
	vm_intercept_free(vm);
	iommu_vm_gone(vm); /* no device reaches its RAM any more */
	gmem_destroy(vm);
	kfree((void *)vm->cpuid);
	kfree(vm);
}

/* A free slot of vms[], or -1. */
static int free_slot(void)
{
	for (int i = 0; i < CONFIG_MAX_VMS; i++)
		if (!vms[i] && !slot_held[i])
			return i;
	return -1;
}

/* cpu=pool:NAME: the pool's features only (docs/migration.md). -EINVAL
 * after a message when this host has no such pool. */
static int restrict_to_pool(struct vm *vm)
{
	struct cpu_featureset set;

	if (!vm->cfg.cpu_pool[0])
		return 0;
	if (cpu_pool_get(vm->cfg.cpu_pool, &set)) {
		kprintf("utsuwa: vm '%s': cpu=pool:%s: this host has no such pool (pool= in its "
			"configuration, the monitor's pool or PUT /pools/NAME define one)\n",
			vm->name, vm->cfg.cpu_pool);
		return -EINVAL;
	}
	cpuid_policy_restrict((struct cpuid_policy *)vm->cpuid, &set);
	return 0;
}

void vm_host_features(struct cpu_featureset *out)
{
	static struct cpuid_policy p; /* big: not on the stack; CPU 0's monitor and API */

	cpuid_policy_build(&p, host_cpuid, 1, (u32)tsc_khz);
	cpuid_policy_features(&p, out);
}

struct vm *vm_build(const struct vm_config *cfg, const struct boot_info *bi, u64 affinity,
		    bool load_image)
{
	struct cpuid_policy *policy;
	struct vm *vm;
	int err, slot;
	u64 free_before = mm_free_pages();

	if (!image_module(cfg, bi)) /* before any memory is taken for the VM */
		return NULL;
	if (vm_find(cfg->name)) {
		kprintf("utsuwa: vm '%s': a VM of that name exists already\n", cfg->name);
		return NULL;
	}
	slot = free_slot();
	if (slot < 0) {
		kprintf("utsuwa: vm '%s': already %d VMs, the most there can be\n", cfg->name,
			CONFIG_MAX_VMS);
		return NULL;
	}
	vm = kzalloc(sizeof(*vm));
	policy = kzalloc(sizeof(*policy));
	if (!vm || !policy || gmem_init(vm, cfg->mem)) {
		kprintf("utsuwa: vm '%s': mem: not enough free memory for %lu MiB (%lu MiB free)\n",
			cfg->name, cfg->mem >> 20, (mm_free_pages() * PAGE_SIZE) >> 20);
		kfree(vm); /* gmem_init keeps nothing when it fails */
		kfree(policy);
		return NULL;
	}
	strlcpy(vm->name, cfg->name, sizeof(vm->name));
	vm->cfg = *cfg;
	/* Its disks' data moves between the disk and this RAM (drivers/iommu.h). */
	if (iommu_vm_ram_grant(vm)) {
		iommu_vm_gone(vm);
		gmem_destroy(vm);
		kfree(vm);
		kfree(policy);
		return NULL;
	}
	vm->bi = bi;
	vm->id = (u32)slot;
	slot_held[slot] = true;
	vm_clock_init(vm);
	cpuid_policy_build(policy, host_cpuid, cfg->cpus, (u32)tsc_khz);
	if (cfg->tsc_khz) { /* the guest's own rate: RDTSC exits unless it is this host's */
		vm_clock_set_khz(vm, cfg->tsc_khz);
		cpuid_policy_set_tsc_khz(policy, cfg->tsc_khz);
	}
	vm->cpuid = policy;

	vm->awaiting_state = !load_image;
	err = restrict_to_pool(vm);
	if (!err)
		err = load_image && vm_load_image(vm) ? -EINVAL : 0;
	if (!err)
		err = vm_platform_init(vm);
	if (!err)
		err = vm_paging_init(vm);
	if (!err)
		err = vm_intercept_init(vm); /* after the devices and paging= */
	if (!err)
		err = vendor->vm_init(vm);
	if (!err)
		err = create_vcpus(vm, affinity, &vm->start_ctx,
				   vm->pc_boot ? &vm->start_regs0 : NULL);
	if (err) {
		if (err != -EINVAL) /* vm_load_image has said why */
			kprintf("utsuwa: vm '%s': cannot be set up (error %d)\n", cfg->name, err);
		vm_free(vm);
		return NULL;
	}
	/* What the VM costs beyond its RAM: page tables, vCPUs, devices (an
	 * estimate if another CPU allocates at the same time). */
	vm->overhead_bytes = (free_before - mm_free_pages()) * PAGE_SIZE - cfg->mem;
	return vm;
}

void vm_list(struct vm *vm)
{
	slot_held[vm->id] = false;
	spin_lock(&vms_lock);
	vms[vm->id] = vm;
	nr_vms++;
	spin_unlock(&vms_lock);
}

struct vm *vm_create(const struct vm_config *cfg, const struct boot_info *bi, u64 affinity)
{
	struct vm *vm = vm_build(cfg, bi, affinity, true);

	if (vm)
		vm_list(vm);
	return vm;
}

void vm_start(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		if (vm->vcpus[i]->wait_sipi)
			vm->vcpus[i]->state = VCPU_BLOCKED; /* until the guest starts it */
		else
			sched_enqueue(vm->vcpus[i]);
	}
}

void vms_set_on_done(enum on_done how)
{
	on_done = how;
}

void vm_forget(struct vm *vm)
{
	spin_lock(&vms_lock);
	if (vms[vm->id] == vm) {
		vms[vm->id] = NULL;
		nr_vms--;
		if (vm->counted_ended)
			vms_ended--;
	}
	spin_unlock(&vms_lock);
	vm_verdict_forget(vm);
	vm_console_forget(vm); /* the console line no longer points at it */
}

void vm_end(struct vm *vm, enum vm_state how, int code)
{
	bool last;

	spin_lock(&vm->lock);
	if (vm->state != VM_RUNNING) {
		spin_unlock(&vm->lock);
		return;
	}
	vm->state = how;
	vm->exit_code = code;
	spin_unlock(&vm->lock);

	sched_vm_leave(vm);
	vm_console_flush(vm);
	if (how == VM_ENDED)
		kprintf("utsuwa: vm %s: exited with code %d\n", vm->name, code);
	vm_paging_report(vm);
	vm_verdict(vm);

	spin_lock(&vms_lock);
	vm->counted_ended = true;
	last = ++vms_ended == nr_vms;
	spin_unlock(&vms_lock);
	if (last)
		all_ended();
}

/* The last VM has ended. A test run (exit=qemu or exit=bochs) sums up and
 * leaves the emulator; otherwise the hypervisor stays up with its monitor,
 * where VMs can be created again. */
static void all_ended(void)
{
	if (on_done == DONE_HALT) {
		kprintf("utsuwa: all VMs have ended; the monitor can create more\n");
		return;
	}
	platform_done(on_done, vm_verdict_summary() ? 0 : 1);
}

/* Called when no VM could be created at all. */
void vms_none(void)
{
	kprintf("utsuwa: no VM to run\n");
	if (on_done != DONE_HALT)
		platform_done(on_done, 1);
}
