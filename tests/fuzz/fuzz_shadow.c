/*
 * libFuzzer target: the shadow MMU (arch/x86/mmu/) on random guest page
 * tables. Whatever the guest's tables hold, no shadow leaf may point
 * outside the VM's RAM and every shadow table must come from the vCPU's
 * pool (tests/unit/shadow_check.h walks the whole tree after each step);
 * ASan watches the guest walk's reads and its A/D writes.
 *
 * Input: a mode byte (CR0.PG/PE/WP, CR4.PAE/PSE/SMEP, EFER.LMA/NXE), a
 * flag byte (bit 0: fold every 8-byte word of guest memory so its address
 * lies in RAM, which makes the tables link up; bit 1: the dirty log keeps
 * odd pages read-only; bit 2: RAM has a hole, its second 2 MiB chunk, as a VM
 * of more than 3 GiB has the PCI hole), two bytes of CR3's page, a step count, steps of
 * 9 bytes (an op byte: #PF error code bits, or INVLPG, or a flush; then a
 * linear address), then guest RAM from guest-physical 0.
 * Built and run by `make fuzz` (mk/fuzz_shadow.mk).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "hv/shadow.h"
#include "hv/vm.h"
#include "fake_gmem.h"
#include "shadow_check.h"

#define RAM_SIZE (8ULL << 20)
#define HOLE_START (2ULL << 20) /* with flag bit 2: [2 MiB, 4 MiB) is no RAM */
#define HOLE_END (4ULL << 20)

static struct vm vm;
static u8 *ram;
static bool odd_read_only;
static size_t last_size;

bool shadow_gmem_writable(struct vm *v, u64 gpa, bool write)
{
	return !(odd_read_only && !write && ((gpa >> 12) & 1));
}

static u64 rd64(const uint8_t *p)
{
	u64 v;

	memcpy(&v, p, 8);
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct shadow_mmu sh;
	struct guest_ctx c = { 0 };
	struct shadow_fault f;
	struct shadow_hw hw;
	unsigned steps;
	u8 mode, flags;

	if (size < 5)
		return 0;
	if (!ram) {
		ram = aligned_alloc(4096, RAM_SIZE);
		memset(ram, 0, RAM_SIZE);
		fake_gmem_attach(&vm, ram, RAM_SIZE);
	}
	/* Only the last input's bytes are nonzero: the walk writes A/D bits
	 * only into present entries, which all came from the input. */
	memset(ram, 0, last_size);
	mode = data[0];
	flags = data[1];
	c.cr3 = (u64)(data[2] | data[3] << 8) << 12 | (data[3] >> 4 & 0x1f) << 3;
	steps = data[4] & 31;
	data += 5;
	size -= 5;
	c.cr0 = (mode & 1 ? CR0_PG | CR0_PE : 0) | (mode & 2 ? CR0_PE : 0) | (mode & 4 ? CR0_WP : 0);
	c.cr4 = (mode & 8 ? CR4_PAE : 0) | (mode & 16 ? CR4_PSE : 0) | (mode & 32 ? CR4_SMEP : 0);
	c.efer = mode & 128 ? EFER_NXE : 0;
	if ((mode & 64) && (c.cr0 & CR0_PG)) { /* long mode: PAE is a must */
		c.cr4 |= CR4_PAE;
		c.efer |= EFER_LME | EFER_LMA;
	}
	odd_read_only = flags & 2;
	vm.gmem.low_end = flags & 4 ? HOLE_START : 0;
	vm.gmem.high_start = flags & 4 ? HOLE_END : 0;
	vm.gmem.chunks[1] = flags & 4 ? 0 : (u64)(uintptr_t)ram + GMEM_CHUNK;

	const uint8_t *ops = data;
	size_t nops = size / 9 < steps ? size / 9 : steps;

	data += nops * 9;
	size -= nops * 9;
	last_size = size < RAM_SIZE ? size : RAM_SIZE;
	memcpy(ram, data, last_size);
	if (flags & 1)
		for (u64 off = 0; off + 8 <= RAM_SIZE && off < size; off += 8) {
			u64 w = rd64(ram + off);

			w = (w & ~0x000ffffffffff000ULL) | (w & (RAM_SIZE - 1) & ~0xfffULL);
			memcpy(ram + off, &w, 8);
		}

	if (shadow_init(&sh, check_table_alloc, check_table_free))
		abort();
	shadow_hw_regs(&sh, &c, &hw);
	for (size_t i = 0; i < nops; i++) {
		u8 op = ops[i * 9];
		u64 la = rd64(ops + i * 9 + 1);

		if (op & 0x80)
			shadow_invlpg(&sh, la);
		else if (op & 0x40)
			shadow_flush(&sh);
		else
			shadow_page_fault(&sh, &vm, &c, la, op & 0x1f, &f);
		if (shadow_check_tree(&sh, &vm) < 0)
			abort(); /* a leaf outside RAM, or a table not of the pool */
		if (f.kind == SHADOW_MMIO && !(op & 0xc0) &&
		    gmem_in_ram(&vm.gmem, f.gpa & ~0xfffULL, 4096))
			abort(); /* RAM said to be MMIO */
	}
	shadow_destroy(&sh);
	return 0;
}
