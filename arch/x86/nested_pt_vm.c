/* A VM's nested page tables (NPT or EPT) from its memory map: one builder for both back ends. */
#include "arch/x86/nested_pt.h"
#include "hv/mm.h"
#include "hv/vm.h"

static u64 alloc_table(void)
{
	return page_alloc(1, PAGE_SIZE);
}

int nested_pt_build_vm(const struct vm *vm, const struct pt_format *fmt, u64 *root)
{
	struct nested_pt pt;
	int err = nested_pt_init(&pt, fmt, alloc_table);

	for (unsigned i = 0; !err && i < vm->nr_mem; i++)
		err = nested_pt_map(&pt, vm->mem[i].gpa, vm->mem[i].hpa, vm->mem[i].size);
	if (!err)
		*root = pt.root;
	return err;
}
