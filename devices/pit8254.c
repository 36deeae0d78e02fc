/*
 * The 8254 PIT (devices/pit8254.h), after the Intel 8254 data sheet.
 *
 * A counter is a count n loaded at start_ns; e, the input clocks counted
 * since, follows from the clock, and the counting element's value and OUT
 * follow from e and the mode:
 *
 *   mode 0  CE = n - e (wrapping)          OUT rises at e = n, stays high
 *   mode 1  as 0, started by a gate rise   OUT low from the trigger to e = n
 *   mode 2  CE = n - e mod n (n..1)        OUT low for the clock at e mod n = n-1
 *   mode 3  CE steps by 2 in each half     OUT high for (n+1)/2 clocks, low for n/2
 *   mode 4  CE = n - e (wrapping)          OUT low for the clock at e = n
 *   mode 5  as 4, started by a gate rise
 *
 * so an interrupt edge (a rise of OUT) is due at e = k*n (modes 2, 3), at
 * e = n (modes 0, 1) or e = n+1 (modes 4, 5).
 */
#include "devices/pit8254.h"

#include "hv/mm.h"
#include "lib/string.h"

#define NSEC_PER_SEC 1000000000ULL
#define REFRESH_NS 15085 /* port 0x61 bit 4 period, as the PC's refresh timer */

/* floor(ns * PIT_HZ / 1e9), exact for any ns. */
static u64 ns_to_clocks(u64 ns)
{
	return ns / NSEC_PER_SEC * PIT_HZ + ns % NSEC_PER_SEC * PIT_HZ / NSEC_PER_SEC;
}

/* The least ns with ns_to_clocks(ns) >= clocks. */
static u64 clocks_to_ns(u64 clocks)
{
	return clocks / PIT_HZ * NSEC_PER_SEC + (clocks % PIT_HZ * NSEC_PER_SEC + PIT_HZ - 1) / PIT_HZ;
}

static u32 bin_to_bcd(u32 v)
{
	return (v / 1000 % 10) << 12 | (v / 100 % 10) << 8 | (v / 10 % 10) << 4 | v % 10;
}

static u32 bcd_to_bin(u32 v)
{
	return (v >> 12 & 0xf) * 1000 + (v >> 8 & 0xf) * 100 + (v >> 4 & 0xf) * 10 + (v & 0xf);
}

/* The count range: a written 0 means this many clocks. */
static u32 modulus(const struct pit_counter *c)
{
	return c->bcd ? 10000 : 65536;
}

static bool periodic(const struct pit_counter *c)
{
	return c->mode == 2 || c->mode == 3;
}

/* Modes 1 and 5 start on a rising gate, the others on the count's write. */
static bool gate_triggered(const struct pit_counter *c)
{
	return c->mode == 1 || c->mode == 5;
}

static u64 elapsed(const struct pit_counter *c, u64 now)
{
	if (!c->loaded)
		return 0;
	if (c->paused || now <= c->start_ns)
		return c->base;
	return c->base + ns_to_clocks(now - c->start_ns);
}

/* When e reaches clocks (clocks > base; the counter counting). */
static u64 time_of(const struct pit_counter *c, u64 clocks)
{
	return c->start_ns + clocks_to_ns(clocks - c->base);
}

/* The counting element, binary, in [0, modulus). */
static u32 ce_value(const struct pit_counter *c, u64 now)
{
	u32 m = modulus(c), n = c->n, p, half;
	u64 e;

	if (!c->loaded)
		return c->hold;
	e = elapsed(c, now);
	switch (c->mode) {
	case 2:
		return (n - (u32)(e % n)) % m;
	case 3:
		p = (u32)(e % n);
		half = (n + 1) / 2;
		return ((n & ~1u) - 2 * (p < half ? p : p - half)) % m;
	default:
		return (n + m - (u32)(e % m)) % m;
	}
}

static bool out_level(const struct pit_counter *c, u64 now)
{
	u64 e;

	if (!c->loaded)
		return c->mode != 0; /* after the control word: mode 0 low, the others high */
	e = elapsed(c, now);
	switch (c->mode) {
	case 0:
	case 1:
		return e >= c->n;
	case 2:
		return !c->gate || e % c->n != c->n - 1;
	case 3:
		return !c->gate || e % c->n < (c->n + 1) / 2;
	default:
		return e != c->n;
	}
}

