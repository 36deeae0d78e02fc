/*
 * A VM of 4 GiB (matrix case highmem, mem=4096M), booted as a Multiboot
 * kernel (lib/multiboot-entry.S): its RAM must lie as on a PC, 3 GiB from 0
 * and 1 GiB from 4 GiB up, so that the PCI hole [0xc0000000, 4 GiB) keeps
 * the local APIC at 0xfee00000 (include/hv/gmem_layout.h). Checks the
 * Multiboot memory map says so, that the top of low RAM and RAM above
 * 4 GiB hold what is written (reached through PAE paging: the kernel starts
 * in 32-bit mode with paging off), that the local APIC page answers as the
 * APIC, and that the hole reads all ones and drops writes. Exits 0 when
 * all hold.
 */
#include "guest.h"

extern u32 mb_magic, mb_info;

struct mb_info {
	u32 flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
	u32 syms[4];
	u32 mmap_length, mmap_addr;
};

struct mb_mmap {
	u32 size;
	u32 addr_lo, addr_hi, len_lo, len_hi;
	u32 type;
} __attribute__((packed));

#define GiB (1ULL << 30)
#define VM_MEM (4 * GiB)              /* the matrix case's mem=4096M */
#define HOLE 0xc0000000ULL            /* RAM below 4 GiB ends here */
#define HIGH 0x100000000ULL           /* the rest starts here */
#define HIGH_END (HIGH + VM_MEM - HOLE)
#define APIC_VERSION 0xfee00030u      /* local APIC version register (SDM vol. 3, 11.4.8) */
#define HOLE_PROBE 0xd0000000u        /* in the PCI window; this VM has no PCI devices */

/* The map: RAM bytes in all, and whether RAM ends at the hole, starts again
 * at 4 GiB up to HIGH_END, and nothing typed RAM touches the hole. */
static void check_map(const struct mb_info *mbi)
{
	u64 ram = 0;
	bool low_to_hole = false, high = false, in_hole = false;

	for (u32 off = 0; off < mbi->mmap_length;) {
		const struct mb_mmap *e = (const void *)(ulong)(mbi->mmap_addr + off);
		u64 a = e->addr_lo | (u64)e->addr_hi << 32, len = e->len_lo | (u64)e->len_hi << 32;

		printf("mmap %#llx-%#llx type %u\n", a, a + len - 1, e->type);
		if (e->type == 1) {
			ram += len;
			low_to_hole |= a < HOLE && a + len == HOLE;
			high |= a == HIGH && a + len == HIGH_END;
			in_hole |= a < HIGH && a + len > HOLE;
		}
		off += e->size + 4;
	}
	check(low_to_hole, "highmem_map_low_ends_at_hole", "no RAM entry ends at %#llx", HOLE);
	check(high, "highmem_map_high", "no RAM entry [%#llx, %#llx)", HIGH, HIGH_END);
	check(!in_hole, "highmem_map_hole_free", "RAM in [%#llx, %#llx)", HOLE, HIGH);
	check(ram <= VM_MEM && ram >= VM_MEM - 0x61000, "highmem_map_ram", "%llu bytes of RAM",
	      ram);
	/* mem_upper: RAM from 1 MiB up to the first hole (Multiboot 0.6.96, 3.3). */
	check_eq("highmem_mem_upper_kib", mbi->mem_upper, (u32)((HOLE - 0x100000) / 1024));
}

/* Below 4 GiB, paging off: the top of low RAM, the APIC, the hole. */
static void check_low(void)
{
	volatile u32 *top = (volatile u32 *)(ulong)(HOLE - 8);
	u32 v;

	top[0] = 0x600dcafe;
	top[1] = 0x12345678;
	check(top[0] == 0x600dcafe && top[1] == 0x12345678, "highmem_low_top", "read %#x %#x",
	      top[0], top[1]);
	/* Version 0x1X (an integrated APIC) and at least 4 LVT entries. */
	v = mmio_read32(APIC_VERSION);
	check((v & 0xf0) == 0x10 && ((v >> 16) & 0xff) >= 3, "highmem_apic_answers",
	      "APIC version register %#x", v);
	check_eq("highmem_hole_reads_ones", mmio_read32(HOLE_PROBE), 0xffffffff);
	mmio_write32(HOLE_PROBE, 0);
	check_eq("highmem_hole_drops_writes", mmio_read32(HOLE_PROBE), 0xffffffff);
	check_eq("highmem_hole_start_ones", mmio_read32((ulong)HOLE), 0xffffffff);
}

/* PAE paging (SDM vol. 3, 4.4): 0-4 GiB identity in 2 MiB pages, the hole
 * uncached, but for three 2 MiB windows at 1 GiB over RAM above 4 GiB: its
 * first chunk, the second, and the last. Each window is set before paging
 * is on and never moved, so no TLB entry needs invalidating. */
