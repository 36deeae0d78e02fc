/*
 * A virtual local APIC (SDM vol. 3A, chapter "Advanced Programmable
 * Interrupt Controller (APIC)"; section numbers below are of that chapter).
 *
 * Registers are kept in xAPIC layout; x2APIC MSR 0x800 + n is xAPIC offset
 * n << 4 ("x2APIC Register Address Space"), so one read and one write
 * function serve both modes and know which registers each mode lacks.
 *
 * Work that leaves the vLAPIC (an IPI, an EOI broadcast, a wake-up) is
 * collected in a struct post while the lock is held and done after it is
 * dropped, so a callback may come back into any vLAPIC, this one included.
 */
#include "devices/vlapic.h"

#include "hv/mm.h"
#include "lib/string.h"

enum { LVT_TIMER, LVT_THERMAL, LVT_PERF, LVT_LINT0, LVT_LINT1, LVT_ERROR };

#define LVT_VECTOR 0xffu
#define LVT_DM (7u << 8)
#define LVT_DM_SHIFT 8
#define LVT_POLARITY (1u << 13)
#define LVT_TRIGGER_LEVEL (1u << 15)

/* Writable bits of each LVT entry ("Local Vector Table"); delivery status
 * (bit 12) and remote IRR (bit 14) read 0. The timer's TSC-deadline mode bit
 * is added when that mode is shown. */
static const u32 lvt_writable[VLAPIC_NR_LVT] = {
	[LVT_TIMER] = LVT_VECTOR | APIC_LVT_MASKED | APIC_LVT_TIMER_PERIODIC,
	[LVT_THERMAL] = LVT_VECTOR | LVT_DM | APIC_LVT_MASKED,
	[LVT_PERF] = LVT_VECTOR | LVT_DM | APIC_LVT_MASKED,
	[LVT_LINT0] = LVT_VECTOR | LVT_DM | LVT_POLARITY | LVT_TRIGGER_LEVEL | APIC_LVT_MASKED,
	[LVT_LINT1] = LVT_VECTOR | LVT_DM | LVT_POLARITY | LVT_TRIGGER_LEVEL | APIC_LVT_MASKED,
	[LVT_ERROR] = LVT_VECTOR | APIC_LVT_MASKED,
};

/* ESR bits ("Error Handling"). */
#define ESR_SEND_ILLEGAL_VECTOR (1u << 5)
#define ESR_RECV_ILLEGAL_VECTOR (1u << 6)
#define ESR_ILLEGAL_REGISTER (1u << 7)

/* SVR: vector, APIC software enable, focus processor checking (bit 9). */
#define SVR_WRITABLE 0x3ffu
/* ICR low: vector, delivery mode, destination mode, level, trigger, shorthand. */
#define ICR_LO_WRITABLE 0x000ccfffu
#define ICR_DEST_LOGICAL (1u << 11)
#define ICR_SHORTHAND_SHIFT 18
#define DCR_WRITABLE 0xbu

#define X2APIC_MSR_SELF_IPI 0x83f

/* What to do once the lock is dropped. */
struct post {
	int eoi;          /* a level-triggered vector retired by EOI, or -1 */
	bool send;
	struct apic_msg msg;
	bool wake;
};

#define POST_INIT { .eoi = -1 }

static void post_run(struct vlapic *l, const struct post *p)
{
	const struct vlapic_ops *ops = l->cfg.ops;

	if (!ops)
		return;
	if (p->eoi >= 0 && ops->eoi)
		ops->eoi(l->cfg.ctx, (u8)p->eoi);
	if (p->send && ops->send)
		ops->send(l->cfg.ctx, &p->msg);
	if (p->wake && ops->wake)
		ops->wake(l->cfg.ctx);
}

static u64 now_tsc(struct vlapic *l)
{
	const struct vlapic_ops *ops = l->cfg.ops;

	return ops && ops->now_tsc ? ops->now_tsc(l->cfg.ctx) : 0;
}

/* ---- state helpers (lock held) ---- */

static bool hw_enabled(const struct vlapic *l)
{
	return l->apic_base & APIC_BASE_EN;
}

static bool sw_enabled(const struct vlapic *l)
{
	return l->svr & APIC_SVR_ENABLE;
}

static enum vlapic_mode mode_of(const struct vlapic *l)
{
	if (!hw_enabled(l))
		return VLAPIC_DISABLED;
	return l->apic_base & APIC_BASE_EXTD ? VLAPIC_X2APIC : VLAPIC_XAPIC;
}

/* The highest vector set in one of the 256-bit registers, or -1. */
static int highest_bit(const u32 *reg)
{
	for (int i = 7; i >= 0; i--)
		if (reg[i])
			return i * 32 + 31 - __builtin_clz(reg[i]);
	return -1;
}

static bool test_vec(const u32 *reg, u8 v)
{
	return reg[v / 32] & (1u << (v % 32));
}

static void set_vec(u32 *reg, u8 v)
{
	reg[v / 32] |= 1u << (v % 32);
}

static void clear_vec(u32 *reg, u8 v)
{
	reg[v / 32] &= ~(1u << (v % 32));
}

