/*
 * The log on the screen (drivers/fbcon.h). EGA text scrolls like a terminal:
 * its 4 KB are cheap to move. An RGB framebuffer does not scroll: moving
 * megabytes of pixels, reading back video memory that is uncached on real
 * machines, for every line under the console lock with interrupts off,
 * would make the log cost more than the work it reports. Its lines wrap to
 * the top instead, and the line below the newest one is kept blank so that
 * the eye finds the end.
 */
#include "drivers/fbcon.h"
#include "drivers/fbcon_font.h"
#include "lib/string.h"

#define EGA_ATTR 0x07   /* light grey on black (the attribute byte of each cell) */
#define FG_LEVEL 0xc0   /* light grey text on black, in 8-bit channels */
#define TAB 8

/* An 8-bit channel value placed in a field of size bits at pos. */
static u32 channel(u32 v8, u8 pos, u8 size)
{
	if (size == 0 || size > 8 || pos + size > 32)
		return 0;
	return (v8 >> (8 - size)) << pos;
}

int fbcon_setup(struct fbcon *fc, const struct boot_fb *fb, void *base)
{
	memset(fc, 0, sizeof(*fc));
	fc->base = base;
	fc->pitch = fb->pitch;
	if (fb->type == BOOT_FB_EGA_TEXT) {
		fc->text = true;
		fc->cols = MIN(fb->width, fb->pitch / 2);
		fc->rows = fb->height;
	} else if (fb->type == BOOT_FB_RGB &&
		   (fb->bpp == 15 || fb->bpp == 16 || fb->bpp == 24 || fb->bpp == 32)) {
		fc->bytes_pp = (u8)((fb->bpp + 7) / 8);
		fc->cols = MIN(fb->width, fb->pitch / fc->bytes_pp) / FBCON_FONT_WIDTH;
		fc->rows = fb->height / FBCON_FONT_HEIGHT;
		fc->fg = channel(FG_LEVEL, fb->red_pos, fb->red_size) |
			 channel(FG_LEVEL, fb->green_pos, fb->green_size) |
			 channel(FG_LEVEL, fb->blue_pos, fb->blue_size);
		fc->bg = 0;
	} else {
		return -ENOTSUP;
	}
	if (fc->cols == 0 || fc->rows == 0)
		return -ENOTSUP;
	if (fc->text) {
		for (u32 r = 0; r < fc->rows; r++)
			for (u32 c = 0; c < fc->cols; c++) {
				fc->base[r * fc->pitch + 2 * c] = ' ';
				fc->base[r * fc->pitch + 2 * c + 1] = EGA_ATTR;
			}
	} else {
		memset(fc->base, 0, (size_t)fc->pitch * fb->height);
	}
	return 0;
}

static void put_pixel(struct fbcon *fc, u8 *p, u32 v)
{
	for (u8 i = 0; i < fc->bytes_pp; i++)
		p[i] = (u8)(v >> (8 * i));
}

static void draw(struct fbcon *fc, u32 col, u32 row, u8 ch)
{
	if (fc->text) {
		u8 *cell = fc->base + row * fc->pitch + 2 * col;

		cell[0] = ch;
		cell[1] = EGA_ATTR;
		return;
	}
	const u8 *glyph = &fbcon_font[(ch & 0x7f) * FBCON_FONT_HEIGHT];
	u8 *line = fc->base + (size_t)row * FBCON_FONT_HEIGHT * fc->pitch +
		   (size_t)col * FBCON_FONT_WIDTH * fc->bytes_pp;

	for (u32 y = 0; y < FBCON_FONT_HEIGHT; y++, line += fc->pitch)
		for (u32 x = 0; x < FBCON_FONT_WIDTH; x++)
			put_pixel(fc, line + x * fc->bytes_pp,
				  glyph[y] & (0x80 >> x) ? fc->fg : fc->bg);
}

static void clear_row(struct fbcon *fc, u32 row)
{
	for (u32 c = 0; c < fc->cols; c++)
		draw(fc, c, row, ' ');
}

static void new_line(struct fbcon *fc)
{
	fc->col = 0;
	if (!fc->text) {
		fc->row = (fc->row + 1) % fc->rows;
		if (fc->rows > 1)
			clear_row(fc, (fc->row + 1) % fc->rows);
		clear_row(fc, fc->row);
		return;
	}
	if (fc->row + 1 < fc->rows) {
		fc->row++;
		return;
	}
	memmove(fc->base, fc->base + fc->pitch, (size_t)(fc->rows - 1) * fc->pitch);
	clear_row(fc, fc->row);
}

void fbcon_putc(struct fbcon *fc, char c)
{
	u8 ch = (u8)c;

	switch (ch) {
	case '\n':
		new_line(fc);
		return;
	case '\r':
		fc->col = 0;
		return;
	case '\t':
		do
			fbcon_putc(fc, ' ');
		while (fc->col % TAB && fc->col);
		return;
	default:
		break;
	}
	if (ch < 0x20 || ch > 0x7e)
		ch = ch < 0x20 ? 0 : '?'; /* escape sequences and the like: nothing to draw */
	if (!ch)
		return;
	if (fc->col == fc->cols)
		new_line(fc);
	draw(fc, fc->col++, fc->row, ch);
}
