/*
 * Writing cache lines back to memory for a device that reads memory without
 * snooping the CPU's caches (a VT-d unit with ECAP.C = 0): CLFLUSH each line
 * (SDM vol. 2A, CLFLUSH), fenced on both sides since CLFLUSH is ordered only
 * against writes to the same line (SDM vol. 3A, 9.2.2).
 */
#ifndef ASM_CLFLUSH_H
#define ASM_CLFLUSH_H

#include "hv/types.h"

/* line: the CLFLUSH line size, CPUID.01H:EBX[15:8] * 8 bytes. */
static inline void clflush_range(const void *p, u64 len, u64 line)
{
	u64 a = (u64)(uintptr_t)p & ~(line - 1), end = (u64)(uintptr_t)p + len;

	__asm__ volatile("mfence" ::: "memory");
	for (; a < end; a += line)
		__asm__ volatile("clflush (%0)" ::"r"(a) : "memory");
	__asm__ volatile("mfence" ::: "memory");
}

#endif
