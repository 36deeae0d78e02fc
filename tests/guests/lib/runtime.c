/*
 * The test-guest runtime: vendor detection, exception handlers, hypercall
 * wrappers, a printf that writes one line per HC_CONSOLE_WRITE, PASS/FAIL
 * checks. Builds as 16-, 32- and 64-bit code (guest.h).
 */
#include "guest.h"

bool hc_intel;
bool on_kvm;
volatile u32 timer_count;
volatile u32 failures __shared; /* every vCPU of the VM adds to it */

/* ---- exception and interrupt entry (start-<mode>.S) ---- */

#define EXC_STUB_SIZE 16 /* the stubs are .align 16 apart */
extern char exc_stubs[];  /* vectors 0-31 */
extern char timer_stub[]; /* TIMER_VECTOR */
#if defined(GUEST_MODE_LONG)
extern char nmi_stub[];   /* vector 2: guest_nmi() */

/* A guest that sends itself NMIs defines its own; this one counts. */
volatile u32 nmi_count;
void __attribute__((weak)) guest_nmi(void)
{
	__atomic_fetch_add(&nmi_count, 1, __ATOMIC_RELAXED);
}
#endif

#if defined(GUEST_MODE_LONG)
/* A 64-bit interrupt gate (SDM vol. 3, 6.14.1). */
struct gate {
	u16 offset0, sel;
	u8 ist, type;
	u16 offset1;
	u32 offset2, zero;
};
_Static_assert(sizeof(struct gate) == 16, "64-bit IDT gate");
#elif defined(GUEST_MODE_PROT)
/* A 32-bit interrupt gate (SDM vol. 3, 6.11). */
struct gate {
	u16 offset0, sel;
	u8 zero, type;
	u16 offset1;
};
_Static_assert(sizeof(struct gate) == 8, "32-bit IDT gate");
#endif

struct __attribute__((packed)) dt_ptr {
	u16 limit;
	ulong base;
};

#if defined(GUEST_MODE_REAL)
/* Real mode: the IVT at linear 0, one segment:offset pair per vector. */
static void set_vector(unsigned vec, const void *handler)
{
	volatile u32 *ivt = 0;

	/* Hide the null base from the optimiser: address 0 is the IVT here. */
	__asm__("" : "+r"(ivt));
	ivt[vec] = (u32)(ulong)handler; /* segment 0, offset = linear address < 64 KiB */
}

static void idt_install(void)
{
	struct dt_ptr ivtr = { .limit = 0x3ff, .base = 0 };

	for (unsigned v = 0; v < 32; v++)
		set_vector(v, exc_stubs + v * EXC_STUB_SIZE);
	set_vector(TIMER_VECTOR, timer_stub);
	__asm__ volatile("lidtl %0" : : "m"(ivtr));
}
#else
static struct gate idt[256] __attribute__((aligned(16)));

static void set_vector(unsigned vec, const void *handler, u16 cs)
{
	ulong a = (ulong)handler;
	struct gate g = {
		.offset0 = (u16)a,
		.sel = cs,
		.type = 0x8e, /* present, DPL 0, interrupt gate: IF cleared on entry */
		.offset1 = (u16)(a >> 16),
#if defined(GUEST_MODE_LONG)
		.offset2 = (u32)(a >> 32),
#endif
	};
	idt[vec] = g;
}

#if defined(GUEST_MODE_LONG)
void idt_set_gate(unsigned vec, const void *handler, u8 type, u8 ist)
{
	u16 cs;

	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	set_vector(vec, handler, cs);
	idt[vec].type = type;
	idt[vec].ist = ist;
}
#endif

static void idt_install(void)
{
	struct dt_ptr idtr = { .limit = sizeof(idt) - 1, .base = (ulong)idt };
	u16 cs;

	/* Whatever code segment the hypervisor started us in (0x08 prot, 0x18 long). */
	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	/* Every vCPU runs this on the one IDT, the others while the first may
	 * already take NMIs: each gate is written once, with its final value.
	 * (Vector 2 used to point at its exception stub until the line after
	 * the loop, and a late vCPU's pass sent vCPU 0's self-NMI there: the
	 * nmi case under Bochs failed with "unexpected exception: vector 2".) */
	for (unsigned v = 0; v < 32; v++) {
#if defined(GUEST_MODE_LONG)
		if (v == 2) {
			set_vector(v, nmi_stub, cs);
			continue;
		}
#endif
		set_vector(v, exc_stubs + v * EXC_STUB_SIZE, cs);
	}
	set_vector(TIMER_VECTOR, timer_stub, cs);
	__asm__ volatile("lidt %0" : : "m"(idtr));
}
#endif

