/* The configuration and guest-memory sections: round trips, zero pages left
 * out, and impossible values refused with the destination unchanged. */
#include "unit.h"
#include "hv/snapshot_vm.h"

#include <string.h>
#include "snap_host_alloc.h"

#define PIECE (SNAP_MEM_PIECE_PAGES * PAGE_SIZE)

static char err[SNAP_ERR_MAX];

static const struct snap_vm_config lin = {
	.name = "lin",
	.mem_size = 256ULL << 20,
	.nr_vcpus = 2,
	.line = "vm=lin,image=vmlinuz,initrd=initrd.gz,mem=256M,cpus=2,cmdline=\"console=ttyS0\"",
};

TEST(config_round_trips)
{
	struct snap_writer w;
	struct snapshot s;
	struct snap_vm_config back;

	CHECK_EQ(snap_writer_init(&w, &host_snap_alloc), 0);
	CHECK_EQ(snap_save_config(&w, &lin), 0);
	CHECK_EQ(snap_writer_finish(&w, &s), 0);
	CHECK_EQ(snap_verify(&s, err, sizeof(err)), 0);
	memset(&back, 0x55, sizeof(back));
	CHECK_EQ(snap_load_config(&s, &back), 0);
	CHECK(strcmp(back.name, "lin") == 0);
	CHECK_EQ(back.mem_size, 256ULL << 20);
	CHECK_EQ(back.nr_vcpus, 2);
	CHECK(strcmp(back.line, lin.line) == 0);
	snap_free(&s);
}

/* A saved config with one field changed by f, its section otherwise valid. */
static int load_modified(void (*f)(struct snap_vm_config *), struct snap_vm_config *out)
{
	struct snap_vm_config cfg = lin;
	struct snap_writer w;
	struct snapshot s;
	int ret;

	f(&cfg);
	CHECK_EQ(snap_writer_init(&w, &host_snap_alloc), 0);
	/* snap_save_config refuses these too: write the payload by hand. */
	CHECK_EQ(snap_section_begin(&w, SNAP_SEC_CONFIG, 0, "config"), 0);
	snap_put_u16(&w, 1);
	snap_put_u16(&w, (u16)strlen(cfg.name));
	snap_put_bytes(&w, cfg.name, strlen(cfg.name));
	snap_put_u64(&w, cfg.mem_size);
	snap_put_u32(&w, cfg.nr_vcpus);
	snap_put_u32(&w, (u32)strlen(cfg.line));
	snap_put_bytes(&w, cfg.line, strlen(cfg.line));
	CHECK_EQ(snap_section_end(&w), 0);
	CHECK_EQ(snap_writer_finish(&w, &s), 0);
	CHECK_EQ(snap_verify(&s, err, sizeof(err)), 0);
	ret = snap_load_config(&s, out);
	snap_free(&s);
	return ret;
}

static void odd_mem(struct snap_vm_config *c) { c->mem_size = 3ULL << 20; }
static void no_mem(struct snap_vm_config *c) { c->mem_size = 0; }
static void many_cpus(struct snap_vm_config *c) { c->nr_vcpus = VM_MAX_VCPUS + 1; }
static void no_cpus(struct snap_vm_config *c) { c->nr_vcpus = 0; }
static void ctrl_name(struct snap_vm_config *c) { c->name[1] = '\x1b'; }
static void empty_name(struct snap_vm_config *c) { c->name[0] = 0; }
static void same(struct snap_vm_config *c) { }

TEST(config_refuses_impossible_values)
{
	struct snap_vm_config out;
	struct snap_writer w;
	void (*bad[])(struct snap_vm_config *) = { odd_mem, no_mem, many_cpus, no_cpus,
						   ctrl_name, empty_name };

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct snap_vm_config cfg = lin;

		memset(&out, 0x5a, sizeof(out));
		CHECK_EQ(load_modified(bad[i], &out), -EINVAL);
		CHECK(out.name[0] == 0x5a && out.mem_size == 0x5a5a5a5a5a5a5a5aULL);
		bad[i](&cfg);
		CHECK_EQ(snap_writer_init(&w, &host_snap_alloc), 0);
		CHECK_EQ(snap_save_config(&w, &cfg), -EINVAL);
		snap_writer_abort(&w);
	}
	CHECK_EQ(load_modified(same, &out), 0);
	CHECK_EQ(host_stats.live, 0);
}

static void fill_piece(u8 *p, u32 seed)
{
	memset(p, 0, PIECE);
	/* Pages 0, 7 and 511 hold data; page 300 one byte at its end. */
	for (u32 i = 0; i < PAGE_SIZE; i++) {
		p[i] = (u8)(i + seed);
		p[7 * PAGE_SIZE + i] = (u8)(i * 3 + seed);
		p[511 * PAGE_SIZE + i] = (u8)(i ^ seed) | 1;
	}
	p[301 * PAGE_SIZE - 1] = 0x42;
}

