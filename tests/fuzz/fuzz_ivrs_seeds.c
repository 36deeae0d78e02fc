/*
 * Seeds for tests/fuzz/fuzz_ivrs.c: IVRS tables as firmware writes them
 * (48882, 5.2): QEMU's (one IVHD 10h with a select-all entry), one with 10h
 * and 11h for the same unit, ranges, aliases, an ACPI HID entry and an IVMD,
 * and one with a type 40h block. Writes seed-N files into the directory given.
 */
#include <stdio.h>
#include <string.h>

static unsigned char t[512];
static unsigned len;

static void put16(unsigned off, unsigned v) { t[off] = v & 0xff; t[off + 1] = (v >> 8) & 0xff; }

static void start(void)
{
	memset(t, 0, sizeof(t));
	memcpy(t, "IVRS", 4);
	t[8] = 2;
	put16(36, 0x3040);
	len = 48;
}

static void ivhd(unsigned type, const unsigned char *e, unsigned n)
{
	unsigned hlen = type == 0x10 ? 24 : 40;

	t[len] = type;
	t[len + 1] = 0x40;
	put16(len + 2, hlen + n);
	put16(len + 4, 0x0010);
	put16(len + 6, 0x40);
	t[len + 8 + 2] = 0xd8; /* 0xfed80000 */
	t[len + 8 + 3] = 0xfe;
	memcpy(t + len + hlen, e, n);
	len += hlen + n;
}

static int write_seed(const char *dir, int n)
{
	char path[512];
	FILE *f;
	unsigned char sum = 0;

	put16(4, len);
	t[9] = 0;
	for (unsigned i = 0; i < len; i++)
		sum += t[i];
	t[9] = (unsigned char)-sum;
	snprintf(path, sizeof(path), "%s/seed-%d", dir, n);
	f = fopen(path, "wb");
	if (!f || fwrite(t, 1, len, f) != len || fclose(f))
		return 1;
	return 0;
}

int main(int argc, char **argv)
{
	static const unsigned char all[] = { 0x01, 0, 0, 0 };
	static const unsigned char many[] = {
		0x02, 0x08, 0x00, 0x00, 0x03, 0x10, 0x00, 0x00, 0x04, 0xff, 0x00, 0x00,
		0x42, 0x00, 0x01, 0x00, 0x00, 0x08, 0x01, 0x00,
		0x43, 0x08, 0x01, 0x00, 0x00, 0x10, 0x01, 0x00, 0x04, 0x10, 0x01, 0x00,
		0x46, 0x18, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x48, 0x00, 0x00, 0xd7, 0x21, 0xa0, 0x00, 0x01,
		0xf0, 0xa0, 0x00, 0x00, 'A', 'M', 'D', 'I', '0', '0', '4', '0',
		'A', 'M', 'D', 'I', '0', '0', '4', '0', 0x02, 0x03, 'U', 'I', 'D',
		0x00, 0x00, 0x00,
	};
	int err = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	start();
	ivhd(0x10, all, sizeof(all));
	err |= write_seed(argv[1], 1);
	start();
	ivhd(0x10, many, sizeof(many));
	ivhd(0x11, many, sizeof(many));
	t[len] = 0x21; /* IVMD for one device */
	put16(len + 2, 32);
	len += 32;
	err |= write_seed(argv[1], 2);
	start();
	ivhd(0x40, many, 12);
	err |= write_seed(argv[1], 3);
	return err;
}
