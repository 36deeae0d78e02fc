/* Writes the DMAR fuzzer's seeds (tests/fuzz/fuzz_dmar.c's input format: a
 * bus-shape byte, then the table): QEMU's one-unit table and a two-unit table
 * with scopes through bridges and an RMRR. No binary seeds are committed.
 * Usage: fuzz_dmar_seeds DIR */
#include <stdio.h>
#include <stdlib.h>
#include "dmar_image.h"

static void write_seed(const char *dir, const char *name, u8 shape, const struct dmar_image *m)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fputc(shape, f) == EOF || fwrite(m->buf, 1, m->len, f) != m->len || fclose(f)) {
		perror(path);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	static const u8 gfx[1][2] = { { 2, 0 } }, deep[3][2] = { { 0x1c, 0 }, { 1, 0 }, { 0, 3 } },
			usb[1][2] = { { 0x14, 0 } };
	struct dmar_image m;
	u32 u, r;

	if (argc != 2)
		return 2;
	dmar_qemu_like(&m);
	write_seed(argv[1], "qemu", 0, &m);
	dmar_begin(&m, 46, 5);
	u = dmar_drhd(&m, 0xfed91000, 0, false);
	dmar_scope(&m, u, 1, 0, 1, gfx);
	dmar_scope(&m, u, 2, 0, 3, deep);
	dmar_drhd(&m, 0xfed90000, 0, true);
	r = dmar_rmrr(&m, 0, 0x7b800000, 0x7b9fffff);
	dmar_scope(&m, r, 1, 0, 1, usb);
	dmar_end(&m);
	write_seed(argv[1], "two-units", 0x24, &m);
	return 0;
}