/* "Processor Priority Register (PPR)": the task priority, or the class of
 * the highest in-service vector if that is higher. */
static u8 compute_ppr(const struct vlapic *l)
{
	u8 tpr = (u8)l->tpr;
	int isrv = highest_bit(l->isr);

	if (isrv < 0 || (tpr >> 4) >= (isrv >> 4))
		return tpr;
	return (u8)(isrv & 0xf0);
}

/* x2APIC logical ID: cluster (ID[19:4]) in bits 31:16, one bit of 16 for
 * ID[3:0] ("Logical Destination Mode in x2APIC Mode"). */
static u32 x2apic_ldr(u32 id)
{
	return ((id >> 4) << 16) | (1u << (id & 0xf));
}

static void set_deadline(struct vlapic *l, u64 d)
{
	__atomic_store_n(&l->timer_deadline, d, __ATOMIC_RELEASE);
}

static bool accept_locked(struct vlapic *l, u8 vector, bool level, struct post *p);

/*
 * An error: ESR collects it for the next ESR write, and the first time a
 * bit appears the LVT error entry fires. Stops recursing because a second
 * illegal-vector error finds its bit already pending.
 */
static void record_error(struct vlapic *l, u32 bits, struct post *p)
{
	u32 lvt = l->lvt[LVT_ERROR];

	if ((l->esr_pending & bits) == bits)
		return;
	l->esr_pending |= bits;
	if (!(lvt & APIC_LVT_MASKED))
		accept_locked(l, (u8)(lvt & LVT_VECTOR), false, p);
}

/*
 * "Interrupt Acceptance for Fixed Interrupts": into IRR, TMR says the
 * trigger mode. A software-disabled APIC takes no fixed interrupts ("Local
 * APIC State After It Has Been Software Disabled"); vectors 0-15 are
 * illegal ("Valid Interrupt Vectors").
 */
static bool accept_locked(struct vlapic *l, u8 vector, bool level, struct post *p)
{
	if (!hw_enabled(l) || !sw_enabled(l))
		return false;
	if (vector < 16) {
		record_error(l, ESR_RECV_ILLEGAL_VECTOR, p);
		return false;
	}
	set_vec(l->irr, vector);
	if (level)
		set_vec(l->tmr, vector);
	else
		clear_vec(l->tmr, vector);
	if ((vector >> 4) > (compute_ppr(l) >> 4))
		p->wake = true;
	return true;
}

/* ---- timer ("APIC Timer") ---- */

/* Divide Configuration Register bits 3, 1:0: 000 is 2, ..., 110 is 128, 111 is 1. */
static u32 div_value(u32 dcr)
{
	u32 v = ((dcr >> 1) & 4) | (dcr & 3);

	return 1u << ((v + 1) & 7);
}

static u32 timer_mode(const struct vlapic *l)
{
	return l->lvt[LVT_TIMER] & APIC_LVT_TIMER_MODE_MASK;
}

/*
 * APIC timer ticks to TSC ticks, exactly: whole ticks, and the remainder in
 * units of 1/timer_khz of a TSC tick. ticks < 2^40, 1000 <= timer_khz <
 * 2^32 and tsc_khz < 2^32, so nothing overflows and no 128-bit division
 * (a libgcc call) is needed.
 */
static void apic_to_tsc(const struct vlapic *l, u64 ticks, u64 *whole, u64 *frac)
{
	u64 k = l->cfg.timer_khz, t = l->cfg.tsc_khz;
	u64 x = (ticks % k) * t;

	*whole = ticks / k * t + x / k;
	*frac = x % k;
}

static u64 tsc_to_apic(const struct vlapic *l, u64 tsc)
{
	u64 k = l->cfg.timer_khz, t = l->cfg.tsc_khz;

	return tsc / t * k + tsc % t * k / t;
}

static void timer_disarm(struct vlapic *l)
{
	set_deadline(l, 0);
}

/* A write of the initial count starts counting from it ("APIC Timer"). */
static void timer_start_count(struct vlapic *l)
{
	u64 now;

	if (timer_mode(l) == APIC_LVT_TIMER_TSCDEADLINE)
		return;
	l->timer_div = div_value(l->timer_dcr);
	if (!l->timer_init) {
		timer_disarm(l);
		return;
	}
	apic_to_tsc(l, (u64)l->timer_init * l->timer_div, &l->period_tsc, &l->period_frac);
	if (timer_mode(l) == APIC_LVT_TIMER_PERIODIC && l->period_tsc < l->min_period_tsc) {
		l->period_tsc = l->min_period_tsc;
		l->period_frac = 0;
	}
	now = now_tsc(l);
	l->timer_start = now;
	l->frac = l->period_frac;
	set_deadline(l, MAX(now + l->period_tsc, 1)); /* 0 would mean disarmed */
}

/* Adds n periods to deadline d, carrying the fraction. n * period_frac
 * stays below 2^63 for the n the caller allows. */
static u64 add_periods(struct vlapic *l, u64 d, u64 n)
{
	u64 k = l->cfg.timer_khz, f = l->frac + n * l->period_frac;

	l->frac = f % k;
	return d + n * l->period_tsc + f / k;
}

