/*
 * 64-bit long-mode start (mode=long): the hypervisor enters _start at the load
 * address with CS=0x18, paging on (first 4 GiB identity-mapped), IF=0, RSP set
 * per vCPU and RSI = the configured arg. Every vCPU of the VM enters here at
 * once.
 */
	.code64

	.section .text.start, "ax"
	.globl _start
_start:
	cli
	cld
	mov	%rsi, %r12		/* arg, callee-saved */
	/* The first vCPU to get here clears .bss; the others wait for it. */
	mov	$1, %eax
	xchg	%eax, bss_claim(%rip)
	test	%eax, %eax
	jnz	2f
	lea	__bss_start(%rip), %rdi
	lea	__bss_end(%rip), %rcx
	sub	%rdi, %rcx
	xor	%eax, %eax
	rep stosb
	movl	$1, bss_ready(%rip)
	jmp	3f
2:	cmpl	$0, bss_ready(%rip)
	je	2b
3:	and	$-16, %rsp
	mov	%r12, %rdi
	call	guest_entry		/* does not return */
	ud2

/*
 * Exceptions 0-31, one 16-byte stub each: push a zero error code where the
 * CPU pushes none (SDM vol. 3, table 6-1), then the vector.
 */
	.text
	.align	16
	.globl	exc_stubs
exc_stubs:
	.set	vec, 0
	.rept	32
	.align	16
	.if	(vec == 8) || ((vec >= 10) && (vec <= 14)) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
	.else
	pushq	$0
	.endif
	pushq	$vec
	jmp	exc_common
	.set	vec, vec + 1
	.endr

/*
 * Looks the faulting RIP up in .extable: found, resume at the fixup with the
 * vector in RSI and the error code in RDI (guest.h, EXTABLE); not found,
 * report and end the VM.
 */
exc_common:
	push	%rax
	push	%rcx
	push	%rsi
	push	%rdi
	/* 32(%rsp) vector, 40 error, 48 RIP, 56 CS, 64 RFLAGS, 72 RSP, 80 SS */
	mov	48(%rsp), %rax
	lea	__extable_start(%rip), %rsi
	lea	__extable_end(%rip), %rdi
1:	cmp	%rdi, %rsi
	jae	9f
	mov	(%rsi), %ecx
	cmp	%rax, %rcx
	je	2f
	add	$8, %rsi
	jmp	1b
2:	mov	64(%rsp), %rcx
	mov	%rcx, exc_rflags(%rip)	/* the RFLAGS image pushed (guest.h) */
	andq	$~0x100, 64(%rsp)	/* the fixup runs without single-stepping (TF) */
	mov	4(%rsi), %ecx
	mov	%rcx, 48(%rsp)
	mov	32(%rsp), %rax
	mov	%rax, 8(%rsp)		/* RSI = the vector */
	mov	40(%rsp), %rax
	mov	%rax, (%rsp)		/* RDI = the error code */
	pop	%rdi
	pop	%rsi
	pop	%rcx
	pop	%rax
	add	$16, %rsp
	iretq
9:	mov	32(%rsp), %rdi
	mov	40(%rsp), %rsi
	mov	48(%rsp), %rdx
	and	$-16, %rsp
	call	unhandled_exception	/* does not return */
	ud2

/* NMI (vector 2): guest_nmi() in C, with the registers the C calling
 * convention lets it change saved around it. The CPU pushed 5 quadwords on
 * a 16-byte-aligned stack; 9 more make the call's stack aligned again. */
	.align	16
	.globl	nmi_stub
nmi_stub:
	push	%rax
	push	%rcx
	push	%rdx
	push	%rsi
	push	%rdi
	push	%r8
	push	%r9
	push	%r10
	push	%r11
	cld
	call	guest_nmi
	pop	%r11
	pop	%r10
	pop	%r9
	pop	%r8
	pop	%rdi
	pop	%rsi
	pop	%rdx
	pop	%rcx
	pop	%rax
	iretq

/* The HC_TIMER interrupt: count it. Touches no register but RFLAGS, which IRET restores. */
	.align	16
	.globl	timer_stub
timer_stub:
	lock incl timer_count(%rip)
	iretq

	.data
	.align	8
	.globl	exc_rflags
exc_rflags:	.quad 0
bss_claim:	.long 0
bss_ready:	.long 0

	.section .note.GNU-stack, "", @progbits
