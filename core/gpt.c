/*
 * The GPT parser (core/gpt.h). Layouts and the validity rules are UEFI 2.10's:
 * 5.2.3 (protective MBR), 5.3.2 (header, Table 5-5: "check the Signature,
 * the HeaderCRC32, that MyLBA is the LBA the header was read from, and the
 * PartitionEntryArrayCRC32"; if the primary is invalid, the backup is
 * checked and used), 5.3.3 (entries, Table 5-6).
 */
#include "core/gpt.h"
#include "hv/mm.h"
#include "lib/crc32.h"
#include "lib/format.h"
#include "lib/string.h"

struct gpt_header {
	char signature[8]; /* "EFI PART" */
	u32 revision;
	u32 header_size;
	u32 header_crc32;
	u32 reserved;
	u64 my_lba;
	u64 alternate_lba;
	u64 first_usable_lba;
	u64 last_usable_lba;
	u8 disk_guid[16];
	u64 entry_lba;
	u32 nr_entries;
	u32 entry_size;
	u32 entries_crc32;
} __packed;
_Static_assert(sizeof(struct gpt_header) == 92, "UEFI 2.10 Table 5-5: 92 bytes");

struct gpt_entry {
	u8 type_guid[16]; /* all zero: unused (5.3.3) */
	u8 unique_guid[16];
	u64 first_lba;
	u64 last_lba; /* inclusive */
	u64 attributes;
	u16 name[GPT_NAME_MAX]; /* UTF-16LE, NUL-padded */
} __packed;
_Static_assert(sizeof(struct gpt_entry) == 128, "UEFI 2.10 Table 5-6: 128 bytes");

#define MBR_SIGNATURE_OFF 510
#define MBR_PART_OFF 446
#define MBR_OSTYPE_GPT 0xee /* GPT Protective (5.2.3, Table 5-4) */

/* A header that passed its checks and the entry array it describes. */
struct gpt_table {
	struct gpt_header h;
	u8 *entries; /* nr_entries * entry_size bytes, kmalloc'd */
};

static void __printf(2, 3) say(const struct gpt_disk *d, const char *fmt, ...)
{
	char msg[200];
	int n = fmt_snprintf(msg, sizeof(msg), "gpt: %s: ", d->name);
	va_list ap;

	va_start(ap, fmt);
	fmt_vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	d->report(d->report_ctx, msg);
}

static int has_protective_mbr(const struct gpt_disk *d, u8 *sector)
{
	int ret = d->read(d->ctx, 0, 1, sector);

	if (ret)
		return ret;
	if (sector[MBR_SIGNATURE_OFF] != 0x55 || sector[MBR_SIGNATURE_OFF + 1] != 0xaa)
		return -ENOENT;
	/* A hybrid MBR also carries an 0xEE record; the GPT rules either way. */
	for (unsigned i = 0; i < 4; i++)
		if (sector[MBR_PART_OFF + 16 * i + 4] == MBR_OSTYPE_GPT)
			return 0;
	return -ENOENT;
}

/*
 * Reads and checks the header at lba; *why says what is wrong. The bounds
 * here are what keep every later read and loop inside the disk and buffers.
 */