/*
 * The next expiry of a periodic timer: one period after the last, not after
 * now, so periods do not drift however late the check comes. Periods missed
 * altogether (the vCPU did not run) are skipped in one step: IRR holds one
 * of them anyway.
 */
static void timer_rearm_periodic(struct vlapic *l, u64 now)
{
	u64 d = l->timer_deadline, step = l->period_tsc;

	if (step < l->min_period_tsc) {
		step = l->period_tsc = l->min_period_tsc;
		l->period_frac = 0;
	}
	if (now - d > step) {
		u64 n = (now - d) / (step + 1);

		if (n > (1ULL << 30)) { /* asleep for ages: start afresh */
			d = now;
			l->frac = 0;
		} else {
			d = add_periods(l, d, n);
		}
	}
	while (d <= now) {
		l->timer_start = d;
		d = add_periods(l, d, 1);
	}
	set_deadline(l, d);
}

static void timer_expire(struct vlapic *l, u64 now, struct post *p)
{
	u32 lvt = l->lvt[LVT_TIMER];

	/* A masked timer still counts; it just raises nothing. */
	if (!(lvt & APIC_LVT_MASKED))
		accept_locked(l, (u8)(lvt & LVT_VECTOR), false, p);
	switch (timer_mode(l)) {
	case APIC_LVT_TIMER_PERIODIC:
		timer_rearm_periodic(l, now);
		break;
	case APIC_LVT_TIMER_TSCDEADLINE:
		l->tsc_deadline = 0; /* the MSR reads 0 once it has fired */
		timer_disarm(l);
		break;
	default:
		timer_disarm(l);
		break;
	}
}

/* Current count: what is left of the count, from the clock. 0 once a one-shot
 * expired, and always in TSC-deadline mode. */
static u32 timer_current(struct vlapic *l)
{
	u64 now, elapsed;

	if (timer_mode(l) == APIC_LVT_TIMER_TSCDEADLINE || !l->timer_init || !l->timer_deadline)
		return 0;
	now = now_tsc(l);
	if (timer_mode(l) != APIC_LVT_TIMER_PERIODIC && now >= l->timer_deadline)
		return 0; /* expired, not yet checked */
	elapsed = now > l->timer_start ? tsc_to_apic(l, now - l->timer_start) / l->timer_div : 0;
	if (timer_mode(l) == APIC_LVT_TIMER_PERIODIC)
		return l->timer_init - (u32)(elapsed % l->timer_init);
	return elapsed >= l->timer_init ? 0 : l->timer_init - (u32)elapsed;
}

/* ---- reset ---- */

/* What INIT and power-up share ("Local APIC State After an INIT Reset"):
 * everything but the ID and IA32_APIC_BASE. */
static void regs_reset(struct vlapic *l)
{
	l->tpr = l->ldr = 0;
	l->dfr = 0xffffffffu;
	l->svr = 0xff;
	l->esr = l->esr_pending = 0;
	l->icr_lo = l->icr_hi = 0;
	for (unsigned i = 0; i < VLAPIC_NR_LVT; i++)
		l->lvt[i] = APIC_LVT_MASKED;
	memset(l->irr, 0, sizeof(l->irr));
	memset(l->isr, 0, sizeof(l->isr));
	memset(l->tmr, 0, sizeof(l->tmr));
	__atomic_store_n(&l->nmi_pending, false, __ATOMIC_RELEASE);
	l->timer_init = l->timer_dcr = 0;
	l->timer_div = div_value(0);
	l->timer_start = l->period_tsc = l->period_frac = l->frac = 0;
	l->tsc_deadline = 0;
	timer_disarm(l);
}

static void power_up(struct vlapic *l)
{
	l->apic_base = APIC_BASE_DEFAULT | APIC_BASE_EN | (l->cfg.bsp ? APIC_BASE_BSP : 0);
	l->id = l->cfg.id << 24;
	regs_reset(l);
}

/* ---- register access, both modes (lock held) ---- */

static int lvt_index(u32 off)
{
	switch (off) {
	case APIC_LVT_TIMER:
		return LVT_TIMER;
	case APIC_LVT_THERMAL:
		return LVT_THERMAL;
	case APIC_LVT_PERF:
		return LVT_PERF;
	case APIC_LVT_LINT0:
		return LVT_LINT0;
	case APIC_LVT_LINT1:
		return LVT_LINT1;
	case APIC_LVT_ERROR:
		return LVT_ERROR;
	}
	return -1;
}

