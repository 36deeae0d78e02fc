/* VMMCALL/VMCALL: the hypercall ABI of include/hv/hypercall.h (docs/hypercalls.md). */
#include "core/exit_handlers.h"
#include "core/hc_vstate.h"
#include "arch/x86/emul/gwalk.h"
#include "hv/exit.h"
#include "hv/hypercall.h"
#include "hv/platform.h"
#include "hv/vcpu.h"
#include "hv/vendor.h"
#include "hv/vm.h"
#include "hv/vm_clock.h"
#include "hv/vm_console.h"
#include "hv/vm_watchdog.h"
#include "asm/cpu.h"
#include "asm/percpu.h"

#define HC_CONSOLE_MAX 4096

/* Copies the guest's buffer, page by page, into the VM's console. */
static s64 console_write_guest(struct vcpu *v, u64 linear, u64 len)
{
	struct guest_ctx ctx;
	u64 done = 0;

	if (len > HC_CONSOLE_MAX)
		return HC_EINVAL;
	vendor->get_paging_ctx(v, &ctx);
	while (done < len) {
		u64 chunk = MIN(len - done, PAGE_SIZE - ((linear + done) & (PAGE_SIZE - 1)));
		u64 gpa;
		u32 pf;
		const char *p;

		if (gwalk(v->vm, &ctx, linear + done, ctx.cpl == 3 ? GW_USER : 0, &gpa, &pf) ||
		    !(p = gmem_map(v->vm, gpa, chunk, false)))
			return HC_EFAULT;
		vm_console_write(v->vm, p, chunk);
		done += chunk;
	}
	return (s64)len;
}

/* Arming or cancelling also takes back a timer interrupt that has fired but
 * not reached the guest yet: after the call, only the new timer can. */
static s64 set_timer(struct vcpu *v, u64 usec, u64 vector)
{
	if (usec && (vector < 16 || vector > 255 || usec > 3600ULL * 1000000))
		return HC_EINVAL;
	__atomic_store_n(&v->timer_deadline, 0, __ATOMIC_RELEASE);
	if (v->timer_vector)
		vcpu_cancel_irq(v, v->timer_vector);
	if (!usec)
		return 0;
	v->timer_vector = (u8)vector;
	__atomic_store_n(&v->timer_deadline, vm_guest_tsc(v->vm) + ns_to_tsc(usec * 1000),
			 __ATOMIC_RELEASE);
	return 0;
}

/*
 * HC_EXIT's code is an int (the VM's exit code, what expect= compares): from
 * 64-bit code RBX must hold one, sign-extended (-1 is 0xffffffffffffffff),
 * or a 32-bit value zero-extended (0xffffffff is -1 too, as a 32-bit guest
 * writes it); anything wider is refused, not truncated. Outside 64-bit mode
 * only EBX is the guest's to set.
 */
static bool exit_code_of(struct vcpu *v, u64 rbx, int *code)
{
	struct guest_ctx ctx;

	vendor->get_paging_ctx(v, &ctx);
	if (guest_ctx_mode(&ctx, v->regs.rflags) != MODE_LONG64)
		rbx = (u32)rbx;
	if (rbx >> 32 && (s64)rbx != (s32)rbx)
		return false;
	*code = (int)(u32)rbx;
	return true;
}

enum exit_action handle_hypercall(struct vcpu *v, struct vmexit *e)
{
	u64 *r = v->regs.gpr;
	enum exit_action act = ACT_SKIP;
	s64 ret;
	int code;

	/* Hypercalls are the guest kernel's: a user process (CPL 3, or 1 and
	 * 2) may neither end its VM nor write to the host's console. As KVM
	 * answers -EPERM from CPL > 0 (Linux, Documentation/virt/kvm/x86/
	 * hypercalls.rst), the call returns HC_EPERM and the guest goes on. */
	if (unlikely(e->hypercall.cpl)) {
		ret = HC_EPERM;
		goto out;
	}
	switch (r[GPR_RAX]) {
	case HC_NOP:
		ret = 0;
		break;
	case HC_CONSOLE_WRITE:
		ret = console_write_guest(v, r[GPR_RBX], r[GPR_RCX]);
		break;
	case HC_YIELD:
		ret = 0;
		act = ACT_YIELD;
		break;
	case HC_TIME_NS:
		ret = (s64)vm_guest_ns(v->vm);
		break;
	case HC_EXIT:
		if (!exit_code_of(v, r[GPR_RBX], &code)) {
			ret = HC_EINVAL;
			break;
		}
		vm_end(v->vm, VM_ENDED, code);
		return ACT_VM_STOP;
	case HC_TIMER:
		ret = set_timer(v, r[GPR_RBX], r[GPR_RCX]);
		break;
	case HC_TEST_VSTATE:
		ret = hc_vstate_roundtrip(v);
		break;
	case HC_WATCHDOG:
		ret = vm_watchdog_set(v->vm, r[GPR_RBX]);
		break;
	case HC_VCPU_INFO:
		ret = v->id;
		r[GPR_RBX] = this_cpu()->id;
		r[GPR_RCX] = v->vm->nr_vcpus;
		break;
	default:
		ret = hypercall_test(v, r[GPR_RAX], r[GPR_RBX], r[GPR_RCX]);
	}
out:
	r[GPR_RAX] = (u64)ret;
	r[GPR_RDX] = (u64)ret >> 32;
	return act;
}
