/* PCI INTx# lines, wire-ORed onto I/O APIC inputs (devices/pci_intx.h). */
#include "devices/pci_intx.h"

#include "lib/string.h"

void pci_intx_init(struct pci_intx *x, struct irq_sink out)
{
	memset(x, 0, sizeof(*x));
	x->out = out;
}

static bool any(const u64 *words)
{
	for (unsigned i = 0; i < 256 / 64; i++)
		if (words[i])
			return true;
	return false;
}

/* Records the level; returns the GSI, or -1 for a bad pin. *was and *now:
 * the line's OR before and after. Lock held. */
static int record(struct pci_intx *x, u8 devfn, u8 pin, bool level, bool *was, bool *now)
{
	int gsi = pci_intx_gsi(devfn >> 3, pin);
	u64 *w;

	if (gsi < 0)
		return -1;
	w = x->asserted[gsi - PCI_INTX_GSI_BASE];
	*was = any(w);
	if (level)
		w[devfn / 64] |= 1ULL << (devfn % 64);
	else
		w[devfn / 64] &= ~(1ULL << (devfn % 64));
	*now = any(w);
	return gsi;
}

void pci_intx_set(struct pci_intx *x, u8 devfn, u8 pin, bool level)
{
	bool was, now;
	int gsi;

	spin_lock(&x->lock);
	gsi = record(x, devfn, pin, level, &was, &now);
	/* Under the lock: two functions changing one line must reach the
	 * I/O APIC in the order their ORs were computed. */
	if (gsi >= 0 && was != now)
		irq_set(&x->out, (u32)gsi, now);
	spin_unlock(&x->lock);
}

void pci_intx_restore(struct pci_intx *x, u8 devfn, u8 pin, bool level)
{
	bool was, now;

	spin_lock(&x->lock);
	record(x, devfn, pin, level, &was, &now);
	spin_unlock(&x->lock);
}

bool pci_intx_level(struct pci_intx *x, u32 gsi)
{
	bool on;

	if (gsi < PCI_INTX_GSI_BASE || gsi >= PCI_INTX_GSI_BASE + PCI_INTX_NR_GSIS)
		return false;
	spin_lock(&x->lock);
	on = any(x->asserted[gsi - PCI_INTX_GSI_BASE]);
	spin_unlock(&x->lock);
	return on;
}