/* 0, or -EPERM: a register this mode does not have, or cannot read. */
static int reg_read(struct vlapic *l, u32 off, bool x2, u64 *val)
{
	int lvt = lvt_index(off);

	if (lvt >= 0) {
		*val = l->lvt[lvt];
		return 0;
	}
	switch (off) {
	case APIC_ID:
		*val = x2 ? l->cfg.id : l->id;
		return 0;
	case APIC_VERSION:
		*val = VLAPIC_VERSION;
		return 0;
	case APIC_TPR:
		*val = l->tpr;
		return 0;
	case APIC_APR: /* there is no bus arbitration to report */
	case APIC_RRD: /* remote read is not supported: reads 0 */
	case APIC_EOI: /* write-only: reads 0 in xAPIC mode */
		*val = 0;
		return x2 ? -EPERM : 0;
	case APIC_PPR:
		*val = compute_ppr(l);
		return 0;
	case APIC_LDR:
		*val = x2 ? x2apic_ldr(l->cfg.id) : l->ldr;
		return 0;
	case APIC_DFR:
		*val = l->dfr;
		return x2 ? -EPERM : 0;
	case APIC_SVR:
		*val = l->svr;
		return 0;
	case APIC_ISR ... APIC_ISR + 0x70:
		*val = l->isr[(off - APIC_ISR) >> 4];
		return 0;
	case APIC_TMR ... APIC_TMR + 0x70:
		*val = l->tmr[(off - APIC_TMR) >> 4];
		return 0;
	case APIC_IRR ... APIC_IRR + 0x70:
		*val = l->irr[(off - APIC_IRR) >> 4];
		return 0;
	case APIC_ESR:
		*val = l->esr;
		return 0;
	case APIC_ICR_LO:
		*val = x2 ? (u64)l->icr_hi << 32 | l->icr_lo : l->icr_lo;
		return 0;
	case APIC_ICR_HI:
		*val = l->icr_hi;
		return x2 ? -EPERM : 0;
	case APIC_TIMER_INIT:
		*val = l->timer_init;
		return 0;
	case APIC_TIMER_CUR:
		*val = timer_current(l);
		return 0;
	case APIC_TIMER_DIV:
		*val = l->timer_dcr;
		return 0;
	}
	*val = 0;
	return -EPERM; /* reserved, CMCI (not among our 6 LVTs), SELF IPI (write-only) */
}

/* ICR: the message goes out after the lock is dropped. Delivery is
 * instant, so delivery status (bit 12) always reads idle. */
static void icr_send(struct vlapic *l, bool x2, struct post *p)
{
	u32 lo = l->icr_lo;
	u8 vector = (u8)lo, dm = (lo & LVT_DM) >> LVT_DM_SHIFT;

	if ((dm == APIC_DELIVERY_FIXED || dm == APIC_DELIVERY_LOWEST) && vector < 16) {
		record_error(l, ESR_SEND_ILLEGAL_VECTOR, p);
		return;
	}
	p->send = true;
	p->msg = (struct apic_msg){
		.dest = x2 ? l->icr_hi : l->icr_hi >> 24,
		.vector = vector,
		.delivery = dm,
		.shorthand = (lo >> ICR_SHORTHAND_SHIFT) & 3,
		.logical = lo & ICR_DEST_LOGICAL,
		.level = lo & APIC_ICR_LEVEL,
		.assert = lo & APIC_ICR_ASSERT,
		.x2apic = x2,
		.src = (int)l->cfg.id,
	};
}

/* "Signaling Interrupt Servicing Completion": retire the highest ISR bit. */
static void eoi(struct vlapic *l, struct post *p)
{
	int v = highest_bit(l->isr);

	if (v < 0)
		return;
	clear_vec(l->isr, (u8)v);
	if (test_vec(l->tmr, (u8)v))
		p->eoi = v;
}

static void write_svr(struct vlapic *l, u32 val)
{
	l->svr = val & SVR_WRITABLE;
	/* Software-disabled: every LVT entry masked, and kept so. */
	if (!sw_enabled(l))
		for (unsigned i = 0; i < VLAPIC_NR_LVT; i++)
			l->lvt[i] |= APIC_LVT_MASKED;
}

static void write_lvt(struct vlapic *l, int i, u32 val)
{
	u32 mask = lvt_writable[i];

	if (i == LVT_TIMER && l->cfg.tsc_deadline)
		mask |= APIC_LVT_TIMER_TSCDEADLINE;
	val &= mask;
	if (!sw_enabled(l))
		val |= APIC_LVT_MASKED;
	if (i == LVT_TIMER) {
		bool was_tscd = timer_mode(l) == APIC_LVT_TIMER_TSCDEADLINE;
		bool is_tscd = (val & APIC_LVT_TIMER_MODE_MASK) == APIC_LVT_TIMER_TSCDEADLINE;

		/* Switching to or from TSC-deadline mode disarms the timer
		 * ("TSC-Deadline Mode"); one-shot <-> periodic takes effect at the
		 * next expiry. */
		if (was_tscd != is_tscd) {
			l->timer_init = 0;
			l->tsc_deadline = 0;
			timer_disarm(l);
		}
	}
	l->lvt[i] = val;
}

/*
 * 0, or -EPERM: a register this mode cannot write. In xAPIC mode read-only
 * registers ignore writes; in x2APIC mode they #GP, as do bits 63:32 of
 * anything but ICR ("x2APIC Register Availability", "Reserved Bit Checking").
 */
static int reg_write(struct vlapic *l, u32 off, bool x2, u64 val, struct post *p)
{
	int lvt = lvt_index(off);
	u32 v = (u32)val;

	if (x2 && (val >> 32) && off != APIC_ICR_LO)
		return -EPERM;
	if (lvt >= 0) {
		write_lvt(l, lvt, v);
		return 0;
	}
	switch (off) {
	case APIC_ID:
		if (x2)
			return -EPERM;
		l->id = v & 0xff000000u; /* model-specific; allowed, as most do */
		return 0;
	case APIC_VERSION:
	case APIC_PPR:
	case APIC_ISR ... APIC_ISR + 0x70:
	case APIC_TMR ... APIC_TMR + 0x70:
	case APIC_IRR ... APIC_IRR + 0x70:
	case APIC_TIMER_CUR:
	case APIC_APR:
	case APIC_RRD:
		return x2 ? -EPERM : 0;
	case APIC_TPR:
		l->tpr = v & 0xff;
		return 0;
	case APIC_EOI:
		if (x2 && v)
			return -EPERM;
		eoi(l, p);
		return 0;
	case APIC_LDR:
		if (x2)
			return -EPERM; /* read-only: derived from the x2APIC ID */
		l->ldr = v & 0xff000000u;
		return 0;
	case APIC_DFR:
		if (x2)
			return -EPERM;
		l->dfr = v | 0x0fffffffu;
		return 0;
	case APIC_SVR:
		write_svr(l, v);
		return 0;
	case APIC_ESR:
		if (x2 && v)
			return -EPERM;
		l->esr = l->esr_pending;
		l->esr_pending = 0;
		return 0;
	case APIC_ICR_LO:
		if (x2)
			l->icr_hi = (u32)(val >> 32);
		l->icr_lo = v & ICR_LO_WRITABLE;
		icr_send(l, x2, p);
		return 0;
	case APIC_ICR_HI:
		if (x2)
			return -EPERM;
		l->icr_hi = v & 0xff000000u;
		return 0;
	case APIC_TIMER_INIT:
		if (timer_mode(l) == APIC_LVT_TIMER_TSCDEADLINE)
			return 0; /* ignored in TSC-deadline mode */
		l->timer_init = v;
		timer_start_count(l);
		return 0;
	case APIC_TIMER_DIV:
		l->timer_dcr = v & DCR_WRITABLE;
		return 0;
	case APIC_SELF_IPI:
		/* x2APIC only; a fixed, edge-triggered IPI to this APIC. */
		if (!x2 || v > 0xff)
			return -EPERM;
		if (v < 16)
			record_error(l, ESR_SEND_ILLEGAL_VECTOR, p);
		else
			accept_locked(l, (u8)v, false, p);
		return 0;
	}
	return -EPERM;
}

/* ---- xAPIC MMIO ---- */

static int vlapic_mmio_read(void *dev, u64 offset, u8 size, u64 *val)
{
	struct vlapic *l = dev;
	u32 reg = (u32)offset & ~0xfu, byte = (u32)offset & 0xf;
	struct post p = POST_INIT;
	u64 v = 0;

	*val = size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
	if (offset >= APIC_MMIO_SIZE || byte + size > 4)
		return 0;
	spin_lock(&l->lock);
	if (mode_of(l) == VLAPIC_XAPIC) {
		if (reg_read(l, reg, false, &v))
			record_error(l, ESR_ILLEGAL_REGISTER, &p);
		*val = (v >> (byte * 8)) & *val;
	}
	spin_unlock(&l->lock);
	post_run(l, &p);
	return 0;
}

static int vlapic_mmio_write(void *dev, u64 offset, u8 size, u64 val)
{
	struct vlapic *l = dev;
	struct post p = POST_INIT;

	if (offset >= APIC_MMIO_SIZE || (offset & 0xf) || size != 4)
		return 0;
	spin_lock(&l->lock);
	if (mode_of(l) == VLAPIC_XAPIC && reg_write(l, (u32)offset, false, (u32)val, &p))
		record_error(l, ESR_ILLEGAL_REGISTER, &p);
	spin_unlock(&l->lock);
	post_run(l, &p);
	return 0;
}

const struct io_ops vlapic_mmio_ops = {
	.read = vlapic_mmio_read,
	.write = vlapic_mmio_write,
};

u64 vlapic_mmio_base(struct vlapic *l)
{
	u64 base;

	spin_lock(&l->lock);
	base = l->apic_base & APIC_BASE_ADDR_MASK;
	spin_unlock(&l->lock);
	return base;
}

bool vlapic_mmio_claims(struct vlapic *l, u64 gpa)
{
	bool claims;

	spin_lock(&l->lock);
	claims = mode_of(l) == VLAPIC_XAPIC &&
		 gpa - (l->apic_base & APIC_BASE_ADDR_MASK) < APIC_MMIO_SIZE;
	spin_unlock(&l->lock);
	return claims;
}

/* ---- x2APIC MSRs ---- */

int vlapic_msr_read(struct vlapic *l, u32 msr, u64 *val)
{
	int ret = -EPERM;

	*val = 0;
	if (!vlapic_is_x2apic_msr(msr))
		return -EPERM;
	spin_lock(&l->lock);
	if (mode_of(l) == VLAPIC_X2APIC)
		ret = reg_read(l, (msr - X2APIC_MSR_BASE) << 4, true, val);
	spin_unlock(&l->lock);
	return ret;
}

