/* Creating VMs from their configuration, and ending them. */
#include "hv/vm.h"
#include "hv/console.h"
#include "hv/exit.h"
#include "hv/loader.h"
#include "hv/mm.h"
#include "hv/sched.h"
#include "hv/vcpu.h"
#include "hv/vendor.h"
#include "hv/vm_apic.h"
#include "hv/vm_linux.h"
#include "loaders/linux.h"
#include "hv/vm_platform.h"
#include "hv/vm_console.h"
#include "arch/x86/emul/cpuid.h"
#include "arch/x86/emul/msr.h"
#include "devices/testdev.h"
#include "devices/uart8250.h"
#include "asm/cpu.h"
#include "hv/platform.h"
#include "lib/format.h"
#include "lib/string.h"

struct vm *vms[CONFIG_MAX_VMS];
unsigned nr_vms;
static unsigned vms_ended, vms_as_expected;
static spinlock_t vms_lock = SPINLOCK_INIT;
static enum on_done on_done;

static struct cpuid_leaf host_cpuid(u32 leaf, u32 subleaf)
{
	struct cpuid_regs r = cpuid_count(leaf, subleaf);

	return (struct cpuid_leaf){ r.eax, r.ebx, r.ecx, r.edx };
}

/* The UART hands over every byte as the guest writes it. */
static void uart_out(void *ctx, const char *s, size_t n)
{
	vm_console_write(ctx, s, n);
}

/* x87 and SSE state at reset (SDM vol. 1, 10.5.1 and vol. 3, table 10-1). */
void fpu_reset(struct fpu_state *f)
{
	memset(f, 0, sizeof(*f));
	f->fxsave[0] = 0x7f; /* FCW = 0x037f */
	f->fxsave[1] = 0x03;
	*(u32 *)&f->fxsave[24] = 0x1f80; /* MXCSR */
}

static int add_devices(struct vm *vm)
{
	int err;

	vm->testdev = testdev_create();
	vm->uart = uart8250_create(uart_out, vm);
	if (!vm->uart || !vm->testdev)
		return -ENOMEM;
	vm_console_init(vm);
	vm->uart->rx_refill = vm_console_input_next; /* typed input, as the guest reads */
	vm->uart->refill_ctx = vm;
	err = bus_register(&vm->pio, 0x3f8, 8, "uart", &uart8250_ops, vm->uart);
	if (!err)
		err = bus_register(&vm->mmio, TESTDEV_MMIO_BASE, PAGE_SIZE, "testdev", &testdev_ops,
				   vm->testdev);
	return err;
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
		v->vm = vm;
		v->id = i;
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
			err = vendor->vcpu_init(v, ctx);
		if (err)
			return err;
		vm->vcpus[vm->nr_vcpus++] = v;
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
	const struct boot_module *mod = bootinfo_find_module(bi, cfg->image);

	if (!mod)
		kprintf("utsuwa: vm '%s': image '%s': no boot module of that name\n", cfg->name,
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
	vm->linux_boot = linux_is_bzimage((const void *)(uintptr_t)mod->start,
					  mod->end - mod->start);
	if (vm->linux_boot)
		return vm_load_linux(vm, vm->bi, mod, &vm->start_ctx, &vm->start_regs0) ? -EINVAL : 0;
	if (load_raw(vm, (const void *)(uintptr_t)mod->start, mod->end - mod->start,
		     loader_load_address(cfg), &why)) {
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
 * Builds the VM of cfg and queues its vCPUs. On failure prints a message
 * naming the VM and returns NULL; what was allocated stays allocated (a
 * failed VM is rare and the machine is not short of pages for it).
 */
struct vm *vm_create(const struct vm_config *cfg, const struct boot_info *bi, u64 affinity)
{
	struct cpuid_policy *policy;
	struct vm *vm;
	u64 hpa;
	int err;

	if (!image_module(cfg, bi)) /* before any memory is taken for the VM */
		return NULL;
	vm = kzalloc(sizeof(*vm));
	policy = kzalloc(sizeof(*policy));
	hpa = page_alloc(cfg->mem / PAGE_SIZE, SZ_2M);
	if (!vm || !policy || !hpa) {
		kprintf("utsuwa: vm '%s': mem: not enough free memory for %lu MiB (%lu MiB free)\n",
			cfg->name, cfg->mem >> 20, (mm_free_pages() * PAGE_SIZE) >> 20);
		return NULL;
	}
	strlcpy(vm->name, cfg->name, sizeof(vm->name));
	vm->cfg = *cfg;
	vm->bi = bi;
	vm->id = nr_vms;
	vm->mem[0] = (struct vm_mem_region){ .gpa = 0, .size = cfg->mem, .hpa = hpa };
	vm->nr_mem = 1;
	vm->created_tsc = rdtsc();
	cpuid_policy_build(policy, host_cpuid, cfg->cpus, (u32)tsc_khz);
	vm->cpuid = policy;

	if (vm_load_image(vm))
		return NULL;
	err = add_devices(vm);
	if (!err)
		err = vm_apic_init(vm);
	if (!err)
		err = vm_platform_init(vm);
	if (!err)
		err = vendor->vm_init(vm);
	if (!err)
		err = create_vcpus(vm, affinity, &vm->start_ctx,
				   vm->linux_boot ? &vm->start_regs0 : NULL);
	if (err) {
		kprintf("utsuwa: vm '%s': cannot be set up (error %d)\n", cfg->name, err);
		return NULL;
	}
	vms[nr_vms++] = vm;
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

/* The last VM has ended: say how it went, then do what the config asked. */
static void all_ended(void)
{
	unsigned bad = nr_vms - vms_as_expected;

	kprintf("utsuwa: all VMs ended: %u as expected, %u not\n", vms_as_expected, bad);
	platform_done(on_done, bad ? 1 : 0);
}

static bool as_expected(const struct vm *vm, char *why, size_t n)
{
	const struct vm_config *c = &vm->cfg;

	if (c->expect_set && c->expect_stop) {
		fmt_snprintf(why, n, "expected to be stopped");
		return vm->state == VM_STOPPED;
	}
	int want = c->expect_set ? c->expect_code : 0;

	fmt_snprintf(why, n, "expected exit code %d", want);
	return vm->state == VM_ENDED && vm->exit_code == want;
}

void vm_end(struct vm *vm, enum vm_state how, int code)
{
	char why[48];
	bool ok, last;

	spin_lock(&vm->lock);
	if (vm->state != VM_RUNNING) {
		spin_unlock(&vm->lock);
		return;
	}
	vm->state = how;
	vm->exit_code = code;
	spin_unlock(&vm->lock);

	sched_vm_ended(vm);
	vm_console_flush(vm);
	if (how == VM_ENDED)
		kprintf("utsuwa: vm %s: exited with code %d\n", vm->name, code);
	ok = as_expected(vm, why, sizeof(why));
	if (ok)
		kprintf("utsuwa: vm %s: as expected\n", vm->name);
	else
		kprintf("utsuwa: vm %s: NOT as expected (%s)\n", vm->name, why);

	spin_lock(&vms_lock);
	vms_as_expected += ok;
	last = ++vms_ended == nr_vms;
	spin_unlock(&vms_lock);
	if (last)
		all_ended();
}

/* Called when no VM could be created at all. */
void vms_none(void)
{
	kprintf("utsuwa: no VM to run\n");
	platform_done(on_done, 1);
}
