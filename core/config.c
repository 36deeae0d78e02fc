/*
 * The configuration parser (syntax: docs/config.md). Its input comes from
 * whoever wrote the boot command line or the ".cfg" module, so nothing in it
 * is trusted: every value is checked, a VM with a bad field is reported and
 * left out while the others are kept, and the text is only ever read through
 * (pointer, length) slices, so no input can run past a buffer.
 */
#include "hv/config.h"

#include <stdarg.h>
#include "lib/format.h"
#include "lib/string.h"

#define SLICE_MS_DEFAULT 10
#define SLICE_MS_MAX 1000
#define MEM_DEFAULT (16ULL << 20)
#define MEM_MAX (1ULL << 40)      /* a sanity bound: 1024G */
#define LOAD_REAL_DEFAULT 0x1000ULL
#define LOAD_DEFAULT 0x100000ULL  /* 1 MiB, above the legacy holes */
#define LOAD_REAL_LIMIT 0x10000ULL /* real mode starts at CS=0: entry within the first 64 KiB */
#define API_IMAGE_MAX_LIMIT (64ULL << 30) /* api_image_max=: a sanity bound */

#define REPORTS_MAX 64            /* messages shown per config_parse; all are counted */
#define QUOTE_MAX 40              /* characters of an input word shown in a message */
#define QUOTE_BUF (QUOTE_MAX + 4) /* ... plus "..." and the NUL */
#define WHY_BUF 128

/* A piece of the input text; never NUL-terminated. */
struct str {
	const char *s;
	size_t n;
};

struct parser {
	struct hv_config *cfg;
	config_report_fn report;
	void *ctx;
	int problems;
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' || !c;
}

static bool str_eq(struct str a, const char *lit)
{
	size_t n = strlen(lit);

	return a.n == n && !memcmp(a.s, lit, n);
}

/* The index of the first c in s, or s.n. */
static size_t str_find(struct str s, char c)
{
	size_t i = 0;

	while (i < s.n && s.s[i] != c)
		i++;
	return i;
}

/* Takes the text up to the next sep (or the end) off the front of *rest. */
static struct str str_take(struct str *rest, char sep)
{
	struct str f = { rest->s, str_find(*rest, sep) };
	size_t used = f.n < rest->n ? f.n + 1 : f.n;

	rest->s += used;
	rest->n -= used;
	return f;
}

/* Splits s at its first sep; false (and all of s in *before) when there is none. */
static bool str_split(struct str s, char sep, struct str *before, struct str *after)
{
	size_t i = str_find(s, sep);

	*before = (struct str){ s.s, i };
	*after = i < s.n ? (struct str){ s.s + i + 1, s.n - i - 1 } : (struct str){ s.s + s.n, 0 };
	return i < s.n;
}

/* Input text for a message: at most QUOTE_MAX characters, unprintable bytes as
 * '?', and "..." when cut. */
static const char *quote(char buf[QUOTE_BUF], struct str s)
{
	size_t n = MIN(s.n, (size_t)QUOTE_MAX), i;

	for (i = 0; i < n; i++)
		buf[i] = s.s[i] >= 0x20 && s.s[i] < 0x7f ? s.s[i] : '?';
	if (n < s.n) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = 0;
	return buf;
}

static void problem(struct parser *p, const char *fmt, ...) __printf(2, 3);

static void problem(struct parser *p, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	int n;

	p->problems++;
	if (!p->report || p->problems > REPORTS_MAX + 1)
		return;
	if (p->problems == REPORTS_MAX + 1) {
		p->report(p->ctx, "config: too many problems; the rest are not shown");
		return;
	}
	n = fmt_snprintf(msg, sizeof(msg), "config: ");
	va_start(ap, fmt);
	fmt_vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	p->report(p->ctx, msg);
}

/* ---- values ---- */

/* A decimal number, or a hexadecimal one after "0x"; false on anything else
 * or on overflow. */
