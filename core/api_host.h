/*
 * What the management API needs of the machine (core/api_host.c), kept in
 * one small file that the host tests replace with fakes: the machine's
 * figures for GET /host, and the console tap of GET /vms/NAME/console.
 */
#ifndef CORE_API_HOST_H
#define CORE_API_HOST_H

#include "hv/cpu_features.h"
#include "hv/types.h"

struct vm;

struct api_host_info {
	const char *backend; /* "svm" or "vmx" */
	unsigned cpus;       /* CPUs that run vCPUs */
	u64 free_mib;
	u64 uptime_s;
	u64 api_last_request_tsc; /* hv/api_tcp.h: api_tcp_last_request_tsc */
	struct cpu_featureset cpu; /* what a VM here sees (vm_host_features) */
};

void api_host_info(struct api_host_info *h);
/* 64 bits from RDRAND (if the CPU has it) mixed with the TSC: the token
 * made at boot, the migration stream's nonces (core/migrate.c). */
u64 api_entropy(void);
/* The VM's guest TSC now (hv/vm_clock.h: vm_guest_tsc). */
u64 api_vm_guest_tsc(const struct vm *vm);
/* The host TSC at which the running VM's guest TSC read 0 (vm_host_tsc_for). */
u64 api_vm_host_tsc_at_guest_0(const struct vm *vm);

/*
 * The VM's console output from *cursor on (a count of bytes it ever wrote,
 * hv/vm_console.h's total): up to n bytes into buf; *cursor moves past what
 * was copied, and past what the VM's ring no longer holds (*lost says how
 * much). The serial console's view is not touched.
 */
u32 api_console_read(struct vm *vm, u64 *cursor, char *buf, u32 n, u64 *lost);
/* Where a reader starts: the beginning of the line the VM is on (a prompt). */
u64 api_console_start(struct vm *vm);
/* Typed input for the VM's UART: how many of the n bytes fit its queue. */
u32 api_console_write(struct vm *vm, const u8 *s, u32 n);

#endif
