/* The control register state the hypervisor runs with, on every CPU. */
#include "arch/x86/cpu_tables.h"
#include "hv/guest_ctx.h"
#include "asm/cpu.h"
#include "asm/fninit.h"

void cpu_init_features(void)
{
	/*
	 * NE: x87 errors as #MF, not the legacy FERR# pin. MP with EM clear: a
	 * real FPU, WAIT honours TS. TS clear: no #NM on the first FXSAVE. CD/NW
	 * clear: caching on (SDM vol. 3A, "Control Registers"; "Cache Control").
	 */
	u64 cr0 = read_cr0();

	cr0 |= CR0_NE | CR0_MP;
	cr0 &= ~(CR0_EM | CR0_TS | CR0_CD | CR0_NW);
	write_cr0(cr0);
	/* OSFXSR: FXSAVE/FXRSTOR include the SSE state and SSE is usable;
	 * OSXMMEXCPT: unmasked SIMD FP exceptions raise #XM, not #UD. */
	write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);
	fninit();
}