static int read_header(const struct gpt_disk *d, u64 lba, struct gpt_table *t, u8 *sector,
		       const char **why)
{
	struct gpt_header *h = &t->h;
	u64 array_bytes, array_lbas;
	u32 crc;
	int ret;

	t->entries = NULL;
	ret = d->read(d->ctx, lba, 1, sector);
	if (ret) {
		*why = "cannot be read";
		return ret;
	}
	memcpy(h, sector, sizeof(*h));
	if (memcmp(h->signature, "EFI PART", 8)) {
		*why = "has no 'EFI PART' signature";
		return -EINVAL;
	}
	if (h->header_size < sizeof(*h) || h->header_size > GPT_LBA) {
		*why = "has an impossible header size";
		return -EINVAL;
	}
	/* The CRC covers HeaderSize bytes with the CRC field taken as zero. */
	memset(sector + offsetof(struct gpt_header, header_crc32), 0, 4);
	crc = crc32(sector, h->header_size);
	if (crc != h->header_crc32) {
		*why = "has a bad header CRC";
		return -EINVAL;
	}
	if (h->my_lba != lba) {
		*why = "is not where it says it is (MyLBA)";
		return -EINVAL;
	}
	/* 5.3.2: SizeOfPartitionEntry is 128 x 2^n. */
	if (h->entry_size < sizeof(struct gpt_entry) || h->entry_size > GPT_MAX_ENTRY_SIZE ||
	    (h->entry_size & (h->entry_size - 1))) {
		*why = "has an impossible entry size";
		return -EINVAL;
	}
	if (h->nr_entries > GPT_MAX_ENTRIES) {
		*why = "has too many entries";
		return -EINVAL;
	}
	array_bytes = (u64)h->nr_entries * h->entry_size;
	if (array_bytes > GPT_MAX_ARRAY_BYTES) {
		*why = "has too large an entry array";
		return -EINVAL;
	}
	if (h->first_usable_lba > h->last_usable_lba || h->last_usable_lba >= d->nr_lbas ||
	    h->first_usable_lba < 2) {
		*why = "has a usable area outside the disk";
		return -EINVAL;
	}
	array_lbas = (array_bytes + GPT_LBA - 1) / GPT_LBA;
	/* The array lies on the disk, clear of both headers and of the usable area. */
	if (h->entry_lba < 2 || h->entry_lba >= d->nr_lbas - 1 ||
	    array_lbas > d->nr_lbas - 1 - h->entry_lba ||
	    (h->entry_lba + array_lbas > h->first_usable_lba &&
	     h->entry_lba <= h->last_usable_lba)) {
		*why = "has its entry array outside the disk or inside the usable area";
		return -EINVAL;
	}
	t->entries = kmalloc(array_lbas ? array_lbas * GPT_LBA : 1);
	if (!t->entries) {
		*why = "cannot be read (out of memory)";
		return -ENOMEM;
	}
	if (array_lbas) {
		ret = d->read(d->ctx, h->entry_lba, (u32)array_lbas, t->entries);
		if (ret) {
			*why = "has an entry array that cannot be read";
			goto fail;
		}
	}
	if (crc32(t->entries, array_bytes) != h->entries_crc32) {
		*why = "has a bad entry-array CRC";
		ret = -EINVAL;
		goto fail;
	}
	return 0;
fail:
	kfree(t->entries);
	t->entries = NULL;
	return ret;
}

/* The entry's name in ASCII into out; false (with *why) if it has none usable. */
static bool entry_name(const struct gpt_entry *e, char *out, const char **why)
{
	unsigned n = 0;

	for (; n < GPT_NAME_MAX; n++) {
		u16 c = e->name[n];

		if (!c)
			break;
		/* Names become config words (disk=gpt:<name>,ro): no spaces, ',' or '='. */
		if (c <= ' ' || c > '~' || c == ',' || c == '=') {
			*why = c > '~' ? "is not ASCII" : "has a space, ',' or '=' or a control character";
			return false;
		}
		out[n] = (char)c;
	}
	out[n] = 0;
	if (!n) {
		*why = NULL; /* unnamed: not offered, not worth a line */
		return false;
	}
	return true;
}

static bool is_unused(const struct gpt_entry *e)
{
	for (unsigned i = 0; i < sizeof(e->type_guid); i++)
		if (e->type_guid[i])
			return false;
	return true;
}

/* parts[0..nr) without every partition whose name two of them share. */
static unsigned drop_duplicates(const struct gpt_disk *d, struct gpt_part *parts, unsigned nr)
{
	unsigned kept = 0;

	for (unsigned i = 0; i < nr; i++) {
		bool dup = false;

		for (unsigned j = 0; j < nr; j++)
			dup |= j != i && !strcmp(parts[i].name, parts[j].name);
		if (dup)
			say(d, "partition %u: name '%s' is used twice on this disk; skipped",
			    parts[i].index + 1, parts[i].name);
		else
			parts[kept++] = parts[i];
	}
	return kept;
}