/* The first rising edge of OUT after irq_after_ns, or PIT_NO_EVENT. */
static u64 next_edge(const struct pit_counter *c)
{
	u64 after = c->irq_after_ns, e, target;

	if (!c->loaded || c->paused)
		return PIT_NO_EVENT;
	/* The old period's end, where a count written meanwhile takes over. */
	if (c->pending && after < c->pending_ns)
		return c->pending_ns;
	if (periodic(c)) {
		e = after <= c->start_ns ? c->base : elapsed(c, after);
		return time_of(c, (e / c->n + 1) * c->n);
	}
	if (c->fired)
		return PIT_NO_EVENT;
	target = c->mode <= 1 ? c->n : (u64)c->n + 1;
	return target > c->base ? time_of(c, target) : c->start_ns;
}

/* Loads CE with n and starts the mode's sequence at now. */
static void load(struct pit_counter *c, u32 n, u64 now)
{
	if (periodic(c) && n < 2)
		n = 2;
	c->n = n;
	c->loaded = true;
	c->paused = !c->gate && !gate_triggered(c);
	c->start_ns = now;
	c->base = 0;
	c->pending = false;
	c->null_count = false;
	c->irq_after_ns = now;
	c->fired = false;
}

/* Freezes CE where it is: it holds that value until loaded again. */
static void unload(struct pit_counter *c, u64 now)
{
	c->hold = ce_value(c, now);
	c->loaded = false;
	c->pending = false;
}

/* A count written in modes 2 and 3 takes over at the end of the period. */
static void settle(struct pit_counter *c, u64 now)
{
	if (c->pending && now >= c->pending_ns) {
		c->n = c->cr < 2 ? 2 : c->cr;
		c->start_ns = c->pending_ns;
		c->base = 0;
		c->pending = false;
		c->null_count = false;
	}
}

/* Raises counter 0's line for an edge due by now; then settles every counter. */
static void advance(struct pit8254 *pit, u64 now)
{
	struct pit_counter *c0 = &pit->c[0];

	if (next_edge(c0) <= now) {
		irq_pulse(&pit->irq, pit->irq_line);
		pit->irqs++;
		c0->fired = !periodic(c0);
		c0->irq_after_ns = now;
	}
	for (unsigned i = 0; i < 3; i++)
		settle(&pit->c[i], now);
}

static void count_written(struct pit_counter *c, u32 raw, u64 now)
{
	u32 m = modulus(c), v = c->bcd ? bcd_to_bin(raw) : raw;
	u64 e;

	c->cr = v ? v : m;
	c->have_count = true;
	c->null_count = true;
	switch (c->mode) {
	case 0:
	case 4:
		load(c, c->cr, now);
		break;
	case 2:
	case 3:
		if (c->loaded && !c->paused) {
			e = elapsed(c, now);
			c->pending = true;
			c->pending_ns = time_of(c, (e / c->n + 1) * c->n);
		} else if (!c->loaded) {
			load(c, c->cr, now);
		}
		break;
	default:
		break; /* modes 1, 5: loaded by the next gate trigger */
	}
}

static void write_count(struct pit_counter *c, u8 v, u64 now)
{
	switch (c->rw) {
	case PIT_RW_LSB:
		count_written(c, v, now);
		break;
	case PIT_RW_MSB:
		count_written(c, (u32)v << 8, now);
		break;
	default:
		if (!c->write_msb) {
			c->cr_lsb = v;
			c->write_msb = true;
			/* Mode 0: writing the first byte stops the count (data sheet, mode 0). */
			if (c->mode == 0 && c->loaded)
				unload(c, now);
		} else {
			c->write_msb = false;
			count_written(c, c->cr_lsb | (u32)v << 8, now);
		}
		break;
	}
}

/* The value the guest reads: BCD when counting in BCD. */
static u16 guest_count(const struct pit_counter *c, u64 now)
{
	u32 v = ce_value(c, now);

	return (u16)(c->bcd ? bin_to_bcd(v) : v);
}

