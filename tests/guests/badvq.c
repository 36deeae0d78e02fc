/*
 * badvq: a driver that posts malformed virtqueue chains (issue 10). Long
 * mode, one vCPU, RAM identity-mapped (linear = guest-physical).
 *
 * It drives the VM's virtio-blk device (PCI 00:04.0, docs/platform.md) with
 * the virtio 1.2 modern PCI transport (OASIS virtio 1.2, 4.1): the BAR from
 * configuration space, the common, notify, ISR and device structures from
 * the vendor capabilities, then reset, ACKNOWLEDGE|DRIVER, VERSION_1 (and
 * INDIRECT_DESC where a case needs it), FEATURES_OK, queue 0 of QSZ entries
 * in the guest's own pages, DRIVER_OK; polling, no interrupts.
 *
 * A good request first (a write of sector 8, then reads of sectors 8 and 0)
 * proves the driver. Then each malformed chain, on a freshly set-up device:
 * the device must set DEVICE_NEEDS_RESET (status bit 64) and raise the
 * configuration bit of the ISR, complete nothing (used ring untouched, data
 * and status bytes as the guest left them, a good chain posted after it not
 * done either), and write nothing outside the guest's buffers (canary pages
 * on both sides of the rings and buffers keep their pattern). After each,
 * a reset and a good read again must work.
 *
 * arg = seconds to go on: after the first round, one malformed case (in
 * turn) and a good read every QUIET_MS until then, so that another VM's I/O
 * runs meanwhile (one log line each, PASS lines only in the first round).
 * Exit code = failures.
 */
#include "guest.h"

#define PAGE 4096ul
#define QSZ 16

/* PCI */
#define BLK_DEV 4 /* 00:04.0 */
#define VIRTIO_VENDOR 0x1af4
#define VIRTIO_BLK_ID 0x1042

/* virtio 1.2 */
#define CAP_COMMON 1
#define CAP_NOTIFY 2
#define CAP_ISR 3
#define CAP_DEVICE 4

#define C_DFSELECT 0x00
#define C_DF 0x04
#define C_GFSELECT 0x08
#define C_GF 0x0c
#define C_STATUS 0x14
#define C_Q_SELECT 0x16
#define C_Q_SIZE 0x18
#define C_Q_ENABLE 0x1c
#define C_Q_NOFF 0x1e
#define C_Q_DESC 0x20
#define C_Q_AVAIL 0x28
#define C_Q_USED 0x30

#define S_ACK 1
#define S_DRIVER 2
#define S_DRIVER_OK 4
#define S_FEATURES_OK 8
#define S_NEEDS_RESET 64
#define S_FAILED 128

#define F_INDIRECT (1ull << 28)
#define F_VERSION_1 (1ull << 32)

#define D_NEXT 1
#define D_WRITE 2
#define D_INDIRECT 4

#define T_IN 0
#define T_OUT 1

struct desc {
	u64 addr;
	u32 len;
	u16 flags, next;
};

struct blk_hdr {
	u32 type, reserved;
	u64 sector;
};

/*
 * The guest's pages, one after another: a canary, the descriptor table (a
 * page, so entries past QSZ exist for the out-of-table case), the available
 * ring, the used ring, headers and status bytes, data, an indirect table,
 * a canary.
 */
enum { P_CANARY_LO, P_DESC, P_AVAIL, P_USED, P_HDR, P_DATA, P_INDIRECT, P_CANARY_HI, P_NR };
static u8 area[P_NR * PAGE] __attribute__((aligned(4096)));
#define PG(n) ((ulong)area + (n) * PAGE)

static volatile struct desc *const desc = (struct desc *)PG(P_DESC);
static volatile struct desc *const itab = (struct desc *)PG(P_INDIRECT);
static volatile u16 *const avail = (u16 *)PG(P_AVAIL); /* flags, idx, ring[] */
static volatile u8 *const used = (u8 *)PG(P_USED);
static struct blk_hdr *const hdr = (struct blk_hdr *)PG(P_HDR);
static volatile u8 *const status = (u8 *)(PG(P_HDR) + 64);
static u8 *const data = (u8 *)PG(P_DATA);

