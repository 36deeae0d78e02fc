/* The ACPI PM1 registers, PM timer and reset register (devices/acpi_pm.h). */
#include "devices/acpi_pm.h"

#include "hv/mm.h"

#define NSEC_PER_SEC 1000000000ULL
#define TMR_CARRY_SHIFT 31 /* TMR_STS: bit 31 of the 32-bit timer changed */
#define SCI_SOURCES (ACPI_PM1_TMR_STS | ACPI_PM1_GBL_STS | ACPI_PM1_PWRBTN_STS | \
		     ACPI_PM1_SLPBTN_STS | ACPI_PM1_RTC_STS)

enum pm_action { PM_NONE, PM_POWEROFF, PM_RESET };

static u64 ns_to_ticks(u64 ns)
{
	return ns / NSEC_PER_SEC * ACPI_PM_TMR_HZ + ns % NSEC_PER_SEC * ACPI_PM_TMR_HZ / NSEC_PER_SEC;
}

static u64 ticks_to_ns(u64 ticks)
{
	return ticks / ACPI_PM_TMR_HZ * NSEC_PER_SEC +
	       (ticks % ACPI_PM_TMR_HZ * NSEC_PER_SEC + ACPI_PM_TMR_HZ - 1) / ACPI_PM_TMR_HZ;
}

static u64 ticks_at(const struct acpi_pm *pm, u64 now)
{
	return now > pm->base_ns ? ns_to_ticks(now - pm->base_ns) : 0;
}

static void set_sci(struct acpi_pm *pm)
{
	bool level = (pm->cnt & ACPI_PM1_SCI_EN) && (pm->sts & pm->en & SCI_SOURCES);

	if (level == pm->sci_level)
		return;
	pm->sci_level = level;
	irq_set(&pm->irq, pm->sci_irq, level);
}

/* TMR_STS for every change of the timer's bit 31 up to now. */
static void advance(struct acpi_pm *pm, u64 now)
{
	u64 t = ticks_at(pm, now);

	if (t > pm->tmr_checked) {
		if (t >> TMR_CARRY_SHIFT != pm->tmr_checked >> TMR_CARRY_SHIFT)
			pm->sts |= ACPI_PM1_TMR_STS;
		pm->tmr_checked = t;
	}
	set_sci(pm);
}

static u8 read_byte(const struct acpi_pm *pm, unsigned off, u32 tmr)
{
	switch (off) {
	case ACPI_PM1_STS:
	case ACPI_PM1_STS + 1:
		return (u8)(pm->sts >> (off - ACPI_PM1_STS) * 8);
	case ACPI_PM1_EN:
	case ACPI_PM1_EN + 1:
		return (u8)(pm->en >> (off - ACPI_PM1_EN) * 8);
	case ACPI_PM1_CNT:
	case ACPI_PM1_CNT + 1:
		return (u8)(pm->cnt >> (off - ACPI_PM1_CNT) * 8);
	case ACPI_PM_TMR:
	case ACPI_PM_TMR + 1:
	case ACPI_PM_TMR + 2:
	case ACPI_PM_TMR + 3:
		return (u8)(tmr >> (off - ACPI_PM_TMR) * 8);
	default:
		return 0;
	}
}

static enum pm_action write_byte(struct acpi_pm *pm, unsigned off, u8 b)
{
	unsigned shift;
	u16 typ;

	switch (off) {
	case ACPI_PM1_STS:
	case ACPI_PM1_STS + 1:
		pm->sts &= (u16)~(b << (off - ACPI_PM1_STS) * 8); /* write 1 to clear */
		break;
	case ACPI_PM1_EN:
	case ACPI_PM1_EN + 1:
		shift = (off - ACPI_PM1_EN) * 8;
		pm->en = (u16)(((pm->en & ~(0xffu << shift)) | (unsigned)b << shift) & ACPI_PM1_EN_MASK);
		break;
	case ACPI_PM1_CNT:
		/* SCI_EN stays set; GBL_RLS would signal firmware, and there is none. */
		pm->cnt = (u16)((pm->cnt & ~ACPI_PM1_BM_RLD) | (b & ACPI_PM1_BM_RLD));
		break;
	case ACPI_PM1_CNT + 1:
		pm->cnt = (u16)((pm->cnt & ~ACPI_PM1_SLP_TYP_MASK) |
				(((unsigned)b << 8) & ACPI_PM1_SLP_TYP_MASK));
		typ = (pm->cnt & ACPI_PM1_SLP_TYP_MASK) >> ACPI_PM1_SLP_TYP_SHIFT;
		if (((unsigned)b << 8) & ACPI_PM1_SLP_EN && typ == ACPI_PM_SLP_TYP_S5)
			return PM_POWEROFF;
		break;
	default:
		break; /* the timer is read-only */
	}
	return PM_NONE;
}