int vlapic_msr_write(struct vlapic *l, u32 msr, u64 val)
{
	struct post p = POST_INIT;
	int ret = -EPERM;

	if (!vlapic_is_x2apic_msr(msr))
		return -EPERM;
	spin_lock(&l->lock);
	if (mode_of(l) == VLAPIC_X2APIC)
		ret = reg_write(l, (msr - X2APIC_MSR_BASE) << 4, true, val, &p);
	spin_unlock(&l->lock);
	post_run(l, &p);
	return ret;
}

/* ---- IA32_APIC_BASE ("Local APIC Status and Location", "x2APIC State Transitions") ---- */

u64 vlapic_apic_base_read(struct vlapic *l)
{
	u64 v;

	spin_lock(&l->lock);
	v = l->apic_base;
	spin_unlock(&l->lock);
	return v;
}

int vlapic_apic_base_write(struct vlapic *l, u64 val)
{
	u8 pa_bits = l->cfg.phys_addr_bits && l->cfg.phys_addr_bits < 52 ? l->cfg.phys_addr_bits : 52;
	u64 reserved = 0xffULL | (1ULL << 9) | ~((1ULL << pa_bits) - 1);
	bool en = val & APIC_BASE_EN, extd = val & APIC_BASE_EXTD;
	enum vlapic_mode from, to;

	if (!l->cfg.x2apic)
		reserved |= APIC_BASE_EXTD;
	if (val & reserved)
		return -EPERM;
	if (extd && !en)
		return -EPERM; /* the invalid state */
	to = !en ? VLAPIC_DISABLED : extd ? VLAPIC_X2APIC : VLAPIC_XAPIC;

	spin_lock(&l->lock);
	from = mode_of(l);
	if ((from == VLAPIC_X2APIC && to == VLAPIC_XAPIC) ||
	    (from == VLAPIC_DISABLED && to == VLAPIC_X2APIC)) {
		spin_unlock(&l->lock);
		return -EPERM;
	}
	l->apic_base = (val & ~APIC_BASE_BSP) | (l->apic_base & APIC_BASE_BSP);
	if (to == VLAPIC_DISABLED && from != VLAPIC_DISABLED)
		regs_reset(l);
	if (from == VLAPIC_DISABLED && to == VLAPIC_XAPIC)
		l->id = l->cfg.id << 24; /* enabled again: the power-up ID */
	spin_unlock(&l->lock);
	return 0;
}

/* ---- IA32_TSC_DEADLINE ("TSC-Deadline Mode") ---- */

int vlapic_tsc_deadline_read(struct vlapic *l, u64 *val)
{
	*val = 0;
	if (!l->cfg.tsc_deadline)
		return -EPERM;
	spin_lock(&l->lock);
	if (hw_enabled(l) && timer_mode(l) == APIC_LVT_TIMER_TSCDEADLINE)
		*val = l->tsc_deadline;
	spin_unlock(&l->lock);
	return 0;
}

int vlapic_tsc_deadline_write(struct vlapic *l, u64 val)
{
	if (!l->cfg.tsc_deadline)
		return -EPERM;
	spin_lock(&l->lock);
	if (hw_enabled(l) && timer_mode(l) == APIC_LVT_TIMER_TSCDEADLINE) {
		l->tsc_deadline = val;
		set_deadline(l, val); /* 0 disarms; a past value fires at the next check */
	}
	spin_unlock(&l->lock);
	return 0;
}

/* ---- CR8 ---- */

u8 vlapic_cr8_read(struct vlapic *l)
{
	/* One aligned word, written whole under the lock: no lock to read it
	 * (core/vcpu_irq.c reads it whenever there is interrupt work). */
	return (u8)(__atomic_load_n(&l->tpr, __ATOMIC_RELAXED) >> 4);
}

void vlapic_cr8_write(struct vlapic *l, u8 val)
{
	spin_lock(&l->lock);
	l->tpr = (val & 0xfu) << 4;
	spin_unlock(&l->lock);
}

/* ---- interrupts ---- */

bool vlapic_accept(struct vlapic *l, u8 vector, bool level_trig)
{
	struct post p = POST_INIT;
	bool ok;

	spin_lock(&l->lock);
	ok = accept_locked(l, vector, level_trig, &p);
	spin_unlock(&l->lock);
	post_run(l, &p);
	return ok;
}

int vlapic_pending(struct vlapic *l)
{
	int v;

	spin_lock(&l->lock);
	v = hw_enabled(l) ? highest_bit(l->irr) : -1;
	if (v >= 0 && (v >> 4) <= (compute_ppr(l) >> 4))
		v = -1;
	spin_unlock(&l->lock);
	return v;
}

void vlapic_ack(struct vlapic *l, u8 vector)
{
	spin_lock(&l->lock);
	clear_vec(l->irr, vector);
	set_vec(l->isr, vector);
	spin_unlock(&l->lock);
}

