/*
 * 16-bit real-mode start (mode=real): the hypervisor enters _start at 0:0x1000
 * with DS=ES=SS=0, SP = 0xFFF0 - vCPU index * 0x1000, IF=0 and SI/ESI = the
 * configured arg. Every vCPU of the VM enters here at once.
 *
 * The C code is gcc -m16: 32-bit code with operand- and address-size
 * prefixes, which assumes flat DS=ES=SS=0 and linear addresses below 64 KiB
 * (the image and its .bss end below 0xC000, guest.ld checks it).
 */
	.code16

	.section .text.start, "ax"
	.globl _start
_start:
	cli
	cld
	xor	%ax, %ax
	mov	%ax, %ds
	mov	%ax, %es
	movzwl	%sp, %esp		/* gcc -m16 code addresses the stack through ESP */
	mov	%esi, %ebx		/* arg, callee-saved */
	/* The first vCPU to get here clears .bss; the others wait for it. */
	mov	$1, %eax
	xchgl	%eax, bss_claim
	test	%eax, %eax
	jnz	2f
	mov	$__bss_start, %di
	mov	$__bss_end, %cx
	sub	%di, %cx
	xor	%al, %al
	rep stosb
	movl	$1, bss_ready
	jmp	3f
2:	cmpl	$0, bss_ready
	je	2b
3:	and	$-16, %esp
	sub	$12, %esp
	pushl	%ebx
	calll	guest_entry		/* does not return */
	ud2

/*
 * Exceptions 0-31 through the IVT, one 16-byte stub each. Real mode pushes
 * FLAGS, CS, IP and never an error code.
 */
	.text
	.align	16
	.globl	exc_stubs
exc_stubs:
	.set	vec, 0
	.rept	32
	.align	16
	pushw	$vec
	jmp	exc_common
	.set	vec, vec + 1
	.endr

/*
 * Looks the faulting IP up in .extable: found, resume at the fixup with the
 * vector in ESI (guest.h, EXTABLE); not found, report and end the VM.
 */
exc_common:
	pushl	%eax
	pushl	%ecx
	pushl	%esi
	pushl	%edi
	movzwl	%sp, %esp
	/* 16(%esp) vector, 18 IP, 20 CS, 22 FLAGS (16-bit slots) */
	movzwl	18(%esp), %eax
	mov	$__extable_start, %esi
	mov	$__extable_end, %edi
1:	cmp	%edi, %esi
	jae	9f
	cmpl	(%esi), %eax
	je	2f
	add	$8, %esi
	jmp	1b
2:	movl	4(%esi), %ecx
	movw	%cx, 18(%esp)
	movzwl	16(%esp), %eax
	movl	%eax, 4(%esp)		/* ESI = the vector */
	movl	$0, (%esp)		/* EDI = no error code */
	popl	%edi
	popl	%esi
	popl	%ecx
	popl	%eax
	add	$2, %sp
	iret
9:	movzwl	16(%esp), %eax
	movzwl	18(%esp), %edx
	and	$-16, %esp
	sub	$4, %esp
	pushl	%edx
	pushl	$0
	pushl	%eax
	calll	unhandled_exception	/* does not return */
	ud2

/* The HC_TIMER interrupt: count it. Touches no register but FLAGS, which IRET restores. */
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
