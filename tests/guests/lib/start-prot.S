/*
 * 32-bit protected-mode start (mode=prot): the hypervisor enters _start at the
 * load address with paging off, flat 4 GiB segments (CS=0x08, data 0x10),
 * IF=0, ESP set per vCPU and ESI = the configured arg. Every vCPU of the VM
 * enters here at once.
 */
	.code32

	.section .text.start, "ax"
	.globl _start
_start:
	cli
	cld
	mov	%esi, %ebx		/* arg, callee-saved */
	/* The first vCPU to get here clears .bss; the others wait for it. */
	mov	$1, %eax
	xchg	%eax, bss_claim
	test	%eax, %eax
	jnz	2f
	mov	$__bss_start, %edi
	mov	$__bss_end, %ecx
	sub	%edi, %ecx
	xor	%eax, %eax
	rep stosb
	movl	$1, bss_ready
	jmp	3f
2:	cmpl	$0, bss_ready
	je	2b
3:	and	$-16, %esp
	sub	$12, %esp
	push	%ebx
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
	pushl	$0
	.endif
	pushl	$vec
	jmp	exc_common
	.set	vec, vec + 1
	.endr

/*
 * Looks the faulting EIP up in .extable: found, resume at the fixup with the
 * vector in ESI and the error code in EDI (guest.h, EXTABLE); not found,
 * report and end the VM.
 */
exc_common:
	push	%eax
	push	%ecx
	push	%esi
	push	%edi
	/* 16(%esp) vector, 20 error, 24 EIP, 28 CS, 32 EFLAGS */
	mov	24(%esp), %eax
	mov	$__extable_start, %esi
	mov	$__extable_end, %edi
1:	cmp	%edi, %esi
	jae	9f
	cmp	(%esi), %eax
	je	2f
	add	$8, %esi
	jmp	1b
2:	mov	4(%esi), %ecx
	mov	%ecx, 24(%esp)
	mov	16(%esp), %eax
	mov	%eax, 4(%esp)		/* ESI = the vector */
	mov	20(%esp), %eax
	mov	%eax, (%esp)		/* EDI = the error code */
	pop	%edi
	pop	%esi
	pop	%ecx
	pop	%eax
	add	$8, %esp
	iret
9:	mov	16(%esp), %eax
	mov	20(%esp), %ecx
	mov	24(%esp), %edx
	and	$-16, %esp
	sub	$4, %esp
	push	%edx
	push	%ecx
	push	%eax
	call	unhandled_exception	/* does not return */
	ud2

/* The HC_TIMER interrupt: count it. Touches no register but EFLAGS, which IRET restores. */
	.align	16
	.globl	timer_stub
timer_stub:
	lock incl timer_count
	iret

	.data
	.align	4
bss_claim:	.long 0
bss_ready:	.long 0

	.section .note.GNU-stack, "", @progbits