static void latch_count(struct pit_counter *c, u64 now)
{
	if (c->count_latched)
		return; /* a second latch before the read is ignored */
	c->latch = guest_count(c, now);
	c->count_latched = true;
	c->latch_msb = false;
}

static void latch_status(struct pit_counter *c, u64 now)
{
	if (c->status_latched)
		return;
	c->status = (out_level(c, now) ? PIT_STATUS_OUT : 0) | (c->null_count ? PIT_STATUS_NULL : 0) |
		    c->rw << 4 | c->mode << 1 | (c->bcd ? PIT_CW_BCD : 0);
	c->status_latched = true;
}

static void write_control(struct pit8254 *pit, u8 v, u64 now)
{
	struct pit_counter *c;
	u8 mode;

	if (PIT_CW_SC(v) == PIT_SC_READBACK) {
		for (unsigned i = 0; i < 3; i++) {
			if (!(v & (2 << i)))
				continue;
			if (!(v & PIT_RB_NOT_COUNT))
				latch_count(&pit->c[i], now);
			if (!(v & PIT_RB_NOT_STATUS))
				latch_status(&pit->c[i], now);
		}
		return;
	}
	c = &pit->c[PIT_CW_SC(v)];
	if (PIT_CW_RW(v) == PIT_RW_LATCH) {
		latch_count(c, now);
		return;
	}
	/* A control word resets the counter's logic; it waits for a count. */
	if (c->loaded)
		unload(c, now);
	mode = PIT_CW_M(v);
	c->mode = mode > 5 ? mode - 4 : mode;
	c->rw = PIT_CW_RW(v);
	c->bcd = v & PIT_CW_BCD;
	c->write_msb = c->read_msb = false;
	c->count_latched = c->status_latched = false;
	c->null_count = true;
	c->have_count = false;
	c->hold %= modulus(c);
}

static u8 read_counter(struct pit_counter *c, u64 now)
{
	u16 v;

	if (c->status_latched) {
		c->status_latched = false;
		return c->status;
	}
	if (c->count_latched) {
		v = c->latch;
		if (c->rw == PIT_RW_WORD && !c->latch_msb) {
			c->latch_msb = true;
			return (u8)v;
		}
		c->count_latched = false;
		return (u8)(c->rw == PIT_RW_LSB ? v : v >> 8);
	}
	v = guest_count(c, now);
	switch (c->rw) {
	case PIT_RW_LSB:
		return (u8)v;
	case PIT_RW_MSB:
		return (u8)(v >> 8);
	default:
		c->read_msb = !c->read_msb;
		return (u8)(c->read_msb ? v : v >> 8);
	}
}

static void set_gate(struct pit_counter *c, bool gate, u64 now)
{
	bool rising = gate && !c->gate;

	if (gate == c->gate)
		return;
	c->gate = gate;
	switch (c->mode) {
	case 0:
	case 4:
		if (!c->loaded)
			break;
		if (!gate) {
			c->base = elapsed(c, now);
			c->paused = true;
		} else {
			c->start_ns = now;
			c->paused = false;
		}
		break;
	case 2:
	case 3:
		/* Gate low stops the count and forces OUT high; a rise restarts it. */
		if (!gate && c->loaded) {
			c->base = elapsed(c, now);
			c->paused = true;
			c->pending = false;
		} else if (rising && c->have_count) {
			load(c, c->cr, now);
		}
		break;
	default:
		if (rising && c->have_count)
			load(c, c->cr, now);
		break;
	}
}

static u64 now_of(struct pit8254 *pit)
{
	return pit->now_ns(pit->clock_ctx);
}

static int pit_read(void *dev, u64 offset, u8 size, u64 *val)
{
	struct pit8254 *pit = dev;
	u64 now, v = 0;

	spin_lock(&pit->lock);
	now = now_of(pit);
	advance(pit, now);
	for (unsigned i = 0; i < size; i++) {
		u64 off = offset + i;
		u8 b = 0xff; /* the control word cannot be read */

		if (off < PIT_CONTROL)
			b = read_counter(&pit->c[off], now);
		v |= (u64)b << (i * 8);
	}
	spin_unlock(&pit->lock);
	*val = v;
	return 0;
}