static unsigned collect(const struct gpt_disk *d, const struct gpt_table *t,
			struct gpt_part *parts, unsigned max)
{
	const struct gpt_header *h = &t->h;
	unsigned nr = 0;

	for (unsigned i = 0; i < h->nr_entries; i++) {
		struct gpt_entry e;
		struct gpt_part p;
		const char *why;
		bool overlaps = false;

		memcpy(&e, t->entries + (size_t)i * h->entry_size, sizeof(e));
		if (is_unused(&e))
			continue;
		if (!entry_name(&e, p.name, &why)) {
			if (why)
				say(d, "partition %u: its name %s; skipped", i + 1, why);
			continue;
		}
		if (e.first_lba > e.last_lba || e.first_lba < h->first_usable_lba ||
		    e.last_lba > h->last_usable_lba) {
			say(d, "partition %u '%s': LBAs %lu-%lu are outside the usable area %lu-%lu; "
			    "skipped", i + 1, p.name, e.first_lba, e.last_lba, h->first_usable_lba,
			    h->last_usable_lba);
			continue;
		}
		/* Overlapping ones are skipped (the first one kept): two VMs given
		 * "different" partitions must never share a sector. */
		for (unsigned j = 0; j < nr; j++)
			overlaps |= e.first_lba <= parts[j].last_lba && parts[j].first_lba <= e.last_lba;
		if (overlaps) {
			say(d, "partition %u '%s': overlaps an earlier partition; skipped", i + 1,
			    p.name);
			continue;
		}
		if (nr == max) {
			say(d, "partition %u '%s': more than %u partitions; skipped", i + 1, p.name, max);
			continue;
		}
		p.first_lba = e.first_lba;
		p.last_lba = e.last_lba;
		p.index = i;
		parts[nr++] = p;
	}
	return drop_duplicates(d, parts, nr);
}

int gpt_read(const struct gpt_disk *d, struct gpt_part *parts, unsigned max, unsigned *nr,
	     enum gpt_source *source)
{
	struct gpt_table primary, backup;
	const char *why_p = "", *why_b = "";
	u8 *sector;
	int ret, rp, rb;

	*nr = 0;
	if (d->nr_lbas < 4)
		return -ENOENT;
	sector = kmalloc(GPT_LBA);
	if (!sector)
		return -ENOMEM;
	ret = has_protective_mbr(d, sector);
	if (ret)
		goto out;
	rp = read_header(d, 1, &primary, sector, &why_p);
	rb = read_header(d, d->nr_lbas - 1, &backup, sector, &why_b);
	if (rp == -ENOMEM || rb == -ENOMEM) {
		ret = -ENOMEM;
	} else if (!rp) {
		if (rb)
			say(d, "the backup GPT header at LBA %lu %s; using the primary", d->nr_lbas - 1,
			    why_b);
		else if (primary.h.alternate_lba != d->nr_lbas - 1)
			say(d, "the primary header's AlternateLBA is %lu, not the last LBA %lu",
			    primary.h.alternate_lba, d->nr_lbas - 1);
		*nr = collect(d, &primary, parts, max);
		*source = GPT_PRIMARY;
	} else if (!rb) {
		say(d, "the primary GPT header %s; using the backup at LBA %lu", why_p,
		    d->nr_lbas - 1);
		*nr = collect(d, &backup, parts, max);
		*source = GPT_BACKUP;
	} else {
		say(d, "the primary GPT header %s and the backup %s: the disk is not used", why_p,
		    why_b);
		ret = rp == -EIO || rb == -EIO ? -EIO : -EINVAL;
	}
	if (!rp)
		kfree(primary.entries);
	if (!rb)
		kfree(backup.entries);
out:
	kfree(sector);
	return ret;
}
