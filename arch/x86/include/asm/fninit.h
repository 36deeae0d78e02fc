/* FNINIT: the x87 FPU to its initial state (SDM vol. 1, "FINIT/FNINIT"). */
#ifndef ASM_FNINIT_H
#define ASM_FNINIT_H

static inline void fninit(void) { __asm__ volatile("fninit" ::: "memory"); }

#endif
