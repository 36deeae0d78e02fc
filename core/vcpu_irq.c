/*
 * What interrupt a vCPU gets next. Three sources: its local APIC
 * (devices/vlapic.c: IRR, ISR, TPR, EOI), irq_pending, vectors raised
 * outside it (HC_TIMER, which needs no EOI), and on the BSP the 8259s
 * through LINT0 when the local APIC lets them in (LINT0 unmasked as ExtINT,
 * or the APIC disabled: SDM vol. 3A, 10.5.1; the virtual wire of the MP
 * specification, 3.6.2.2); their vector comes from the interrupt acknowledge
 * (pic_ack) when the guest takes it. One vector at a time is handed
 * to the hardware (vendor offer_irq); after each exit, if the hardware no
 * longer holds it, the guest took it, and the local APIC moves it from IRR
 * to ISR. docs/interrupts.md has the model.
 *
 * The hot path pays only for two flag tests: irq_work says something may
 * have changed (a new interrupt, an APIC register access, an ack), offered
 * says a vector is in the hardware.
 */
#include "hv/vcpu.h"
#include "hv/sched.h"
#include "hv/vendor.h"
#include "devices/pic8259.h"
#include "devices/vlapic.h"

static int highest_pending(const struct vcpu *v)
{
	for (int w = 3; w >= 0; w--) {
		u64 bits = __atomic_load_n(&v->irq_pending[w], __ATOMIC_ACQUIRE);

		if (bits)
			return w * 64 + 63 - __builtin_clzll(bits);
	}
	return -1;
}

/* Whether the PICs' INT reaches this vCPU now. Without the PICs' lock: the
 * scheduler asks under its own lock (has_work), and the PICs call
 * sched_wake under theirs. */
static bool extint_up(const struct vcpu *v)
{
	return v->extint && __atomic_load_n(&v->extint->int_level, __ATOMIC_ACQUIRE) &&
	       (!v->lapic || vlapic_pic_intr_allowed(v->lapic));
}

/* The PICs' vector if their INT reaches this vCPU now, else -1. */
static int extint_pending(const struct vcpu *v)
{
	return extint_up(v) ? pic_pending_vector(v->extint) : -1;
}

void vcpu_raise_irq(struct vcpu *v, u8 vector)
{
	__atomic_or_fetch(&v->irq_pending[vector / 64], BIT(vector % 64), __ATOMIC_RELEASE);
	v->irq_work = true;
	sched_wake(v);
}

/* Takes the offered vector back from the hardware. It stays where it came
 * from (IRR, irq_pending) until the guest takes it. */
static void withdraw(struct vcpu *v)
{
	vendor->withdraw_irq(v, (u8)v->offered);
	v->offered = -1;
}

/* Runs on the vCPU's own CPU (HC_TIMER handler). */
void vcpu_cancel_irq(struct vcpu *v, u8 vector)
{
	if (v->offered == vector && !v->offered_lapic && !v->offered_extint)
		withdraw(v);
	__atomic_and_fetch(&v->irq_pending[vector / 64], ~BIT(vector % 64), __ATOMIC_ACQ_REL);
}

void vcpu_irq_prepare(struct vcpu *v)
{
	if (likely(!v->irq_work))
		return;
	/* Cleared before looking, so that a raise after the look sets it again.
	 * A full barrier between the store and the loads below: a raiser on
	 * another CPU sets the vector's bit, then irq_work. With a plain store
	 * the CPU may let our loads pass it (x86 orders a store only before
	 * later stores: SDM vol. 3, 9.2.3.4); both then miss each other, the
	 * bit stays unseen and irq_work false until something else happens.
	 * Only paid when there is work (an XCHG). */
	__atomic_store_n(&v->irq_work, false, __ATOMIC_SEQ_CST);
	/* irq_work is also how a TPR write through the APIC page or MSR says
	 * so: the copy MOV from CR8 reads follows the model. */
	if (v->lapic)
		vendor->set_tpr(v, vlapic_cr8_read(v->lapic));
	/* An NMI goes before any interrupt; one the guest cannot take yet
	 * stays pending in the local APIC and is asked for at every exit. */
	if (v->lapic && vlapic_nmi_pending(v->lapic)) {
		if (vendor->offer_nmi(v)) {
			vlapic_take_nmi(v->lapic);
			v->halted_if0 = false; /* an NMI ends HLT with interrupts off */
			v->stats.nmis_injected++;
		} else {
			v->irq_work = true;
		}
	}

	int from_apic = v->lapic ? vlapic_pending(v->lapic) : -1;
	int from_pending = highest_pending(v);
	bool lapic = from_apic >= from_pending;
	int want = lapic ? from_apic : from_pending;
	/* The PICs' only when nothing else waits: an ExtINT has no priority
	 * class of its own in the local APIC. */
	bool extint = want < 0 && (want = extint_pending(v)) >= 0;
	bool shadow = want >= 0 && vendor->irq_shadow && vendor->irq_shadow(v);

	if (extint)
		lapic = false;
	if (v->offered >= 0 && (shadow || v->offered != want || v->offered_lapic != lapic ||
				v->offered_extint != extint))
		withdraw(v);
	if (want >= 0 && !shadow && v->offered < 0 && vendor->offer_irq(v, (u8)want)) {
		v->offered = want;
		v->offered_lapic = lapic;
		v->offered_extint = extint;
	}
	/* Look again next time while a vector waits in the hardware (a higher
	 * one may come) or is held back by the shadow. */
	if (v->offered >= 0 || shadow)
		v->irq_work = true;
}

void vcpu_irq_taken(struct vcpu *v)
{
	if (vendor->irq_offered(v))
		return;
	if (v->offered_extint)
		pic_ack(v->extint); /* the acknowledge cycle: IRR to ISR in the PICs */
	else if (v->offered_lapic)
		vlapic_ack(v->lapic, (u8)v->offered);
	else
		__atomic_and_fetch(&v->irq_pending[v->offered / 64], ~BIT(v->offered % 64),
				   __ATOMIC_ACQ_REL);
	v->offered = -1;
	v->stats.irqs_injected++;
	v->irq_work = true; /* the next one may be waiting */
}

bool vcpu_irq_deliverable(struct vcpu *v)
{
	return v->offered >= 0 || highest_pending(v) >= 0 || extint_up(v) ||
	       (v->lapic && (vlapic_pending(v->lapic) >= 0 || vlapic_nmi_pending(v->lapic)));
}
