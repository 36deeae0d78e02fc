/*
 * utsuwa-tsc, for the Linux guest's initramfs (scripts/build-linux-guest.sh):
 * prints "<label> tsc=<N>" with N the TSC as the program reads it, and exits.
 * The Linux-boot benchmark (bench/linux-boot.sh) runs it where the shell
 * would start: under QEMU -icount shift=0 the TSC counts instructions since
 * the machine's (or, in a VM, the VM's) start.
 *
 * No C library: two system calls (write 1, exit 60: the x86-64 Linux ABI),
 * so it builds with the compiler alone and runs from a busybox initramfs.
 */
typedef unsigned long u64;

static long sys3(long nr, long a, long b, long c)
{
	long ret;

	__asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return ret;
}

static u64 rdtsc(void)
{
	unsigned lo, hi;

	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}

void start_c(long argc, char **argv)
{
	u64 tsc = rdtsc();
	char buf[128], digits[24];
	unsigned n = 0, d = 0;
	const char *label = argc > 1 ? argv[1] : "utsuwa-tsc:";

	while (*label && n < sizeof(buf) - 32)
		buf[n++] = *label++;
	for (const char *s = " tsc="; *s; s++)
		buf[n++] = *s;
	do {
		digits[d++] = (char)('0' + tsc % 10);
		tsc /= 10;
	} while (tsc);
	while (d)
		buf[n++] = digits[--d];
	buf[n++] = '\n';
	sys3(1, 1, (long)buf, n);
	sys3(60, 0, 0, 0);
}

/* The kernel enters with argc at (%rsp), argv after it. */
__asm__(".globl _start\n"
	"_start:\n"
	"	mov (%rsp), %rdi\n"
	"	lea 8(%rsp), %rsi\n"
	"	and $-16, %rsp\n"
	"	call start_c\n"
	"	hlt\n");
