/*
 * The 8259A pair's snapshot payload (docs/snapshot.md, "pic8259"): both
 * chips' registers and initialisation state, the input line levels and the
 * INT output. Each chip's ELCR mask is fixed by the south bridge, not state:
 * a loaded ELCR must fit the device's own.
 */
#include "devices/pic8259.h"

#include "hv/snapshot.h"
#include "lib/string.h"

#define PIC_SNAP_VERSION 1

static void save_chip(const struct pic8259_chip *s, struct snap_writer *w)
{
	snap_put_u8(w, s->irr);
	snap_put_u8(w, s->isr);
	snap_put_u8(w, s->imr);
	snap_put_u8(w, s->lines);
	snap_put_u8(w, s->elcr);
	snap_put_u8(w, s->vector_base);
	snap_put_u8(w, s->icw3);
	snap_put_u8(w, s->priority_add);
	snap_put_u8(w, s->icw_step);
	snap_put_bool(w, s->icw4_needed);
	snap_put_bool(w, s->single);
	snap_put_bool(w, s->auto_eoi);
	snap_put_bool(w, s->rotate_on_aeoi);
	snap_put_bool(w, s->sfnm);
	snap_put_bool(w, s->special_mask);
	snap_put_bool(w, s->read_isr);
	snap_put_bool(w, s->poll);
}

static void load_chip(struct pic8259_chip *s, struct snap_cursor *c)
{
	s->irr = snap_get_u8(c);
	s->isr = snap_get_u8(c);
	s->imr = snap_get_u8(c);
	s->lines = snap_get_u8(c);
	s->elcr = snap_get_u8(c);
	s->vector_base = snap_get_u8(c);
	s->icw3 = snap_get_u8(c);
	s->priority_add = snap_get_u8(c);
	s->icw_step = snap_get_u8(c);
	s->icw4_needed = snap_get_bool(c);
	s->single = snap_get_bool(c);
	s->auto_eoi = snap_get_bool(c);
	s->rotate_on_aeoi = snap_get_bool(c);
	s->sfnm = snap_get_bool(c);
	s->special_mask = snap_get_bool(c);
	s->read_isr = snap_get_bool(c);
	s->poll = snap_get_bool(c);
}

static bool chip_ok(const struct pic8259_chip *s, u8 elcr_mask)
{
	return (s->icw_step == 0 || (s->icw_step >= 2 && s->icw_step <= 4)) &&
	       s->priority_add < 8 && !(s->vector_base & 7) && !(s->elcr & ~elcr_mask);
}

int pic_save(const struct pic8259 *d, struct snap_writer *w)
{
	struct pic8259 *p = (struct pic8259 *)d; /* the lock only */

	spin_lock(&p->lock);
	snap_put_u16(w, PIC_SNAP_VERSION);
	save_chip(&p->chip[0], w);
	save_chip(&p->chip[1], w);
	snap_put_bool(w, p->int_level);
	spin_unlock(&p->lock);
	return snap_writer_error(w);
}

int pic_load(struct pic8259 *d, struct snap_cursor *c)
{
	struct pic8259_chip chip[2];
	bool int_level;

	memset(chip, 0, sizeof(chip)); /* padding too: the struct is copied whole */
	if (snap_get_u16(c) != PIC_SNAP_VERSION)
		return -EINVAL;
	load_chip(&chip[0], c);
	load_chip(&chip[1], c);
	int_level = snap_get_bool(c);
	if (!snap_cursor_done(c))
		return -EINVAL;
	spin_lock(&d->lock);
	for (int i = 0; i < 2; i++) {
		if (!chip_ok(&chip[i], d->chip[i].elcr_mask)) {
			spin_unlock(&d->lock);
			return -EINVAL;
		}
		chip[i].elcr_mask = d->chip[i].elcr_mask;
	}
	d->chip[0] = chip[0];
	d->chip[1] = chip[1];
	d->int_level = int_level;
	spin_unlock(&d->lock);
	return 0;
}
