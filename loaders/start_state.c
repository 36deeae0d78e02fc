/*
 * The state a vCPU starts in, per start mode: real mode at 0:load; 32-bit
 * protected mode with flat segments; 64-bit long mode with the first 4 GiB
 * identity-mapped. Segment attributes are in the VMCB's packed form
 * (include/hv/guest_ctx.h).
 */
#include "hv/loader.h"
#include "hv/vcpu.h"
#include "hv/vm.h"
#include "lib/string.h"

/* Descriptors (SDM vol. 3, 3.4.5): base 0, limit 4 GiB, granularity 4 KiB. */
#define DESC_CODE32 0x00cf9b000000ffffULL
#define DESC_DATA 0x00cf93000000ffffULL
#define DESC_CODE64 0x00af9b000000ffffULL

#define ATTR_CODE16 0x09b /* present, S, execute/read, accessed */
#define ATTR_DATA16 0x093 /* present, S, read/write, accessed */
#define ATTR_CODE32 0xc9b /* + D/B, G */
#define ATTR_DATA32 0xc93
#define ATTR_CODE64 0xa9b /* + L, G */
#define ATTR_TSS_BUSY 0x08b
#define ATTR_LDT 0x082

#define PTE_P BIT(0)
#define PTE_RW BIT(1)
#define PTE_PS BIT(7)

static struct seg flat(u16 sel, u16 attr)
{
	return (struct seg){ .sel = sel, .attr = attr, .limit = 0xffffffff, .base = 0 };
}

static int build_gdt(struct vm *vm)
{
	u64 *gdt = gmem_map(vm, GUEST_GDT_GPA, 4 * 8, true);

	if (!gdt)
		return -E2BIG;
	gdt[0] = 0;
	gdt[GUEST_SEL_CODE32 / 8] = DESC_CODE32;
	gdt[GUEST_SEL_DATA / 8] = DESC_DATA;
	gdt[GUEST_SEL_CODE64 / 8] = DESC_CODE64;
	return 0;
}

/* PML4 -> PDPT -> four PDs of 2 MiB pages covering 0-4 GiB (also the Linux
 * loader's: loaders/linux.c). */
int guest_identity_map_4g(struct vm *vm)
{
	u64 *pml4 = gmem_map(vm, GUEST_PML4_GPA, PAGE_SIZE, true);
	u64 *pdpt = gmem_map(vm, GUEST_PDPT_GPA, PAGE_SIZE, true);
	u64 *pd = gmem_map(vm, GUEST_PD_GPA, 4 * PAGE_SIZE, true);

	if (!pml4 || !pdpt || !pd)
		return -E2BIG;
	memset(pml4, 0, PAGE_SIZE);
	memset(pdpt, 0, PAGE_SIZE);
	pml4[0] = GUEST_PDPT_GPA | PTE_P | PTE_RW;
	for (u64 i = 0; i < 4; i++)
		pdpt[i] = (GUEST_PD_GPA + i * PAGE_SIZE) | PTE_P | PTE_RW;
	for (u64 i = 0; i < 4 * 512; i++)
		pd[i] = (i * SZ_2M) | PTE_P | PTE_RW | PTE_PS;
	return 0;
}

int start_state_build(struct vm *vm, enum start_mode mode, struct guest_ctx *c)
{
	int err;

	memset(c, 0, sizeof(*c));
	c->tr = (struct seg){ .attr = ATTR_TSS_BUSY, .limit = 0x67 };
	c->ldtr = (struct seg){ .attr = ATTR_LDT, .limit = 0xffff };

	if (mode == START_REAL16) {
		struct seg code = { .attr = ATTR_CODE16, .limit = 0xffff };
		struct seg data = { .attr = ATTR_DATA16, .limit = 0xffff };

		c->cs = code;
		c->ds = c->es = c->fs = c->gs = c->ss = data;
		c->idtr.limit = 0x3ff; /* the real-mode IVT at 0 */
		c->gdtr.limit = 0xffff;
		c->cr0 = CR0_ET;
		return 0;
	}

	err = build_gdt(vm);
	if (err)
		return err;
	c->gdtr = (struct dtable){ .base = GUEST_GDT_GPA, .limit = 4 * 8 - 1 };
	c->ds = c->es = c->fs = c->gs = c->ss = flat(GUEST_SEL_DATA, ATTR_DATA32);
	c->cr0 = CR0_PE | CR0_ET | CR0_NE;
	if (mode == START_PROT32) {
		c->cs = flat(GUEST_SEL_CODE32, ATTR_CODE32);
		return 0;
	}
	err = guest_identity_map_4g(vm);
	if (err)
		return err;
	c->cs = flat(GUEST_SEL_CODE64, ATTR_CODE64);
	c->cr0 |= CR0_PG | CR0_WP;
	c->cr3 = GUEST_PML4_GPA;
	c->cr4 = CR4_PAE;
	c->efer = EFER_LME | EFER_LMA;
	return 0;
}

void start_regs(const struct vm_config *cfg, u32 id, struct vcpu_regs *regs)
{
	u64 load = loader_load_address(cfg);

	memset(regs, 0, sizeof(*regs));
	regs->rip = load;
	regs->rflags = RFLAGS_FIXED;
	regs->gpr[GPR_RSI] = cfg->arg;
	regs->gpr[GPR_RSP] = cfg->mode == START_REAL16 ? REAL_STACK_TOP - id * REAL_STACK_STRIDE
						       : load - (u64)id * PROT_STACK_STRIDE;
}
