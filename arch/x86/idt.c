/*
 * The IDT (one, shared by every CPU) and the dispatch of what arrives
 * through it: exceptions 0-31 to the fault path, vectors 32-255 to the
 * handlers registered with irq_register(), followed by the local APIC EOI
 * (but for the 8259's, arch/x86/i8259.h).
 */
#include "hv/platform.h"
#include "hv/console.h"
#include "arch/x86/cpu_tables.h"
#include "arch/x86/fault.h"
#include "arch/x86/i8259.h"
#include "asm/desc.h"
#include "asm/irq_frame.h"

#define NR_VECTORS 256
#define FIRST_IRQ_VECTOR 32
#define ISR_STUB_SIZE 16

extern const u8 isr_stubs[], isr_stubs_end[];

static struct idt_gate idt[NR_VECTORS] __aligned(16);
/* fn is published after ctx (release/acquire): a handler never sees a stale context. */
static struct {
	void (*fn)(void *ctx);
	void *ctx;
} irq_handlers[NR_VECTORS];
static u64 irq_unhandled_seen[NR_VECTORS / 64]; /* reported once each */
static u64 spurious_count;

static u8 ist_for(unsigned vector)
{
	switch (vector) {
	case 2: return IST_NMI;
	case 8: return IST_DF;
	case 18: return IST_MC;
	default: return 0;
	}
}

void idt_init(void)
{
	if (isr_stubs_end - isr_stubs != NR_VECTORS * ISR_STUB_SIZE)
		panic("vectors.S: the stubs are not %u bytes each", ISR_STUB_SIZE);
	for (unsigned v = 0; v < NR_VECTORS; v++)
		idt[v] = idt_make_gate((u64)(uintptr_t)(isr_stubs + v * ISR_STUB_SIZE), ist_for(v));
}

void idt_load(void)
{
	struct desc_ptr idtr = { .limit = sizeof(idt) - 1, .base = (u64)(uintptr_t)idt };

	lidt(&idtr);
}

/*
 * Device vectors for the machine's devices (MSI/MSI-X, drivers/pci.c), from
 * 0x30 up to below VECTOR_KICK: above the timer, below the IPIs, so the
 * APIC's priority classes (SDM vol. 3A, 11.8.3.1) put the timer lowest.
 * Never freed: drivers live as long as the hypervisor.
 */
#define FIRST_DEVICE_VECTOR 0x30
static u32 next_device_vector = FIRST_DEVICE_VECTOR;

int irq_alloc_vector(void)
{
	u32 v = __atomic_fetch_add(&next_device_vector, 1, __ATOMIC_RELAXED);

	return v < VECTOR_KICK ? (int)v : -ENOSPC;
}

void irq_register(u8 vector, void (*fn)(void *ctx), void *ctx)
{
	if (vector < FIRST_IRQ_VECTOR || vector == VECTOR_SPURIOUS)
		panic("irq_register: vector %u is not an interrupt vector", vector);
	__atomic_store_n(&irq_handlers[vector].fn, NULL, __ATOMIC_RELEASE);
	__atomic_store_n(&irq_handlers[vector].ctx, ctx, __ATOMIC_RELAXED);
	__atomic_store_n(&irq_handlers[vector].fn, fn, __ATOMIC_RELEASE);
}

static void irq_unhandled(unsigned vector)
{
	u64 bit = BIT(vector % 64);

	if (!(__atomic_fetch_or(&irq_unhandled_seen[vector / 64], bit, __ATOMIC_RELAXED) & bit))
		kprintf("irq: vector %u has no handler (reported once)\n", vector);
}

void irq_dispatch(struct irq_frame *f)
{
	unsigned vector = f->vector & 0xff;
	void (*fn)(void *ctx);

	if (vector < FIRST_IRQ_VECTOR) {
		fault_handle(f); /* returns only for an NMI it did not expect */
		return;
	}
	gs_base_guard(f); /* before anything reads this_cpu() */
	/* The APIC's spurious vector sets no in-service bit: no EOI for it
	 * (SDM vol. 3A, "Spurious Interrupt"). */
	if (vector == VECTOR_SPURIOUS) {
		__atomic_fetch_add(&spurious_count, 1, __ATOMIC_RELAXED);
		return;
	}
	fn = __atomic_load_n(&irq_handlers[vector].fn, __ATOMIC_ACQUIRE);
	if (fn)
		fn(__atomic_load_n(&irq_handlers[vector].ctx, __ATOMIC_RELAXED));
	else
		irq_unhandled(vector);
	/* The 8259's vectors came through LINT0 as ExtINT: nothing of the
	 * local APIC's is in service (SDM vol. 3A, 10.8.5). */
	if (vector - I8259_VECTOR_BASE >= 8)
		lapic_eoi();
}