#define USED_BYTES (4 + 8 * QSZ + 2)
#define CANARY 0xc3
#define USED_FILL 0x5a
#define DATA_FILL 0xaa

#define QUIET_MS 250

static ulong common, notify, isr;
static bool quiet; /* no PASS lines after the first round */
static u32 notify_mult;
static u16 avail_idx;
static ulong queue_notify; /* queue 0's notify address */
static u64 offered;

static inline void mmio_write8(ulong a, u8 v)
{
	__asm__ volatile("movb %0, (%1)" : : "q"(v), "r"(a) : "memory");
}
static inline void mmio_write16(ulong a, u16 v)
{
	__asm__ volatile("movw %0, (%1)" : : "r"(v), "r"(a) : "memory");
}
static inline void barrier(void) { __asm__ volatile("" ::: "memory"); }

static u32 pci_read32(u8 reg)
{
	outl(0xcf8, 0x80000000u | BLK_DEV << 11 | (reg & 0xfc));
	return inl(0xcfc);
}
static u8 pci_read8(u8 reg) { return (u8)(pci_read32(reg) >> 8 * (reg & 3)); }

static u8 dev_status(void) { return mmio_read8(common + C_STATUS); }

/* The BAR and the four structures (4.1.4). false: not found. */
static bool find_device(void)
{
	u32 id = pci_read32(0x00), bar_lo, bar_hi;
	ulong base[6] = { 0 };
	u32 found = 0;
	u8 p;

	if (!check_eq("pci_id", id, (u32)VIRTIO_BLK_ID << 16 | VIRTIO_VENDOR))
		return false;
	if (!check(pci_read32(0x04) >> 16 & 0x10, "pci_cap_list", "status %#x",
		   pci_read32(0x04) >> 16))
		return false;
	for (p = pci_read8(0x34) & 0xfc; p; p = pci_read8(p + 1) & 0xfc) {
		u8 type, bar;
		u32 off;
		ulong at;

		if (pci_read8(p) != 0x09) /* vendor-specific */
			continue;
		type = pci_read8(p + 3);
		bar = pci_read8(p + 4);
		off = pci_read32(p + 8);
		if (bar > 5)
			continue;
		if (!base[bar]) {
			bar_lo = pci_read32(0x10 + 4 * bar);
			bar_hi = (bar_lo & 6) == 4 ? pci_read32(0x14 + 4 * bar) : 0;
			base[bar] = ((ulong)bar_hi << 32) | (bar_lo & ~0xfu);
		}
		at = base[bar] + off;
		switch (type) {
		case CAP_COMMON: common = at; break;
		case CAP_NOTIFY:
			notify = at;
			notify_mult = pci_read32(p + 16);
			break;
		case CAP_ISR: isr = at; break;
		case CAP_DEVICE: break;
		default: continue;
		}
		found |= 1u << type;
	}
	printf("badvq: BAR %#lx common %#lx notify %#lx (x%u) isr %#lx\n", base[0], common,
	       notify, notify_mult, isr);
	return check(found == 0x1e, "virtio_caps", "found cfg types %#x, want 1-4", found) &&
	       check((common >> 32) == 0 && common >= 0xc0000000ul, "bar_in_pci_window",
		     "common at %#lx", common);
}

static void fill(void *p, u8 v, ulong n) { memset(p, v, n); }

static bool all(const volatile u8 *p, u8 v, ulong n)
{
	for (ulong i = 0; i < n; i++)
		if (p[i] != v)
			return false;
	return true;
}

static bool reset_device(void)
{
	u64 t0 = hc_time_ns();

	mmio_write8(common + C_STATUS, 0);
	while (dev_status()) /* 4.1.4.3.2: reset done when it reads 0 */
		if (hc_time_ns() - t0 > 1000000000ull)
			return false;
	return true;
}

