/*
 * The hypervisor proper: read the configuration, turn virtualization on
 * everywhere, create the VMs and start scheduling them on every CPU.
 */
#include "hv/hv.h"
#include "drivers/iommu.h"
#include "hv/api.h"
#include "hv/config.h"
#include "core/disks.h"
#include "hv/monitor.h"
#include "hv/netstack.h"
#include "hv/console.h"
#include "hv/cpu_features.h"
#include "hv/platform.h"
#include "hv/sched.h"
#include "hv/vendor.h"
#include "hv/uplink.h"
#include "hv/vm.h"
#include "hv/vm_verdict.h"
#include "hv/vm_passthru.h"
#include "drivers/pci.h"
#include "asm/cpu.h"
#include "asm/percpu.h"
#include "lib/string.h"

const struct vendor_ops *vendor_select(void);

static struct hv_config config;
static const struct boot_info *boot_info;
static volatile int hv_phase;       /* 1: enable virtualization; 2: run */
static volatile u64 cpus_ready, cpus_failed;

static void report(void *ctx, const char *msg)
{
	kprintf("%s\n", msg);
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	const char *end = strchr(s, ' ');

	if (end)
		n = (size_t)(end - s);
	return n >= m && !strncmp(s + n - m, suffix, m);
}

/* Loaders put the kernel's own path first on its command line (QEMU's
 * -kernel, GRUB): a first word without '=' is that, not configuration. */
static const char *skip_kernel_path(const char *cmdline)
{
	const char *p = cmdline;

	while (*p == ' ')
		p++;
	for (const char *q = p; *q && *q != ' '; q++)
		if (*q == '=')
			return p;
	while (*p && *p != ' ')
		p++;
	return p;
}

static void read_config(const struct boot_info *bi)
{
	/* disktest= is the disks' (core/disks.c), not the configuration's. */
	const char *cmdline = disks_take_options(skip_kernel_path(bi->cmdline));

	config_init(&config);
	config_parse(&config, cmdline, strlen(cmdline), report, NULL);
	for (unsigned i = 0; i < bi->nr_mods; i++)
		if (has_suffix(bi->mods[i].cmdline, ".cfg"))
			config_parse(&config, (const char *)(uintptr_t)bi->mods[i].start,
				     bi->mods[i].end - bi->mods[i].start, report, NULL);
	vms_set_on_done(config.on_done);
	vm_verdict_enable(config.on_done != DONE_HALT); /* the test harness's runs */
}

static void kick(void *ctx)
{
	/* Nothing to do: the interrupt itself made the CPU leave guest mode. */
}

static void enable_all_cpus(void)
{
	u64 all = nr_cpus >= 64 ? ~0ULL : BIT(nr_cpus) - 1;

	if (vendor->cpu_enable())
		platform_done(config.on_done, 1);
	cpus_ready = BIT(0);
	hv_phase = 1;
	for (u64 spins = 0; (cpus_ready | cpus_failed) != all; spins++) {
		if (spins == 2000000000ULL) {
			kprintf("utsuwa: CPUs %lx did not report; going on without them\n",
				all & ~(cpus_ready | cpus_failed));
			break;
		}
		cpu_relax();
	}
}

/* A VM's CPUs: its pin list, owned alone, or every CPU nobody owns. */
static u64 vm_affinity(const struct vm_config *c, u64 *owned, u64 pinned_by_all)
{
	if (!c->pin)
		return cpus_ready & ~pinned_by_all;
	if (c->pin & ~cpus_ready) {
		kprintf("config: vm '%s': field 'pin': CPU list %lx includes CPUs this machine "
			"does not have or could not enable (usable: %lx); vm not started\n",
			c->name, c->pin, cpus_ready);
		return 0;
	}
	if (c->pin & *owned) {
		kprintf("config: vm '%s': field 'pin': CPUs %lx are already owned by another VM; "
			"vm not started\n", c->name, c->pin & *owned);
		return 0;
	}
	*owned |= c->pin;
	return c->pin;
}

static unsigned count_bits(u64 mask)
{
	unsigned n = 0;

	for (; mask; mask &= mask - 1)
		n++;
	return n;
}

