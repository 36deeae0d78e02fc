/*
 * libFuzzer target: the VT-d DMAR parser (drivers/iommu_vtd_dmar.c) on
 * arbitrary tables. Input: one byte of fake bus shape, then the table. The
 * table is copied to a buffer of exactly its size, so ASan sees any read
 * past it; when it parses, every unit and scope is checked against the
 * limits the parser promises and every bus, device and function is looked
 * up (following scope paths through a fake bus whose bridges the first byte
 * chooses). Built and run by `make fuzz` (mk/fuzz_dmar.mk).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "drivers/iommu_vtd_dmar.h"

static u8 shape;

/* Every function whose device number has bit (shape & 3) set is a bridge
 * to the buses above its own, bounded by shape's high bits. */
static bool bridge(void *ctx, u16 bdf, u8 *sec, u8 *sub)
{
	u8 bus = (u8)(bdf >> 8), dev = (bdf >> 3) & 0x1f;

	if (!(dev & (1u << (shape & 3))) || bus == 0xff)
		return false;
	*sec = (u8)(bus + 1);
	*sub = (u8)(bus + 1 + (shape >> 4));
	return true;
}

static void report(void *ctx, const char *msg)
{
	if (strlen(msg) >= 128)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vtd_dmar d;
	u8 *table;

	if (size < 1 || size > 65536)
		return 0;
	shape = data[0];
	table = malloc(size - 1 ? size - 1 : 1);
	memcpy(table, data + 1, size - 1);
	if (!vtd_dmar_parse(table, (u32)(size - 1), &d, report, NULL)) {
		if (!d.nr_drhds || d.nr_drhds > VTD_MAX_UNITS || d.nr_rmrrs > VTD_MAX_RMRRS)
			abort();
		for (unsigned i = 0; i < d.nr_drhds; i++) {
			if (d.drhd[i].nr_scopes > VTD_UNIT_SCOPES || (d.drhd[i].reg_base & 0xfff) ||
			    !d.drhd[i].reg_base)
				abort();
			for (unsigned j = 0; j < d.drhd[i].nr_scopes; j++)
				if (!d.drhd[i].scopes[j].path_len ||
				    d.drhd[i].scopes[j].path_len > VTD_SCOPE_PATH)
					abort();
		}
		for (unsigned i = 0; i < d.nr_rmrrs; i++)
			if (d.rmrr[i].limit < d.rmrr[i].base || d.rmrr[i].nr_scopes > VTD_RMRR_SCOPES)
				abort();
		for (unsigned bdf = 0; bdf < 0x10000; bdf += 0x3f) {
			int u = vtd_dmar_unit_for(&d, 0, (u16)bdf, bridge, NULL);

			if (u < -1 || u >= (int)d.nr_drhds)
				abort();
		}
	}
	free(table);
	return 0;
}
