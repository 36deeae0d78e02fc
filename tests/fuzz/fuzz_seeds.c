/*
 * Writes the fuzzer's seed corpus into a directory (so no binary seeds are
 * committed): whole snapshots of a busy VM's devices as bytes, in both chunk
 * sizes, and the same payloads as records (tests/fuzz/fuzz_input.h).
 *   fuzz_seeds <dir>
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz_devices.h"
#include "fuzz_input.h"
#include "hv/snapshot.h"
#include "hv/snapshot_vm.h"

static void *seed_alloc(void *ctx, size_t size)
{
	return malloc(size);
}

static void seed_free(void *ctx, void *p, size_t size)
{
	free(p);
}

static const struct snap_alloc alloc = { .alloc = seed_alloc, .free = seed_free };
static const char *dir;
static int written;

static void write_seed(const char *name, u8 mode, const u8 *p, size_t n)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(&mode, 1, 1, f) != 1 || fwrite(p, 1, n, f) != n || fclose(f)) {
		perror(path);
		exit(1);
	}
	written++;
}

static u8 *flatten(const struct snapshot *s)
{
	u8 *b = malloc(s->len);

	if (!b || snap_read_at(s, 0, b, s->len))
		exit(1);
	return b;
}

static const struct snap_vm_config cfg = {
	.name = "seed", .mem_size = 4 << 20, .nr_vcpus = 1,
	.line = "vm=seed,image=basic-long.bin,mode=long,mem=4M,cpus=1",
};

static u8 pages[4 * 4096];

static void whole_snapshot(struct fuzz_devices *d)
{
	struct snap_writer w;
	struct snapshot s;
	char err[SNAP_ERR_MAX];
	u8 *flat;

	for (size_t i = 0; i < sizeof(pages); i++)
		pages[i] = (i / 4096) == 2 ? 0 : (u8)(i * 7);
	if (snap_writer_init(&w, &alloc) || snap_save_config(&w, &cfg) ||
	    snap_save_ram_piece(&w, 0, pages, 4) || snap_save_ram_piece(&w, 1 << 21, pages, 4))
		exit(1);
	snap_section_begin(&w, SNAP_SEC_VCPU, 0, "vcpu.0");
	snap_put_bytes(&w, pages, 64);
	snap_section_end(&w);
	for (unsigned k = 0; k < FUZZ_NR_DEVICES; k++) {
		snap_section_begin(&w, SNAP_SEC_DEVICE, k, fuzz_device_names[k]);
		fuzz_device_save(d, k, &w);
		snap_section_end(&w);
	}
	if (snap_writer_finish(&w, &s) || snap_verify(&s, err, sizeof(err))) {
		fprintf(stderr, "fuzz_seeds: %s\n", err);
		exit(1);
	}
	/* The seeds must reach the loads' success paths: each payload loads
	 * into a fresh device of its kind. */
	{
		struct fuzz_devices fresh = { 0 };
		struct snap_cursor c;

		if (fuzz_devices_create(&fresh))
			exit(1);
		for (unsigned k = 0; k < FUZZ_NR_DEVICES; k++) {
			if (snap_find_device(&s, k, fuzz_device_names[k], &c) ||
			    fuzz_device_load(&fresh, k, &c)) {
				fprintf(stderr, "fuzz_seeds: %s does not load back\n",
					fuzz_device_names[k]);
				exit(1);
			}
			fuzz_device_exercise(&fresh, k);
		}
		fuzz_devices_destroy(&fresh);
	}
	flat = flatten(&s);
	write_seed("whole-4k", FUZZ_MODE_RAW, flat, s.len);
	write_seed("whole-2m", FUZZ_MODE_RAW | FUZZ_MODE_CHUNK_2M, flat, s.len);
	flat[s.len / 2] ^= 4;
	write_seed("whole-damaged", FUZZ_MODE_RAW, flat, s.len);
	write_seed("truncated", FUZZ_MODE_RAW, flat, s.len / 3);
	free(flat);
	snap_free(&s);
}

/* The payload of a section of that kind, written into a scratch snapshot. */
static u8 *payload_of(struct fuzz_devices *d, int kind, size_t *len)
{
	struct snap_writer w;
	struct snapshot s;
	struct snap_cursor c;
	u8 *p;

	if (snap_writer_init(&w, &alloc))
		exit(1);
	snap_section_begin(&w, SNAP_SEC_CONFIG, 0, "x");
	if (kind == FUZZ_REC_CONFIG) {
		snap_section_end(&w);
		snap_save_config(&w, &cfg); /* a second config section: found second */
	} else if (kind == FUZZ_REC_MEMORY) {
		snap_section_end(&w);
		snap_save_ram_piece(&w, 0, pages, 4);
	} else {
		fuzz_device_save(d, (unsigned)kind, &w);
		snap_section_end(&w);
	}
	if (snap_writer_finish(&w, &s))
		exit(1);
	snap_first(&s, &c);
	if (kind == FUZZ_REC_CONFIG || kind == FUZZ_REC_MEMORY)
		snap_next(&c);
	*len = snap_cursor_left(&c);
	p = malloc(*len);
	snap_get_bytes(&c, p, *len);
	snap_free(&s);
	return p;
}

static size_t add_record(u8 *out, size_t at, u8 kind, const u8 *p, size_t len)
{
	out[at] = kind;
	out[at + 1] = (u8)len;
	out[at + 2] = (u8)(len >> 8);
	memcpy(out + at + 3, p, len);
	return at + 3 + len;
}

static void records(struct fuzz_devices *d)
{
	static u8 all[65536];
	size_t at = 0, len;
	int kinds[FUZZ_NR_DEVICES + 2];
	int n = 0;
	char name[64];

	kinds[n++] = FUZZ_REC_CONFIG;
	kinds[n++] = FUZZ_REC_MEMORY;
	for (int k = 0; k < FUZZ_NR_DEVICES; k++)
		kinds[n++] = k;
	for (int i = 0; i < n; i++) {
		u8 one[20000];
		u8 *p = payload_of(d, kinds[i], &len);
		size_t one_len = add_record(one, 0, (u8)kinds[i], p, len);

		at = add_record(all, at, (u8)kinds[i], p, len);
		snprintf(name, sizeof(name), "record-%s",
			 kinds[i] == FUZZ_REC_CONFIG ? "config" :
			 kinds[i] == FUZZ_REC_MEMORY ? "memory" : fuzz_device_names[kinds[i]]);
		write_seed(name, FUZZ_MODE_RECORDS, one, one_len);
		free(p);
	}
	write_seed("records-all", FUZZ_MODE_RECORDS, all, at);
}

int main(int argc, char **argv)
{
	struct fuzz_devices d = { 0 };

	if (argc != 2) {
		fprintf(stderr, "usage: fuzz_seeds <dir>\n");
		return 2;
	}
	dir = argv[1];
	if (fuzz_devices_create(&d))
		return 1;
	fuzz_devices_stir(&d);
	whole_snapshot(&d);
	records(&d);
	fuzz_devices_destroy(&d);
	printf("fuzz_seeds: %d seeds in %s\n", written, dir);
	return 0;
}
