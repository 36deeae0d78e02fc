/*
 * A minimal QEMU reproducer (no hypervisor, docs/interrupts.md "The tick"):
 * a Multiboot kernel that runs the local APIC timer periodic with an initial
 * count of 1 at divide-by-16 (a period of 32 ns of QEMU's virtual clock) and
 * counts its interrupts in HLT, writing a '.' to COM1 every 65,536 of them.
 *
 *   qemu-system-x86_64 -accel tcg -smp 2 -display none -serial stdio \
 *       -monitor unix:mon.sock,server,nowait -kernel apic-periodic-livelock.elf
 *
 * Seen with QEMU 7.2 (TCG, multi-threaded): the dots stop within a second or
 * never start, QEMU's main thread runs at 100% and its vCPU thread sleeps, and
 * the monitor no longer answers: the APIC timer callback, run by the main
 * loop under the big lock, is due again before it returns, so the main loop
 * never leaves its timer list and the halted vCPU never gets the lock it
 * needs to take the interrupt. Real hardware runs it (slowly, interrupt-bound).
 * Build: gcc -m32 -nostdlib -static -Wl,-Ttext=0x100000 -Wl,--build-id=none \
 *            -o apic-periodic-livelock.elf apic-periodic-livelock.S
 */
#define MB_MAGIC 0x1badb002
#define MB_FLAGS 0
#define APIC 0xfee00000
#define COM1 0x3f8

	.text
	.code32
	.align 4
mb_header:
	.long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

	.globl _start
_start:
	cli
	mov $stack_top, %esp
	/* IDT: every vector to `spurious`, 0x20 to `tick`. */
	mov $idt, %edi
	xor %ecx, %ecx
1:	mov $spurious, %eax
	cmp $0x20, %ecx
	jne 2f
	mov $tick, %eax
2:	mov %ax, (%edi)
	movw %cs, 2(%edi)
	movw $0x8e00, 4(%edi)
	shr $16, %eax
	mov %ax, 6(%edi)
	add $8, %edi
	inc %ecx
	cmp $256, %ecx
	jne 1b
	lidt idtr
	movl $0x1ff, APIC + 0xf0     /* SVR: enabled, spurious vector 0xff */
	movl $3, APIC + 0x3e0        /* divide by 16 */
	movl $0x20020, APIC + 0x320  /* LVT timer: periodic, vector 0x20 */
	movl $1, APIC + 0x380        /* initial count 1 */
	mov $'S', %al
	mov $COM1, %dx
	out %al, %dx
3:	sti
	hlt
	jmp 3b

tick:
	push %eax
	push %edx
	incl count
	testw $0xffff, count
	jnz 4f
	mov $'.', %al
	mov $COM1, %dx
	out %al, %dx
4:	movl $0, APIC + 0xb0         /* EOI */
	pop %edx
	pop %eax
	iret

spurious:
	iret

	.data
	.align 8
idtr:	.word 256 * 8 - 1
	.long idt
count:	.long 0
	.bss
	.align 16
idt:	.space 256 * 8
	.space 4096
stack_top:
