/*
 * A Multiboot (v1) header and entry for test guests built as Multiboot
 * kernels (tests/guests/multiboot.c): guest.ld puts the .multiboot section
 * first in the image. The header's address fields (flag 16) say where the
 * flat file goes, so no ELF is needed (Multiboot Specification 0.6.96,
 * 3.1.1-3.1.3). The loader enters mb_entry in 32-bit protected mode with
 * paging off, EAX = 0x2BADB002 and EBX = the information structure (3.2);
 * they are kept for the C code, then the usual start (start-prot.S) runs.
 */
	.code32
#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00010003 /* page-aligned modules, memory info, address fields */

	.section .multiboot, "a"
	.align	4
mb_header:
	.long	MB_MAGIC
	.long	MB_FLAGS
	.long	-(MB_MAGIC + MB_FLAGS)
	.long	mb_header	/* header_addr */
	.long	__image_start	/* load_addr: the file's first byte */
	.long	__image_end	/* load_end_addr */
	.long	__bss_end	/* bss_end_addr: the loader zeroes up to here */
	.long	mb_entry	/* entry_addr */

	.text
	.globl	mb_entry
mb_entry:
	mov	%eax, mb_magic
	mov	%ebx, mb_info
	xor	%esi, %esi	/* start-prot.S passes ESI to main as arg */
	jmp	_start

	.data		/* not .bss: _start clears that */
	.align	4
	.globl	mb_magic, mb_info
mb_magic:	.long 0
mb_info:	.long 0
