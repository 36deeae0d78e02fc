/* Writes the GPT fuzzer's seeds (tests/fuzz/fuzz_gpt.c's input format): small
 * valid disks, so mutations start from tables that parse. No binary seeds
 * are committed. Usage: fuzz_gpt_seeds DIR */
#include <stdio.h>
#include <stdlib.h>
#include "gpt_image.h"

static void write_seed(const char *dir, const char *name, u8 flags, const u8 *disk, u64 lbas)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fputc(flags, f) == EOF || fwrite(disk, 512, lbas, f) != lbas || fclose(f)) {
		perror(path);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	static u8 disk[80 * 512];
	static const struct gpt_image_part small[] = { { "a", 4, 7 }, { "boot", 8, 11 } };
	static const struct gpt_image_part big[] = { { "root", 34, 40 }, { "data", 41, 45 },
						     { "swap", 46, 46 } };

	if (argc != 2)
		return 2;
	gpt_image_build(disk, 16, 4, small, 2);
	write_seed(argv[1], "small-fixed", 3, disk, 16);
	write_seed(argv[1], "small-raw", 0, disk, 16);
	memset(disk, 0, sizeof(disk));
	gpt_image_build(disk, 80, 128, big, 3);
	write_seed(argv[1], "entries128", 3, disk, 80);
	return 0;
}