static void act(const struct acpi_pm *pm, enum pm_action a)
{
	if (a == PM_POWEROFF && pm->ops.poweroff)
		pm->ops.poweroff(pm->ops.ctx);
	else if (a == PM_RESET && pm->ops.reset)
		pm->ops.reset(pm->ops.ctx);
}

static int pm_read(void *dev, u64 offset, u8 size, u64 *val)
{
	struct acpi_pm *pm = dev;
	u64 now, v = 0;
	u32 tmr;

	spin_lock(&pm->lock);
	now = pm->ops.now_ns(pm->ops.ctx);
	advance(pm, now);
	tmr = (u32)ticks_at(pm, now);
	for (unsigned i = 0; i < size; i++)
		v |= (u64)read_byte(pm, (unsigned)(offset + i), tmr) << (i * 8);
	spin_unlock(&pm->lock);
	*val = v;
	return 0;
}

static int pm_write(void *dev, u64 offset, u8 size, u64 val)
{
	struct acpi_pm *pm = dev;
	enum pm_action a = PM_NONE, r;

	spin_lock(&pm->lock);
	advance(pm, pm->ops.now_ns(pm->ops.ctx));
	for (unsigned i = 0; i < size; i++) {
		r = write_byte(pm, (unsigned)(offset + i), (u8)(val >> (i * 8)));
		if (r != PM_NONE)
			a = r;
	}
	set_sci(pm);
	spin_unlock(&pm->lock);
	act(pm, a); /* outside the lock: the VM may be torn down from here */
	return 0;
}

const struct io_ops acpi_pm_ops = {
	.read = pm_read,
	.write = pm_write,
};

static int rcr_read(void *dev, u64 offset, u8 size, u64 *val)
{
	struct acpi_pm *pm = dev;

	spin_lock(&pm->lock);
	*val = offset == 0 && size == 1 ? pm->rcr : (size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1);
	spin_unlock(&pm->lock);
	return 0;
}

static int rcr_write(void *dev, u64 offset, u8 size, u64 val)
{
	struct acpi_pm *pm = dev;

	if (offset != 0 || size != 1)
		return 0;
	spin_lock(&pm->lock);
	pm->rcr = (u8)val & (ACPI_RCR_SYS_RST | ACPI_RCR_FULL_RST); /* RST_CPU is self-clearing */
	spin_unlock(&pm->lock);
	if (val & ACPI_RCR_RST_CPU)
		act(pm, PM_RESET);
	return 0;
}

const struct io_ops acpi_pm_rcr_ops = {
	.read = rcr_read,
	.write = rcr_write,
};

/* The registers at power-on; SCI_EN is set, as the OS must find the machine
 * in ACPI mode (there is no SMI_CMD to switch). */
static void regs_init(struct acpi_pm *pm)
{
	pm->sts = pm->en = 0;
	pm->cnt = ACPI_PM1_SCI_EN;
	pm->rcr = 0;
}

struct acpi_pm *acpi_pm_create(const struct acpi_pm_ops *ops, const struct irq_sink *irq)
{
	struct acpi_pm *pm;

	if (!ops || !ops->now_ns)
		return NULL;
	pm = kzalloc(sizeof(*pm));
	if (!pm)
		return NULL;
	pm->ops = *ops;
	if (irq)
		pm->irq = *irq;
	pm->sci_irq = ACPI_SCI_IRQ;
	regs_init(pm);
	pm->base_ns = ops->now_ns(ops->ctx);
	return pm;
}

void acpi_pm_reset(struct acpi_pm *pm)
{
	u64 now;

	spin_lock(&pm->lock);
	now = pm->ops.now_ns(pm->ops.ctx);
	/* The timer runs on; a carry before the reset sets no TMR_STS after it. */
	pm->tmr_checked = MAX(pm->tmr_checked, ticks_at(pm, now));
	regs_init(pm);
	set_sci(pm);
	spin_unlock(&pm->lock);
}

void acpi_pm_destroy(struct acpi_pm *pm)
{
	kfree(pm);
}

void acpi_pm_power_button(struct acpi_pm *pm)
{
	spin_lock(&pm->lock);
	pm->sts |= ACPI_PM1_PWRBTN_STS;
	set_sci(pm);
	spin_unlock(&pm->lock);
}

u64 acpi_pm_next_event_ns(struct acpi_pm *pm)
{
	u64 t = ACPI_PM_NO_EVENT;

	spin_lock(&pm->lock);
	if ((pm->en & ACPI_PM1_TMR_EN) && !(pm->sts & ACPI_PM1_TMR_STS))
		t = pm->base_ns + ticks_to_ns(((pm->tmr_checked >> TMR_CARRY_SHIFT) + 1) << TMR_CARRY_SHIFT);
	spin_unlock(&pm->lock);
	return t;
}

void acpi_pm_update(struct acpi_pm *pm, u64 now)
{
	spin_lock(&pm->lock);
	advance(pm, now);
	spin_unlock(&pm->lock);
}
