/*
 * The machine's disks at boot (core/disks.c): PCI enumeration, the disk
 * drivers' probes, every disk's GPT, and the optional self-test
 * (disktest=<blockdev>, docs/config.md). Runs on the boot CPU before the
 * VMs are made, so their disk= can name the partitions.
 */
#ifndef CORE_DISKS_H
#define CORE_DISKS_H

/* The command line without the words this file takes (disktest=...), which
 * it remembers; the result is in a static buffer. */
const char *disks_take_options(const char *cmdline);

void disks_init(void);

#endif