#define WINDOW 0x40000000u
#define PTE_P 0x1ULL
#define PTE_RW 0x2ULL
#define PTE_PWT 0x8ULL
#define PTE_PCD 0x10ULL
#define PTE_PS 0x80ULL

static const u64 window_pa[3] = { HIGH, HIGH + 0x200000, HIGH_END - 0x200000 };
static u64 pdpt[4] __attribute__((aligned(32)));
static u64 pd[4][512] __attribute__((aligned(4096)));

static void paging_on(void)
{
	for (u32 i = 0; i < 4; i++) {
		pdpt[i] = (u64)(ulong)pd[i] | PTE_P;
		for (u32 j = 0; j < 512; j++) {
			u64 pa = (u64)i * GiB + (u64)j * 0x200000;

			pd[i][j] = pa | PTE_P | PTE_RW | PTE_PS | (pa >= HOLE ? PTE_PCD | PTE_PWT : 0);
		}
	}
	for (u32 k = 0; k < 3; k++)
		pd[WINDOW >> 30][((WINDOW >> 21) & 511) + k] = window_pa[k] | PTE_P | PTE_RW | PTE_PS;
	__asm__ volatile("mov %%cr4, %%eax; or $0x20, %%eax; mov %%eax, %%cr4\n\t" /* PAE */
			 "mov %0, %%cr3\n\t"
			 "mov %%cr0, %%eax; or $0x80000000, %%eax; mov %%eax, %%cr0"   /* PG */
			 :
			 : "r"(pdpt)
			 : "eax", "memory");
}

/* The CR0 write exits: the PDPTEs must look as utsuwa's walker wants them
 * when it decodes the MOV (see below). */
static void paging_off(void)
{
	for (u32 i = 0; i < 4; i++)
		pdpt[i] &= ~0x20ULL;
	__asm__ volatile("mov %%cr0, %%eax; and $0x7fffffff, %%eax; mov %%eax, %%cr0\n\t"
			 "mov %%cr4, %%eax; and $~0x20, %%eax; mov %%eax, %%cr4"
			 :
			 :
			 : "eax", "memory");
}

/* Window k: the 2 MiB at window_pa[k]. */
static volatile u32 *window(u32 k)
{
	return (volatile u32 *)(ulong)(WINDOW + k * 0x200000u);
}

/*
 * What was read back above 4 GiB. Nothing here may exit while paging is on
 * but the MOV to CR0 that turns it off: QEMU 7.2's TCG sets bit 5 (A) of
 * the PAE PDPTEs it walks, which utsuwa's guest walker takes as reserved
 * (SDM vol. 3, table 4-8), so an exit that needs the instruction decoded
 * (every exit under QEMU, which lacks NRIP save) would stop the VM. The
 * checks are printed with paging off.
 */
static u32 high_first, low_first, high_last[2], high_start;

static void touch_high(void)
{
	volatile u32 *low = (volatile u32 *)0x300000u;

	paging_on();
	/* Low RAM at 3 MiB and RAM at 4 GiB + 3 MiB are different memory. */
	*low = 0x10101010;
	window(1)[0x100000 / 4] = 0x4a4a4a4a;
	/* The last 8 bytes of RAM and the first: different memory too. */
	window(2)[0x1ffff8 / 4] = 0xdeadbeef;
	window(2)[0x1ffffc / 4] = 0x0badf00d;
	window(0)[0] = 0x5555aaaa;
	high_first = window(1)[0x100000 / 4];
	low_first = *low;
	high_last[0] = window(2)[0x1ffff8 / 4];
	high_last[1] = window(2)[0x1ffffc / 4];
	high_start = window(0)[0];
	paging_off();
}

static void check_high(void)
{
	touch_high();
	check(high_first == 0x4a4a4a4a && low_first == 0x10101010, "highmem_high_first",
	      "at 4 GiB + 3 MiB %#x, at 3 MiB %#x", high_first, low_first);
	check(high_last[0] == 0xdeadbeef && high_last[1] == 0x0badf00d, "highmem_high_last",
	      "read %#x %#x", high_last[0], high_last[1]);
	check_eq("highmem_high_start", high_start, 0x5555aaaa);
}

int main(ulong arg)
{
	const struct mb_info *mbi = (const void *)(ulong)mb_info;

	(void)arg;
	check_eq("mb_magic", mb_magic, 0x2BADB002);
	if (!check(mbi && (mbi->flags & 0x41) == 0x41, "highmem_mb_info",
		   "flags %#x", mbi ? mbi->flags : 0))
		return 1;
	check_map(mbi);
	check_low();
	check_high();
	return (int)failures;
}
