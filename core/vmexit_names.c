/* The exit reasons' names, as the monitor's info and the API's GET /vms/NAME
 * show them (include/hv/vmexit.h). */
#include "hv/vmexit.h"

static const char *const names[NR_VMEXIT_REASONS] = {
	[VMEXIT_NONE] = "none",
	[VMEXIT_CPUID] = "cpuid",
	[VMEXIT_MSR_READ] = "msr-read",
	[VMEXIT_MSR_WRITE] = "msr-write",
	[VMEXIT_IO] = "io",
	[VMEXIT_HLT] = "hlt",
	[VMEXIT_HYPERCALL] = "hypercall",
	[VMEXIT_MEM] = "mem",
	[VMEXIT_SHUTDOWN] = "shutdown",
	[VMEXIT_INTR] = "host-interrupt",
	[VMEXIT_IRQ_WINDOW] = "irq-window",
	[VMEXIT_XSETBV] = "xsetbv",
	[VMEXIT_INVD] = "invd",
	[VMEXIT_UD] = "ud",
	[VMEXIT_CR_ACCESS] = "cr-access",
	[VMEXIT_DR_ACCESS] = "dr-access",
	[VMEXIT_INVLPG] = "invlpg",
	[VMEXIT_EXCEPTION] = "exception",
	[VMEXIT_MACHINE_CHECK] = "machine-check",
	[VMEXIT_LTR] = "ltr",
	[VMEXIT_RDTSC] = "rdtsc",
	[VMEXIT_ENTRY_FAIL] = "entry-fail",
	[VMEXIT_UNHANDLED] = "unhandled",
};
_Static_assert(NR_VMEXIT_REASONS == 23, "a vmexit_reason without a name in names");

const char *vmexit_name(unsigned reason)
{
	return reason < NR_VMEXIT_REASONS && names[reason] ? names[reason] : "?";
}
