/*
 * Ring 3 for long-mode test guests (guest.h): what a kernel needs to run a
 * user function and get back, and nothing more. The guest's own GDT keeps
 * the hypervisor's start selectors (so CS need not be reloaded) and adds a
 * user data and a user 64-bit code segment and a 64-bit TSS, whose RSP0 is
 * the stack the CPU switches to when an exception or the return gate takes
 * it from CPL 3 to 0 (SDM vol. 3, 6.14.5, 8.7). One vCPU only: the TSS,
 * the GDT and the saved kernel stack are single.
 */
#include "guest.h"
#include "tss64.h"

#if !defined(GUEST_MODE_LONG)
#error "ring 3 is for long-mode guests"
#endif

#define SEL_USER_DATA (0x20 | 3)
#define SEL_USER_CODE (0x28 | 3)
#define SEL_TSS 0x30
#define RING3_RETURN_VECTOR 0x81

/* Descriptors (SDM vol. 3, 3.4.5): flat, DPL 3; L for the code segment. */
#define DESC_USER_DATA 0x00cff3000000ffffULL
#define DESC_USER_CODE64 0x00affb000000ffffULL


struct __attribute__((packed)) dt_ptr {
	u16 limit;
	u64 base;
};

static u64 gdt[8] __attribute__((aligned(16)));
static struct tss64 tss __attribute__((aligned(16)));
static u8 user_stack[4096] __attribute__((aligned(16)));
static u8 kernel_stack[4096] __attribute__((aligned(16))); /* RSP0 */
u64 ring3_kernel_rsp; /* ring3_run's stack while fn runs (ring3_entry, ring3_back) */

void ring3_entry(void (*fn)(void), u64 user_rsp);
void ring3_back(void);

/*
 * ring3_entry saves the callee-saved registers and RSP, then IRETQs to fn
 * at CPL 3. ring3_back is the return gate's handler: it drops the frame,
 * takes the saved RSP and returns from ring3_entry. The CPU switched to
 * RSP0 on the way in; the saved RSP is the caller's.
 */
__asm__(".text\n"
	".globl ring3_entry\n"
	"ring3_entry:\n\t"
	"push %rbx\n\tpush %rbp\n\tpush %r12\n\tpush %r13\n\tpush %r14\n\tpush %r15\n\t"
	"mov %rsp, ring3_kernel_rsp(%rip)\n\t"
	"pushq $" "0x23" "\n\t" /* SS: SEL_USER_DATA */
	"pushq %rsi\n\t"            /* RSP */
	"pushq $2\n\t"              /* RFLAGS: IF clear, IOPL 0 */
	"pushq $" "0x2b" "\n\t" /* CS: SEL_USER_CODE */
	"pushq %rdi\n\t"            /* RIP */
	"iretq\n"
	".globl ring3_back\n"
	"ring3_back:\n\t"
	"mov ring3_kernel_rsp(%rip), %rsp\n\t"
	"pop %r15\n\tpop %r14\n\tpop %r13\n\tpop %r12\n\tpop %rbp\n\tpop %rbx\n\t"
	"ret\n");
_Static_assert(SEL_USER_DATA == 0x23 && SEL_USER_CODE == 0x2b, "the selectors in ring3_entry");

/* The identity map the hypervisor built (docs/config.md: PML4 -> PDPT ->
 * four PDs of 2 MiB pages): every level user-accessible (SDM vol. 3, 4.6). */
static void map_user(void)
{
	u64 cr3, *pml4, *pdpt;

	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	pml4 = (u64 *)(cr3 & ~0xfffULL);
	pml4[0] |= 4;
	pdpt = (u64 *)(pml4[0] & 0x000ffffffffff000ULL);
	for (int i = 0; i < 4; i++) {
		u64 *pd = (u64 *)(pdpt[i] & 0x000ffffffffff000ULL);

		if (!(pdpt[i] & 1))
			continue;
		pdpt[i] |= 4;
		for (int j = 0; j < 512; j++)
			if (pd[j] & 1)
				pd[j] |= 4;
	}
	__asm__ volatile("mov %0, %%cr3" : : "r"(cr3) : "memory");
}

void ring3_set_ist(unsigned n, void *top)
{
	tss.ist[n - 1] = (u64)top;
}

void ring3_setup(void)
{
	struct dt_ptr old, gdtr, idtr;
	u64 base = (u64)&tss, *idt;

	__asm__ volatile("sgdt %0" : "=m"(old));
	memcpy(gdt, (void *)old.base, 4 * 8); /* null and the start selectors 0x08-0x18 */
	gdt[SEL_USER_DATA >> 3] = DESC_USER_DATA;
	gdt[SEL_USER_CODE >> 3] = DESC_USER_CODE64;
	/* A 16-byte available 64-bit TSS descriptor (SDM vol. 3, 8.2.3). */
	gdt[SEL_TSS >> 3] = (sizeof(tss) - 1) | ((base & 0xffffff) << 16) | (0x89ULL << 40) |
			    (((base >> 24) & 0xff) << 56);
	gdt[(SEL_TSS >> 3) + 1] = base >> 32;
	tss.rsp[0] = (u64)(kernel_stack + sizeof(kernel_stack));
	tss.iomap_base = sizeof(tss); /* no I/O bitmap: port I/O at CPL 3 is #GP */
	gdtr = (struct dt_ptr){ .limit = sizeof(gdt) - 1, .base = (u64)gdt };
	__asm__ volatile("lgdt %0\n\tltr %w1" : : "m"(gdtr), "r"(SEL_TSS) : "memory");

	/* The return gate: an interrupt gate user code may call (DPL 3). */
	__asm__ volatile("sidt %0" : "=m"(idtr));
	idt = (u64 *)idtr.base;
	{
		u64 a = (u64)ring3_back, cs;

		__asm__ volatile("mov %%cs, %0" : "=r"(cs));
		idt[RING3_RETURN_VECTOR * 2] = (a & 0xffff) | (cs << 16) | (0xeeULL << 40) |
					       ((a >> 16) << 48);
		idt[RING3_RETURN_VECTOR * 2 + 1] = a >> 32;
	}
	map_user();
}

void ring3_run(void (*fn)(void))
{
	u16 ss;

	/* The way back through the gate loads a null SS (SDM vol. 3, 6.14.2):
	 * put the kernel's back. fn starts as if called (RSP + 8 aligned). */
	__asm__ volatile("mov %%ss, %0" : "=r"(ss));
	ring3_entry(fn, (u64)(user_stack + sizeof(user_stack) - 8));
	__asm__ volatile("mov %0, %%ss" : : "r"(ss) : "memory");
}

__noreturn void ring3_return(void)
{
	__asm__ volatile("int $0x81" ::: "memory");
	__builtin_unreachable();
}
