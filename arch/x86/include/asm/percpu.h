/* this_cpu(): the per-CPU block, through the GS base set by percpu_init_cpu(). */
#ifndef ASM_PERCPU_H
#define ASM_PERCPU_H

#include "hv/percpu.h"
#include "asm/cpu.h"

static inline struct percpu *this_cpu(void)
{
	struct percpu *p;

	__asm__ volatile("movq %%gs:0, %0" : "=r"(p));
	return p;
}

/* Points GS at this CPU's block; called once per CPU, early. */
static inline void percpu_set_base(struct percpu *p)
{
	p->self = p;
	wrmsr(MSR_GS_BASE, (u64)(uintptr_t)p);
}

#endif