static bool parse_u64(struct str v, u64 *out)
{
	unsigned base = 10;
	size_t i = 0;
	u64 x = 0;

	if (v.n > 2 && v.s[0] == '0' && (v.s[1] == 'x' || v.s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (i == v.n)
		return false;
	for (; i < v.n; i++) {
		int d = fmt_hex_digit(v.s[i]);

		if (d < 0 || (unsigned)d >= base || x > (UINT64_MAX - (unsigned)d) / base)
			return false;
		x = x * base + (unsigned)d;
	}
	*out = x;
	return true;
}

/* A number of bytes with an optional K, M or G (binary) suffix. */
static bool parse_size(struct str v, u64 *out)
{
	u64 mult = 1, x;

	if (v.n) {
		switch (v.s[v.n - 1]) {
		case 'K': case 'k': mult = 1ULL << 10; break;
		case 'M': case 'm': mult = 1ULL << 20; break;
		case 'G': case 'g': mult = 1ULL << 30; break;
		}
	}
	if (mult != 1)
		v.n--;
	if (!parse_u64(v, &x) || x > UINT64_MAX / mult)
		return false;
	*out = x * mult;
	return true;
}

/*
 * A list of physical CPUs: items joined by '+', each a number or a range
 * "a-b", e.g. "2", "1-3", "0+4-5". The empty list is the empty set.
 */
static int cpu_list_parse(struct str v, u64 *mask, char *why, size_t len)
{
	char q[QUOTE_BUF];
	struct str rest = v;

	*mask = 0;
	if (!v.n)
		return 0;
	if (v.s[v.n - 1] == '+')
		goto bad;
	while (rest.n) {
		struct str lo_s, hi_s;
		bool range = str_split(str_take(&rest, '+'), '-', &lo_s, &hi_s);
		u64 lo, hi;

		if (!parse_u64(lo_s, &lo) || (range && !parse_u64(hi_s, &hi)))
			goto bad;
		if (!range)
			hi = lo;
		if (hi >= MAX_CPUS) {
			fmt_snprintf(why, len, "CPU %lu is not below %d", hi, MAX_CPUS);
			return -EINVAL;
		}
		if (lo > hi) {
			fmt_snprintf(why, len, "'%s' is a range from high to low", quote(q, v));
			return -EINVAL;
		}
		for (u64 c = lo; c <= hi; c++)
			*mask |= BIT(c);
	}
	return 0;
bad:
	fmt_snprintf(why, len, "'%s' is not a CPU list (like 2, 1-3 or 1+3)", quote(q, v));
	return -EINVAL;
}

/* ---- the fields of vm= ---- */

/* Each sets one field from its value, or writes why not and returns -EINVAL. */
typedef int (*field_fn)(struct vm_config *vm, struct str v, char *why, size_t len);

static int set_image(struct vm_config *vm, struct str v, char *why, size_t len)
{
	char q[QUOTE_BUF];

	if (!v.n) {
		fmt_snprintf(why, len, "empty");
		return -EINVAL;
	}
	if (v.n >= VM_IMAGE_MAX) {
		fmt_snprintf(why, len, "'%s' is longer than %d characters", quote(q, v),
			     VM_IMAGE_MAX - 1);
		return -EINVAL;
	}
	for (size_t i = 0; i < v.n; i++) {
		if (v.s[i] < 0x21 || v.s[i] > 0x7e) {
			fmt_snprintf(why, len, "'%s' has a character that is not printable",
				     quote(q, v));
			return -EINVAL;
		}
	}
	memcpy(vm->image, v.s, v.n);
	vm->image[v.n] = 0;
	return 0;
}

static int set_initrd(struct vm_config *vm, struct str v, char *why, size_t len)
{
	char image[VM_IMAGE_MAX];
	int err;

	memcpy(image, vm->image, sizeof(image));
	err = set_image(vm, v, why, len); /* the same rules as a module name */
	memcpy(vm->initrd, vm->image, sizeof(vm->initrd));
	memcpy(vm->image, image, sizeof(image));
	return err;
}

/* disk=module:<name> or disk=gpt:<name>; a following bare "ro" field makes
 * it read-only (parse_vm). Several are allowed. */
static int set_disk(struct vm_config *vm, struct str v, char *why, size_t len)
{
	char q[QUOTE_BUF];
	struct vm_disk *d;
	size_t kind;

	if (vm->nr_disks >= VM_MAX_DISKS) {
		fmt_snprintf(why, len, "more than %d disks", VM_MAX_DISKS);
		return -EINVAL;
	}
	kind = v.n >= 7 && !memcmp(v.s, "module:", 7) ? 7 : v.n >= 4 && !memcmp(v.s, "gpt:", 4) ? 4 : 0;
	if (!kind || v.n == kind) {
		fmt_snprintf(why, len, "'%s' is neither module:<name> nor gpt:<name>", quote(q, v));
		return -EINVAL;
	}
	d = &vm->disks[vm->nr_disks];
	/* The same rules as a module name (set_image), for the whole spec. */
	{
		char image[VM_IMAGE_MAX];
		int err;

		memcpy(image, vm->image, sizeof(image));
		err = set_image(vm, v, why, len);
		memcpy(d->spec, vm->image, sizeof(d->spec));
		memcpy(vm->image, image, sizeof(image));
		if (err)
			return err;
	}
	d->ro = false;
	vm->nr_disks++;
	return 0;
}

/* A MAC as six hex byte pairs joined by ':'. */
static bool parse_mac(struct str v, u8 mac[6])
{
	if (v.n != 17)
		return false;
	for (unsigned i = 0; i < 6; i++) {
		int hi = fmt_hex_digit(v.s[3 * i]), lo = fmt_hex_digit(v.s[3 * i + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && v.s[3 * i + 2] != ':'))
			return false;
		mac[i] = (u8)(hi << 4 | lo);
	}
	return true;
}

/*
 * A stable MAC for a VM without mac=: FNV-1a (64-bit) of its name, mixed, five
 * bytes of it behind 0x02, a locally administered unicast address (IEEE
 * 802, the U/L bit set, the I/G bit clear). The same name gives the same
 * MAC at every boot, so the guest's view of its NIC does not change.
 */
static void derive_mac(const char *name, u8 mac[6])
{
	u64 h = 0xcbf29ce484222325ULL;

	for (const char *c = name; *c; c++)
		h = (h ^ (u8)*c) * 0x100000001b3ULL;
	/* FNV's high bytes barely change between short names: mix them in
	 * (MurmurHash3's 64-bit finalizer). */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	mac[0] = 0x02;
	for (unsigned i = 1; i < 6; i++)
		mac[i] = (u8)(h >> (8 * (i - 1)));
}

/* net (an empty value) or net=mac=xx:xx:xx:xx:xx:xx: one NIC per VM. */
static int set_net(struct vm_config *vm, struct str v, char *why, size_t len)
{
	char q[QUOTE_BUF];
	struct str key, mac;

	vm->net = true;
	if (!v.n) {
		derive_mac(vm->name, vm->mac);
		return 0;
	}
	if (!str_split(v, '=', &key, &mac) || !str_eq(key, "mac") || !parse_mac(mac, vm->mac)) {
		fmt_snprintf(why, len, "'%s' is not mac=xx:xx:xx:xx:xx:xx", quote(q, v));
		return -EINVAL;
	}
	if (vm->mac[0] & 1) {
		fmt_snprintf(why, len, "'%s' is a multicast address (the first byte is odd)",
			     quote(q, mac));
		return -EINVAL;
	}
	if (!(vm->mac[0] | vm->mac[1] | vm->mac[2] | vm->mac[3] | vm->mac[4] | vm->mac[5])) {
		fmt_snprintf(why, len, "00:00:00:00:00:00 is not a station's address");
		return -EINVAL;
	}
	return 0;
}

/* pci=BB:DD.F (hexadecimal, as lspci prints it): bus 00-ff, device 00-1f,
 * function 0-7; repeated for more functions. */
static int set_pci(struct vm_config *vm, struct str v, char *why, size_t len)
{
	char q[QUOTE_BUF];
	int d[6];

	if (vm->nr_pci >= VM_MAX_PCI) {
		fmt_snprintf(why, len, "more than %d functions", VM_MAX_PCI);
		return -EINVAL;
	}
	for (unsigned i = 0; i < 6 && i < v.n; i++)
		d[i] = fmt_hex_digit(v.s[i]);
	if (v.n != 7 || v.s[2] != ':' || v.s[5] != '.' || d[0] < 0 || d[1] < 0 || d[3] < 0 ||
	    d[4] < 0 || v.s[6] < '0' || v.s[6] > '7' || d[3] * 16 + d[4] > 31) {
		fmt_snprintf(why, len, "'%s' is not bus:device.function (00:03.0; device up to 1f, "
				       "function up to 7)", quote(q, v));
		return -EINVAL;
	}
	struct vm_pci f = { (u8)(d[0] * 16 + d[1]), (u8)(d[3] * 16 + d[4]), (u8)(v.s[6] - '0') };

	for (unsigned i = 0; i < vm->nr_pci; i++)
		if (vm->pci[i].bus == f.bus && vm->pci[i].dev == f.dev && vm->pci[i].fn == f.fn) {
			fmt_snprintf(why, len, "%s is given twice", quote(q, v));
			return -EINVAL;
		}
	vm->pci[vm->nr_pci++] = f;
	return 0;
}

/* A dotted-quad IPv4 address: four decimal numbers 0-255, 1-3 digits each. */
static bool parse_ipv4(struct str v, u8 ip[4])
{
	size_t dots = 0;

	for (size_t i = 0; i < v.n; i++)
		dots += v.s[i] == '.';
	if (dots != 3)
		return false;
	for (unsigned i = 0; i < 4; i++) {
		struct str part = str_take(&v, '.');
		unsigned n = 0;

		if (!part.n || part.n > 3)
			return false;
		for (size_t j = 0; j < part.n; j++) {
			if (part.s[j] < '0' || part.s[j] > '9')
				return false;
			n = n * 10 + (unsigned)(part.s[j] - '0');
		}
		if (n > 255)
			return false;
		ip[i] = (u8)n;
	}
	return true;
}

static u32 ipv4_u32(const u8 ip[4])
{
	return (u32)ip[0] << 24 | (u32)ip[1] << 16 | (u32)ip[2] << 8 | ip[3];
}

/*
 * hostip=dhcp[,mac=M] or hostip=A.B.C.D/N[,gw=G][,mac=M]: the hypervisor's own
 * address. Checked whole before anything is kept.
 */
static int set_hostip(struct host_net_config *h, struct str v, char *why, size_t len)
{
	struct host_net_config n = *h;
	char q[QUOTE_BUF];
	struct str first = str_take(&v, ','), addr, plen;
	u64 prefix;

	n.on = true;
	n.gw_set = n.mac_set = false;
	if (str_eq(first, "dhcp")) {
		n.dhcp = true;
	} else if (str_split(first, '/', &addr, &plen) && parse_ipv4(addr, n.ip) &&
		   parse_u64(plen, &prefix) && plen.n <= 2 && prefix >= 1 && prefix <= 32) {
		u32 ip = ipv4_u32(n.ip), host = prefix == 32 ? 0 : ~0u >> prefix;

		n.dhcp = false;
		n.prefix = (u8)prefix;
		if (!ip || n.ip[0] >= 224 || n.ip[0] == 127) {
			fmt_snprintf(why, len, "'%s' is not a station's address", quote(q, addr));
			return -EINVAL;
		}
		if (prefix <= 30 && ((ip & host) == 0 || (ip & host) == host)) {
			fmt_snprintf(why, len, "'%s' is its network's or broadcast address",
				     quote(q, first));
			return -EINVAL;
		}
	} else {
		fmt_snprintf(why, len, "'%s' is not dhcp or an address a.b.c.d/n (n 1-32)",
			     quote(q, first));
		return -EINVAL;
	}
	while (v.n) {
		struct str field = str_take(&v, ','), key, val;

		if (!field.n)
			continue;
		if (str_split(field, '=', &key, &val) && str_eq(key, "gw") && !n.dhcp &&
		    !n.gw_set) {
			u32 ip = ipv4_u32(n.ip), gw, mask = ~0u << (32 - n.prefix);

			if (!parse_ipv4(val, n.gw)) {
				fmt_snprintf(why, len, "gw: '%s' is not an address a.b.c.d",
					     quote(q, val));
				return -EINVAL;
			}
			gw = ipv4_u32(n.gw);
			if (gw == ip || (gw & mask) != (ip & mask)) {
				fmt_snprintf(why, len, "gw: '%s' is not another address of the "
					     "host's network", quote(q, val));
				return -EINVAL;
			}
			n.gw_set = true;
		} else if (str_eq(key, "mac") && !n.mac_set) {
			if (!parse_mac(val, n.mac) || (n.mac[0] & 1) ||
			    !(n.mac[0] | n.mac[1] | n.mac[2] | n.mac[3] | n.mac[4] | n.mac[5])) {
				fmt_snprintf(why, len, "mac: '%s' is not a unicast MAC "
					     "xx:xx:xx:xx:xx:xx", quote(q, val));
				return -EINVAL;
			}
			n.mac_set = true;
		} else {
			fmt_snprintf(why, len, "'%s' is not %s", quote(q, field),
				     n.dhcp ? "mac=xx:xx:xx:xx:xx:xx (once)" :
					      "gw=a.b.c.d or mac=xx:xx:xx:xx:xx:xx (each once)");
			return -EINVAL;
		}
	}
	*h = n;
	return 0;
}

/* The rest of the vm= word, commas and all; "double quotes" may hold spaces. */
static int set_cmdline(struct vm_config *vm, struct str v, char *why, size_t len)
{
	if (v.n >= 2 && v.s[0] == '"' && v.s[v.n - 1] == '"') {
		v.s++;
		v.n -= 2;
	}
	if (v.n >= VM_CMDLINE_MAX) {
		fmt_snprintf(why, len, "longer than %d characters", VM_CMDLINE_MAX - 1);
		return -EINVAL;
	}
	for (size_t i = 0; i < v.n; i++) {
		if ((v.s[i] < 0x20 || v.s[i] > 0x7e) || v.s[i] == '"') {
			fmt_snprintf(why, len, "has a control character or a quote inside");
			return -EINVAL;
		}
	}
	memcpy(vm->cmdline, v.s, v.n);
	vm->cmdline[v.n] = 0;
	return 0;
}

static int set_mode(struct vm_config *vm, struct str v, char *why, size_t len)
{
	char q[QUOTE_BUF];

	if (str_eq(v, "real"))
		vm->mode = START_REAL16;
	else if (str_eq(v, "prot"))
		vm->mode = START_PROT32;
	else if (str_eq(v, "long"))
		vm->mode = START_LONG64;
	else {
		fmt_snprintf(why, len, "'%s' is not real, prot or long", quote(q, v));
		return -EINVAL;
	}
	return 0;
}

static int set_mem(struct vm_config *vm, struct str v, char *why, size_t len)
{
	char q[QUOTE_BUF];
	u64 mem;

	if (!parse_size(v, &mem))
		fmt_snprintf(why, len, "'%s' is not a size (a number, then K, M or G)",
			     quote(q, v));
	else if (mem < SZ_2M)
		fmt_snprintf(why, len, "'%s' is less than 2M", quote(q, v));
	else if (!IS_ALIGNED(mem, SZ_2M))
		fmt_snprintf(why, len, "'%s' is not a multiple of 2M", quote(q, v));
	else if (mem > MEM_MAX)
		fmt_snprintf(why, len, "'%s' is more than %luG", quote(q, v),
			     (unsigned long)(MEM_MAX >> 30));
	else {
		vm->mem = mem;
		return 0;
	}
	return -EINVAL;
}

static int set_cpus(struct vm_config *vm, struct str v, char *why, size_t len)
{
	char q[QUOTE_BUF];
	u64 n;

	if (!parse_u64(v, &n) || n < 1 || n > VM_MAX_VCPUS) {
		fmt_snprintf(why, len, "'%s' is not a vCPU count from 1 to %d", quote(q, v),
			     VM_MAX_VCPUS);
		return -EINVAL;
	}
	vm->cpus = (u32)n;
	return 0;
}

static int set_pin(struct vm_config *vm, struct str v, char *why, size_t len)
{
	return cpu_list_parse(v, &vm->pin, why, len);
}

static int set_load(struct vm_config *vm, struct str v, char *why, size_t len)
{
	char q[QUOTE_BUF];

	if (!parse_u64(v, &vm->load)) {
		fmt_snprintf(why, len, "'%s' is not an address (0x... or decimal)", quote(q, v));
		return -EINVAL;
	}
	return 0;
}

static int set_arg(struct vm_config *vm, struct str v, char *why, size_t len)
{
	char q[QUOTE_BUF];
	u64 x;

	if (!parse_u64(v, &x) || x > UINT32_MAX) {
		fmt_snprintf(why, len, "'%s' is not a 32-bit number", quote(q, v));
		return -EINVAL;
	}
	vm->arg = (u32)x;
	vm->arg_set = true;
	return 0;
}

static int set_expect(struct vm_config *vm, struct str v, char *why, size_t len)
{
	char q[QUOTE_BUF];
	struct str digits = v;
	bool neg = false;
	u64 x;

	if (str_eq(v, "stop")) {
		vm->expect_set = vm->expect_stop = true;
		return 0;
	}
	if (digits.n && (digits.s[0] == '-' || digits.s[0] == '+')) {
		neg = digits.s[0] == '-';
		digits.s++;
		digits.n--;
	}
	if (!parse_u64(digits, &x) || x > (neg ? 0x80000000ULL : 0x7fffffffULL)) {
		fmt_snprintf(why, len, "'%s' is neither an exit code nor 'stop'", quote(q, v));
		return -EINVAL;
	}
	vm->expect_set = true;
	vm->expect_code = neg ? (int)(0 - (s64)x) : (int)x;
	return 0;
}

static int set_on_crash(struct vm_config *vm, struct str v, char *why, size_t len)
{
	char q[QUOTE_BUF];

	if (str_eq(v, "stop"))
		vm->on_crash = ON_CRASH_STOP;
	else if (str_eq(v, "reset"))
		vm->on_crash = ON_CRASH_RESET;
	else if (str_eq(v, "pause"))
		vm->on_crash = ON_CRASH_PAUSE;
	else {
		fmt_snprintf(why, len, "'%s' is not stop, reset or pause", quote(q, v));
		return -EINVAL;
	}
	return 0;
}

static int set_paging(struct vm_config *vm, struct str v, char *why, size_t len)
{
	char q[QUOTE_BUF];

	if (str_eq(v, "nested"))
		vm->paging = PAGING_NESTED;
	else if (str_eq(v, "shadow"))
		vm->paging = PAGING_SHADOW;
	else {
		fmt_snprintf(why, len, "'%s' is not nested or shadow", quote(q, v));
		return -EINVAL;
	}
	return 0;
}

static int set_exitport(struct vm_config *vm, struct str v, char *why, size_t len)
{
	char q[QUOTE_BUF];

	if (str_eq(v, "on"))
		vm->exitport = true;
	else if (str_eq(v, "off"))
		vm->exitport = false;
	else {
		fmt_snprintf(why, len, "'%s' is not on or off", quote(q, v));
		return -EINVAL;
	}
	return 0;
}

static int set_cpu(struct vm_config *vm, struct str v, char *why, size_t len)
{
	char q[QUOTE_BUF];

	if (str_eq(v, "host")) {
		vm->cpu_pool[0] = 0;
		return 0;
	}
	if (v.n > 5 && !memcmp(v.s, "pool:", 5) && cpu_pool_name_ok(v.s + 5, v.n - 5)) {
		memcpy(vm->cpu_pool, v.s + 5, v.n - 5);
		vm->cpu_pool[v.n - 5] = 0;
		return 0;
	}
	fmt_snprintf(why, len, "'%s' is not host or pool:NAME (1 to %d characters of a-z A-Z 0-9 "
		     "_ -)", quote(q, v), CPU_POOL_NAME_MAX - 1);
	return -EINVAL;
}

static int set_tsc_khz(struct vm_config *vm, struct str v, char *why, size_t len)
{
	char q[QUOTE_BUF];
	u64 x;

	if (!parse_u64(v, &x) || x < VM_TSC_KHZ_MIN || x > VM_TSC_KHZ_MAX) {
		fmt_snprintf(why, len, "'%s' is not a TSC rate in kHz from %u to %u", quote(q, v),
			     VM_TSC_KHZ_MIN, VM_TSC_KHZ_MAX);
		return -EINVAL;
	}
	vm->tsc_khz = (u32)x;
	return 0;
}

enum vm_field { F_IMAGE, F_MODE, F_MEM, F_CPUS, F_PIN, F_LOAD, F_ARG, F_EXPECT, F_INITRD, F_CMDLINE,
		F_ON_CRASH, F_DISK, F_NET, F_PAGING, F_EXITPORT, F_CPU, F_PCI, F_TSC_KHZ, NR_FIELDS };

static const struct {
	const char *key;
	field_fn set;
} vm_fields[NR_FIELDS] = {
	[F_IMAGE] = { "image", set_image },
	[F_MODE] = { "mode", set_mode },
	[F_MEM] = { "mem", set_mem },
	[F_CPUS] = { "cpus", set_cpus },
	[F_PIN] = { "pin", set_pin },
	[F_LOAD] = { "load", set_load },
	[F_ARG] = { "arg", set_arg },
	[F_EXPECT] = { "expect", set_expect },
	[F_INITRD] = { "initrd", set_initrd },
	[F_CMDLINE] = { "cmdline", set_cmdline },
	[F_ON_CRASH] = { "on_crash", set_on_crash },
	[F_DISK] = { "disk", set_disk },
	[F_NET] = { "net", set_net },
	[F_PAGING] = { "paging", set_paging },
	[F_EXITPORT] = { "exitport", set_exitport },
	[F_CPU] = { "cpu", set_cpu },
	[F_PCI] = { "pci", set_pci },
	[F_TSC_KHZ] = { "tsc_khz", set_tsc_khz },
};

static bool valid_name(struct str n)
{
	if (!n.n || n.n >= VM_NAME_MAX)
		return false;
	for (size_t i = 0; i < n.n; i++) {
		char c = n.s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* A bearer token (RFC 6750's b64token without '='): API_TOKEN_MIN to
 * API_TOKEN_MAX characters that need no quoting in a header. */
static bool valid_token(struct str t)
{
	if (t.n < API_TOKEN_MIN || t.n > API_TOKEN_MAX)
		return false;
	for (size_t i = 0; i < t.n; i++) {
		char c = t.s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '~' || c == '+' || c == '/' || c == '-'))
			return false;
	}
	return true;
}

/* The checks between fields, once all are known; fills in the default load address. */
static int check_load(struct vm_config *vm, char *why, size_t len)
{
	if (!vm->load)
		vm->load = vm->mode == START_REAL16 ? LOAD_REAL_DEFAULT : LOAD_DEFAULT;
	if (vm->mode == START_REAL16 && vm->load >= LOAD_REAL_LIMIT) {
		fmt_snprintf(why, len, "0x%lx is not below 0x%lx, as mode=real requires",
			     (unsigned long)vm->load, (unsigned long)LOAD_REAL_LIMIT);
		return -EINVAL;
	}
	if (vm->load >= vm->mem) {
		fmt_snprintf(why, len, "0x%lx is outside the VM's %luM of memory",
			     (unsigned long)vm->load, (unsigned long)(vm->mem >> 20));
		return -EINVAL;
	}
	return 0;
}

/* Checks the new VM against those already accepted, then adds it. */
static void add_vm(struct parser *p, const struct vm_config *vm)
{
	struct hv_config *cfg = p->cfg;

	for (unsigned i = 0; i < cfg->nr_vms && i < CONFIG_MAX_VMS; i++) {
		const struct vm_config *o = &cfg->vms[i];

		if (!strcmp(o->name, vm->name)) {
			problem(p, "vm '%s': the name is already taken; this one is not started",
				vm->name);
			return;
		}
		/* A partition of the machine's disk has one writer (module:
		 * disks are each VM's own copy). */
		for (unsigned a = 0; a < vm->nr_disks; a++)
			for (unsigned b = 0; b < o->nr_disks; b++)
				if (!vm->disks[a].ro && !o->disks[b].ro &&
				    !memcmp(vm->disks[a].spec, "gpt:", 4) &&
				    !strcmp(vm->disks[a].spec, o->disks[b].spec)) {
					problem(p, "vm '%s': field 'disk': '%s' is written by vm '%s' "
						   "already; two VMs may not write one disk (add ,ro); "
						   "vm not started",
						vm->name, vm->disks[a].spec, o->name);
					return;
				}
		if (o->net && vm->net && !memcmp(o->mac, vm->mac, 6)) {
			problem(p, "vm '%s': field 'net': its MAC is vm '%s''s already; "
				   "vm not started",
				vm->name, o->name);
			return;
		}
		/* A function has one owner (docs/passthrough.md). */
		for (unsigned a = 0; a < vm->nr_pci; a++)
			for (unsigned b = 0; b < o->nr_pci; b++)
				if (!memcmp(&vm->pci[a], &o->pci[b], sizeof(vm->pci[a]))) {
					problem(p, "vm '%s': field 'pci': %02x:%02x.%u is passed through "
						   "to vm '%s' already; vm not started",
						vm->name, vm->pci[a].bus, vm->pci[a].dev, vm->pci[a].fn,
						o->name);
					return;
				}
		if (o->pin & vm->pin) {
			problem(p, "vm '%s': field 'pin': CPU %d is already pinned to vm '%s'; "
				   "vm not started",
				vm->name, __builtin_ctzll(o->pin & vm->pin), o->name);
			return;
		}
	}
	if (cfg->nr_vms >= CONFIG_MAX_VMS) {
		problem(p, "vm '%s': more than %d VMs; vm not started", vm->name, CONFIG_MAX_VMS);
		return;
	}
	cfg->vms[cfg->nr_vms++] = *vm;
}

/* "vm=<name>,<key>=<value>,..." with spec the text after "vm=". */
static void parse_vm(struct parser *p, struct str spec)
{
	struct vm_config vm;
	struct str name = str_take(&spec, ',');
	char qn[QUOTE_BUF], qf[QUOTE_BUF], why[WHY_BUF];
	unsigned seen = 0;
	int bad = 0;

	memset(&vm, 0, sizeof(vm));
	vm.mode = START_LONG64;
	vm.mem = MEM_DEFAULT;
	vm.cpus = 1;

	quote(qn, name);
	if (valid_name(name)) {
		memcpy(vm.name, name.s, name.n);
		vm.name[name.n] = 0;
	} else {
		problem(p, "vm '%s': a name is 1-%d characters of A-Z a-z 0-9 _ -; vm not started",
			qn, VM_NAME_MAX - 1);
		bad++;
	}

	bool after_disk = false;

	while (spec.n) {
		/* cmdline= is last and takes the rest: a kernel command line has commas. */
		bool rest = spec.n >= 8 && !memcmp(spec.s, "cmdline=", 8);
		struct str field = rest ? spec : str_take(&spec, ','), key, val;
		bool has_value = str_split(field, '=', &key, &val);
		const char *key_name;
		unsigned f;

		if (rest)
			spec.n = 0;
		if (!field.n)
			continue; /* an empty field, as in "a,,b" or a trailing comma */
		/* disk=<spec>,ro: "ro" belongs to the disk before it. */
		if (after_disk && !has_value && str_eq(key, "ro")) {
			vm.disks[vm.nr_disks - 1].ro = true;
			after_disk = false;
			continue;
		}
		after_disk = false;
		for (f = 0; f < NR_FIELDS; f++)
			if (str_eq(key, vm_fields[f].key))
				break;
		if (f == NR_FIELDS) {
			problem(p, "vm '%s': unknown field '%s'; vm not started", qn,
				quote(qf, key));
			bad++;
			continue;
		}
		key_name = vm_fields[f].key;
		if (f == F_NET && !has_value) {
			has_value = true; /* a bare "net": a derived MAC */
			val = (struct str){ key.s + key.n, 0 };
		}
		if (!has_value) {
			problem(p, "vm '%s': field '%s': no value (%s=...); vm not started", qn,
				key_name, key_name);
			bad++;
		} else if ((seen & BIT(f)) && f != F_DISK && f != F_PCI) {
			problem(p, "vm '%s': field '%s' is given twice; vm not started", qn,
				key_name);
			bad++;
		} else if (vm_fields[f].set(&vm, val, why, sizeof(why))) {
			problem(p, "vm '%s': field '%s': %s; vm not started", qn, key_name, why);
			bad++;
		} else if (f == F_DISK) {
			after_disk = true;
		}
		seen |= BIT(f);
	}
	if (!(seen & BIT(F_IMAGE))) {
		problem(p, "vm '%s': field 'image': missing; vm not started", qn);
		bad++;
	}
	if (!bad && check_load(&vm, why, sizeof(why))) {
		problem(p, "vm '%s': field 'load': %s; vm not started", qn, why);
		bad++;
	}
	if (!bad)
		add_vm(p, &vm);
}

static void parse_word(struct parser *p, struct str word)
{
	char q[QUOTE_BUF];
	struct str key, val;
	bool has_value = str_split(word, '=', &key, &val);
	u64 n;

	if (has_value && str_eq(key, "vm")) {
		parse_vm(p, val);
	} else if (has_value && str_eq(key, "exit")) {
		if (str_eq(val, "halt"))
			p->cfg->on_done = DONE_HALT;
		else if (str_eq(val, "qemu"))
			p->cfg->on_done = DONE_QEMU_EXIT;
		else if (str_eq(val, "bochs"))
			p->cfg->on_done = DONE_BOCHS_EXIT;
		else
			problem(p, "option 'exit': '%s' is not halt, qemu or bochs", quote(q, val));
	} else if (has_value && str_eq(key, "console")) {
		/* Which VM has the console at boot (docs/console.md); that it
		 * exists is checked once the VMs are made (core/hv.c). */
		if (valid_name(val)) {
			memcpy(p->cfg->console, val.s, val.n);
			p->cfg->console[val.n] = 0;
		} else {
			problem(p, "option 'console': '%s' is not a vm name (1-%d characters of "
				   "A-Z a-z 0-9 _ -); the console starts in the monitor",
				quote(q, val), VM_NAME_MAX - 1);
		}
	} else if (has_value && str_eq(key, "api_token")) {
		/* Never echoed: the token must not appear in a log. */
		if (valid_token(val)) {
			memcpy(p->cfg->api_token, val.s, val.n);
			p->cfg->api_token[val.n] = 0;
		} else {
			problem(p, "option 'api_token': not %d to %d characters of A-Z a-z 0-9 . _ ~ + "
				   "/ - (the value is not shown); one is made at boot",
				API_TOKEN_MIN, API_TOKEN_MAX);
		}
	} else if (has_value && str_eq(key, "api_image_max")) {
		if (parse_size(val, &n) && n >= PAGE_SIZE && n <= API_IMAGE_MAX_LIMIT)
			p->cfg->api_image_max = n;
		else
			problem(p, "option 'api_image_max': '%s' is not a size from 4K to %luG",
				quote(q, val), (unsigned long)(API_IMAGE_MAX_LIMIT >> 30));
	} else if (has_value && str_eq(key, "hostip")) {
		char why[WHY_BUF];

		if (set_hostip(&p->cfg->host, val, why, sizeof(why)))
			problem(p, "option 'hostip': %s", why);
	} else if (has_value && str_eq(key, "apiport")) {
		if (parse_u64(val, &n) && n >= 1 && n <= 65535)
			p->cfg->host.api_port = (u16)n;
		else
			problem(p, "option 'apiport': '%s' is not a TCP port from 1 to 65535",
				quote(q, val));
	} else if (has_value && str_eq(key, "migrate_key")) {
		/* Never echoed: whoever has it can send this host a VM. */
		if (valid_token(val)) {
			memcpy(p->cfg->host.migrate_key, val.s, val.n);
			p->cfg->host.migrate_key[val.n] = 0;
		} else {
			problem(p, "option 'migrate_key': not %d to %d characters of A-Z a-z 0-9 . _ ~ "
				   "+ / - (the value is not shown); no migration",
				API_TOKEN_MIN, API_TOKEN_MAX);
		}
	} else if (has_value && str_eq(key, "pool")) {
		/* pool=NAME:SIG:W0.W1...W6 */
		size_t colon = 0;
		struct cpu_pool *pl = &p->cfg->pools[p->cfg->nr_pools];

		while (colon < val.n && val.s[colon] != ':')
			colon++;
		if (p->cfg->nr_pools == CPU_POOLS_MAX)
			problem(p, "option 'pool': more than %d pools", CPU_POOLS_MAX);
		else if (colon == val.n || !cpu_pool_name_ok(val.s, colon) ||
			 cpu_featureset_parse(val.s + colon + 1, val.n - colon - 1, &pl->set))
			problem(p, "option 'pool': '%s' is not NAME:SIG:W0.W1.W2.W3.W4.W5.W6 (hex; "
				   "docs/migration.md)", quote(q, val));
		else {
			memcpy(pl->name, val.s, colon);
			pl->name[colon] = 0;
			p->cfg->nr_pools++;
		}
	} else if (has_value && str_eq(key, "migrate_port")) {
		if (parse_u64(val, &n) && n >= 1 && n <= 65535)
			p->cfg->host.migrate_port = (u16)n;
		else
			problem(p, "option 'migrate_port': '%s' is not a TCP port from 1 to 65535",
				quote(q, val));
	} else if (has_value && str_eq(key, "migrate_precopy")) {
		if (str_eq(val, "0") || str_eq(val, "1"))
			p->cfg->host.migrate_no_precopy = str_eq(val, "0");
		else
			problem(p, "option 'migrate_precopy': '%s' is not 0 or 1", quote(q, val));
	} else if (has_value && str_eq(key, "migrate_downtime")) {
		if (parse_u64(val, &n) && n >= 1 && n <= MIGRATE_DOWNTIME_MAX_MS)
			p->cfg->host.migrate_downtime_ms = (u32)n;
		else
			problem(p, "option 'migrate_downtime': '%s' is not a number of milliseconds "
				   "from 1 to %d", quote(q, val), MIGRATE_DOWNTIME_MAX_MS);
	} else if (has_value && str_eq(key, "slice")) {
		if (parse_u64(val, &n) && n >= 1 && n <= SLICE_MS_MAX)
			p->cfg->slice_ms = (u32)n;
		else
			problem(p, "option 'slice': '%s' is not a number of milliseconds "
				   "from 1 to %d",
				quote(q, val), SLICE_MS_MAX);
	} else {
		problem(p, "unknown word '%s'", quote(q, word));
	}
}

void config_init(struct hv_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->on_done = DONE_HALT;
	cfg->slice_ms = SLICE_MS_DEFAULT;
	cfg->host.api_port = API_PORT_DEFAULT;
	cfg->host.migrate_port = MIGRATE_PORT_DEFAULT;
	cfg->host.migrate_downtime_ms = MIGRATE_DOWNTIME_DEFAULT_MS;
}

int config_parse(struct hv_config *cfg, const char *text, size_t len, config_report_fn report,
		 void *ctx)
{
	struct parser p = { .cfg = cfg, .report = report, .ctx = ctx };
	size_t i = 0;

	if (!text)
		len = 0;
	while (i < len) {
		size_t start;

		if (is_space(text[i])) {
			i++;
		} else if (text[i] == '#') {
			while (i < len && text[i] != '\n')
				i++;
		} else {
			bool quoted = false;

			start = i;
			/* Inside "double quotes" spaces and '#' belong to the word. */
			while (i < len && (quoted || (!is_space(text[i]) && text[i] != '#'))) {
				if (text[i] == '"')
					quoted = !quoted;
				i++;
			}
			parse_word(&p, (struct str){ text + start, i - start });
		}
	}
	return p.problems;
}
