/*
 * The configuration: which VMs to start and how. Syntax in docs/config.md;
 * the same text comes from the boot command line or from a boot module whose
 * name ends in ".cfg".
 */
#ifndef HV_CONFIG_H
#define HV_CONFIG_H

#include "hv/cpu_features.h"
#include "hv/types.h"

#define VM_NAME_MAX 16
#define VM_IMAGE_MAX 64
#define VM_CMDLINE_MAX 512
#define CONFIG_MAX_VMS 16
#define VM_MAX_VCPUS 16
#define MAX_CPUS 64
#define VM_MAX_DISKS 4
#define VM_MAX_PCI 4 /* pci=: functions passed through to one VM */
/* api_token=: the management API's bearer token (docs/api.md). */
#define API_TOKEN_MIN 16
#define API_TOKEN_MAX 64

/* pci=<bus>:<dev>.<fn>: a function of the machine passed through
 * (docs/passthrough.md). */
struct vm_pci {
	u8 bus, dev, fn;
};

/* disk=<spec>[,ro]: a virtio-blk device (devices/virtio_blk.h). */
struct vm_disk {
	char spec[VM_IMAGE_MAX]; /* "module:<boot module>" or "gpt:<partition name>" */
	bool ro;
};

enum start_mode {
	START_REAL16, /* mode=real: 16-bit real mode */
	START_PROT32, /* mode=prot: 32-bit protected mode, paging off, flat segments */
	START_LONG64, /* mode=long: 64-bit long mode, first 4 GiB identity-mapped */
};

/* on_crash= (Xen's on_crash): when the hypervisor stops a VM (a triple
 * fault, an exit it cannot handle), after the report and register dump. */
enum on_crash {
	ON_CRASH_STOP,  /* the VM stays stopped (the default) */
	ON_CRASH_RESET, /* the VM is reset, as by its reset line, and starts again */
	ON_CRASH_PAUSE, /* the VM is paused as it was, for the monitor to look at */
};

/* paging=: how guest-physical memory is virtualized (docs/config.md, "Paging"). */
enum vm_paging {
	PAGING_AUTO,   /* nested where the CPU has it (NPT, EPT), else shadow (the default) */
	PAGING_NESTED, /* nested paging; the VM is refused on a CPU without it */
	PAGING_SHADOW, /* shadow page tables (arch/x86/mmu/), on any CPU */
};

struct vm_config {
	char name[VM_NAME_MAX];
	char image[VM_IMAGE_MAX]; /* boot module name: raw, Multiboot or a Linux bzImage */
	char initrd[VM_IMAGE_MAX]; /* Linux: the initramfs module; empty: none */
	char cmdline[VM_CMDLINE_MAX]; /* Linux and Multiboot guests: their command line */
	enum start_mode mode;
	u64 mem;       /* bytes, a multiple of 2 MiB */
	u32 cpus;      /* vCPU count */
	u64 pin;       /* physical CPUs this VM owns alone; 0: shares the unpinned CPUs */
	u64 load;      /* guest-physical load address and entry; 0: the mode's default */
	u32 arg;       /* passed to the guest at start (arg=); 0 when not given */
	bool arg_set;  /* arg= was given */
	bool expect_set;
	bool expect_stop; /* test harness: this VM is expected to be stopped by the hypervisor */
	int expect_code;  /* test harness: expected HC_EXIT code */
	enum on_crash on_crash; /* what a stop (triple fault, bad exit) does to the VM */
	enum vm_paging paging;  /* paging=nested|shadow; PAGING_AUTO when not given */
	bool exitport;          /* exitport=on: port 0xf4 ends the VM (core/vm_debug_exit.c) */
	struct vm_disk disks[VM_MAX_DISKS]; /* in the guest's PCI slot order */
	u32 nr_disks;
	/* net or net=mac=<mac>: a virtio-net device on the switch
	 * (devices/virtio_net.h); without mac= one is derived from the name. */
	bool net;
	u8 mac[6];
	/* cpu=pool:NAME: the VM sees only pool NAME's features (include/hv/
	 * cpu_features.h); empty (cpu=host, the default): the host's. */
	char cpu_pool[CPU_POOL_NAME_MAX];
	struct vm_pci pci[VM_MAX_PCI]; /* in the guest's slot order (docs/passthrough.md) */
	u32 nr_pci;
	/* tsc_khz=: the guest TSC's rate, scaled in software when it is not
	 * the host's (hv/vm_clock.h); 0: the host's. */
	u32 tsc_khz;
};

