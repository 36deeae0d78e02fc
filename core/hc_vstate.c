/*
 * HC_TEST_VSTATE, a test-only hypercall (docs/hypercalls.md): the
 * round trip a snapshot and restore put a vCPU through, done to the calling
 * vCPU on its own CPU so a test guest can check that nothing of it was lost
 * (tests/guests/vstate.c).
 *
 * The vCPU leaves the CPU (quiesced as hv/vcpu_state.h requires), the VM's
 * clock stops, vcpu_get_state saves it, vcpu_set_state wipes it to the
 * power-on state (which must then read back as such), vcpu_set_state puts
 * the saved state back (which must read back unchanged), the guest TSC is
 * set to where it stood and the clock runs again; the vCPU comes back to
 * the CPU and the dispatcher completes the hypercall.
 *
 * Between the two, the saved state is also put into a second vCPU built
 * for the purpose (its own VMCB or VMCS, its own local APIC), which must
 * read back the same, and which is then destroyed: every page its back end
 * allocated must be free again.
 */
#include "core/hc_vstate.h"
#include "arch/x86/emul/msr.h"
#include "hv/console.h"
#include "hv/mm.h"
#include "hv/sched.h"
#include "hv/vcpu.h"
#include "hv/vcpu_state.h"
#include "hv/vendor.h"
#include "hv/vm.h"
#include "hv/vm_clock.h"
#include "devices/vlapic.h"
#include "asm/percpu.h"
#include "lib/string.h"

/* Real-mode segment at power-on (SDM vol. 3, 10.1.1, Table 10-1). */
static struct vcpu_state_seg reset_seg(u16 sel, u64 base, u16 attr)
{
	return (struct vcpu_state_seg){ .base = base, .limit = 0xffff, .sel = sel, .attr = attr };
}

/* The architectural state after RESET, with the vCPU's own APIC at its
 * power-up state. */
static void power_on_state(struct vcpu *v, struct vcpu_state *s)
{
	memset(s, 0, sizeof(*s));
	s->version = VCPU_STATE_VERSION;
	s->id = v->id;
	s->rip = 0xfff0;
	s->rflags = 2;
	s->cs = reset_seg(0xf000, 0xffff0000, 0x9b);
	s->ds = s->es = s->fs = s->gs = s->ss = reset_seg(0, 0, 0x93);
	s->tr = reset_seg(0, 0, 0x8b);
	s->ldtr = reset_seg(0, 0, 0x82);
	s->gdtr.limit = s->idtr.limit = 0xffff;
	s->cr0 = 0x60000010;
	s->dr6 = 0xffff0ff0;
	s->dr7 = 0x400;
	s->msrs.pat = 0x0007040600070406ULL;
	s->msrs.misc_enable = MISC_ENABLE_RESET;
	s->fxsave[0] = 0x7f; /* FCW 0x037f */
	s->fxsave[1] = 0x03;
	s->fxsave[24] = 0x80; /* MXCSR 0x1f80 */
	s->fxsave[25] = 0x1f;
	if (v->lapic) {
		s->has_lapic = 1;
		vlapic_reset(v->lapic);
		vlapic_save(v->lapic, &s->lapic);
	}
}

/* The first byte where a and b differ, or -1. */
static long first_difference(const struct vcpu_state *a, const struct vcpu_state *b)
{
	const u8 *p = (const u8 *)a, *q = (const u8 *)b;

	for (size_t i = 0; i < sizeof(*a); i++)
		if (p[i] != q[i])
			return (long)i;
	return -1;
}

static s64 roundtrip(struct vcpu *v, struct vcpu_state *saved, struct vcpu_state *wiped,
		     struct vcpu_state *check)
{
	long diff;
	int err = vcpu_get_state(v, saved);

	if (err)
		return err;
	power_on_state(v, wiped);
	err = vcpu_set_state(v, wiped);
	if (!err)
		err = vcpu_get_state(v, check);
	if (err) {
		vcpu_set_state(v, saved);
		return err;
	}
	/* Wiped: it reads back as power-on, nothing of the saved state left. */
	diff = first_difference(wiped, check);
	err = vcpu_set_state(v, saved);
	if (err)
		return err;
	if (diff >= 0) {
		kprintf("utsuwa: vm %s: HC_TEST_VSTATE: the power-on state read back differs at "
			"byte %ld\n", v->vm->name, diff);
		return -EIO;
	}
	err = vcpu_get_state(v, check);
	if (err)
		return err;
	diff = first_difference(saved, check);
	if (diff >= 0) {
		kprintf("utsuwa: vm %s: HC_TEST_VSTATE: the state put back reads back differently "
			"at byte %ld\n", v->vm->name, diff);
		return -EIO;
	}
	return 0;
}

/* A state taken from one vCPU, set into another: it reads back the same
 * there, and the other's back-end pages all go back when it is destroyed. */
static s64 elsewhere(struct vcpu *v, const struct vcpu_state *saved, struct vcpu_state *check)
{
	struct vcpu *w = kzalloc(sizeof(*w));
	struct vlapic *lapic = v->lapic ? vlapic_create(&v->lapic->cfg) : NULL;
	u64 free_before = mm_free_pages(), free_after;
	long diff = -1;
	s64 err = -ENOMEM;

	if (!w || (v->lapic && !lapic))
		goto out;
	w->vm = v->vm;
	w->id = v->id;
	w->cpu = -1;
	w->fpu_cpu = -1;
	w->offered = -1;
	w->sipi_vector = -1;
	w->lapic = lapic;
	err = vendor->vcpu_init(w, &v->vm->start_ctx);
	if (!err)
		err = vcpu_set_state(w, saved);
	if (!err)
		err = vcpu_get_state(w, check);
	if (!err)
		diff = first_difference(saved, check);
	vendor->vcpu_destroy(w);
	free_after = mm_free_pages();
	if (!err && diff >= 0) {
		kprintf("utsuwa: vm %s: HC_TEST_VSTATE: the state set into another vCPU reads back "
			"differently at byte %ld\n", v->vm->name, diff);
		err = -EIO;
	}
	if (!err && free_after != free_before) {
		kprintf("utsuwa: vm %s: HC_TEST_VSTATE: %ld pages not freed by vcpu_destroy\n",
			v->vm->name, (long)(free_before - free_after));
		err = -EIO;
	}
out:
	if (lapic)
		vlapic_destroy(lapic);
	kfree(w);
	return err;
}

s64 hc_vstate_roundtrip(struct vcpu *v)
{
	struct percpu *cpu = this_cpu();
	struct vcpu_state *buf;
	u64 tsc;
	s64 ret;

	/* Stopping the clock under other running vCPUs would leave their TSC
	 * offsets behind until their next slice. */
	if (v->vm->nr_vcpus != 1)
		return -EINVAL;
	buf = kzalloc(3 * sizeof(*buf));
	if (!buf)
		return -ENOMEM;
	vcpu_from_cpu(cpu, v);
	vm_clock_stop(v->vm);
	tsc = vm_guest_tsc(v->vm);
	ret = roundtrip(v, &buf[0], &buf[1], &buf[2]);
	if (!ret)
		ret = elsewhere(v, &buf[0], &buf[2]);
	vm_set_guest_tsc(v->vm, tsc);
	vm_clock_start(v->vm);
	vcpu_to_cpu(cpu, v);
	kfree(buf);
	return ret;
}
