/*
 * The hypervisor's log on the screen, for machines without a serial port:
 * the framebuffer the loader left (Multiboot2 tag 8), EGA text (80x25 cells
 * of character and attribute) or linear RGB (8x16 glyphs, drivers/fbcon_font.h).
 * Plain memory writes, no port I/O: it builds and is tested on the host.
 */
#ifndef DRIVERS_FBCON_H
#define DRIVERS_FBCON_H

#include "hv/bootinfo.h"

struct fbcon {
	u8 *base;         /* the framebuffer, mapped */
	u32 pitch;        /* bytes per pixel line, or per text row */
	u32 cols, rows;   /* characters */
	u32 col, row;     /* where the next character goes */
	bool text;        /* EGA text; else RGB pixels */
	u8 bytes_pp;      /* RGB: 2, 3 or 4 */
	u32 fg, bg;       /* RGB: the pixel values of the text and of the background */
};

/*
 * Sets fc up for the framebuffer fb, mapped at base, and clears it. Returns
 * 0, or -ENOTSUP for a kind it does not draw (indexed colour, an odd depth,
 * less than one character).
 */
int fbcon_setup(struct fbcon *fc, const struct boot_fb *fb, void *base);

/* One character of the log: '\n' starts a line, '\r' goes back, '\t' to the next stop of 8. */
void fbcon_putc(struct fbcon *fc, char c);

#endif