/* tsc_khz= bounds, as a snapshot's VM section checks them: 1 MHz to 100 GHz. */
#define VM_TSC_KHZ_MIN 1000
#define VM_TSC_KHZ_MAX 100000000

/* hostip= and apiport= (docs/config.md): the hypervisor's own address on the
 * switch (core/netstack.c) and the management API's TCP port. */
#define API_PORT_DEFAULT 8080
struct host_net_config {
	bool on;        /* hostip= was given: without it there is no network stack */
	bool dhcp;      /* hostip=dhcp; else ip/prefix */
	u8 ip[4];
	u8 prefix;      /* 1..32 */
	bool gw_set;    /* ,gw= */
	u8 gw[4];
	bool mac_set;   /* ,mac=; else derived (core/netstack.c) */
	u8 mac[6];
	u16 api_port;   /* apiport=, API_PORT_DEFAULT when not given */
	/* Live migration (docs/migration.md): migrate_key= is the key both
	 * hosts share (16-64 characters as api_token's; never logged, never
	 * sent); empty: no migration in or out. */
	char migrate_key[API_TOKEN_MAX + 1];
	u16 migrate_port;        /* migrate_port=, MIGRATE_PORT_DEFAULT */
	u32 migrate_downtime_ms; /* migrate_downtime=, MIGRATE_DOWNTIME_DEFAULT_MS */
	bool migrate_no_precopy; /* migrate_precopy=0: stop the VM, then copy (docs/migration.md) */
};
#define MIGRATE_PORT_DEFAULT 8081
#define MIGRATE_DOWNTIME_DEFAULT_MS 50
#define MIGRATE_DOWNTIME_MAX_MS 60000

enum on_done {
	DONE_HALT,       /* when every VM has ended, say so and halt */
	DONE_QEMU_EXIT,  /* ... then leave QEMU through isa-debug-exit at port 0xf4 */
	DONE_BOCHS_EXIT, /* ... then leave Bochs through its shutdown port 0x8900 */
};

struct hv_config {
	struct vm_config vms[CONFIG_MAX_VMS];
	unsigned nr_vms;
	enum on_done on_done;
	u32 slice_ms; /* scheduler time slice */
	char console[VM_NAME_MAX]; /* console=: the VM attached at boot; empty: the monitor */
	char api_token[API_TOKEN_MAX + 1]; /* api_token=; empty: one is made at boot */
	u64 api_image_max; /* api_image_max=: the largest upload; 0: the default */
	struct host_net_config host;
	/* pool=NAME:SET, defined at boot (docs/migration.md, "CPU-feature pools"). */
	struct cpu_pool pools[CPU_POOLS_MAX];
	unsigned nr_pools;
};

typedef void (*config_report_fn)(void *ctx, const char *msg);

/* Sets the defaults (no VMs, halt when done, 10 ms slices). */
void config_init(struct hv_config *cfg);

/*
 * Parses whitespace-separated words (a command line, or a config module where
 * '#' starts a comment to the end of its line). Unknown words that are not
 * "key=value" for a known key are reported. A VM entry with a bad field is
 * reported (naming the VM and the field) and dropped; the others are kept.
 * Returns the number of problems reported.
 */
int config_parse(struct hv_config *cfg, const char *text, size_t len, config_report_fn report,
		 void *ctx);

#endif