u8 vlapic_ppr(struct vlapic *l)
{
	u8 v;

	spin_lock(&l->lock);
	v = compute_ppr(l);
	spin_unlock(&l->lock);
	return v;
}

bool vlapic_deliver(struct vlapic *l, const struct apic_msg *m)
{
	const struct vlapic_ops *ops = l->cfg.ops;
	struct post p = POST_INIT;
	bool ok;

	switch (m->delivery) {
	case APIC_DELIVERY_FIXED:
	case APIC_DELIVERY_LOWEST:
		return vlapic_accept(l, m->vector, m->level);
	case APIC_DELIVERY_NMI:
		spin_lock(&l->lock);
		ok = hw_enabled(l);
		if (ok)
			__atomic_store_n(&l->nmi_pending, true, __ATOMIC_RELEASE);
		p.wake = ok;
		spin_unlock(&l->lock);
		post_run(l, &p);
		return ok;
	case APIC_DELIVERY_INIT:
		/* "INIT Level De-assert" only synchronizes arbitration IDs. */
		if (m->level && !m->assert)
			return false;
		spin_lock(&l->lock);
		ok = hw_enabled(l);
		if (ok)
			regs_reset(l);
		spin_unlock(&l->lock);
		if (ok && ops && ops->on_init)
			ops->on_init(l->cfg.ctx);
		return ok;
	case APIC_DELIVERY_STARTUP:
		spin_lock(&l->lock);
		ok = hw_enabled(l);
		spin_unlock(&l->lock);
		if (ok && ops && ops->on_sipi)
			ops->on_sipi(l->cfg.ctx, m->vector);
		return ok;
	}
	return false; /* SMI, ExtINT, reserved: not modelled */
}

bool vlapic_nmi_pending(struct vlapic *l)
{
	return __atomic_load_n(&l->nmi_pending, __ATOMIC_ACQUIRE);
}

bool vlapic_take_nmi(struct vlapic *l)
{
	bool was;

	spin_lock(&l->lock);
	was = __atomic_exchange_n(&l->nmi_pending, false, __ATOMIC_ACQ_REL);
	spin_unlock(&l->lock);
	return was;
}

bool vlapic_pic_intr_allowed(struct vlapic *l)
{
	bool ok;
	u32 lint0;

	spin_lock(&l->lock);
	lint0 = l->lvt[LVT_LINT0];
	ok = !hw_enabled(l) || (!(lint0 & APIC_LVT_MASKED) &&
				(lint0 & LVT_DM) >> LVT_DM_SHIFT == APIC_DELIVERY_EXTINT);
	spin_unlock(&l->lock);
	return ok;
}

/* ---- timer, from the owner ---- */

u64 vlapic_next_deadline(struct vlapic *l)
{
	return __atomic_load_n(&l->timer_deadline, __ATOMIC_ACQUIRE);
}

void vlapic_timer_check(struct vlapic *l, u64 now)
{
	struct post p = POST_INIT;
	u64 d = __atomic_load_n(&l->timer_deadline, __ATOMIC_ACQUIRE);

	if (!d || now < d)
		return; /* the common case, without the lock */
	spin_lock(&l->lock);
	d = l->timer_deadline;
	if (d && now >= d)
		timer_expire(l, now, &p);
	spin_unlock(&l->lock);
	post_run(l, &p);
}

/* ---- apic_bus ---- */

void vlapic_dest_info(struct vlapic *l, struct vlapic_dest *out)
{
	spin_lock(&l->lock);
	out->mode = mode_of(l);
	out->sw_enabled = sw_enabled(l);
	out->cluster = (l->dfr >> 28) == 0;
	if (out->mode == VLAPIC_X2APIC) {
		out->id = l->cfg.id;
		out->ldr = x2apic_ldr(l->cfg.id);
	} else {
		out->id = l->id >> 24;
		out->ldr = l->ldr >> 24;
	}
	out->ppr = compute_ppr(l);
	spin_unlock(&l->lock);
}

/* ---- life ---- */

enum vlapic_mode vlapic_mode(struct vlapic *l)
{
	enum vlapic_mode m;

	spin_lock(&l->lock);
	m = mode_of(l);
	spin_unlock(&l->lock);
	return m;
}

struct vlapic *vlapic_create(const struct vlapic_config *cfg)
{
	struct vlapic *l;

	if (cfg->timer_khz < 1000 || !cfg->tsc_khz || cfg->timer_khz >= (1ULL << 32) ||
	    cfg->tsc_khz >= (1ULL << 32))
		return NULL;
	l = kzalloc(sizeof(*l));
	if (!l)
		return NULL;
	l->cfg = *cfg;
	l->min_period_tsc = cfg->tsc_khz * VLAPIC_MIN_PERIOD_US / 1000;
	power_up(l);
	return l;
}

void vlapic_destroy(struct vlapic *l)
{
	kfree(l);
}

void vlapic_reset(struct vlapic *l)
{
	spin_lock(&l->lock);
	power_up(l);
	spin_unlock(&l->lock);
}

/* ---- save and load ---- */

