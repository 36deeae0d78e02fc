/* Starting the other CPUs (arch/x86/smp.c). */
#ifndef ARCH_X86_SMP_H
#define ARCH_X86_SMP_H

#include "hv/bootinfo.h"
#include "hv/types.h"

/*
 * The page below 1 MiB the AP trampoline will use: usable RAM that holds
 * neither a boot module nor the loader's info (0x8000 when it can). Pick it
 * before anything else below 1 MiB could be written. 0 when there is none.
 */
u64 smp_pick_trampoline(const struct boot_info *bi);

/*
 * Starts the CPUs with the given APIC IDs (MADT order; the boot CPU's own ID
 * is skipped) through INIT-SIPI-SIPI, one at a time, each waiting until it
 * is online or given up on. They get percpu ids 1, 2, ... in that order;
 * nr_cpus counts the ones that came up. Returns how many did not.
 */
unsigned smp_start_aps(const u32 *apic_ids, unsigned n, u64 trampoline_pa);

#endif
