/*
 * arch_setup(): the boot CPU takes the machine, in an order where each step
 * has what it needs and a fault anywhere is reported: CPU tables first, then
 * the boot info, memory, ACPI, the local APIC, time, and the other CPUs.
 */
#include "hv/platform.h"
#include "hv/console.h"
#include "hv/mm.h"
#include "arch/x86/acpi.h"
#include "arch/x86/boot/bootinfo_parse.h"
#include "arch/x86/cpu_tables.h"
#include "arch/x86/fault.h"
#include "arch/x86/i8259.h"
#include "arch/x86/lapic.h"
#include "arch/x86/phys_view.h"
#include "arch/x86/smp.h"
#include "arch/x86/time.h"
#include "asm/cpu.h"
#include "asm/idmap.h"
#include "asm/percpu.h"
#include "lib/string.h"

#define CPUID_80000007_EDX_INVARIANT_TSC BIT(8)

extern u8 boot_stack_top[];
static u8 bsp_ist_stacks[IST_COUNT * IST_STACK_SIZE] __aligned(16);

static __noreturn void cannot_run(void)
{
	kprintf("utsuwa: cannot run on this machine; halted\n");
	for (;;) {
		irq_disable();
		halt();
	}
}

static const char *mem_type_name(u32 type)
{
	switch (type) {
	case 1: return "usable";
	case 2: return "reserved";
	case 3: return "ACPI tables";
	case 4: return "ACPI NVS";
	case 5: return "bad RAM";
	default: return "other";
	}
}

/* The command line as given, but for the value of api_token=, the management
 * API's bearer token, which no log line may hold (docs/api.md). */
static void print_cmdline(const char *s)
{
	static const char key[] = "api_token=";
	const char *from = s, *p = s;

	kprintf("boot: command line \"");
	while (*p) {
		bool word_start = p == s || p[-1] == ' ' || p[-1] == '\t';

		if (word_start && !strncmp(p, key, sizeof(key) - 1)) {
			p += sizeof(key) - 1;
			kprintf("%.*s(hidden)", (int)(p - from), from);
			while (*p && *p != ' ' && *p != '\t')
				p++;
			from = p;
		} else {
			p++;
		}
	}
	kprintf("%s\"\n", from);
}

static void print_mmap_source(const struct boot_info *bi)
{
	switch (bi->mmap_source) {
	case BOOT_MMAP_EFI:
		kprintf("boot: memory map from the EFI memory map tag (Multiboot2 tag 17, "
			"%u descriptors)\n", bi->nr_efi_desc);
		break;
	case BOOT_MMAP_MB2:
		kprintf("boot: memory map from the memory map tag (Multiboot2 tag 6)\n");
		break;
	case BOOT_MMAP_MB1:
		kprintf("boot: memory map from the Multiboot info's mmap fields\n");
		break;
	case BOOT_MMAP_MEMINFO:
		kprintf("boot: memory map made from the loader's mem_lower/mem_upper\n");
		break;
	case BOOT_MMAP_NONE:
		kprintf("boot: the loader gave no memory map\n");
		break;
	}
}

static void print_boot_info(const struct boot_info *bi, u32 warnings)
{
	for (unsigned b = 0; b < BOOTINFO_NR_WARNINGS; b++)
		if (warnings & BIT(b))
			kprintf("boot: %s\n", bootinfo_warning_text(b));
	print_cmdline(bi->cmdline);
	if (bi->uefi)
		kprintf("boot: UEFI firmware (EFI system table at 0x%lx); no BIOS area is read\n",
			bi->efi_systab);
	print_mmap_source(bi);
	kprintf("boot: memory map (%u entries):\n", bi->nr_mmap);
	for (unsigned i = 0; i < bi->nr_mmap; i++)
		kprintf("  %016lx-%016lx %s\n", bi->mmap[i].base,
			bi->mmap[i].base + bi->mmap[i].len - (bi->mmap[i].len ? 1 : 0),
			mem_type_name(bi->mmap[i].type));
	for (unsigned i = 0; i < bi->nr_mods; i++)
		kprintf("boot: module %u: %lx-%lx (%lu KiB) \"%s\"\n", i, bi->mods[i].start,
			bi->mods[i].end, (bi->mods[i].end - bi->mods[i].start) >> 10,
			bi->mods[i].cmdline);
}

/*
 * The log on the loader's framebuffer too, when there is one the identity
 * map reaches: on a machine without a serial port it is all there is.
 */
static void screen_setup(const struct boot_fb *fb)
{
	static const char *const kind[] = { "indexed-colour", "RGB", "EGA text" };
	u64 size = (u64)fb->pitch * fb->height;
	const char *what = fb->type < ARRAY_SIZE(kind) ? kind[fb->type] : "unknown";

	if (!fb->present)
		return;
	if (fb->addr == 0 || fb->addr + size > idmap_limit() || fb->addr + size < fb->addr) {
		kprintf("console: the %s framebuffer at 0x%lx is outside the identity map; "
			"not used\n", what, fb->addr);
		return;
	}
	if (console_attach_screen(fb, (void *)(uintptr_t)fb->addr)) {
		kprintf("console: a %s framebuffer (%u bpp) is not drawn; the log stays on "
			"the serial port\n", what, fb->bpp);
		return;
	}
	kprintf("console: the log is on the screen too: %ux%u %s framebuffer at 0x%lx\n",
		fb->width, fb->height, what, fb->addr);
}