TEST(memory_pieces_round_trip_without_zero_pages)
{
	u8 *a = malloc(PIECE), *b = malloc(PIECE), *back = malloc(PIECE), *zero = calloc(1, PIECE);
	struct snap_writer w;
	struct snapshot s;
	struct snap_cursor c;
	u32 sections = 0;

	fill_piece(a, 1);
	fill_piece(b, 9);
	CHECK_EQ(snap_writer_init(&w, &host_snap_alloc), 0);
	CHECK_EQ(snap_save_config(&w, &lin), 0);
	CHECK_EQ(snap_save_ram_piece(&w, 0, a, 512), 0);
	CHECK_EQ(snap_save_ram_piece(&w, SZ_2M, zero, 512), 0); /* no section */
	CHECK_EQ(snap_save_ram_piece(&w, 5 * SZ_2M, b, 512), 0);
	CHECK_EQ(snap_save_ram_piece(&w, 5 * SZ_2M + 4096, b, 512), -EINVAL);
	CHECK_EQ(snap_save_ram_piece(&w, 6 * SZ_2M, b, 513), -EINVAL);
	CHECK_EQ(snap_writer_finish(&w, &s), 0);
	CHECK_EQ(snap_verify(&s, err, sizeof(err)), 0);
	/* 4 data pages of 512 per piece, plus headers: far below 2 x 2 MiB. */
	CHECK(s.len < 2 * (4 * PAGE_SIZE + 200) + 400);
	CHECK_EQ(snap_first(&s, &c), 0);
	while (!snap_next(&c))
		sections += c.type == SNAP_SEC_MEMORY;
	CHECK_EQ(sections, 2);
	CHECK_EQ(snap_find(&s, SNAP_SEC_MEMORY, 1, &c), -ENOENT);

	memset(back, 0xee, PIECE);
	CHECK_EQ(snap_find(&s, SNAP_SEC_MEMORY, 0, &c), 0);
	CHECK_EQ(snap_load_ram_piece(&c, 0, back, 512), 0);
	CHECK(memcmp(back, a, PIECE) == 0);
	memset(back, 0xee, PIECE);
	CHECK_EQ(snap_find(&s, SNAP_SEC_MEMORY, 5, &c), 0);
	CHECK_EQ(snap_load_ram_piece(&c, 5 * SZ_2M, back, 512), 0);
	CHECK(memcmp(back, b, PIECE) == 0);
	/* The wrong piece or size: refused, nothing written. */
	memset(back, 0xee, PIECE);
	CHECK_EQ(snap_find(&s, SNAP_SEC_MEMORY, 5, &c), 0);
	CHECK_EQ(snap_load_ram_piece(&c, 0, back, 512), -EINVAL);
	CHECK_EQ(snap_find(&s, SNAP_SEC_MEMORY, 5, &c), 0);
	CHECK_EQ(snap_load_ram_piece(&c, 5 * SZ_2M, back, 256), -EINVAL);
	CHECK(back[0] == 0xee && back[PIECE - 1] == 0xee);
	snap_free(&s);
	free(a);
	free(b);
	free(back);
	free(zero);
	CHECK_EQ(host_stats.live, 0);
}

/* A 32 MiB guest with data in every page: no allocation above one 2 MiB
 * chunk, every piece back as it was. */
TEST(big_guest_needs_no_big_block)
{
	const u64 size = 32ULL << 20;
	u8 *ram = malloc(size), *back = malloc(PIECE);
	struct snap_writer w;
	struct snapshot s;
	struct snap_cursor c;
	struct snap_vm_config cfg = lin;
	bool same = true;

	for (u64 i = 0; i < size; i += 8)
		*(u64 *)(ram + i) = i * 0x9e3779b97f4a7c15ULL + 1;
	cfg.mem_size = size;
	host_stats.largest = 0;
	CHECK_EQ(snap_writer_init(&w, &host_snap_alloc), 0);
	CHECK_EQ(snap_save_config(&w, &cfg), 0);
	for (u64 gpa = 0; gpa < size; gpa += SZ_2M)
		CHECK_EQ(snap_save_ram_piece(&w, gpa, ram + gpa, SNAP_MEM_PIECE_PAGES), 0);
	CHECK_EQ(snap_writer_finish(&w, &s), 0);
	CHECK(s.len > size);
	CHECK_EQ(host_stats.largest, SZ_2M);
	CHECK_EQ(snap_verify(&s, err, sizeof(err)), 0);
	for (u64 gpa = 0; gpa < size; gpa += SZ_2M) {
		CHECK_EQ(snap_find(&s, SNAP_SEC_MEMORY, (u32)(gpa >> 21), &c), 0);
		CHECK_EQ(snap_load_ram_piece(&c, gpa, back, SNAP_MEM_PIECE_PAGES), 0);
		same &= memcmp(back, ram + gpa, PIECE) == 0;
	}
	CHECK(same);
	snap_free(&s);
	free(ram);
	free(back);
	CHECK_EQ(host_stats.live, 0);
}

int main(void)
{
	RUN(big_guest_needs_no_big_block);
	RUN(config_round_trips);
	RUN(config_refuses_impossible_values);
	RUN(memory_pieces_round_trip_without_zero_pages);
	return unit_done();
}
