/*
 * libFuzzer target: the IVRS parser (drivers/iommu_amd_ivrs.c) on arbitrary
 * tables. The input is the table, in a buffer of exactly its size (ASan
 * catches a read past it). A table the parser accepts must describe units
 * the driver can use: a base 16 KiB aligned below 2^52, a device range in
 * order, no more units than it holds. Built and run by `make fuzz`
 * (mk/fuzz_ivrs.mk); seeds from tests/fuzz/fuzz_ivrs_seeds.c.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "drivers/iommu_amd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct amd_ivrs r;
	const char *why = NULL;
	u8 *t;
	int ret;

	if (size > 65536)
		return 0;
	t = malloc(size ? size : 1);
	if (!t)
		return 0;
	memcpy(t, data, size);
	ret = amd_ivrs_parse(t, (u32)size, &r, &why);
	if (ret && (ret != -EINVAL || !why))
		abort(); /* a refusal always says why */
	if (!ret) {
		if (r.nr_units == 0 || r.nr_units > IVRS_MAX_UNITS)
			abort();
		for (unsigned i = 0; i < r.nr_units; i++) {
			const struct amd_ivhd *u = &r.units[i];

			if (!u->mmio_base || (u->mmio_base & 0x3fff) || u->mmio_base >> 52)
				abort();
			if (u->type != 0x10 && u->type != 0x11 && u->type != 0x40)
				abort();
			if (u->nr_entries && u->first_bdf > u->last_bdf)
				abort();
		}
	}
	free(t);
	return 0;
}
