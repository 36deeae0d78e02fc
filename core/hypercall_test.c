/*
 * Test-only hypercalls (docs/hypercalls.md): the dirty log driven from a
 * test guest (tests/guests/dirtylog.c). Everything a guest passes is
 * checked as for any hypercall: a bad address is -EFAULT, not a crash.
 */
#include "core/exit_handlers.h"
#include "hv/hypercall.h"
#include "hv/mm.h"
#include "hv/vcpu.h"
#include "hv/vm.h"

/* Harvests into hypervisor memory, then copies into the guest's bitmap
 * (a hypervisor write: those pages are marked for the next harvest). Bits
 * past the VM's pages are written as 0. */
static s64 harvest_to_guest(struct vm *vm, u64 gpa, u64 nbits)
{
	u64 bytes = ALIGN_UP(nbits, 64) / 8, pages = gmem_end(vm) / PAGE_SIZE;
	u64 mine = ALIGN_UP(MIN(nbits, pages), 64) / 8;
	u64 *bm, count;

	if (!nbits || nbits > ~0ULL - 64 || !gmem_in_ram(&vm->gmem, gpa, bytes))
		return HC_EFAULT;
	bm = kmalloc(mine);
	if (!bm)
		return HC_EINVAL;
	count = gmem_dirty_harvest(vm, bm, MIN(nbits, pages));
	gmem_write(vm, gpa, bm, mine); /* in RAM: checked above */
	gmem_fill(vm, gpa + mine, 0, bytes - mine);
	kfree(bm);
	return (s64)count;
}

s64 hypercall_test(struct vcpu *v, u64 nr, u64 arg1, u64 arg2)
{
	struct vm *vm = v->vm;

	switch (nr) {
	case HC_TEST_DIRTY_LOG_START:
		return gmem_dirty_log_start(vm) ? HC_EINVAL : 0;
	case HC_TEST_DIRTY_LOG_STOP:
		gmem_dirty_log_stop(vm);
		return 0;
	case HC_TEST_DIRTY_HARVEST:
		return harvest_to_guest(vm, arg1, arg2);
	case HC_TEST_WRITE_GPA:
		return gmem_write(vm, arg1, &arg2, sizeof(arg2)) ? HC_EFAULT : 0;
	default:
		return HC_ENOSYS;
	}
}
