/* Raw images and the start state of each mode, in a VM whose RAM is a host buffer. */
#include "unit.h"
#include <string.h>
#include "hv/loader.h"
#include "hv/vcpu.h"
#include "hv/vm.h"
#include "fake_gmem.h"

static struct vm *make_vm(enum start_mode mode, u64 mem, u32 cpus)
{
	static struct vm vm;
	static u8 *ram;

	free(ram);
	ram = calloc(1, mem);
	memset(&vm, 0, sizeof(vm));
	fake_gmem_attach(&vm, ram, mem);
	vm.cfg.mode = mode;
	vm.cfg.mem = mem;
	vm.cfg.cpus = cpus;
	return &vm;
}

TEST(long_mode_identity_map_and_segments)
{
	struct vm *vm = make_vm(START_LONG64, 16 << 20, 2);
	struct guest_ctx c;
	struct vcpu_regs r;

	vm->cfg.arg = 0xabcd;
	CHECK_EQ(start_state_build(vm, START_LONG64, &c), 0);
	CHECK_EQ(c.cr3, GUEST_PML4_GPA);
	CHECK_EQ(c.efer, EFER_LME | EFER_LMA);
	CHECK(c.cr0 & CR0_PG);
	CHECK(c.cr0 & CR0_PE);
	CHECK_EQ(c.cs.sel, GUEST_SEL_CODE64);
	CHECK(c.cs.attr & SEG_ATTR_L);
	CHECK_EQ(guest_ctx_mode(&c, 2), MODE_LONG64);
	u64 *pml4 = fake_gmem_ptr(vm, GUEST_PML4_GPA, 8);
	u64 *pd = fake_gmem_ptr(vm, GUEST_PD_GPA, 4 * 4096);
	CHECK_EQ(pml4[0], GUEST_PDPT_GPA | 3);
	CHECK_EQ(pd[1], 0x200000 | 0x83);
	CHECK_EQ(pd[2047], 0xffe00000 | 0x83ULL); /* the last 2 MiB below 4 GiB */
	u64 *gdt = fake_gmem_ptr(vm, GUEST_GDT_GPA, 32);
	CHECK_EQ(gdt[GUEST_SEL_CODE64 / 8], 0x00af9b000000ffffULL);
	start_regs(&vm->cfg, 1, &r);
	CHECK_EQ(r.rip, PROT_DEFAULT_LOAD);
	CHECK_EQ(r.gpr[GPR_RSP], PROT_DEFAULT_LOAD - PROT_STACK_STRIDE);
	CHECK_EQ(r.gpr[GPR_RSI], 0xabcd);
	CHECK_EQ(r.rflags, 2);
}

TEST(real_and_protected_modes)
{
	struct vm *vm = make_vm(START_REAL16, 2 << 20, 1);
	struct guest_ctx c;
	struct vcpu_regs r;

	CHECK_EQ(start_state_build(vm, START_REAL16, &c), 0);
	CHECK_EQ(guest_ctx_mode(&c, 2), MODE_REAL);
	CHECK_EQ(c.cs.limit, 0xffff);
	CHECK_EQ(c.idtr.limit, 0x3ff);
	start_regs(&vm->cfg, 0, &r);
	CHECK_EQ(r.rip, REAL_DEFAULT_LOAD);
	CHECK_EQ(r.gpr[GPR_RSP], REAL_STACK_TOP);

	vm = make_vm(START_PROT32, 2 << 20, 1);
	CHECK_EQ(start_state_build(vm, START_PROT32, &c), 0);
	CHECK_EQ(guest_ctx_mode(&c, 2), MODE_PROT32);
	CHECK_EQ(c.cr0 & CR0_PG, 0);
	CHECK_EQ(c.cs.sel, GUEST_SEL_CODE32);
	CHECK_EQ(c.efer, 0);
}

TEST(raw_images_must_fit)
{
	struct vm *vm = make_vm(START_LONG64, 2 << 20, 1);
	const char *why = NULL;
	static u8 img[4096] = { 0xf4 };

	CHECK_EQ(load_raw(vm, img, sizeof(img), 0x100000, &why), 0);
	CHECK_EQ(*(u8 *)fake_gmem_ptr(vm, 0x100000, 1), 0xf4);
	CHECK_EQ(load_raw(vm, img, sizeof(img), 0x1ff800, &why), -E2BIG); /* runs past 2 MiB */
	CHECK(why != NULL);
	CHECK_EQ(load_raw(vm, img, sizeof(img), 0x2000, &why), -EINVAL); /* over the page tables */
	CHECK_EQ(load_raw(vm, img, 0, 0x100000, &why), -E2BIG);

	vm = make_vm(START_REAL16, 2 << 20, 1);
	CHECK_EQ(load_raw(vm, img, sizeof(img), 0x1000, &why), 0);
	CHECK_EQ(load_raw(vm, img, sizeof(img), 0xe000, &why), -E2BIG); /* into the stacks */
	CHECK_EQ(load_raw(vm, img, sizeof(img), 0x100, &why), -E2BIG);  /* over the IVT */
}

/* An image across the boundary of two 2 MiB chunks that are apart in host
 * memory lands in both, and its pages are marked written (dirty log). */
TEST(raw_image_across_chunks_is_marked)
{
	struct vm *vm = make_vm(START_LONG64, 4 << 20, 1);
	static u8 img[8192];
	u8 *far = calloc(1, 2 << 20);
	const char *why = NULL;

	for (unsigned i = 0; i < sizeof(img); i++)
		img[i] = (u8)(i * 13 + 5);
	vm->gmem.chunks[1] = (u64)(uintptr_t)far;
	CHECK_EQ(load_raw(vm, img, sizeof(img), 0x1ff000, &why), 0);
	CHECK_EQ(*(u8 *)fake_gmem_ptr(vm, 0x1ff000, 1), img[0]);
	CHECK_EQ(far[0], img[4096]);
	CHECK_EQ(far[4095], img[8191]);
	/* Pages 0x1ff and 0x200 written, their neighbours not. */
	CHECK_EQ(vm->gmem.dirty[0x1ff / 64] >> (0x1ff % 64) & 1, 1);
	CHECK_EQ(vm->gmem.dirty[0x200 / 64] & 1, 1);
	CHECK_EQ(vm->gmem.dirty[0x1fe / 64] >> (0x1fe % 64) & 1, 0);
	CHECK_EQ(vm->gmem.dirty[0x201 / 64] >> 1 & 1, 0);
	free(far);
}

int main(void)
{
	RUN(long_mode_identity_map_and_segments);
	RUN(real_and_protected_modes);
	RUN(raw_images_must_fit);
	RUN(raw_image_across_chunks_is_marked);
	return unit_done();
}
