/* A virtual machine: its memory, vCPUs, buses and devices. */
#ifndef HV_VM_H
#define HV_VM_H

#include "hv/types.h"
#include "hv/bus.h"
#include "hv/config.h"
#include "hv/device.h"
#include "hv/gmem.h"
#include "hv/guest_ctx.h"
#include "hv/irq.h"
#include "hv/spinlock.h"
#include "hv/vcpu.h"
#include "hv/vm_clock.h"
#include "hv/vm_console.h"
#include "arch/x86/svm/svm_state.h"
#include "arch/x86/vmx/vmx_state.h"

struct vcpu;
struct uart8250;
struct apic_bus;
struct vioapic;
struct pic8259;
struct pit8254;
struct rtc_cmos;
struct pci_host;
struct acpi_pm;
struct testdev;
struct cpuid_policy;
struct intercept_policy;

enum vm_state {
	VM_RUNNING,
	VM_ENDED,   /* HC_EXIT, poweroff */
	VM_STOPPED, /* stopped by the hypervisor: a fault, a bad exit, a report */
	VM_RESETTING, /* the guest asked for a reset: its vCPUs leave, then it restarts */
	VM_PAUSED,  /* the monitor paused it: its vCPUs are parked, its clock stands still */
};

struct vm {
	char name[VM_NAME_MAX];
	u32 id;
	struct vm_config cfg;

	struct gmem gmem; /* guest RAM and its nested tables (include/hv/gmem.h) */
	/* Shadow page tables instead of nested paging (paging=, core/vm_paging.c):
	 * the hardware walks each vCPU's v->shadow; gmem's nested tables stay
	 * the record of RAM and of what dirty logging protects. */
	bool shadow;

	struct vcpu *vcpus[VM_MAX_VCPUS];
	unsigned nr_vcpus;

	struct bus pio, mmio;
	struct vm_devices devices; /* every device, in creation order (core/device.c) */
	/* Devices other code reaches directly: wiring, not lifecycle. */
	struct uart8250 *uart;
	struct apic_bus *apic_bus; /* the vCPUs' local APICs (core/vm_apic.c) */
	struct vioapic *ioapic;
	struct irq_sink isa_irq;  /* ISA lines: to the PICs and the I/O APIC */
	struct pic8259 *pic;      /* core/vm_platform.c */
	struct pci_host *pci;
	struct acpi_pm *acpi_pm;
	const struct cpuid_policy *cpuid;
	/* What exits (core/intercept.c); the back end's maps follow it. */
	struct intercept_policy *intercepts;
	struct vm_clock clock; /* the guest TSC and guest time (hv/vm_clock.h) */
	u64 created_unix; /* wall-clock time at guest TSC 0 (s since 1970, UTC): RTC, kvmclock */

	struct vm_console console; /* its output ring and input queue (hv/vm_console.h) */

	spinlock_t lock;        /* guards state, exit_code */
	enum vm_state state;
	int exit_code;
	bool counted_ended;     /* counted among the ended VMs (core/vm.c, vms_lock) */
	bool reset_claimed;     /* the last vCPU to stop has taken the reset on (core/sched.c) */
	unsigned resets;        /* how often the guest has reset the VM */
	/* HC_WATCHDOG (core/vm_watchdog.c): the guest time in ns by which the
	 * guest must renew it (0: off), and the period it asked for. */
	u64 watchdog_deadline;
	u32 watchdog_ms;
	u64 unassigned;         /* accesses to guest-physical addresses with nothing there (core/exit_mem.c) */
	u64 overhead_bytes;     /* host memory it took at creation beyond its RAM */
	/* Built for a saved state (a restore, an incoming migration) that
	 * vm_state_start has not started yet: its NIC is off the switch. */
	bool awaiting_state;
	/* The host TSC at the start of the first slice any of its vCPUs ran
	 * (core/vcpu_run.c, run_slice; 0: none yet), just before the first VM
	 * entry. GET /vms/NAME: first_entry_tsc. */
	u64 first_entry_tsc;
	/* The host TSC as the API's start route took the request on (0: never
	 * started through it). GET /vms/NAME: start_tsc. */
	u64 start_tsc;

	/* Where the image starts, as the loader left it, for every (re)start. */
	const struct boot_info *bi;
	bool pc_boot;                /* a bzImage or Multiboot kernel: vCPU 0 starts, the others wait for SIPI */
	struct guest_ctx start_ctx;  /* architectural state of a starting vCPU */
	struct vcpu_regs start_regs0; /* pc_boot: vCPU 0's registers (Linux: boot_params in RSI) */

	union {
		struct svm_vm svm;
		struct vmx_vm vmx;
	} arch;
};

struct boot_info;

/* The VMs that exist, by slot (vm->id); NULL: a free slot. Slots change
 * only on CPU 0 (boot, the monitor), whose tick is the one that walks them
 * in interrupt context. nr_vms counts the VMs in them. */
extern struct vm *vms[CONFIG_MAX_VMS];
extern unsigned nr_vms;

/* Frees everything the VM holds (its vCPUs off every CPU); vm_forget takes
 * it out of vms[] first. */
void vm_free(struct vm *vm);
void vm_forget(struct vm *vm);

/* Builds a VM from its configuration (memory, image, devices, vCPUs allowed
 * on the CPUs in affinity) and lists it in vms[]. NULL, with a message
 * naming the VM, on failure; nothing is kept then. */
struct vm *vm_create(const struct vm_config *cfg, const struct boot_info *bi, u64 affinity);
/* What a VM created here with cpu=host sees (the host's report for pools:
 * GET /host, the monitor's features). CPU 0 only. */
struct cpu_featureset;
void vm_host_features(struct cpu_featureset *out);
/* The same in two steps (a restore loads its state between them): build
 * without listing, the image loaded only if load_image (a restore fills
 * memory and vCPUs from a snapshot instead); then list it in the slot it
 * was given. Only one VM may be built and not yet listed at a time (CPU 0). */
struct vm *vm_build(const struct vm_config *cfg, const struct boot_info *bi, u64 affinity,
		    bool load_image);
void vm_list(struct vm *vm);
/* Puts its vCPUs on the run queue. */
void vm_start(struct vm *vm);
/* What happens when the last VM has ended; and the case of no VM at all. */
void vms_set_on_done(enum on_done how);
void vms_none(void);

/* Loads the VM's image into its memory and sets the start state (creation
 * and every reset). 0, or -EINVAL with a message. */
int vm_load_image(struct vm *vm);

/* The guest asked for a reset (core/vm_reset.c): stop its vCPUs; the last
 * to stop calls vm_reset, which puts the VM back at power-on and starts it
 * again. Other VMs carry on. */
void vm_reset_request(struct vm *vm);
void vm_reset(struct vm *vm);

/* Ends the VM: VM_ENDED with a code (the guest asked), or VM_STOPPED (a report
 * has been printed). Its vCPUs leave the CPUs; other VMs carry on. */
void vm_end(struct vm *vm, enum vm_state how, int code);

#endif
