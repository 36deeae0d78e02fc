/* Per-CPU GDT and TSS (SDM vol. 3A, "Segment Descriptors", "Task Management in 64-bit Mode"). */
#include "arch/x86/cpu_tables.h"
#include "asm/desc.h"

static u64 cpu_gdt[MAX_CPUS][GDT_ENTRIES] __aligned(16);
static struct tss64 cpu_tss[MAX_CPUS] __aligned(16);

void gdt_init_cpu(struct percpu *cpu, u8 *ist_stacks)
{
	u64 *gdt = cpu_gdt[cpu->id];
	struct tss64 *tss = &cpu_tss[cpu->id];
	struct desc_ptr gdtr = { .limit = sizeof(cpu_gdt[0]) - 1, .base = (u64)(uintptr_t)gdt };

	gdt[0] = 0;
	gdt[SEL_CODE64 / 8] = DESC_CODE64;
	gdt[SEL_DATA / 8] = DESC_DATA;
	gdt_set_tss(gdt, SEL_TSS / 8, tss);

	*tss = (struct tss64){ .iomap_base = sizeof(*tss) };
	/* IST stacks grow down from the end of their slot, 16-byte aligned. */
	for (unsigned i = 0; i < IST_COUNT; i++)
		tss->ist[i] = (u64)(uintptr_t)(ist_stacks + (i + 1) * IST_STACK_SIZE);

	lgdt(&gdtr);
	load_segments();
	ltr(SEL_TSS);
	cpu->gdt = gdt;
	cpu->tss = tss;
}
