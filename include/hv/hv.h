/* The hypervisor proper, once the machine is set up (core/hv.c). */
#ifndef HV_HV_H
#define HV_HV_H

#include "hv/bootinfo.h"
#include "hv/percpu.h"

/* On the boot CPU, with every CPU online: create the VMs and run. */
__noreturn void hv_main(const struct boot_info *bi);
/* On every other CPU, once its own setup is done: wait for work and run vCPUs. */
__noreturn void hv_ap_main(struct percpu *cpu);

/* The CPUs that run vCPUs; the boot information (modules: VM images). */
u64 hv_cpus_ready(void);
const struct boot_info *hv_boot_info(void);

#endif
