/*
 * How a device raises its interrupt: it holds a sink and a line number (a
 * GSI: ISA IRQs 0-15 and IOAPIC pins), and sets the line's level. An edge
 * is a rise (level true then false). The VM routes lines to its IOAPIC and
 * 8259 PICs; devices never see the vendor or the vCPUs.
 */
#ifndef HV_IRQ_H
#define HV_IRQ_H

#include "hv/types.h"

struct irq_sink {
	void (*set)(void *ctx, u32 gsi, bool level);
	void *ctx;
};

static inline void irq_set(const struct irq_sink *s, u32 gsi, bool level)
{
	if (s && s->set)
		s->set(s->ctx, gsi, level);
}

/* An edge-triggered pulse on a line. */
static inline void irq_pulse(const struct irq_sink *s, u32 gsi)
{
	irq_set(s, gsi, true);
	irq_set(s, gsi, false);
}

#endif
