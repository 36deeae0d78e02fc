/*
 * The VT-x world switch (SDM vol. 3, 27 "VM Entries" and 28 "VM Exits").
 * VM entry loads the guest's RSP, RIP, RFLAGS and the rest of its state
 * from the VMCS, but none of the other general registers; a VM exit loads
 * the host's RSP and RIP from the VMCS host-state area (28.5): RIP is
 * vmx_exit_entry below, RSP the stack as this function left it.
 *
 * int vmx_enter(struct vcpu_regs *regs, u64 launched)
 * Called with RFLAGS.IF = 0 (a host interrupt in guest mode exits with
 * "external interrupt" and is taken by the caller). Returns 0 after a VM
 * exit, 1 when VMLAUNCH/VMRESUME itself failed (CF or ZF set, 31.2).
 */
#include "arch/x86/vmx/vmcs.h"

#define GPR(n) (8 * (n))
#define RAX 0
#define RCX 1
#define RDX 2
#define RBX 3
#define RBP 5
#define RSI 6
#define RDI 7

	.text
	.globl vmx_enter
	.type vmx_enter, @function
vmx_enter:
	pushq %rbp
	movq %rsp, %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	pushq %rdi			/* (%rsp): regs, for the exit */

	/* The host RSP of the exit is this one; it depends on the caller's
	 * stack depth, so it is written on every entry. */
	movl $VMCS_HOST_RSP, %eax
	vmwrite %rsp, %rax

	/* ZF = !launched survives the MOVs that load the guest registers. */
	testq %rsi, %rsi
	movq GPR(RAX)(%rdi), %rax
	movq GPR(RCX)(%rdi), %rcx
	movq GPR(RDX)(%rdi), %rdx
	movq GPR(RBX)(%rdi), %rbx
	movq GPR(RBP)(%rdi), %rbp
	movq GPR(RSI)(%rdi), %rsi
	movq GPR(8)(%rdi), %r8
	movq GPR(9)(%rdi), %r9
	movq GPR(10)(%rdi), %r10
	movq GPR(11)(%rdi), %r11
	movq GPR(12)(%rdi), %r12
	movq GPR(13)(%rdi), %r13
	movq GPR(14)(%rdi), %r14
	movq GPR(15)(%rdi), %r15
	movq GPR(RDI)(%rdi), %rdi
	jnz 1f
	vmlaunch
	jmp 2f
1:	vmresume
2:	/* Still here: the instruction failed. The registers hold guest
	 * values, the stack is intact; the host's come back from it. */
	movl $1, %eax
	jmp 3f

	/* VM exit: RSP as written above, RFLAGS = 2 (IF clear); the other
	 * general registers hold the guest's. */
	.globl vmx_exit_entry
vmx_exit_entry:
	pushq %rdi
	movq 8(%rsp), %rdi
	movq %rax, GPR(RAX)(%rdi)
	movq %rcx, GPR(RCX)(%rdi)
	movq %rdx, GPR(RDX)(%rdi)
	movq %rbx, GPR(RBX)(%rdi)
	movq %rbp, GPR(RBP)(%rdi)
	movq %rsi, GPR(RSI)(%rdi)
	movq %r8, GPR(8)(%rdi)
	movq %r9, GPR(9)(%rdi)
	movq %r10, GPR(10)(%rdi)
	movq %r11, GPR(11)(%rdi)
	movq %r12, GPR(12)(%rdi)
	movq %r13, GPR(13)(%rdi)
	movq %r14, GPR(14)(%rdi)
	movq %r15, GPR(15)(%rdi)
	popq GPR(RDI)(%rdi)
	xorl %eax, %eax

3:	addq $8, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret
	.size vmx_enter, . - vmx_enter