__noreturn void guest_entry(ulong arg);
__noreturn void guest_entry(ulong arg)
{
	u32 r[4];

	/* "GenuineIntel" is EBX "Genu", EDX "ineI", ECX "ntel"; anything else gets VMMCALL. */
	cpuid(0, 0, r);
	hc_intel = r[1] == 0x756e6547 && r[3] == 0x49656e69 && r[2] == 0x6c65746e;
	/* A hypervisor is present (leaf 1 ECX bit 31) and its leaf 0x40000000
	   says "KVMKVMKVM\0\0\0" in EBX, ECX, EDX. */
	cpuid(1, 0, r);
	if (r[2] & (1u << 31)) {
		cpuid(0x40000000, 0, r);
		on_kvm = r[1] == 0x4b4d564b && r[2] == 0x564b4d56 && r[3] == 0x4d;
	}
	idt_install();
	hc_exit((u32)main(arg));
}

__noreturn void unhandled_exception(ulong vector, ulong error, ulong ip)
{
	printf("FAIL unexpected exception: vector %lu error %#lx at %#lx\n", vector, error, ip);
	hc_exit(200 + (u32)vector);
}

/* ---- hypercalls ---- */

s64 hypercall(ulong nr, ulong b, ulong c, ulong d, ulong s, struct hc_regs *out)
{
	ulong ax = nr, bx = b, cx = c, dx = d, si = s;

	if (hc_intel)
		__asm__ volatile("vmcall" : "+a"(ax), "+b"(bx), "+c"(cx), "+d"(dx), "+S"(si)
				 : : "memory");
	else
		__asm__ volatile("vmmcall" : "+a"(ax), "+b"(bx), "+c"(cx), "+d"(dx), "+S"(si)
				 : : "memory");
	if (out) {
		out->ax = ax;
		out->bx = bx;
		out->cx = cx;
		out->dx = dx;
	}
#if defined(GUEST_MODE_LONG)
	return (s64)ax;
#else
	/* RDX carries the high 32 bits of the result for 16- and 32-bit guests. */
	return (s64)(((u64)dx << 32) | ax);
#endif
}

s64 hc_console_write(const void *buf, ulong len)
{
	return hypercall(HC_CONSOLE_WRITE, (ulong)buf, len, 0, 0, NULL);
}

s64 hc_yield(void)
{
	return hypercall(HC_YIELD, 0, 0, 0, 0, NULL);
}

u64 hc_time_ns(void)
{
	return (u64)hypercall(HC_TIME_NS, 0, 0, 0, 0, NULL);
}

s64 hc_timer(u32 us, u32 vector)
{
	return hypercall(HC_TIMER, us, vector, 0, 0, NULL);
}

int hc_vcpu_info(struct vcpu_info *vi)
{
	struct hc_regs r;
	s64 ret = hypercall(HC_VCPU_INFO, 0, 0, 0, 0, &r);

	vi->index = (u32)r.ax;
	vi->pcpu = (u32)r.bx;
	vi->count = (u32)r.cx;
	return ret < 0 ? (int)ret : 0;
}

__noreturn void hc_exit(u32 code)
{
	if (on_kvm)
		outl(PEER_EXIT_PORT, code);
	hypercall(HC_EXIT, code, 0, 0, 0, NULL);
	/* HC_EXIT does not return; if it did, halting with IF=0 gets us stopped. */
	cli_hlt_forever();
}

void delay_ns(u64 ns)
{
	u64 end = hc_time_ns() + ns;

	while (hc_time_ns() < end)
		cpu_relax();
}

/* ---- freestanding helpers ---- */

void *memset(void *d, int c, size_t n)
{
	u8 *p = d;

	while (n--)
		*p++ = (u8)c;
	return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
	u8 *p = d;
	const u8 *q = s;

	while (n--)
		*p++ = *q++;
	return d;
}

