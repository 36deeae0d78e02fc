/*
 * The IVRS table (48882, 5.2): which IOMMUs there are, where their registers
 * are and which functions they translate. Host-testable and fuzzed
 * (tests/fuzz/fuzz_ivrs.c): every length is checked against what is left of
 * the table before a field is read.
 */
#include "drivers/iommu_amd.h"
#include "lib/string.h"

/* 5.2.1, Table 91: the ACPI header (36 bytes), IVinfo, 8 reserved bytes. */
#define IVRS_IVINFO 36
#define IVRS_FIRST_BLOCK 48

/* 5.2.2: every I/O virtualization definition block starts Type, Flags, Length. */
#define IVDB_TYPE 0
#define IVDB_LENGTH 2
/* 5.2.2.2, Tables 93 (type 10h) and 94 (11h, 40h). */
#define IVHD_DEVICE_ID 4
#define IVHD_CAP_OFFSET 6
#define IVHD_BASE 8
#define IVHD_SEGMENT 16
#define IVHD10_LEN 24
#define IVHD11_LEN 40

/* 5.2.2.2, Table 95 "Device Entry Type Codes": 00h-3Fh four bytes,
 * 40h-7Fh eight, F0h (ACPI HID) 22 bytes plus the UID its byte 21 sizes. */
#define DEV_PAD4 0x00
#define DEV_ALL 0x01
#define DEV_SELECT 0x02
#define DEV_RANGE_START 0x03
#define DEV_RANGE_END 0x04
#define DEV_ALIAS_SELECT 0x42
#define DEV_ALIAS_RANGE 0x43
#define DEV_EXT_SELECT 0x46
#define DEV_EXT_RANGE 0x47
#define DEV_SPECIAL 0x48
#define DEV_ACPI_HID 0xf0
#define DEV_HID_FIXED 22

static u16 le16(const u8 *p) { return (u16)(p[0] | p[1] << 8); }
static u64 le64(const u8 *p)
{
	u64 v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void cover(struct amd_ivhd *u, u16 bdf)
{
	if (u->nr_entries == 0 || bdf < u->first_bdf)
		u->first_bdf = bdf;
	if (u->nr_entries == 0 || bdf > u->last_bdf)
		u->last_bdf = bdf;
	u->nr_entries++;
}

/* The device entries after an IVHD's fixed part: the range of DeviceIDs. */
static int entries_parse(const u8 *e, u32 len, struct amd_ivhd *u, const char **why)
{
	for (u32 off = 0; off < len;) {
		u8 type = e[off];
		u32 size = type < 0x40 ? 4 : type < 0x80 ? 8 : type == DEV_ACPI_HID ? DEV_HID_FIXED : 0;

		if (!size) {
			*why = "IVHD device entry of a type whose size is unknown";
			return -EINVAL;
		}
		if (len - off < size) {
			*why = "IVHD device entry runs past its block";
			return -EINVAL;
		}
		if (type == DEV_ACPI_HID) {
			size += e[off + 21]; /* the UID */
			if (len - off < size) {
				*why = "IVHD ACPI HID entry's UID runs past its block";
				return -EINVAL;
			}
		}
		switch (type) {
		case DEV_ALL:
			cover(u, 0);
			cover(u, 0xffff);
			break;
		case DEV_SELECT: case DEV_RANGE_START: case DEV_RANGE_END:
		case DEV_ALIAS_SELECT: case DEV_ALIAS_RANGE:
		case DEV_EXT_SELECT: case DEV_EXT_RANGE: case DEV_ACPI_HID:
			cover(u, le16(e + off + 1));
			break;
		case DEV_SPECIAL: /* IOAPIC or HPET: its DeviceID in bytes 6:5 */
			cover(u, le16(e + off + 5));
			break;
		default:
			break;
		}
		off += size;
	}
	return 0;
}

static int ivhd_parse(const u8 *b, u32 blen, struct amd_ivhd *u, const char **why)
{
	u32 hlen = b[IVDB_TYPE] == 0x10 ? IVHD10_LEN : IVHD11_LEN;

	if (blen < hlen) {
		*why = "IVHD shorter than its fixed part";
		return -EINVAL;
	}
	*u = (struct amd_ivhd){
		.type = b[IVDB_TYPE],
		.bdf = le16(b + IVHD_DEVICE_ID),
		.cap_off = le16(b + IVHD_CAP_OFFSET),
		.mmio_base = le64(b + IVHD_BASE),
		.segment = le16(b + IVHD_SEGMENT),
	};
	/* The registers take 16 KiB at least (3.4: head and tail pointers at 2000h). */
	if (!u->mmio_base || (u->mmio_base & 0x3fff) || u->mmio_base >> 52) {
		*why = "IVHD has no usable IOMMU base address";
		return -EINVAL;
	}
	return entries_parse(b + hlen, blen - hlen, u, why);
}

int amd_ivrs_parse(const u8 *t, u32 len, struct amd_ivrs *out, const char **why)
{
	memset(out, 0, sizeof(*out));
	if (len < IVRS_FIRST_BLOCK || memcmp(t, "IVRS", 4)) {
		*why = "not an IVRS, or shorter than its header";
		return -EINVAL;
	}
	out->ivinfo = (u32)le16(t + IVRS_IVINFO) | (u32)le16(t + IVRS_IVINFO + 2) << 16;
	for (u32 off = IVRS_FIRST_BLOCK; off < len;) {
		u8 type;
		u32 blen;
		struct amd_ivhd u;
		int ret;

		if (len - off < 4) {
			*why = "stray bytes after the last IVRS block";
			return -EINVAL;
		}
		type = t[off + IVDB_TYPE];
		blen = le16(t + off + IVDB_LENGTH);
		if (blen < 4 || blen > len - off) {
			*why = "IVRS block with a bad length";
			return -EINVAL;
		}
		if (type == 0x10 || type == 0x11 || type == 0x40) {
			unsigned i;

			ret = ivhd_parse(t + off, blen, &u, why);
			if (ret)
				return ret;
			/* One IOMMU may be described once per IVHD type (5.2.2.1):
			 * keep the newest description. */
			for (i = 0; i < out->nr_units; i++)
				if (out->units[i].bdf == u.bdf && out->units[i].mmio_base == u.mmio_base)
					break;
			if (i < out->nr_units) {
				if (u.type > out->units[i].type)
					out->units[i] = u;
			} else if (out->nr_units < IVRS_MAX_UNITS) {
				out->units[out->nr_units++] = u;
			}
		}
		/* IVMD blocks (20h-22h) and types we do not know: skipped. */
		off += blen;
	}
	if (!out->nr_units) {
		*why = "IVRS lists no IOMMU (no IVHD block)";
		return -EINVAL;
	}
	return 0;
}