static void acpi_report(void *ctx, const char *msg)
{
	kprintf("%s\n", msg);
}

/* The MADT's CPUs, or the boot CPU alone when there is no usable MADT. */
static void find_cpus(const struct boot_info *bi)
{
	struct acpi_info *a = &boot_acpi;

	/* On UEFI the BIOS areas are not there to scan: the loader's copy or nothing. */
	if (acpi_parse(&phys_view_identity, bi->has_rsdp ? bi->rsdp : NULL, !bi->uefi, a,
		       acpi_report, NULL)) {
		kprintf("acpi: no usable MADT; running on the boot CPU alone\n");
		memset(a, 0, sizeof(*a));
		a->pcat_compat = true; /* assume a PC: mask the 8259s */
		return;
	}
	if (a->rsdp_pa)
		kprintf("acpi: RSDP at 0x%lx\n", a->rsdp_pa);
	else
		kprintf("acpi: RSDP from the loader's copy (Multiboot2 tag %u, ACPI %s RSDP)\n",
			bi->rsdp_tag, bi->rsdp_tag == 15 ? "2.0+" : "1.0");
	kprintf("acpi: %s at 0x%lx, %u CPU%s, local APIC at 0x%lx, %u I/O APIC%s\n",
		a->root_is_xsdt ? "XSDT" : "RSDT", a->root_pa, a->nr_cpus, a->nr_cpus == 1 ? "" : "s",
		a->lapic_addr, a->nr_ioapics, a->nr_ioapics == 1 ? "" : "s");
	for (unsigned i = 0; i < a->nr_ioapics; i++)
		if (idmap_set_uncached(a->ioapics[i].addr, PAGE_SIZE))
			kprintf("acpi: I/O APIC %u at 0x%x is outside the identity map\n",
				a->ioapics[i].id, a->ioapics[i].addr);
}

static void local_apic_setup(void)
{
	struct percpu *bsp = &percpu_area[0];
	bool listed = false;

	apic_init(boot_acpi.lapic_addr);
	apic_enable_cpu();
	bsp->apic_id = apic_id();
	bsp->online = true;
	fault_ipi_ready = true;
	for (u32 i = 0; i < boot_acpi.nr_cpus; i++)
		listed |= boot_acpi.apic_ids[i] == bsp->apic_id;
	if (boot_acpi.nr_cpus && !listed)
		kprintf("acpi: the boot CPU (APIC ID %u) is not in the MADT\n", bsp->apic_id);
}

static void time_setup(void)
{
	bool invariant = cpuid(0x80000000).eax >= 0x80000007 &&
			 (cpuid(0x80000007).edx & CPUID_80000007_EDX_INVARIANT_TSC);

	time_calibrate();
	kprintf("time: TSC %lu kHz (%s), APIC timer %lu Hz at divide-by-16\n", tsc_khz,
		invariant ? "invariant" : "not invariant: it may drift with power states",
		apic_timer_hz);
}

static void start_other_cpus(u64 trampoline)
{
	unsigned others = boot_acpi.nr_cpus > 1 ? boot_acpi.nr_cpus - 1 : 0, failed = 0;

	if (others && !trampoline) {
		kprintf("smp: no free page below 1 MiB for the start-up code; running on one CPU\n");
		failed = others;
	} else if (others) {
		kprintf("smp: start-up code at 0x%lx, a page the memory map says is free\n",
			trampoline);
		failed = smp_start_aps(boot_acpi.apic_ids, boot_acpi.nr_cpus, trampoline);
	}
	kprintf("smp: %u of %u CPU%s online%s\n", nr_cpus, nr_cpus + failed,
		nr_cpus + failed == 1 ? "" : "s", failed ? " (see above)" : "");
}

void arch_setup(u32 magic, u64 info, struct boot_info *bi)
{
	struct percpu *bsp = &percpu_area[0];
	u32 warnings = 0;
	u64 trampoline;

	/* This CPU's tables first: from here on a fault prints a dump, not a reset. */
	bsp->id = 0;
	bsp->stack_top = (u64)(uintptr_t)boot_stack_top;
	cpu_init_features();
	gdt_init_cpu(bsp, bsp_ist_stacks);
	percpu_set_base(bsp);
	idt_init();
	idt_load();
	nr_cpus = 1;

	if (bootinfo_parse_view(magic, info, &phys_view_identity, bi, &warnings)) {
		kprintf("boot: not started by a Multiboot loader (magic 0x%x, info 0x%lx)\n", magic,
			info);
		cannot_run();
	}
	screen_setup(&bi->fb);
	print_boot_info(bi, warnings);
	/* Chosen now, while everything below 1 MiB is as the loader left it. */
	trampoline = smp_pick_trampoline(bi);

	mm_init(bi);
	kprintf("mm: %lu MiB free for the hypervisor and its VMs (identity map up to %lu GiB)\n",
		mm_free_pages() >> (20 - PAGE_SHIFT), idmap_limit() >> 30);

	find_cpus(bi);
	if (boot_acpi.pcat_compat)
		i8259_disable();
	local_apic_setup();
	time_setup();
	start_other_cpus(trampoline);
}
