/*
 * An exception in the hypervisor is a bug of the hypervisor: say where, with
 * everything needed to find it, then stop. Guests' faults never come here;
 * they arrive as exits.
 */
#include "arch/x86/fault.h"
#include "hv/console.h"
#include "hv/percpu.h"
#include "hv/platform.h"
#include "arch/x86/lapic.h"
#include "asm/cpu.h"
#include "asm/idmap.h"

#define NMI_VECTOR 2
#define BACKTRACE_MAX 32
/* Frames of one stack are this close together; a bigger jump is garbage. */
#define FRAME_SPAN_MAX (1ULL << 20)

bool fault_ipi_ready;
static volatile bool machine_stopping;
static volatile u32 fault_depth[MAX_CPUS];

/* SDM vol. 3A, "Exception and Interrupt Reference" (table "Protected-Mode
 * Exceptions and Interrupts"); APM vol. 2 for #VC and #SX. */
static const char *const exception_names[32] = {
	[0] = "#DE divide error",
	[1] = "#DB debug",
	[2] = "NMI",
	[3] = "#BP breakpoint",
	[4] = "#OF overflow",
	[5] = "#BR bound range exceeded",
	[6] = "#UD invalid opcode",
	[7] = "#NM device not available",
	[8] = "#DF double fault",
	[9] = "coprocessor segment overrun",
	[10] = "#TS invalid TSS",
	[11] = "#NP segment not present",
	[12] = "#SS stack-segment fault",
	[13] = "#GP general protection",
	[14] = "#PF page fault",
	[16] = "#MF x87 floating-point error",
	[17] = "#AC alignment check",
	[18] = "#MC machine check",
	[19] = "#XM SIMD floating-point",
	[20] = "#VE virtualization exception",
	[21] = "#CP control protection",
	[28] = "#HV hypervisor injection",
	[29] = "#VC VMM communication",
	[30] = "#SX security exception",
};

/* This CPU's id, without trusting GS: a fault may come before or during its setup. */
static int current_cpu_id(void)
{
	return percpu_index_of(rdmsr(MSR_GS_BASE));
}

void backtrace_print(u64 rbp)
{
	kprintf("  backtrace (addr2line -fe build/utsuwa.elf ADDR):\n");
	for (unsigned depth = 0; rbp && depth < BACKTRACE_MAX; depth++) {
		const u64 *frame;
		u64 next;

		if (rbp % 8 || rbp < PAGE_SIZE || rbp > idmap_limit() - 16) {
			kprintf("    (frame pointer 0x%lx is not on a stack)\n", rbp);
			return;
		}
		frame = (const u64 *)(uintptr_t)rbp;
		if (!frame[1])
			return;
		kprintf("    #%u 0x%lx\n", depth, frame[1]);
		next = frame[0];
		/* Callers' frames lie above, on the same stack; anything else ends the walk. */
		if (next && (next <= rbp || next - rbp > FRAME_SPAN_MAX)) {
			kprintf("    (frame chain ends at 0x%lx)\n", next);
			return;
		}
		rbp = next;
	}
}

static void dump(int cpu, const struct irq_frame *f)
{
	unsigned v = f->vector & 0xff;
	const char *name = v < 32 && exception_names[v] ? exception_names[v] : "reserved";

	kprintf("\nCPU %d: exception %u (%s), error code 0x%lx, in the hypervisor\n", cpu, v,
		name, f->error);
	kprintf("  RAX=%016lx RBX=%016lx RCX=%016lx RDX=%016lx\n", f->rax, f->rbx, f->rcx, f->rdx);
	kprintf("  RSI=%016lx RDI=%016lx RBP=%016lx RSP=%016lx\n", f->rsi, f->rdi, f->rbp, f->rsp);
	kprintf("  R8 =%016lx R9 =%016lx R10=%016lx R11=%016lx\n", f->r8, f->r9, f->r10, f->r11);
	kprintf("  R12=%016lx R13=%016lx R14=%016lx R15=%016lx\n", f->r12, f->r13, f->r14, f->r15);
	kprintf("  RIP=%016lx RFLAGS=%08lx CS=%04lx SS=%04lx\n", f->rip, f->rflags, f->cs, f->ss);
	kprintf("  CR0=%016lx CR2=%016lx CR3=%016lx CR4=%016lx\n", read_cr0(), read_cr2(),
		read_cr3(), read_cr4());
	kprintf("  at 0x%lx\n", f->rip);
	backtrace_print(f->rbp);
}

void cpus_stop_others(void)
{
	machine_stopping = true;
	if (fault_ipi_ready && nr_cpus > 1)
		apic_send_nmi_others();
}

static __noreturn void halt_forever(void)
{
	for (;;) {
		irq_disable();
		halt();
	}
}

void fault_handle(struct irq_frame *f)
{
	int cpu = current_cpu_id();
	unsigned v = f->vector & 0xff;

	if (v == NMI_VECTOR) {
		if (machine_stopping)
			halt_forever(); /* NMIs stay blocked: no IRET */
		kprintf("CPU %d: NMI (not sent by the hypervisor); going on\n", cpu);
		return;
	}
	/* A fault while dumping a fault: say the least that helps, and stop. */
	if (cpu >= 0 && __atomic_fetch_add(&fault_depth[cpu], 1, __ATOMIC_RELAXED)) {
		kprintf("CPU %d: exception %u at 0x%lx while handling an exception\n", cpu, v,
			f->rip);
		halt_forever();
	}
	dump(cpu, f);
	kprintf("CPU %d: halted; stopping the other CPUs\n", cpu);
	cpus_stop_others();
	halt_forever();
}
