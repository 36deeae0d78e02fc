/*
 * The screen console (drivers/fbcon.c) over framebuffers in host memory:
 * EGA text cells and their scrolling, RGB glyphs checked against the font
 * pixel by pixel at 32 and 16 bits, the wrap of an RGB screen, and the kinds
 * it refuses.
 */
#include "unit.h"
#include <string.h>
#include "drivers/fbcon.h"
#include "drivers/fbcon_font.h"

static u8 buf[64 * 1024];
static struct fbcon fc;

static void puts_fc(const char *s)
{
	while (*s)
		fbcon_putc(&fc, *s++);
}

static const struct boot_fb ega = {
	.present = true, .type = BOOT_FB_EGA_TEXT, .bpp = 16, .pitch = 160, .width = 80, .height = 25,
};

static char cell(u32 row, u32 col) { return (char)buf[row * 160 + col * 2]; }

TEST(ega_text)
{
	memset(buf, 0xee, sizeof(buf));
	CHECK_EQ(fbcon_setup(&fc, &ega, buf), 0);
	CHECK_EQ(fc.cols, 80);
	CHECK_EQ(fc.rows, 25);
	CHECK_EQ(cell(24, 79), ' ');
	CHECK_EQ(buf[24 * 160 + 79 * 2 + 1], 0x07);
	CHECK_EQ(buf[25 * 160], 0xee); /* nothing written past the screen */
	puts_fc("hi\tx\x1b[1m\x80\n");
	CHECK_EQ(cell(0, 0), 'h');
	CHECK_EQ(cell(0, 1), 'i');
	CHECK_EQ(cell(0, 7), ' ');
	CHECK_EQ(cell(0, 8), 'x');   /* the tab went to column 8 */
	CHECK_EQ(cell(0, 9), '[');   /* ESC itself is not drawn */
	CHECK_EQ(cell(0, 12), '?');  /* a byte outside ASCII */
	CHECK_EQ(fc.row, 1);
	/* 25 more lines: the screen scrolled, "hi" is gone, line 1 is at the top. */
	for (int i = 1; i <= 25; i++) {
		char line[16];

		snprintf(line, sizeof(line), "L%d\n", i);
		puts_fc(line);
	}
	CHECK_EQ(cell(0, 0), 'L');
	CHECK_EQ(cell(0, 1), '2');
	CHECK_EQ(cell(23, 1), '2');
	CHECK_EQ(cell(23, 2), '5');
	CHECK_EQ(cell(24, 0), ' ');
	CHECK_EQ(buf[25 * 160], 0xee);
	/* A line longer than the screen continues on the next row. */
	for (int i = 0; i < 81; i++)
		fbcon_putc(&fc, 'w');
	CHECK_EQ(cell(23, 79), 'w');
	CHECK_EQ(cell(24, 0), 'w');
}

/* 8 columns by 3 rows of 8x16 glyphs, with padding at the end of each line. */
#define RGB_W 64
#define RGB_H 48
#define PITCH32 (RGB_W * 4 + 16)

static const struct boot_fb rgb32 = {
	.present = true, .type = BOOT_FB_RGB, .bpp = 32, .pitch = PITCH32, .width = RGB_W,
	.height = RGB_H, .red_pos = 16, .red_size = 8, .green_pos = 8, .green_size = 8,
	.blue_pos = 0, .blue_size = 8,
};

static u32 px32(u32 x, u32 y)
{
	u32 v;

	memcpy(&v, &buf[y * PITCH32 + x * 4], 4);
	return v;
}

/* The glyph of ch at text cell (col, row) matches the font, light grey on black. */
static bool glyph_at(u32 col, u32 row, char ch)
{
	const u8 *g = &fbcon_font[(u8)ch * FBCON_FONT_HEIGHT];

	for (u32 y = 0; y < 16; y++)
		for (u32 x = 0; x < 8; x++) {
			u32 want = g[y] & (0x80 >> x) ? 0xc0c0c0 : 0;

			if (px32(col * 8 + x, row * 16 + y) != want)
				return false;
		}
	return true;
}

TEST(rgb32_glyphs_and_wrap)
{
	memset(buf, 0xee, sizeof(buf));
	CHECK_EQ(fbcon_setup(&fc, &rgb32, buf), 0);
	CHECK_EQ(fc.cols, 8);
	CHECK_EQ(fc.rows, 3);
	CHECK_EQ(px32(RGB_W - 1, RGB_H - 1), 0);
	CHECK_EQ(buf[RGB_H * PITCH32], 0xee);
	puts_fc("Ag~");
	CHECK(glyph_at(0, 0, 'A'));
	CHECK(glyph_at(1, 0, 'g'));
	CHECK(glyph_at(2, 0, '~'));
	CHECK(glyph_at(3, 0, ' '));
	/* Eight more characters: the ninth column wraps to row 1. */
	puts_fc("ABCDEFGH");
	CHECK(glyph_at(7, 0, 'E'));
	CHECK(glyph_at(0, 1, 'F'));
	/* Lines do not scroll: the next goes to row 2, then row 0, keeping the row after blank. */
	puts_fc("\nrow2\nrow0");
	CHECK(glyph_at(0, 2, 'r'));
	CHECK(glyph_at(3, 2, '2'));
	CHECK(glyph_at(3, 0, '0'));
	CHECK(glyph_at(0, 1, ' '));   /* cleared ahead of the newest line */
	CHECK(glyph_at(4, 0, ' '));   /* "Ag~AB..." is gone from row 0 */
	CHECK_EQ(buf[RGB_H * PITCH32], 0xee);
}

TEST(rgb16_and_refused_kinds)
{
	struct boot_fb fb = rgb32;
	u16 v;

	/* RGB 5:6:5: light grey is (0xc0 >> 3, 0xc0 >> 2, 0xc0 >> 3). */
	fb.bpp = 16;
	fb.pitch = RGB_W * 2;
	fb.red_pos = 11, fb.red_size = 5, fb.green_pos = 5, fb.green_size = 6;
	fb.blue_pos = 0, fb.blue_size = 5;
	CHECK_EQ(fbcon_setup(&fc, &fb, buf), 0);
	fbcon_putc(&fc, '|');
	memcpy(&v, &buf[8 * fb.pitch + 3 * 2], 2); /* the bar's middle: row 8, column 3 or 4 */
	if (!v)
		memcpy(&v, &buf[8 * fb.pitch + 4 * 2], 2);
	CHECK_EQ(v, (0x18 << 11) | (0x30 << 5) | 0x18);

	fb = rgb32;
	fb.type = BOOT_FB_INDEXED;
	CHECK_EQ(fbcon_setup(&fc, &fb, buf), -ENOTSUP);
	fb = rgb32;
	fb.bpp = 8;
	CHECK_EQ(fbcon_setup(&fc, &fb, buf), -ENOTSUP);
	fb = rgb32;
	fb.height = 15; /* not one row of glyphs */
	CHECK_EQ(fbcon_setup(&fc, &fb, buf), -ENOTSUP);
	fb = ega;
	fb.pitch = 1;
	CHECK_EQ(fbcon_setup(&fc, &fb, buf), -ENOTSUP);
}

int main(void)
{
	RUN(ega_text);
	RUN(rgb32_glyphs_and_wrap);
	RUN(rgb16_and_refused_kinds);
	return unit_done();
}