static void create_vms(const struct boot_info *bi)
{
	u64 owned = 0, pinned_by_all = 0;

	for (unsigned i = 0; i < config.nr_vms; i++)
		pinned_by_all |= config.vms[i].pin & cpus_ready;
	for (unsigned i = 0; i < config.nr_vms; i++) {
		const struct vm_config *c = &config.vms[i];
		u64 affinity = vm_affinity(c, &owned, pinned_by_all);
		struct vm *vm;

		if (!affinity) {
			if (!c->pin)
				kprintf("config: vm '%s': every CPU is pinned to other VMs; vm not "
					"started\n", c->name);
			continue;
		}
		vm = vm_create(c, bi, affinity);
		if (vm)
			/* The TSC offset goes in the log: the Linux-boot benchmark
			 * (bench/linux-boot.sh) adds it to the guest's TSC. */
			kprintf("utsuwa: vm %s: %u vCPU%s, %lu MiB (+%lu KiB of the hypervisor's), "
				"%s mode%s, CPUs %lx, TSC 0 at host TSC %lu%s\n",
				vm->name, c->cpus, c->cpus > 1 ? "s" : "", c->mem >> 20, vm->overhead_bytes >> 10,
				c->mode == START_REAL16 ? "real" : c->mode == START_PROT32 ? "prot" : "long",
				vm->shadow ? ", shadow paging" : "", affinity, vm_host_tsc_for(vm, 0),
				vm->clock.scaled ? ", TSC scaled (RDTSC exits)" : "");
	}
}

u64 hv_cpus_ready(void)
{
	return cpus_ready;
}

const struct boot_info *hv_boot_info(void)
{
	return boot_info;
}

__noreturn void hv_main(const struct boot_info *bi)
{
	boot_info = bi;
	read_config(bi);
	vendor = vendor_select();
	if (!vendor) {
		kprintf("utsuwa: this CPU has neither AMD-V (SVM) nor Intel VT-x: cannot run VMs\n");
		platform_done(config.on_done, 1);
	}
	enable_all_cpus();
	sched_init(config.slice_ms);
	irq_register(VECTOR_TIMER, sched_tick, NULL);
	irq_register(VECTOR_KICK, kick, NULL);
	/* The API exists only on the hypervisor's own address (hostip=): its
	 * token is made and printed only then. */
	if (config.host.on)
		api_init(config.api_token, config.api_image_max);
	/* The functions VMs are to have are kept from the drivers that probe next. */
	pci_scan();
	iommu_init(); /* every function blocked before a driver turns on bus mastering */
	vm_passthru_reserve(&config);
	disks_init(); /* before the VMs: their disks are these disks' partitions */
	uplink_init(); /* the NIC, after the PCI scan disks_init did */
	iommu_report();
	netstack_init(&config.host); /* its port before the VMs': none may take its MAC */
	for (unsigned i = 0; i < config.nr_pools; i++) /* before the VMs that name them */
		cpu_pool_define(config.pools[i].name, &config.pools[i].set);
	create_vms(bi);
	if (!nr_vms)
		vms_none();
	monitor_boot_attach(config.console);
	for (unsigned i = 0; i < CONFIG_MAX_VMS; i++)
		if (vms[i])
			vm_start(vms[i]);
	kprintf("utsuwa: %u VM%s on %u CPUs (%s), slice %u ms\n", nr_vms, nr_vms == 1 ? "" : "s",
		count_bits(cpus_ready), vendor->name, config.slice_ms);
	hv_phase = 2;
	sched_timer_start();
	sched_cpu_loop();
}

__noreturn void hv_ap_main(struct percpu *cpu)
{
	while (hv_phase < 1)
		cpu_relax();
	if (vendor->cpu_enable()) {
		__atomic_or_fetch(&cpus_failed, BIT(cpu->id), __ATOMIC_RELEASE);
		for (;;)
			safe_halt();
	}
	__atomic_or_fetch(&cpus_ready, BIT(cpu->id), __ATOMIC_RELEASE);
	while (hv_phase < 2)
		cpu_relax();
	sched_timer_start();
	sched_cpu_loop();
}
