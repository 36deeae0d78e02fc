/*
 * libFuzzer target: snap_verify on arbitrary bytes, then, on what it
 * accepts, the configuration and memory loaders and every device's load on
 * every section found (a load into the wrong kind of device must be refused
 * cleanly too); a device that loaded is then driven through its registers
 * and timers. Input format: tests/fuzz/fuzz_input.h. Built by `make fuzz`
 * (mk/fuzz.mk) with -fsanitize=fuzzer,address,undefined.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz_devices.h"
#include "fuzz_input.h"
#include "hv/snapshot.h"
#include "hv/snapshot_vm.h"

static void *fuzz_alloc(void *ctx, size_t size)
{
	return malloc(size);
}

static void fuzz_free(void *ctx, void *p, size_t size)
{
	free(p);
}

static const struct snap_alloc alloc = { .alloc = fuzz_alloc, .free = fuzz_free };

static u8 ram_piece[SNAP_MEM_PIECE_PAGES * 4096];

static void load_everything(const struct snapshot *s)
{
	struct snap_vm_config cfg;
	struct snap_cursor c, each;
	struct fuzz_devices d = { 0 };

	snap_load_config(s, &cfg);
	if (fuzz_devices_create(&d))
		abort();
	for (int ret = snap_first(s, &c); !ret; ret = snap_next(&c)) {
		if (c.type == SNAP_SEC_MEMORY) {
			u64 gpa = (u64)c.instance << SNAP_MEM_PIECE_SHIFT, said_gpa;
			u32 npages;

			/* Load it as the piece it says it is (zeroing 2 MiB for
			 * every input would slow the fuzzer tenfold), and as a
			 * piece of another size. */
			each = c;
			said_gpa = snap_get_u64(&each);
			npages = snap_get_u32(&each);
			each = c;
			snap_load_ram_piece(&each, gpa, ram_piece, npages);
			each = c;
			snap_load_ram_piece(&each, said_gpa, ram_piece, npages + 1);
			continue;
		}
		if (c.type != SNAP_SEC_DEVICE)
			continue;
		for (unsigned k = 0; k < FUZZ_NR_DEVICES; k++) {
			each = c;
			if (fuzz_device_load(&d, k, &each) == 0)
				fuzz_device_exercise(&d, k);
		}
	}
	fuzz_devices_destroy(&d);
}

/* Writes the records as a valid snapshot. */
static int from_records(const u8 *p, size_t n, struct snapshot *out)
{
	struct snap_writer w;
	const u8 *cfg = NULL;
	size_t cfg_len = 0, at;
	u32 instance = 0;

	if (snap_writer_init_chunked(&w, &alloc, 12))
		return -1;
	/* Pass 1: the configuration; 2: memory; 3: devices (the order verify wants). */
	for (int pass = 1; pass <= 3; pass++) {
		instance = 0;
		if (pass == 2) {
			snap_section_begin(&w, SNAP_SEC_CONFIG, 0, "config");
			snap_put_bytes(&w, cfg ? cfg : (const u8 *)"", cfg_len);
			snap_section_end(&w);
		}
		for (at = 0; at + 3 <= n;) {
			u8 kind = p[at];
			size_t len = p[at + 1] | (size_t)p[at + 2] << 8;
			const u8 *payload = p + at + 3;

			if (len > n - at - 3)
				len = n - at - 3;
			at += 3 + len;
			if (pass == 1 && kind == FUZZ_REC_CONFIG && !cfg) {
				cfg = payload;
				cfg_len = len;
			} else if (pass == 2 && kind == FUZZ_REC_MEMORY) {
				snap_section_begin(&w, SNAP_SEC_MEMORY, instance++, SNAP_MEMORY_NAME);
				snap_put_bytes(&w, payload, len);
				snap_section_end(&w);
			} else if (pass == 3 && kind < FUZZ_NR_DEVICES) {
				snap_section_begin(&w, SNAP_SEC_DEVICE, instance++, fuzz_device_names[kind]);
				snap_put_bytes(&w, payload, len);
				snap_section_end(&w);
			}
		}
	}
	return snap_writer_finish(&w, out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct snapshot s;
	char err[SNAP_ERR_MAX];
	int ret;

	if (size < 1)
		return 0;
	if (data[0] & FUZZ_MODE_RECORDS) {
		if (from_records(data + 1, size - 1, &s))
			return 0;
		/* What the writer wrote, the reader must accept. */
		if (snap_verify(&s, err, sizeof(err)))
			abort();
	} else {
		if (snap_from_bytes(&s, &alloc, data + 1, size - 1,
				    (data[0] & 0x0e) == FUZZ_MODE_CHUNK_2M ? SNAP_CHUNK_SHIFT : 12))
			return 0;
		ret = snap_verify(&s, err, sizeof(err));
		if (ret) {
			/* One line, naming what is wrong. */
			if (strncmp(err, "snapshot: ", 10) || strchr(err, '\n'))
				abort();
			snap_free(&s);
			return 0;
		}
	}
	load_everything(&s);
	snap_free(&s);
	return 0;
}