/* Reset and set up queue 0 with the features given (VERSION_1 added). */
static bool setup(const char *name, u64 features)
{
	u32 lo, hi;
	u16 max;

	if (!reset_device()) {
		check(false, name, "reset does not complete (status %#x)", dev_status());
		return false;
	}
	mmio_write8(common + C_STATUS, S_ACK);
	mmio_write8(common + C_STATUS, S_ACK | S_DRIVER);
	mmio_write32(common + C_DFSELECT, 0);
	lo = mmio_read32(common + C_DF);
	mmio_write32(common + C_DFSELECT, 1);
	hi = mmio_read32(common + C_DF);
	offered = (u64)hi << 32 | lo;
	features |= F_VERSION_1;
	if ((features & offered) != features) {
		check(false, name, "features %#llx not offered (%#llx)", features, offered);
		return false;
	}
	mmio_write32(common + C_GFSELECT, 0);
	mmio_write32(common + C_GF, (u32)features);
	mmio_write32(common + C_GFSELECT, 1);
	mmio_write32(common + C_GF, (u32)(features >> 32));
	mmio_write8(common + C_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
	if (!(dev_status() & S_FEATURES_OK)) {
		check(false, name, "FEATURES_OK refused (status %#x)", dev_status());
		return false;
	}

	/* The rings: zeroed where the driver owns them, the rest of the used
	 * page and the canaries in a pattern; data and status as before a request. */
	fill((void *)PG(P_CANARY_LO), CANARY, PAGE);
	fill((void *)PG(P_CANARY_HI), CANARY, PAGE);
	fill((void *)PG(P_DESC), 0, PAGE);
	fill((void *)PG(P_AVAIL), 0, PAGE);
	fill((void *)PG(P_USED), USED_FILL, PAGE);
	fill((void *)PG(P_USED), 0, USED_BYTES);
	fill((void *)PG(P_INDIRECT), 0, PAGE);
	avail_idx = 0;

	mmio_write16(common + C_Q_SELECT, 0);
	max = mmio_read16(common + C_Q_SIZE);
	if (max < QSZ) {
		check(false, name, "queue_size %u < %u", max, QSZ);
		return false;
	}
	mmio_write16(common + C_Q_SIZE, QSZ);
	queue_notify = notify + (ulong)mmio_read16(common + C_Q_NOFF) * notify_mult;
	mmio_write32(common + C_Q_DESC, (u32)PG(P_DESC));
	mmio_write32(common + C_Q_DESC + 4, 0);
	mmio_write32(common + C_Q_AVAIL, (u32)PG(P_AVAIL));
	mmio_write32(common + C_Q_AVAIL + 4, 0);
	mmio_write32(common + C_Q_USED, (u32)PG(P_USED));
	mmio_write32(common + C_Q_USED + 4, 0);
	mmio_write16(common + C_Q_ENABLE, 1);
	mmio_write8(common + C_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	if (dev_status() != (S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK)) {
		check(false, name, "status %#x after DRIVER_OK", dev_status());
		return false;
	}
	return true;
}

static void set_desc(volatile struct desc *t, unsigned i, u64 addr, u32 len, u16 flags,
		     u16 next)
{
	t[i].addr = addr;
	t[i].len = len;
	t[i].flags = flags;
	t[i].next = next;
}

/* Puts head in the available ring and kicks queue 0. */
static void post(u16 head)
{
	avail[2 + avail_idx % QSZ] = head;
	barrier();
	avail[1] = ++avail_idx;
	barrier();
	mmio_write16(queue_notify, 0);
}

static u16 used_idx(void) { return *(volatile u16 *)(used + 2); }

/* Waits until the used index reaches want (a RAM disk completes at once). */
static bool wait_used(u16 want)
{
	u64 t0 = hc_time_ns();

	while (used_idx() != want)
		if (hc_time_ns() - t0 > 2000000000ull)
			return false;
	return true;
}

/* The good request: header at descriptor base, data, status; one sector. */
static void good_chain(unsigned base, u32 type, u64 sector)
{
	hdr->type = type;
	hdr->reserved = 0;
	hdr->sector = sector;
	*status = 0xff;
	set_desc(desc, base, PG(P_HDR), 16, D_NEXT, base + 1);
	set_desc(desc, base + 1, PG(P_DATA), 512, D_NEXT | (type == T_IN ? D_WRITE : 0), base + 2);
	set_desc(desc, base + 2, (ulong)status, 1, D_WRITE, 0);
}

static bool canaries_ok(void)
{
	return all((u8 *)PG(P_CANARY_LO), CANARY, PAGE) && all((u8 *)PG(P_CANARY_HI), CANARY, PAGE);
}

/* One request on a set-up device; checks the used element and status. */
static bool request(const char *name, u32 type, u64 sector)
{
	u16 want = (u16)(avail_idx + 1);
	volatile u32 *elem = (u32 *)(used + 4 + 8 * (avail_idx % QSZ));
	bool ok;

	good_chain(0, type, sector);
	post(0);
	ok = expect(wait_used(want), name, "used idx %u, want %u (status %#x)", used_idx(), want,
		   dev_status());
	ok = ok && expect(elem[0] == 0 && elem[1] == (type == T_IN ? 513u : 1u), name,
			 "used elem id %u len %u", elem[0], elem[1]);
	ok = ok && expect(*status == 0, name, "request status %u", *status);
	ok = ok && expect(!(dev_status() & S_NEEDS_RESET), name, "device status %#x", dev_status());
	return ok;
}

static bool data_is(u8 v, u8 step)
{
	for (unsigned i = 0; i < 512; i++)
		if (data[i] != (u8)(v + i * step))
			return false;
	return true;
}

/* A write of sector 8 with a pattern, a read of it back, a read of sector 0. */
static void good_io(const char *name, bool write)
{
	char n[64];
	bool ok = true;

	if (write) {
		for (unsigned i = 0; i < 512; i++)
			data[i] = (u8)(0x11 + i * 7);
		snprintf(n, sizeof(n), "%s_write", name);
		ok = request(n, T_OUT, 8);
	}
	fill(data, DATA_FILL, PAGE);
	snprintf(n, sizeof(n), "%s_read8", name);
	ok = request(n, T_IN, 8) && expect(data_is(0x11, 7), n, "sector 8 not as written") && ok;
	fill(data, DATA_FILL, PAGE);
	snprintf(n, sizeof(n), "%s_read0", name);
	ok = request(n, T_IN, 0) && expect(data_is(0, 0), n, "sector 0 not zeros") && ok;
	ok = expect(canaries_ok(), name, "a canary page changed") && ok;
	if (ok && !quiet)
		printf("PASS %s\n", name);
}

/* The malformed cases: each fills the tables and returns the head. */
struct bad_case {
	const char *name;
	u64 features;
	u16 (*build)(void);
};

/* A data buffer far outside RAM. */
static u16 bad_outside_ram(void)
{
	good_chain(0, T_IN, 0);
	desc[1].addr = 0x7fff0000000ull;
	return 0;
}

/* The status byte outside RAM: nothing may be written there, or anywhere. */
static u16 bad_status_outside_ram(void)
{
	good_chain(0, T_IN, 0);
	desc[2].addr = 0x7fff0000000ull;
	return 0;
}

/* A loop: 0 -> 1 -> 2 -> 1 ..., every buffer readable. */
static u16 bad_loop(void)
{
	good_chain(0, T_OUT, 0);
	desc[2].addr = PG(P_DATA) + 512;
	desc[2].flags = D_NEXT;
	desc[2].next = 1;
	return 0;
}

/* A descriptor that is its own next. */
static u16 bad_self_loop(void)
{
	good_chain(0, T_OUT, 0);
	desc[1].next = 1;
	return 0;
}

/* Every entry chained to the next, the last wrapping to the first: a chain
 * longer than the queue without an index out of range. */
static u16 bad_too_long(void)
{
	hdr->type = T_OUT;
	hdr->sector = 0;
	for (unsigned i = 0; i < QSZ; i++)
		set_desc(desc, i, i ? PG(P_DATA) + 16 * i : PG(P_HDR), 16, D_NEXT, (i + 1) % QSZ);
	return 3;
}

/* Chained through every entry and past the table's end (entries past QSZ
 * exist in memory and chain on). */
static u16 bad_past_table(void)
{
	hdr->type = T_OUT;
	hdr->sector = 0;
	*status = 0xff;
	for (unsigned i = 0; i < 2 * QSZ; i++)
		set_desc(desc, i, i ? PG(P_DATA) + 16 * i : PG(P_HDR), 16, D_NEXT, i + 1);
	set_desc(desc, 2 * QSZ, (ulong)status, 1, D_WRITE, 0);
	return 0;
}

/* An address whose end wraps past 2^64 (addr + len overflows). */
static u16 bad_wrap(void)
{
	good_chain(0, T_IN, 0);
	desc[1].addr = 0xffffffffffffff00ull;
	desc[1].len = 512;
	return 0;
}

/* A buffer that starts in RAM and ends past it. */
static u16 bad_straddle(void)
{
	good_chain(0, T_IN, 0);
	desc[1].addr = (16ul << 20) - 256; /* the VM has 16 MiB */
	return 0;
}

/* A head index outside the table. */
static u16 bad_head(void)
{
	good_chain(0, T_IN, 0);
	return QSZ + 3;
}

/* Indirect, not negotiated. */
static u16 bad_indirect_unneg(void)
{
	good_chain(0, T_IN, 0);
	set_desc(desc, 3, PG(P_INDIRECT), 48, D_INDIRECT, 0);
	for (unsigned i = 0; i < 3; i++)
		itab[i] = desc[i];
	return 3;
}

/* An indirect table of 40 bytes: not a multiple of 16. */
static u16 bad_indirect_size(void)
{
	u16 h = bad_indirect_unneg();

	desc[h].len = 40;
	return h;
}

/* An indirect table inside an indirect table. */
static u16 bad_indirect_nested(void)
{
	u16 h = bad_indirect_unneg();

	itab[0].flags = D_INDIRECT;
	itab[0].addr = PG(P_INDIRECT) + 1024;
	itab[0].len = 48;
	return h;
}

/* A loop inside the indirect table. */
static u16 bad_indirect_loop(void)
{
	u16 h = bad_indirect_unneg();

	itab[2].flags = D_NEXT | D_WRITE;
	itab[2].next = 1;
	return h;
}

/* 256 entries of 16 MiB each (all RAM, readable): their sum overflows the
 * 32-bit length the used ring reports. */
static u16 bad_indirect_sum(void)
{
	u16 h = bad_indirect_unneg();

	for (unsigned i = 0; i < 256; i++)
		set_desc(itab, i, 0, 16u << 20, i < 255 ? D_NEXT : 0, (u16)(i + 1));
	desc[h].len = 256 * 16;
	return h;
}

static const struct bad_case cases[] = {
	{ "bad_addr_outside_ram", 0, bad_outside_ram },
	{ "bad_status_outside_ram", 0, bad_status_outside_ram },
	{ "bad_loop", 0, bad_loop },
	{ "bad_self_loop", 0, bad_self_loop },
	{ "bad_chain_longer_than_queue", 0, bad_too_long },
	{ "bad_chain_past_table", 0, bad_past_table },
	{ "bad_addr_len_wraps", 0, bad_wrap },
	{ "bad_addr_straddles_ram_end", 0, bad_straddle },
	{ "bad_head_index", 0, bad_head },
	{ "bad_indirect_not_negotiated", 0, bad_indirect_unneg },
	{ "bad_indirect_size", F_INDIRECT, bad_indirect_size },
	{ "bad_indirect_nested", F_INDIRECT, bad_indirect_nested },
	{ "bad_indirect_loop", F_INDIRECT, bad_indirect_loop },
	{ "bad_indirect_len_sum", F_INDIRECT, bad_indirect_sum },
};

static void run_bad(const struct bad_case *c)
{
	static u8 used_before[PAGE];
	u8 st;
	u64 t0;
	bool ok = true;

	if (!setup(c->name, c->features))
		return;
	fill(data, DATA_FILL, PAGE);
	*status = 0xff;
	(void)mmio_read8(isr); /* clear */
	memcpy(used_before, (void *)used, PAGE);
	post(c->build());
	t0 = hc_time_ns();
	while (!((st = dev_status()) & S_NEEDS_RESET) && hc_time_ns() - t0 < 2000000000ull)
		;
	ok = expect(st & S_NEEDS_RESET, c->name, "NEEDS_RESET not set (status %#x)", st) && ok;
	ok = expect(st & S_DRIVER_OK, c->name, "DRIVER_OK lost (status %#x)", st) && ok;
	ok = expect(mmio_read8(isr) & 2, c->name, "no configuration interrupt in the ISR") && ok;
	/* Before the chain below rewrites the status byte. */
	ok = expect(*status == 0xff, c->name, "status byte written (%#x)", *status) && ok;

	/* A good chain after it is not done either: the queue is stopped. */
	good_chain(4, T_IN, 0);
	desc[5].addr = PG(P_DATA) + 1024;
	status[1] = 0xff;
	desc[6].addr = (ulong)status + 1;
	post(4);
	delay_ns(1000000);
	ok = expect(status[1] == 0xff, c->name, "a request after the break completed") && ok;
	ok = expect(!memcmp((void *)used, used_before, PAGE), c->name,
		   "the used ring page changed (idx %u)", used_idx()) && ok;
	ok = expect(canaries_ok(), c->name, "a canary page changed") && ok;
	ok = expect(all(data, DATA_FILL, PAGE), c->name, "the data page changed") && ok;
	if (ok && !quiet)
		printf("PASS %s\n", c->name);

	/* And it works again after a reset. */
	if (setup(c->name, 0)) {
		char n[64];

		snprintf(n, sizeof(n), "%s_then_good", c->name);
		good_io(n, false);
	}
}

int main(ulong arg)
{
	if (!find_device())
		return (int)failures + 1;
	if (setup("setup", 0))
		good_io("good_first", true);
	/* The indirect cases need the feature; the device offers it. */
	check(offered & F_INDIRECT, "indirect_offered", "features %#llx", offered);
	if (setup("setup_indirect", F_INDIRECT)) {
		/* A good request through an indirect table. */
		u16 want = (u16)(avail_idx + 1);

		good_chain(0, T_IN, 8);
		fill(data, DATA_FILL, PAGE);
		for (unsigned i = 0; i < 3; i++)
			itab[i] = desc[i];
		set_desc(desc, 3, PG(P_INDIRECT), 48, D_INDIRECT, 0);
		post(3);
		check(wait_used(want) && *status == 0 && data_is(0x11, 7), "good_indirect",
		      "used idx %u status %u", used_idx(), *status);
	}
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		if ((cases[i].features & F_INDIRECT) && !(offered & F_INDIRECT)) {
			printf("SKIP %s: INDIRECT_DESC not offered\n", cases[i].name);
			continue;
		}
		run_bad(&cases[i]);
	}
	/* Then one case at a time while the other VMs run. */
	u64 end = hc_time_ns() + (u64)arg * 1000000000ull;
	unsigned rounds = 0;

	quiet = true;
	while (hc_time_ns() < end) {
		u32 before = timer_count;

		run_bad(&cases[rounds++ % ARRAY_SIZE(cases)]);
		hc_timer(QUIET_MS * 1000, TIMER_VECTOR);
		while (timer_count == before)
			sti_hlt_cli();
	}
	if (arg)
		printf("badvq: %u more malformed chains in %lu s\n", rounds, arg);
	reset_device();
	printf("badvq: %u failures\n", failures);
	return (int)failures;
}