void vlapic_save(struct vlapic *l, struct vlapic_state *s)
{
	memset(s, 0, sizeof(*s));
	spin_lock(&l->lock);
	s->apic_base = l->apic_base;
	s->id = l->id;
	s->tpr = l->tpr;
	s->ldr = l->ldr;
	s->dfr = l->dfr;
	s->svr = l->svr;
	s->esr = l->esr;
	s->esr_pending = l->esr_pending;
	s->icr_lo = l->icr_lo;
	s->icr_hi = l->icr_hi;
	memcpy(s->lvt, l->lvt, sizeof(s->lvt));
	memcpy(s->irr, l->irr, sizeof(s->irr));
	memcpy(s->isr, l->isr, sizeof(s->isr));
	memcpy(s->tmr, l->tmr, sizeof(s->tmr));
	s->timer_init = l->timer_init;
	s->timer_dcr = l->timer_dcr;
	s->timer_div = l->timer_div;
	s->nmi_pending = __atomic_load_n(&l->nmi_pending, __ATOMIC_ACQUIRE);
	s->timer_deadline = l->timer_deadline;
	s->timer_start = l->timer_start;
	s->period_tsc = l->period_tsc;
	s->period_frac = l->period_frac;
	s->frac = l->frac;
	s->tsc_deadline = l->tsc_deadline;
	spin_unlock(&l->lock);
}

/* Could the guest have brought this APIC into state s? Each register with
 * only the bits its write keeps (reg_write, write_lvt, write_svr). */
static bool state_reachable(const struct vlapic *l, const struct vlapic_state *s)
{
	u8 pa_bits = l->cfg.phys_addr_bits && l->cfg.phys_addr_bits < 52 ? l->cfg.phys_addr_bits : 52;
	u64 reserved = 0xffULL | (1ULL << 9) | ~((1ULL << pa_bits) - 1);
	bool en = s->apic_base & APIC_BASE_EN, extd = s->apic_base & APIC_BASE_EXTD;
	bool sw_on = s->svr & APIC_SVR_ENABLE;
	u32 div_ok = 0;

	if (!l->cfg.x2apic)
		reserved |= APIC_BASE_EXTD;
	if ((s->apic_base & reserved) || (extd && !en) ||
	    !(s->apic_base & APIC_BASE_BSP) != !l->cfg.bsp)
		return false;
	if ((s->id & 0x00ffffffu) || s->tpr > 0xff || (s->ldr & 0x00ffffffu) ||
	    (s->dfr | 0x0fffffffu) != s->dfr || (s->svr & ~SVR_WRITABLE) ||
	    s->esr > 0xff || s->esr_pending > 0xff || (s->icr_lo & ~ICR_LO_WRITABLE) ||
	    (!extd && (s->icr_hi & 0x00ffffffu)))
		return false;
	for (unsigned i = 0; i < VLAPIC_NR_LVT; i++) {
		u32 mask = lvt_writable[i];

		if (i == LVT_TIMER && l->cfg.tsc_deadline)
			mask |= APIC_LVT_TIMER_TSCDEADLINE;
		if ((s->lvt[i] & ~mask) || (!sw_on && !(s->lvt[i] & APIC_LVT_MASKED)))
			return false;
	}
	/* Vectors 0-15 are never accepted (accept_locked). */
	if ((s->irr[0] | s->isr[0] | s->tmr[0]) & 0xffffu)
		return false;
	for (u32 dcr = 0; dcr <= DCR_WRITABLE; dcr++)
		div_ok |= div_value(dcr);
	if ((s->timer_dcr & ~DCR_WRITABLE) || !(s->timer_div & div_ok) ||
	    (s->timer_div & (s->timer_div - 1)) || s->nmi_pending > 1)
		return false;
	return s->period_frac < l->cfg.timer_khz && s->frac < l->cfg.timer_khz;
}

int vlapic_load(struct vlapic *l, const struct vlapic_state *s)
{
	if (!state_reachable(l, s))
		return -EINVAL;
	spin_lock(&l->lock);
	l->apic_base = s->apic_base;
	l->id = s->id;
	l->tpr = s->tpr;
	l->ldr = s->ldr;
	l->dfr = s->dfr;
	l->svr = s->svr;
	l->esr = s->esr;
	l->esr_pending = s->esr_pending;
	l->icr_lo = s->icr_lo;
	l->icr_hi = s->icr_hi;
	memcpy(l->lvt, s->lvt, sizeof(l->lvt));
	memcpy(l->irr, s->irr, sizeof(l->irr));
	memcpy(l->isr, s->isr, sizeof(l->isr));
	memcpy(l->tmr, s->tmr, sizeof(l->tmr));
	l->timer_init = s->timer_init;
	l->timer_dcr = s->timer_dcr;
	l->timer_div = s->timer_div;
	__atomic_store_n(&l->nmi_pending, s->nmi_pending != 0, __ATOMIC_RELEASE);
	l->timer_start = s->timer_start;
	l->period_tsc = s->period_tsc;
	l->period_frac = s->period_frac;
	l->frac = s->frac;
	l->tsc_deadline = s->tsc_deadline;
	set_deadline(l, s->timer_deadline);
	spin_unlock(&l->lock);
	return 0;
}
