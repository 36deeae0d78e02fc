/*
 * A vCPU's whole state (include/hv/vcpu_state.h): the parts struct vcpu
 * keeps for every back end, here; the VMCB's or VMCS's, through the vendor
 * ops get_state/set_state.
 */
#include "hv/vcpu_state.h"
#include "hv/vcpu.h"
#include "hv/vendor.h"
#include "hv/vm.h"
#include "devices/vlapic.h"
#include "lib/string.h"

static void msrs_out(struct vcpu_state_msrs *d, const struct vcpu_msrs *m)
{
	d->tsc_aux = m->tsc_aux;
	d->mtrr_def_type = m->mtrr_def_type;
	memcpy(d->mtrr_var, m->mtrr_var, sizeof(d->mtrr_var));
	memcpy(d->mtrr_fixed, m->mtrr_fixed, sizeof(d->mtrr_fixed));
	d->kvm_system_time = m->kvm_system_time;
	d->kvm_wall_clock = m->kvm_wall_clock;
	d->misc_enable = m->misc_enable;
	memcpy(d->amd_perf, m->amd_perf, sizeof(d->amd_perf));
}

static void msrs_in(struct vcpu_msrs *m, const struct vcpu_state_msrs *d)
{
	m->tsc_aux = d->tsc_aux;
	m->mtrr_def_type = d->mtrr_def_type;
	memcpy(m->mtrr_var, d->mtrr_var, sizeof(m->mtrr_var));
	memcpy(m->mtrr_fixed, d->mtrr_fixed, sizeof(m->mtrr_fixed));
	m->kvm_system_time = d->kvm_system_time;
	m->kvm_wall_clock = d->kvm_wall_clock;
	m->misc_enable = d->misc_enable;
	memcpy(m->amd_perf, d->amd_perf, sizeof(m->amd_perf));
}

_Static_assert(sizeof(((struct vcpu_state *)0)->fxsave) == sizeof(((struct fpu_state *)0)->fxsave),
	       "the FXSAVE image");
_Static_assert(sizeof(((struct vcpu_state *)0)->gpr) == sizeof(((struct vcpu_regs *)0)->gpr),
	       "sixteen general registers");

static u8 activity_of(const struct vcpu *v)
{
	if (v->wait_sipi)
		return VCPU_ACTIVITY_WAIT_SIPI;
	return v->state == VCPU_BLOCKED ? VCPU_ACTIVITY_HALTED : VCPU_ACTIVITY_RUNNING;
}

int vcpu_get_state(struct vcpu *v, struct vcpu_state *s)
{
	int sipi = __atomic_load_n(&v->sipi_vector, __ATOMIC_ACQUIRE);
	int err;

	if (v->reset_pending)
		return -EBUSY;
	memset(s, 0, sizeof(*s));
	s->version = VCPU_STATE_VERSION;
	s->id = v->id;
	memcpy(s->gpr, v->regs.gpr, sizeof(s->gpr));
	s->rip = v->regs.rip;
	s->rflags = v->regs.rflags;
	memcpy(s->dr, v->dr, sizeof(s->dr));
	msrs_out(&s->msrs, &v->msrs);
	memcpy(s->fxsave, v->fpu.fxsave, sizeof(s->fxsave));

	s->activity = activity_of(v);
	s->halted_if0 = v->halted_if0 && s->activity == VCPU_ACTIVITY_HALTED;
	s->init_pending = v->init_pending;
	s->sipi_pending = sipi >= 0;
	s->sipi_vector = sipi >= 0 ? (u8)sipi : 0;
	for (unsigned i = 0; i < ARRAY_SIZE(s->irq_pending); i++)
		s->irq_pending[i] = __atomic_load_n(&v->irq_pending[i], __ATOMIC_ACQUIRE);
	s->timer_deadline = __atomic_load_n(&v->timer_deadline, __ATOMIC_ACQUIRE);
	s->timer_vector = s->timer_deadline ? v->timer_vector : 0;
	if (v->lapic) {
		s->has_lapic = 1;
		vlapic_save(v->lapic, &s->lapic);
	}

	err = vendor->get_state(v, s);
	/* The model's TPR is the guest's CR8; the hardware's copy follows it
	 * only at the next entry (vcpu_irq_prepare). */
	if (v->lapic)
		s->cr8 = s->lapic.tpr >> 4;
	return err;
}

int vcpu_set_state(struct vcpu *v, const struct vcpu_state *s)
{
	struct vlapic_state old_lapic;
	struct vcpu_regs old_regs = v->regs;
	int err = vcpu_state_check(s);

	if (err)
		return err;
	if (!s->has_lapic != !v->lapic)
		return -EINVAL;
	if (v->lapic) {
		vlapic_save(v->lapic, &old_lapic);
		err = vlapic_load(v->lapic, &s->lapic);
		if (err)
			return err;
	}
	/* The back end takes RIP, RSP, RAX and RFLAGS from v->regs. */
	memcpy(v->regs.gpr, s->gpr, sizeof(v->regs.gpr));
	v->regs.rip = s->rip;
	v->regs.rflags = s->rflags;
	err = vendor->set_state(v, s);
	if (err) {
		v->regs = old_regs;
		if (v->lapic)
			vlapic_load(v->lapic, &old_lapic);
		return err;
	}

	memcpy(v->dr, s->dr, sizeof(v->dr));
	msrs_in(&v->msrs, &s->msrs);
	memcpy(v->fpu.fxsave, s->fxsave, sizeof(v->fpu.fxsave));
	v->fpu_cpu = -1; /* no CPU's registers hold this FPU state */
	v->halted_if0 = s->halted_if0;
	v->wait_sipi = s->activity == VCPU_ACTIVITY_WAIT_SIPI;
	v->init_pending = s->init_pending;
	__atomic_store_n(&v->sipi_vector, s->sipi_pending ? (int)s->sipi_vector : -1,
			 __ATOMIC_RELEASE);
	for (unsigned i = 0; i < ARRAY_SIZE(v->irq_pending); i++)
		__atomic_store_n(&v->irq_pending[i], s->irq_pending[i], __ATOMIC_RELEASE);
	v->timer_vector = s->timer_vector;
	__atomic_store_n(&v->timer_deadline, s->timer_deadline, __ATOMIC_RELEASE);
	/* The back end dropped what it had been offered: offer again. */
	v->offered = -1;
	v->offered_lapic = false;
	v->fetch_cache.hva = NULL; /* the code it cached may be another's */
	v->irq_work = true;
	return 0;
}
