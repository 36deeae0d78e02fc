/*
 * libFuzzer target: the GPT parser (core/gpt.c) on arbitrary disk images.
 * Input: one flag byte, then the disk (its length rounded down to 512-byte
 * LBAs). Flag bit 0 recomputes the primary header's CRCs, bit 1 the
 * backup's, so mutations get past the CRC checks to the bounds checks
 * behind them. A read outside the disk aborts; ASan watches the buffers.
 * Built and run by `make fuzz` (mk/fuzz_gpt.mk).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "core/gpt.h"
#include "gpt_image.h"

void *kmalloc(size_t size) { return malloc(size); }
void kfree(void *p) { free(p); }

static u8 *disk;
static u64 nr_lbas;

static int disk_read(void *ctx, u64 lba, u32 count, void *buf)
{
	if (lba >= nr_lbas || count > nr_lbas - lba)
		abort(); /* the parser asked for something outside the disk */
	memcpy(buf, disk + lba * 512, (size_t)count * 512);
	return 0;
}

static void report(void *ctx, const char *msg)
{
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gpt_part parts[8];
	struct gpt_disk d = { .name = "fuzz", .read = disk_read, .report = report };
	enum gpt_source src;
	unsigned nr;

	if (size < 1)
		return 0;
	nr_lbas = (size - 1) / 512;
	disk = malloc(nr_lbas * 512 + 1); /* exactly the disk: ASan sees any overrun */
	memcpy(disk, data + 1, nr_lbas * 512);
	if ((data[0] & 1) && nr_lbas > 1)
		gpt_image_fix_crcs(disk, nr_lbas, 1);
	if ((data[0] & 2) && nr_lbas > 1)
		gpt_image_fix_crcs(disk, nr_lbas, nr_lbas - 1);
	d.nr_lbas = nr_lbas;
	if (!gpt_read(&d, parts, 8, &nr, &src))
		for (unsigned i = 0; i < nr; i++)
			if (parts[i].last_lba >= nr_lbas || parts[i].first_lba > parts[i].last_lba ||
			    strlen(parts[i].name) > GPT_NAME_MAX)
				abort();
	free(disk);
	return 0;
}
