/*
 * Putting a guest image into a VM's memory and choosing the state its vCPUs
 * start in (loaders/). The start modes are documented in docs/config.md.
 */
#ifndef HV_LOADER_H
#define HV_LOADER_H

#include "hv/config.h"
#include "hv/guest_ctx.h"
#include "hv/types.h"

struct vm;
struct vcpu_regs;

/* Guest-physical layout the hypervisor builds for prot and long mode. */
#define GUEST_GDT_GPA 0x1000
#define GUEST_PML4_GPA 0x2000
#define GUEST_PDPT_GPA 0x3000
#define GUEST_PD_GPA 0x4000 /* four page directories: 4 GiB in 2 MiB pages */
#define GUEST_BOOT_END 0x8000
#define GUEST_SEL_CODE32 0x08
#define GUEST_SEL_DATA 0x10
#define GUEST_SEL_CODE64 0x18

#define REAL_DEFAULT_LOAD 0x1000
#define PROT_DEFAULT_LOAD 0x100000
#define REAL_STACK_TOP 0xfff0
#define REAL_STACK_STRIDE 0x1000
#define PROT_STACK_STRIDE 0x10000

/* The load address for cfg (its load= or the mode's default). */
u64 loader_load_address(const struct vm_config *cfg);

/* Copies a raw image to its load address. -E2BIG when it does not fit the
 * VM's memory (or, in real mode, the first 64 KiB), -EINVAL for a load
 * address that collides with the boot structures. *why gets a message. */
int load_raw(struct vm *vm, const void *image, u64 size, u64 load, const char **why);

/* Builds the GDT and page tables the mode needs in guest memory and fills
 * ctx; then regs for vCPU id: entry, stack, RSI = arg, RFLAGS = 2. */
int start_state_build(struct vm *vm, enum start_mode mode, struct guest_ctx *ctx);
void start_regs(const struct vm_config *cfg, u32 vcpu_id, struct vcpu_regs *regs);

/* The first 4 GiB identity-mapped in 2 MiB pages, tables at GUEST_PML4_GPA,
 * GUEST_PDPT_GPA and GUEST_PD_GPA. -E2BIG when they do not fit in RAM. */
int guest_identity_map_4g(struct vm *vm);

#endif
