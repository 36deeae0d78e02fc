/*
 * The screen console's glyphs: characters 0-127, 8x16 pixels, one byte per
 * row, bit 7 the leftmost pixel. The table is not in the tree: mk/font.mk
 * makes it at build time from grub-common's /usr/share/grub/ascii.h (GNU
 * Unifont's ASCII glyphs, as GRUB builds them in).
 */
#ifndef DRIVERS_FBCON_FONT_H
#define DRIVERS_FBCON_FONT_H

#include "hv/types.h"

#define FBCON_FONT_GLYPHS 128
#define FBCON_FONT_WIDTH 8
#define FBCON_FONT_HEIGHT 16

extern const u8 fbcon_font[FBCON_FONT_GLYPHS * FBCON_FONT_HEIGHT];

#endif
