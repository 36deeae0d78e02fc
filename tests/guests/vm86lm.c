/*
 * vm86lm (issue 15, item 3): an IRETD at CPL 0 in a 32-bit compatibility-
 * mode code segment whose EFLAGS image has VM set. In IA-32e mode IRET never
 * returns to virtual-8086 mode (SDM vol. 2A, IRET: the IA-32e-MODE path
 * does not look at VM): the CPU goes on at the CS:EIP of the frame, in
 * compatibility mode, with VM clear. QEMU's TCG (7.2) enters virtual-8086
 * mode there instead, and its #VMEXIT then hands VM to the host's RFLAGS.
 * This guest does it arg times (default 1) and checks it lands where the
 * frame says, with VM clear (a CPU's behaviour), or, in QEMU, sits in
 * virtual-8086 mode while the host takes its exits: the host surviving
 * those is the test.
 */
#include "guest.h"

/* The start state's selectors stay (CS 0x18, data 0x10: the runtime's
 * IDT gates name 0x18); 0x20 is added, a 32-bit code segment. */
static u64 gdt[5] __attribute__((aligned(16))) = {
	0,
	0,
	0x00cf93000000ffffull, /* 0x10: data, DPL 0 */
	0x00af9b000000ffffull, /* 0x18: 64-bit code, DPL 0 */
	0x00cf9b000000ffffull, /* 0x20: 32-bit code, DPL 0 (compatibility mode) */
};

static u8 stack32[4096] __attribute__((aligned(16)));
u32 vm86lm_eflags_after; /* EFLAGS read back in compatibility mode */
u32 vm86lm_landed;       /* 1 when the IRETD went where its frame said */
u64 vm86lm_rsp64;

void vm86lm_once(u32 stack_top);
/*
 * Into compatibility mode by LRETQ, build an IRETD frame (EIP, CS, EFLAGS
 * with VM, ESP, SS; virtual-8086 mode would pop ES, DS, FS, GS too: they
 * are there, so QEMU's path reads sane values), IRETD, then read EFLAGS
 * where it lands and go back to 64-bit mode by LRET.
 */
__asm__(".text\n"
	".globl vm86lm_once\n"
	"vm86lm_once:\n\t"
	"push %rbx\n\tpush %rbp\n\tpush %r12\n\tpush %r13\n\tpush %r14\n\tpush %r15\n\t"
	"mov %rsp, vm86lm_rsp64(%rip)\n\t"
	"mov %edi, %esp\n\t"        /* the 32-bit stack, below 4 GiB */
	"pushq $0x20\n\t"
	"lea 1f(%rip), %rax\n\t"
	"pushq %rax\n\t"
	"lretq\n"
	".code32\n"
	"1:\n\t"
	"mov %esp, %ebx\n\t"
	"pushl $0x10\n\t"           /* GS, FS, DS, ES for a VM86 return */
	"pushl $0x10\n\t"
	"pushl $0x10\n\t"
	"pushl $0x10\n\t"
	"pushl $0x10\n\t"           /* SS */
	"pushl %ebx\n\t"            /* ESP */
	"pushl $0x00020002\n\t"     /* EFLAGS: VM, IF clear */
	"pushl $0x20\n\t"           /* CS */
	"pushl $vm86lm_landing\n\t" /* EIP */
	"iretl\n"
	".globl vm86lm_landing\n"
	"vm86lm_landing:\n\t"
	"pushfl\n\t"
	"popl vm86lm_eflags_after\n\t"
	"movl $1, vm86lm_landed\n\t"
	"pushl $0x18\n\t"
	"pushl $3f\n\t"
	"lretl\n"
	".code64\n"
	"3:\n\t"
	"mov $0x10, %eax\n\tmov %eax, %ss\n\tmov %eax, %ds\n\tmov %eax, %es\n\t"
	"mov vm86lm_rsp64(%rip), %rsp\n\t"
	"pop %r15\n\tpop %r14\n\tpop %r13\n\tpop %r12\n\tpop %rbp\n\tpop %rbx\n\t"
	"ret\n");

extern const u8 vm86lm_landing[];
static volatile u32 done __shared;

/*
 * vCPU 0 does the IRETDs. Where QEMU takes it to virtual-8086 mode instead
 * (CS base 0x20 << 4, IP = the low 16 bits of the landing's address) it
 * runs what it finds there, taking the host's interrupts as exits, and
 * with no TSS it triple-faults at its first fault (under nested paging at
 * once; under shadow paging it may sit there). vCPU 1 ends the VM after
 * 300 ms either way, by a triple fault of its own. Passing means: the host
 * lived through it and stopped the VM with a report.
 */
int main(ulong arg)
{
	struct __attribute__((packed)) { u16 limit; u64 base; } gdtr = {
		sizeof(gdt) - 1, (u64)(ulong)gdt
	};
	u32 rounds = arg ? (u32)arg : 1, bad = 0;
	struct vcpu_info vi;

	if (hc_vcpu_info(&vi))
		return 1;
	if (vi.index == 1) {
		u64 end = hc_time_ns() + 300000000ull;

		while (!done && hc_time_ns() < end)
			delay_ns(1000000);
		if (!done)
			printf("vm86lm: vCPU 0 is in virtual-8086 mode in IA-32e mode (QEMU's TCG "
			       "does that; a CPU does not); the host took its exits\n");
		/* The end is the same either way (vCPU 0 may have triple-
		 * faulted already): a triple fault, with an empty IDT. */
		{
			struct __attribute__((packed)) { u16 limit; u64 base; } none = { 0, 0 };

			__asm__ volatile("lidt %0\n\tint3" : : "m"(none));
		}
	}
	*(volatile u16 *)(ulong)(0x200 + ((ulong)vm86lm_landing & 0xffff)) = 0xfeeb; /* JMP $ */
	__asm__ volatile("lgdt %0\n\t"
			 "mov $0x10, %%eax\n\tmov %%eax, %%ds\n\tmov %%eax, %%es\n\tmov %%eax, %%ss"
			 : : "m"(gdtr) : "rax", "memory");
	for (u32 i = 0; i < rounds; i++) {
		vm86lm_landed = 0;
		vm86lm_eflags_after = 0;
		vm86lm_once((u32)(ulong)(stack32 + sizeof(stack32)));
		hc_time_ns(); /* an exit between rounds */
		bad += !vm86lm_landed || (vm86lm_eflags_after & 0x20000);
	}
	check(bad == 0, "iretd_vm_ignored_in_ia32e",
	      "%u of %u IRETDs with VM set landed elsewhere or with VM set (last EFLAGS %#x)",
	      bad, rounds, vm86lm_eflags_after);
	done = 1;
	for (;;)
		cpu_relax(); /* vCPU 1 ends the VM */
}