/* Accesses wider than a byte reach consecutive ports, low byte first. */
static int pit_write(void *dev, u64 offset, u8 size, u64 val)
{
	struct pit8254 *pit = dev;
	u64 now;

	spin_lock(&pit->lock);
	now = now_of(pit);
	advance(pit, now);
	for (unsigned i = 0; i < size; i++) {
		u64 off = offset + i;
		u8 b = (u8)(val >> (i * 8));

		if (off < PIT_CONTROL)
			write_count(&pit->c[off], b, now);
		else if (off == PIT_CONTROL)
			write_control(pit, b, now);
	}
	if (pit->reprogrammed)
		pit->reprogrammed(pit->reprogrammed_ctx);
	spin_unlock(&pit->lock);
	return 0;
}

const struct io_ops pit_ops = {
	.read = pit_read,
	.write = pit_write,
};

static int port61_read(void *dev, u64 offset, u8 size, u64 *val)
{
	struct pit8254 *pit = dev;
	u64 now;
	u8 v;

	spin_lock(&pit->lock);
	now = now_of(pit);
	advance(pit, now);
	v = pit->port61 & PORT61_RW_MASK;
	if (now / REFRESH_NS & 1)
		v |= PORT61_REFRESH;
	if (out_level(&pit->c[2], now))
		v |= PORT61_OUT2;
	spin_unlock(&pit->lock);
	*val = offset == 0 ? v : 0xff;
	return 0;
}

static int port61_write(void *dev, u64 offset, u8 size, u64 val)
{
	struct pit8254 *pit = dev;
	u64 now;

	if (offset != 0)
		return 0;
	spin_lock(&pit->lock);
	now = now_of(pit);
	advance(pit, now);
	pit->port61 = (u8)val & PORT61_RW_MASK;
	set_gate(&pit->c[2], val & PORT61_GATE2, now);
	spin_unlock(&pit->lock);
	return 0;
}

const struct io_ops pit_port61_ops = {
	.read = port61_read,
	.write = port61_write,
};

/* The counters unprogrammed and port 0x61 clear, as there is no BIOS. */
static void counters_init(struct pit8254 *pit)
{
	memset(pit->c, 0, sizeof(pit->c));
	for (unsigned i = 0; i < 3; i++) {
		pit->c[i].rw = PIT_RW_WORD;
		pit->c[i].gate = i != 2; /* counter 2's gate is port 0x61 bit 0, clear at reset */
	}
	pit->port61 = 0;
	pit->irqs = 0;
}

struct pit8254 *pit_create(u64 (*now_ns)(void *ctx), void *clock_ctx, const struct irq_sink *irq)
{
	struct pit8254 *pit;

	if (!now_ns)
		return NULL;
	pit = kzalloc(sizeof(*pit));
	if (!pit)
		return NULL;
	pit->now_ns = now_ns;
	pit->clock_ctx = clock_ctx;
	if (irq)
		pit->irq = *irq;
	pit->irq_line = PIT_IRQ;
	counters_init(pit);
	return pit;
}

void pit_reset(struct pit8254 *pit)
{
	spin_lock(&pit->lock);
	counters_init(pit);
	if (pit->reprogrammed)
		pit->reprogrammed(pit->reprogrammed_ctx); /* counter 0's event is gone */
	spin_unlock(&pit->lock);
}

void pit_destroy(struct pit8254 *pit)
{
	kfree(pit);
}

void pit_set_reprogrammed(struct pit8254 *pit, void (*fn)(void *ctx), void *ctx)
{
	spin_lock(&pit->lock);
	pit->reprogrammed = fn;
	pit->reprogrammed_ctx = ctx;
	spin_unlock(&pit->lock);
}

u64 pit_next_event_ns(struct pit8254 *pit)
{
	u64 t;

	spin_lock(&pit->lock);
	t = next_edge(&pit->c[0]);
	spin_unlock(&pit->lock);
	return t;
}

void pit_update(struct pit8254 *pit, u64 now)
{
	spin_lock(&pit->lock);
	advance(pit, now);
	spin_unlock(&pit->lock);
}
