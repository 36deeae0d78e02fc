/*
 * Entry from a Multiboot (v1, QEMU -kernel) or Multiboot2 (GRUB) loader:
 * 32-bit protected mode, paging off, EAX = loader magic, EBX = its info.
 * We build an identity map of the first 4 GiB with 2 MiB pages, enter long
 * mode (SDM vol. 3, 10.8.5 "Initializing IA-32e Mode") and call kmain().
 *
 * GRUB's multiboot2 command on UEFI hands over the same way: the header
 * below asks for no EFI entry point (Multiboot2 2.0, 3.1 "EFI amd64 entry
 * address tag") and does not ask to keep boot services ("EFI boot services
 * tag"), so GRUB exits boot services and drops from the firmware's long mode
 * to 32-bit protected mode with paging off (Multiboot2 2.0, 3.3 "I386
 * machine state"). That section leaves the other bits of CR0, CR4 and
 * EFLAGS, the GDTR and the IDTR undefined, and UEFI firmware does leave some
 * set (CR4.OSFXSR, PGE, EFER.NXE, ...): we load no segment register before
 * our own GDT, and set EFLAGS and CR4 to known values.
 */
#include "arch/x86/boot/multiboot_defs.h"

#define BOOT_STACK_SIZE 16384

	.section .multiboot, "a"
	.align 4
mb1_header:
	.long MB1_HEADER_MAGIC
	.long MB1_HEADER_FLAGS
	.long -(MB1_HEADER_MAGIC + MB1_HEADER_FLAGS)
	/* Address fields (flag 16): how QEMU loads an ELF64 image. */
	.long mb1_header
	.long __load_start
	.long __load_end
	.long __bss_end
	.long _start32

	.align 8
mb2_header:
	.long MB2_HEADER_MAGIC
	.long MB2_ARCH_I386
	.long mb2_header_end - mb2_header
	.long -(MB2_HEADER_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
	/*
	 * No framebuffer tag: GRUB on UEFI sets a graphics mode anyway when a
	 * video driver is loaded (grub.cfg's "insmod efi_gop") and reports it
	 * in tag 8; on BIOS it then leaves EGA text, also in tag 8. Asking for
	 * a framebuffer here would make a BIOS GRUB set a VBE mode, and GRUB
	 * 2.06's VBE code corrupts its heap under Bochs's VGA BIOS.
	 */
	/* End tag. */
	.short 0
	.short 0
	.long 8
mb2_header_end:

	.section .text.boot, "ax"
	.code32
	.globl _start32
_start32:
	cli
	cld
	movl %eax, %edi			/* loader magic, kept for kmain */
	movl %ebx, %esi			/* loader info */

	/* Zero .bss: GRUB does, QEMU does, but a loader need not. */
	movl $__bss_start, %eax
	movl $__bss_end, %ecx
	subl %eax, %ecx
	pushl %edi
	movl %eax, %edi
	xorl %eax, %eax
	rep stosb
	popl %edi

	movl $boot_stack_top, %esp
	pushl $0x2			/* EFLAGS: only the reserved bit 1 (IF, DF, AC, NT clear) */
	popfl

	/* Long mode present? CPUID 8000_0001h EDX bit 29. */
	movl $0x80000000, %eax
	cpuid
	cmpl $0x80000001, %eax
	jb no_long_mode
	movl $0x80000001, %eax
	cpuid
	btl $29, %edx
	jnc no_long_mode

	/* PML4[0] -> PDPT; PDPT[0..3] -> four page directories of 2 MiB pages. */
	movl $boot_pdpt, %eax
	orl $0x3, %eax			/* present, writable */
	movl %eax, boot_pml4
	movl $boot_pd, %eax
	orl $0x3, %eax
	xorl %ecx, %ecx
1:	movl %eax, boot_pdpt(,%ecx,8)
	addl $4096, %eax
	incl %ecx
	cmpl $4, %ecx
	jne 1b
	/* 2048 PDEs: physical address i * 2 MiB, present | writable | PS. */
	xorl %ecx, %ecx
2:	movl %ecx, %eax
	shll $21, %eax
	orl $0x83, %eax
	movl %eax, boot_pd(,%ecx,8)
	movl %ecx, %eax
	shrl $11, %eax			/* high dword: bits 32+ of i * 2 MiB */
	movl %eax, boot_pd+4(,%ecx,8)
	incl %ecx
	cmpl $2048, %ecx
	jne 2b

	movl $(1 << 5), %eax		/* CR4 = PAE alone: whatever the firmware left goes */
	movl %eax, %cr4
	movl $boot_pml4, %eax
	movl %eax, %cr3
	movl $0xc0000080, %ecx		/* EFER */
	rdmsr
	orl $(1 << 8), %eax		/* LME */
	wrmsr
	movl %cr0, %eax
	orl $0x80000001, %eax		/* PG | PE */
	movl %eax, %cr0

	lgdt boot_gdt_ptr
	ljmp $0x08, $start64

no_long_mode:
	movl $no_lm_msg, %esi
3:	lodsb
	testb %al, %al
	jz 4f
	movw $0x3f8, %dx
	outb %al, %dx
	jmp 3b
4:	hlt
	jmp 4b

	.code64
start64:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorw %ax, %ax
	movw %ax, %fs
	movw %ax, %gs
	movq $boot_stack_top, %rsp
	xorl %ebp, %ebp
	movl %edi, %edi			/* magic (zero-extended) */
	movl %esi, %esi			/* info pointer */
	call kmain
5:	cli
	hlt
	jmp 5b

	.section .rodata
no_lm_msg:
	.asciz "utsuwa: this CPU has no long mode (CPUID 80000001h EDX bit 29)\r\n"

	.align 16
boot_gdt:
	.quad 0
	.quad 0x00af9a000000ffff	/* 0x08: 64-bit code */
	.quad 0x00cf92000000ffff	/* 0x10: data */
boot_gdt_end:
boot_gdt_ptr:
	.short boot_gdt_end - boot_gdt - 1
	.long boot_gdt

	.section .bss.pagetables, "aw", @nobits
	.align 4096
	.globl boot_pml4
boot_pml4:	.skip 4096
boot_pdpt:	.skip 4096
boot_pd:	.skip 4 * 4096

	.section .bss
	.align 16
	.globl boot_stack_top
boot_stack:	.skip BOOT_STACK_SIZE
boot_stack_top:
