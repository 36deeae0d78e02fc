/*
 * Starting the application processors (SDM vol. 3A, "Multiple-Processor
 * Management", "MP Initialization Example": INIT, 10 ms, STARTUP, 200 us,
 * STARTUP). One CPU at a time: they share the trampoline's parameter block.
 */
#include "arch/x86/smp.h"
#include "hv/console.h"
#include "hv/hv.h"
#include "hv/mm.h"
#include "hv/percpu.h"
#include "hv/platform.h"
#include "arch/x86/cpu_tables.h"
#include "arch/x86/lapic.h"
#include "arch/x86/time.h"
#include "asm/cpu.h"
#include "asm/percpu.h"
#include "asm/trampoline.h"
#include "hv/guest_ctx.h"
#include "lib/string.h"

#define TRAMPOLINE_PREFERRED 0x8000
#define TRAMPOLINE_LOWEST 0x1000  /* keep the real-mode IVT and BIOS data area */
#define TRAMPOLINE_HIGHEST 0x9f000
#define AP_STACK_PAGES 4
#define AP_ONLINE_WAIT_MS 1000

static bool range_overlaps(u64 a, u64 alen, u64 b, u64 blen)
{
	return a < b + blen && b < a + alen;
}

static bool page_usable(const struct boot_info *bi, u64 pa)
{
	bool usable = false;

	for (unsigned i = 0; i < bi->nr_mmap; i++) {
		const struct mem_range *r = &bi->mmap[i];

		if (!range_overlaps(pa, PAGE_SIZE, r->base, r->len))
			continue;
		if (r->type != MEM_USABLE)
			return false; /* reserved anywhere on it wins */
		if (r->base <= pa && pa + PAGE_SIZE <= r->base + r->len)
			usable = true;
	}
	if (range_overlaps(pa, PAGE_SIZE, bi->info_start, bi->info_end - bi->info_start))
		return false;
	for (unsigned i = 0; i < bi->nr_mods; i++)
		if (range_overlaps(pa, PAGE_SIZE, bi->mods[i].start,
				   bi->mods[i].end - bi->mods[i].start))
			return false;
	return usable;
}

u64 smp_pick_trampoline(const struct boot_info *bi)
{
	if (page_usable(bi, TRAMPOLINE_PREFERRED))
		return TRAMPOLINE_PREFERRED;
	for (u64 pa = TRAMPOLINE_LOWEST; pa <= TRAMPOLINE_HIGHEST; pa += PAGE_SIZE)
		if (page_usable(bi, pa))
			return pa;
	return 0;
}

/* Where each AP's IST stacks are (allocated by the boot CPU). */
static u8 *ap_ist[MAX_CPUS];

/* The AP's first C code, on its own stack, called by the trampoline. */
static __noreturn void ap_entry(struct percpu *cpu)
{
	cpu_init_features();
	gdt_init_cpu(cpu, ap_ist[cpu->id]);
	percpu_set_base(cpu);
	idt_load();
	apic_enable_cpu();
	if (apic_id() != cpu->apic_id)
		kprintf("smp: CPU %u has APIC ID %u, the MADT said %u\n", cpu->id, apic_id(),
			cpu->apic_id);
	kprintf("CPU %u online (APIC ID %u)\n", cpu->id, cpu->apic_id);
	__atomic_store_n(&cpu->online, true, __ATOMIC_RELEASE);
	hv_ap_main(cpu);
}

/* Waits up to ms for *flag; true when it was set. */
static bool wait_for(volatile bool *flag, u64 ms)
{
	u64 start = rdtsc(), limit = ns_to_tsc(ms * 1000000);

	while (!__atomic_load_n(flag, __ATOMIC_ACQUIRE)) {
		if (rdtsc() - start > limit)
			return false;
		cpu_relax();
	}
	return true;
}

static bool start_one(struct percpu *cpu, struct trampoline_params *tp, u64 tramp_pa)
{
	u8 vector = (u8)(tramp_pa >> PAGE_SHIFT);
	int err = 0;

	tp->cr3 = read_cr3();
	tp->efer = rdmsr(MSR_EFER) & EFER_NXE;
	tp->stack = cpu->stack_top;
	tp->entry = (u64)(uintptr_t)ap_entry;
	tp->arg = (u64)(uintptr_t)cpu;
	tp->started = 0;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);

	err |= apic_send_init(cpu->apic_id);
	udelay(10000);
	err |= apic_send_startup(cpu->apic_id, vector);
	udelay(200);
	/* The second STARTUP is for CPUs that missed the first; one already running ignores it. */
	if (!tp->started) {
		err |= apic_send_startup(cpu->apic_id, vector);
		udelay(200);
	}
	if (err)
		kprintf("smp: the local APIC did not send the start-up IPIs to APIC ID %u\n",
			cpu->apic_id);
	if (wait_for(&cpu->online, AP_ONLINE_WAIT_MS))
		return true;
	kprintf("smp: the CPU with APIC ID %u did not come online within %u ms (%s); "
		"going on without it\n", cpu->apic_id, AP_ONLINE_WAIT_MS,
		tp->started ? "it reached 64-bit mode, then stopped" : "it never ran the trampoline");
	/* Back to wait-for-SIPI, so that it cannot wake up later on a reused slot. */
	apic_send_init(cpu->apic_id);
	return false;
}

unsigned smp_start_aps(const u32 *apic_ids, unsigned n, u64 tramp_pa)
{
	u64 tramp_size = (u64)(trampoline_end - trampoline_start);
	struct trampoline_params *tp =
		(void *)(uintptr_t)(tramp_pa + (u64)(trampoline_params - trampoline_start));
	u32 self = percpu_area[0].apic_id;
	unsigned failed = 0;

	if (tramp_size > PAGE_SIZE)
		panic("smp: the trampoline is %lu bytes, more than a page", tramp_size);
	memcpy((void *)(uintptr_t)tramp_pa, trampoline_start, tramp_size);

	for (unsigned i = 0; i < n; i++) {
		struct percpu *cpu = &percpu_area[nr_cpus];
		u64 stack, ist;

		if (apic_ids[i] == self)
			continue;
		if (nr_cpus == MAX_CPUS) {
			failed++;
			continue;
		}
		if (!apic_x2apic_mode() && apic_ids[i] > 0xfe) {
			kprintf("smp: APIC ID %u needs x2APIC mode; not started\n", apic_ids[i]);
			failed++;
			continue;
		}
		stack = page_alloc(AP_STACK_PAGES, PAGE_SIZE);
		ist = page_alloc(IST_COUNT * IST_STACK_SIZE / PAGE_SIZE, PAGE_SIZE);
		if (!stack || !ist) {
			kprintf("smp: out of memory for the stacks of APIC ID %u\n", apic_ids[i]);
			if (stack)
				page_free(stack, AP_STACK_PAGES);
			for (; i < n; i++)
				failed += apic_ids[i] != self;
			break;
		}
		memset(cpu, 0, sizeof(*cpu));
		cpu->id = nr_cpus;
		cpu->apic_id = apic_ids[i];
		cpu->stack_top = stack + AP_STACK_PAGES * PAGE_SIZE;
		ap_ist[cpu->id] = (u8 *)(uintptr_t)ist;
		if (start_one(cpu, tp, tramp_pa)) {
			nr_cpus++;
		} else {
			page_free(stack, AP_STACK_PAGES);
			page_free(ist, IST_COUNT * IST_STACK_SIZE / PAGE_SIZE);
			failed++;
		}
	}
	return failed;
}
