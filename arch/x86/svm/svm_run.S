/*
 * The AMD-V world switch (APM vol. 2, 15.5 "VMRUN" and 15.17 "Global
 * Interrupt Flag"). VMRUN loads and saves only part of the guest state; the
 * rest (FS, GS, TR, LDTR, KernelGSBase, STAR/LSTAR/CSTAR/SFMASK, SYSENTER)
 * moves with VMLOAD/VMSAVE, so we load the guest's before VMRUN, save it
 * after, and reload the host's from its own save area.
 *
 * void svm_vmrun(struct vcpu_regs *regs, u64 guest_vmcb_pa, u64 host_vmcb_pa)
 * Called with RFLAGS.IF = 0. Guest RAX, RSP, RIP and RFLAGS live in the
 * VMCB; the other fourteen general registers in regs->gpr[].
 */
#define GPR(n) (8 * (n))
#define RCX 1
#define RDX 2
#define RBX 3
#define RBP 5
#define RSI 6
#define RDI 7

	.text
	.globl svm_vmrun
	.type svm_vmrun, @function
svm_vmrun:
	pushq %rbp
	movq %rsp, %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	pushq %rdx			/* 8(%rsp) after the next push: host VMCB */
	pushq %rdi			/* (%rsp): regs */

	movq %rsi, %rax
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

	/* GIF = 0 holds host interrupts; IF = 1 is what VMRUN saves as the
	 * host's, so with V_INTR_MASKING a host interrupt in guest mode exits
	 * with INTR instead of reaching the guest. */
	clgi
	sti
	vmload %rax
	vmrun %rax
	vmsave %rax

	/* Host RSP, RAX and RIP are back; the other registers hold the guest's. */
	pushq %rdi
	movq 8(%rsp), %rdi
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

	movq 8(%rsp), %rax
	vmload %rax			/* the host's GS base (per-CPU data), TR ... */
	/* IF is 1 again (VMRUN saved it so), so a host interrupt that made
	 * this exit is taken right here, by the host's IDT. */
	stgi
	cli

	addq $16, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret
	.size svm_vmrun, . - svm_vmrun
