/*
 * Names for CPUID feature bits, as Linux's /proc/cpuinfo spells them (upper
 * case): for messages that say which features a host lacks (a migration's
 * refusal; later the feature pools of issue 14). Pure code, host-tested.
 */
#ifndef HV_CPU_FEATURES_H
#define HV_CPU_FEATURES_H

#include "hv/types.h"

/* CPUID leaf (and subleaf), register (0 EAX, 1 EBX, 2 ECX, 3 EDX), bit:
 * its name, or NULL for a reserved or unnamed bit. */
const char *cpu_feature_name(u32 leaf, u32 subleaf, unsigned reg, unsigned bit);

/* The names of mask's bits in that register, space-separated, unnamed ones
 * as "bitN", into buf (always terminated; cut short with "..." when it does
 * not fit). Returns the length written. */
size_t cpu_feature_list(char *buf, size_t size, u32 leaf, u32 subleaf, unsigned reg, u32 mask);

#endif