void *memmove(void *d, const void *s, size_t n)
{
	u8 *p = d;
	const u8 *q = s;

	if (p < q)
		return memcpy(d, s, n);
	while (n--)
		p[n] = q[n];
	return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const u8 *p = a, *q = b;

	for (; n; n--, p++, q++)
		if (*p != *q)
			return *p - *q;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

u64 div64_u32(u64 n, u32 d, u32 *rem)
{
#if defined(GUEST_MODE_LONG)
	if (rem)
		*rem = (u32)(n % d);
	return n / d;
#else
	/* Two 32-bit DIVs; the second cannot overflow since its high half is < d. */
	u32 hi = (u32)(n >> 32), lo = (u32)n, qhi = hi / d, r = hi % d, qlo;

	__asm__("divl %4" : "=a"(qlo), "=d"(r) : "a"(lo), "d"(r), "rm"(d));
	if (rem)
		*rem = r;
	return ((u64)qhi << 32) | qlo;
#endif
}

/* ---- formatting ---- */

struct out {
	char *buf;
	size_t size, len;
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void put_num(struct out *o, u64 v, unsigned base, bool upper, int width, char pad,
		    bool left, const char *prefix)
{
	char tmp[24];
	int n = 0, plen = (int)strlen(prefix);
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";

	do {
		u32 r;

		if (base == 16) {
			r = (u32)(v & 15);
			v >>= 4;
		} else {
			v = div64_u32(v, base, &r);
		}
		tmp[n++] = digits[r];
	} while (v);
	width -= n + plen;
	if (pad == '0') {
		while (*prefix)
			put(o, *prefix++);
	}
	while (!left && width-- > 0)
		put(o, pad);
	while (*prefix)
		put(o, *prefix++);
	while (n)
		put(o, tmp[--n]);
	while (left && width-- > 0)
		put(o, ' ');
}

int vsnprintf(char *buf, size_t size, const char *fmt, __builtin_va_list ap)
{
	struct out o = { .buf = buf, .size = size };

	for (; *fmt; fmt++) {
		bool left = false, alt = false;
		char pad = ' ';
		int width = 0, lng = 0;
		u64 v;

		if (*fmt != '%') {
			put(&o, *fmt);
			continue;
		}
		for (fmt++;; fmt++) {
			if (*fmt == '-')
				left = true;
			else if (*fmt == '0')
				pad = '0';
			else if (*fmt == '#')
				alt = true;
			else
				break;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l' || *fmt == 'z') {
			lng += *fmt == 'z' ? (sizeof(size_t) == 8 ? 2 : 1) : 1;
			fmt++;
		}
		switch (*fmt) {
		case 'd':
		case 'i': {
			s64 s = lng >= 2 ? __builtin_va_arg(ap, s64)
				: lng == 1 ? __builtin_va_arg(ap, long)
				: __builtin_va_arg(ap, int);

			if (s < 0) {
				put_num(&o, (u64)-s, 10, false, width, pad, left, "-");
				break;
			}
			put_num(&o, (u64)s, 10, false, width, pad, left, "");
			break;
		}
		case 'u':
		case 'x':
		case 'X':
			v = lng >= 2 ? __builtin_va_arg(ap, u64)
			    : lng == 1 ? __builtin_va_arg(ap, unsigned long)
			    : __builtin_va_arg(ap, unsigned int);
			if (*fmt == 'u')
				put_num(&o, v, 10, false, width, pad, left, "");
			else
				put_num(&o, v, 16, *fmt == 'X', width, pad, left, alt ? "0x" : "");
			break;
		case 'p':
			put_num(&o, (ulong)__builtin_va_arg(ap, void *), 16, false, width, pad, left,
				"0x");
			break;
		case 'c':
			put(&o, (char)__builtin_va_arg(ap, int));
			break;
		case 's': {
			const char *s = __builtin_va_arg(ap, const char *);
			int n;

			if (!s)
				s = "(null)";
			n = (int)strlen(s);
			while (!left && width-- > n)
				put(&o, ' ');
			while (*s)
				put(&o, *s++);
			while (left && width-- > n)
				put(&o, ' ');
			break;
		}
		case '%':
			put(&o, '%');
			break;
		case '\0':
			fmt--;
			break;
		default:
			put(&o, '%');
			put(&o, *fmt);
			break;
		}
	}
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	__builtin_va_list ap;
	int n;

	__builtin_va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	__builtin_va_end(ap);
	return n;
}

/* The buffer is on the caller's stack, so vCPUs can print at the same time. */
int printf(const char *fmt, ...)
{
	char buf[256];
	__builtin_va_list ap;
	int n;

	__builtin_va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	__builtin_va_end(ap);
	if (n >= (int)sizeof(buf))
		n = sizeof(buf) - 1;
	if (on_kvm)
		uart_puts(buf);
	else
		hc_console_write(buf, (ulong)n);
	return n;
}

void uart_puts(const char *s)
{
	for (; *s; s++) {
		/* LSR bit 5 (THRE): the transmitter takes another byte. */
		for (int i = 0; i < 1000 && !(inb(0x3fd) & 0x20); i++)
			cpu_relax();
		outb(0x3f8, (u8)*s);
	}
}

/* ---- checks ---- */

static void fail(const char *name, const char *fmt, __builtin_va_list ap)
{
	char why[192];

	vsnprintf(why, sizeof(why), fmt, ap);
	printf("FAIL %s: %s\n", name, why);
	atomic_add(&failures, 1);
}

bool check(bool ok, const char *name, const char *fmt, ...)
{
	__builtin_va_list ap;

	if (ok) {
		printf("PASS %s\n", name);
		return true;
	}
	__builtin_va_start(ap, fmt);
	fail(name, fmt, ap);
	__builtin_va_end(ap);
	return false;
}

bool expect(bool ok, const char *name, const char *fmt, ...)
{
	__builtin_va_list ap;

	if (ok)
		return true;
	__builtin_va_start(ap, fmt);
	fail(name, fmt, ap);
	__builtin_va_end(ap);
	return false;
}

bool check_eq(const char *name, u64 got, u64 want)
{
	return check(got == want, name, "expected %#llx, got %#llx", want, got);
}
