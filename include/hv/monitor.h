/*
 * The monitor: the hypervisor's command prompt on the console (docs/console.md).
 * Commands come from the console's line when no VM is attached, and run on
 * CPU 0's scheduler loop between slices, with interrupts on: never in the
 * tick, since lifecycle actions wait for other CPUs to leave a VM.
 */
#ifndef HV_MONITOR_H
#define HV_MONITOR_H

#include "hv/types.h"

/* At boot (console=<name>): gives that VM the console, or says why not;
 * an empty name leaves the console with the monitor. */
void monitor_boot_attach(const char *name);
/* CPU 0, between slices: shows the console's switches, edits the line
 * typed so far, runs each command line completed. */
void monitor_service(void);
/* Runs one command line (without its line end); its output on the
 * console. 0, or a negative errno after one line saying what was wrong. */
int monitor_run(const char *line);

#endif
