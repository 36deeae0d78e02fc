/* Host tests of the guest page-table walk (arch/x86/emul/gwalk.c) over a fake guest RAM. */
#include "unit.h"
#include <string.h>
#include "arch/x86/emul/gwalk.h"
#include "hv/vm.h"
#include "fake_gmem.h"

#define RAM_SIZE (8ULL << 20)

static struct vm vm;
static u8 *ram;

static void ram_reset(void)
{
	if (!ram)
		ram = aligned_alloc(PAGE_SIZE, RAM_SIZE);
	memset(ram, 0, RAM_SIZE);
	memset(&vm, 0, sizeof(vm));
	fake_gmem_attach(&vm, ram, RAM_SIZE);
}

static void set64(u64 gpa, u64 v)
{
	memcpy(ram + gpa, &v, 8);
}

static void set32(u64 gpa, u32 v)
{
	memcpy(ram + gpa, &v, 4);
}

static u64 get64(u64 gpa)
{
	u64 v;

	memcpy(&v, ram + gpa, 8);
	return v;
}

#define P BIT(0)
#define RW BIT(1)
#define US BIT(2)
#define A BIT(5)
#define PS BIT(7)
#define NX BIT(63)

static u64 gpa;
static u32 pf;

static int walk(const struct guest_ctx *c, u64 la, unsigned access)
{
	gpa = 0xdead;
	pf = 0xdead;
	return gwalk(&vm, c, la, access, &gpa, &pf);
}

/*
 * 4-level tables: PML4 0x1000, PDPT 0x2000, PD 0x3000, PT 0x4000.
 *   0x00400000 (PD[2] -> PT[0])   4 KiB page at 0x10000, user, writable
 *   0x00401000 (PT[1])            4 KiB page at 0x11000, supervisor, read-only
 *   0x00402000 (PT[2])            4 KiB page at 0x12000, user, NX
 *   0x00403000 (PT[3])            not present
 *   0x00600000 (PD[3])            2 MiB page at 0x200000
 *   0x40000000 (PDPT[1])          1 GiB page at 0x80000000
 *   0xffff800000000000 (PML4[256]) -> PDPT 0x5000 -> not present
 */
static struct guest_ctx long_ctx(void)
{
	struct guest_ctx c = { 0 };

	ram_reset();
	set64(0x1000, 0x2000 | P | RW | US);
	set64(0x1000 + 256 * 8, 0x5000 | P | RW);
	set64(0x2000, 0x3000 | P | RW | US);
	set64(0x2000 + 8, 0x80000000 | P | RW | PS);
	set64(0x3000 + 2 * 8, 0x4000 | P | RW | US);
	set64(0x3000 + 3 * 8, 0x200000 | P | RW | US | PS);
	set64(0x4000, 0x10000 | P | RW | US);
	set64(0x4000 + 8, 0x11000 | P);
	set64(0x4000 + 16, 0x12000 | P | RW | US | NX);
	c.cr0 = CR0_PE | CR0_PG | CR0_WP;
	c.cr4 = CR4_PAE;
	c.efer = EFER_LME | EFER_LMA | EFER_NXE;
	c.cr3 = 0x1000;
	c.cs.attr = SEG_ATTR_L;
	return c;
}

TEST(paging_off)
{
	struct guest_ctx c = { 0 };

	ram_reset();
	CHECK_EQ(walk(&c, 0xffff0, GW_FETCH), 0); /* real mode */
	CHECK_EQ(gpa, 0xffff0);
	CHECK_EQ(walk(&c, 0x10ffef, GW_WRITE), 0); /* above 1 MiB: A20 not modelled */
	CHECK_EQ(gpa, 0x10ffef);
	c.cr0 = CR0_PE;
	CHECK_EQ(walk(&c, 0xfee00000, GW_WRITE | GW_USER), 0);
	CHECK_EQ(gpa, 0xfee00000); /* not RAM: gwalk does not care */
	CHECK_EQ(walk(&c, 0x1fee00000ULL, 0), 0); /* 32-bit linear addresses */
	CHECK_EQ(gpa, 0xfee00000);
}

TEST(long_mode_translations)
{
	struct guest_ctx c = long_ctx();

	CHECK_EQ(walk(&c, 0x400123, 0), 0);
	CHECK_EQ(gpa, 0x10123);
	CHECK_EQ(walk(&c, 0x401fff, 0), 0);
	CHECK_EQ(gpa, 0x11fff);
	CHECK_EQ(walk(&c, 0x6abcde, GW_WRITE | GW_USER), 0); /* 2 MiB page */
	CHECK_EQ(gpa, 0x2abcde);
	CHECK_EQ(walk(&c, 0x7fffffff, GW_FETCH), 0); /* 1 GiB page */
	CHECK_EQ(gpa, 0xbfffffff);
	/* A and D bits are left alone. */
	CHECK_EQ(get64(0x4000), 0x10000 | P | RW | US);
	CHECK_EQ(get64(0x1000), 0x2000 | P | RW | US);
	/* CR3's low bits (PCID, PWT/PCD) are not part of the address. */
	c.cr3 = 0x1000 | 0x18 | 0x5;
	CHECK_EQ(walk(&c, 0x400000, 0), 0);
	CHECK_EQ(gpa, 0x10000);
	/* Large page with the PAT bit (12) set: not part of the address. */
	set64(0x3000 + 3 * 8, 0x200000 | P | RW | PS | BIT(12));
	CHECK_EQ(walk(&c, 0x600000, 0), 0);
	CHECK_EQ(gpa, 0x200000);
}

TEST(long_mode_not_present_each_level)
{
	struct guest_ctx c = long_ctx();

	CHECK_EQ(walk(&c, 0x403000, 0), -EFAULT); /* PTE */
	CHECK_EQ(pf, 0);
	CHECK_EQ(walk(&c, 0x403000, GW_WRITE | GW_USER), -EFAULT);
	CHECK_EQ(pf, PF_ERR_W | PF_ERR_U);
	CHECK_EQ(walk(&c, 0x800000, GW_FETCH), -EFAULT); /* PDE */
	CHECK_EQ(pf, PF_ERR_ID); /* NXE on: I/D reported */
	CHECK_EQ(walk(&c, 0x80000000, 0), -EFAULT); /* PDPTE */
	CHECK_EQ(pf, 0);
	CHECK_EQ(walk(&c, 0x8000000000ULL, GW_USER), -EFAULT); /* PML4E */
	CHECK_EQ(pf, PF_ERR_U);
	CHECK_EQ(walk(&c, 0xffff800000000000ULL, 0), -EFAULT); /* PML4E ok, PDPTE not */
	CHECK_EQ(pf, 0);
	c.efer &= ~EFER_NXE; /* without NXE or SMEP, no I/D bit */
	CHECK_EQ(walk(&c, 0x800000, GW_FETCH), -EFAULT);
	CHECK_EQ(pf, 0);
}

TEST(long_mode_permissions)
{
	struct guest_ctx c = long_ctx();

	/* Read-only supervisor page 0x401000. */
	CHECK_EQ(walk(&c, 0x401000, 0), 0);
	CHECK_EQ(walk(&c, 0x401000, GW_WRITE), -EFAULT); /* CR0.WP */
	CHECK_EQ(pf, PF_ERR_P | PF_ERR_W);
	c.cr0 &= ~CR0_WP;
	CHECK_EQ(walk(&c, 0x401000, GW_WRITE), 0);
	CHECK_EQ(walk(&c, 0x401000, GW_USER), -EFAULT); /* user to supervisor page */
	CHECK_EQ(pf, PF_ERR_P | PF_ERR_U);
	CHECK_EQ(walk(&c, 0x401000, GW_USER | GW_WRITE), -EFAULT);
	CHECK_EQ(pf, PF_ERR_P | PF_ERR_U | PF_ERR_W);
	CHECK_EQ(walk(&c, 0x401000, GW_USER | GW_FETCH), -EFAULT);
	CHECK_EQ(pf, PF_ERR_P | PF_ERR_U | PF_ERR_ID);
	/* User page 0x400000, all fine for user. */
	CHECK_EQ(walk(&c, 0x400000, GW_USER | GW_WRITE), 0);
	CHECK_EQ(walk(&c, 0x400000, GW_USER | GW_FETCH), 0);
	/* A read-only upper level makes the page read-only for users even without WP. */
	set64(0x2000, 0x3000 | P | US);
	CHECK_EQ(walk(&c, 0x400000, GW_USER | GW_WRITE), -EFAULT);
	CHECK_EQ(pf, PF_ERR_P | PF_ERR_U | PF_ERR_W);
	CHECK_EQ(walk(&c, 0x400000, GW_WRITE), 0); /* supervisor, WP clear */
	c.cr0 |= CR0_WP;
	CHECK_EQ(walk(&c, 0x400000, GW_WRITE), -EFAULT);
	CHECK_EQ(pf, PF_ERR_P | PF_ERR_W);
	/* ... and a supervisor upper level makes it a supervisor page. */
	set64(0x2000, 0x3000 | P | RW);
	CHECK_EQ(walk(&c, 0x400000, GW_USER), -EFAULT);
	CHECK_EQ(pf, PF_ERR_P | PF_ERR_U);
}

TEST(long_mode_nx_and_smep)
{
	struct guest_ctx c = long_ctx();

	CHECK_EQ(walk(&c, 0x402000, GW_USER), 0);
	CHECK_EQ(walk(&c, 0x402000, GW_USER | GW_FETCH), -EFAULT);
	CHECK_EQ(pf, PF_ERR_P | PF_ERR_U | PF_ERR_ID);
	CHECK_EQ(walk(&c, 0x402000, GW_FETCH), -EFAULT);
	CHECK_EQ(pf, PF_ERR_P | PF_ERR_ID);
	/* NX in an upper level covers everything below. */
	set64(0x3000 + 3 * 8, 0x200000 | P | RW | PS | NX);
	CHECK_EQ(walk(&c, 0x600000, GW_FETCH), -EFAULT);
	CHECK_EQ(pf, PF_ERR_P | PF_ERR_ID);
	/* Without NXE, bit 63 is a reserved bit. */
	c.efer &= ~EFER_NXE;
	CHECK_EQ(walk(&c, 0x402000, GW_USER), -EFAULT);
	CHECK_EQ(pf, PF_ERR_P | PF_ERR_RSVD | PF_ERR_U);
	c.efer |= EFER_NXE;
	/* SMEP: supervisor fetch from a user page. */
	CHECK_EQ(walk(&c, 0x400000, GW_FETCH), 0);
	c.cr4 |= CR4_SMEP;
	CHECK_EQ(walk(&c, 0x400000, GW_FETCH), -EFAULT);
	CHECK_EQ(pf, PF_ERR_P | PF_ERR_ID);
	CHECK_EQ(walk(&c, 0x400000, 0), 0); /* data reads are SMAP's business */
	CHECK_EQ(walk(&c, 0x401000, GW_FETCH), 0); /* supervisor page */
}

TEST(long_mode_reserved_bits)
{
	struct guest_ctx c = long_ctx();

	set64(0x1000, 0x2000 | P | RW | US | PS); /* PS in a PML4E */
	CHECK_EQ(walk(&c, 0x400000, 0), -EFAULT);
	CHECK_EQ(pf, PF_ERR_P | PF_ERR_RSVD);
	set64(0x1000, 0x2000 | P | RW | US);
	set64(0x3000 + 3 * 8, 0x200000 | P | RW | PS | BIT(13)); /* 2 MiB, bit 13 */
	CHECK_EQ(walk(&c, 0x600000, GW_WRITE), -EFAULT);
	CHECK_EQ(pf, PF_ERR_P | PF_ERR_RSVD | PF_ERR_W);
	set64(0x2000 + 8, 0x80000000 | P | RW | PS | BIT(21)); /* 1 GiB, bit 21 */
	CHECK_EQ(walk(&c, 0x40000000, GW_FETCH), -EFAULT);
	CHECK_EQ(pf, PF_ERR_P | PF_ERR_RSVD | PF_ERR_ID);
	/* A reserved bit in a non-present entry does not matter. */
	set64(0x4000 + 3 * 8, NX | BIT(51));
	c.efer &= ~EFER_NXE;
	CHECK_EQ(walk(&c, 0x403000, 0), -EFAULT);
	CHECK_EQ(pf, 0);
}

TEST(long_mode_tables_outside_ram_and_limits)
{
	struct guest_ctx c = long_ctx();

	set64(0x3000 + 4 * 8, 0x40000000 | P | RW); /* a page table far outside RAM */
	CHECK_EQ(walk(&c, 0x800000, 0), -ENOENT);
	c.cr3 = RAM_SIZE;
	CHECK_EQ(walk(&c, 0x400000, 0), -ENOENT);
	c = long_ctx();
	CHECK_EQ(walk(&c, 0x0000800000000000ULL, 0), -EINVAL); /* non-canonical */
	CHECK_EQ(walk(&c, 0xfff0800000000000ULL, 0), -EINVAL);
	c.cr4 |= CR4_LA57;
	CHECK_EQ(walk(&c, 0x400000, 0), -ENOTSUP);
}

/*
 * 32-bit paging: PD 0x5000; PDE[1] -> PT 0x6000 with PTE[0] -> 0x7000 (user,
 * writable), PTE[1] -> 0x8000 (supervisor, read-only); PDE[2] a 4 MiB page.
 */
static struct guest_ctx paging32_ctx(void)
{
	struct guest_ctx c = { 0 };

	ram_reset();
	set32(0x5000 + 1 * 4, 0x6000 | P | RW | US);
	set32(0x6000, 0x7000 | P | RW | US);
	set32(0x6000 + 4, 0x8000 | P);
	set32(0x5000 + 2 * 4, 0x00c00000 | P | RW | PS | (0x12 << 13)); /* PSE-36: bits 39:32 = 0x12 */
	c.cr0 = CR0_PE | CR0_PG | CR0_WP;
	c.cr4 = CR4_PSE;
	c.cr3 = 0x5000;
	c.cs.attr = SEG_ATTR_DB;
	return c;
}

TEST(paging32)
{
	struct guest_ctx c = paging32_ctx();

	CHECK_EQ(walk(&c, 0x400abc, GW_USER | GW_WRITE), 0);
	CHECK_EQ(gpa, 0x7abc);
	CHECK_EQ(walk(&c, 0x401abc, 0), 0);
	CHECK_EQ(gpa, 0x8abc);
	CHECK_EQ(walk(&c, 0x812345, 0), 0); /* 4 MiB page, PSE-36 */
	CHECK_EQ(gpa, 0x1200c12345ULL);
	CHECK_EQ(walk(&c, 0x100400abcULL, 0), 0); /* linear addresses are 32 bits */
	CHECK_EQ(gpa, 0x7abc);
	/* Faults. */
	CHECK_EQ(walk(&c, 0x402000, GW_FETCH), -EFAULT); /* PTE not present */
	CHECK_EQ(pf, 0); /* no I/D without PAE+NXE or SMEP */
	CHECK_EQ(walk(&c, 0xc00000, GW_WRITE), -EFAULT); /* PDE not present */
	CHECK_EQ(pf, PF_ERR_W);
	CHECK_EQ(walk(&c, 0x401000, GW_WRITE), -EFAULT);
	CHECK_EQ(pf, PF_ERR_P | PF_ERR_W);
	CHECK_EQ(walk(&c, 0x401000, GW_USER), -EFAULT);
	CHECK_EQ(pf, PF_ERR_P | PF_ERR_U);
	CHECK_EQ(walk(&c, 0x800000, GW_USER), -EFAULT); /* 4 MiB page is supervisor */
	CHECK_EQ(pf, PF_ERR_P | PF_ERR_U);
	c.cr4 |= CR4_SMEP;
	CHECK_EQ(walk(&c, 0x400000, GW_FETCH), -EFAULT);
	CHECK_EQ(pf, PF_ERR_P | PF_ERR_ID);
	c.cr4 &= ~CR4_SMEP;
	/* Bit 21 of a 4 MiB PDE is reserved. */
	set32(0x5000 + 2 * 4, 0x00c00000 | P | RW | PS | BIT(21));
	CHECK_EQ(walk(&c, 0x800000, 0), -EFAULT);
	CHECK_EQ(pf, PF_ERR_P | PF_ERR_RSVD);
	/* Without CR4.PSE the PS bit is ignored: the PDE points to a page table. */
	set32(0x5000 + 1 * 4, 0x6000 | P | RW | US | PS);
	c.cr4 &= ~CR4_PSE;
	CHECK_EQ(walk(&c, 0x400abc, 0), 0);
	CHECK_EQ(gpa, 0x7abc);
	/* A page table outside RAM. */
	set32(0x5000 + 3 * 4, 0xf0000000 | P | RW);
	CHECK_EQ(walk(&c, 0xc00000, 0), -ENOENT);
}

/*
 * PAE paging: PDPT at 0x9020 (32-byte aligned); PDPTE[0] -> PD 0xa000 with
 * PDE[2] -> PT 0xb000 (PTE[0] -> 0xc000, PTE[1] NX -> 0xd000) and PDE[3] a
 * 2 MiB page; PDPTE[1] not present.
 */
static struct guest_ctx pae_ctx(void)
{
	struct guest_ctx c = { 0 };

	ram_reset();
	set64(0x9020, 0xa000 | P);
	set64(0xa000 + 2 * 8, 0xb000 | P | RW | US);
	set64(0xa000 + 3 * 8, 0x400000 | P | RW | PS);
	set64(0xb000, 0xc000 | P | RW | US);
	set64(0xb000 + 8, 0xd000 | P | RW | US | NX);
	c.cr0 = CR0_PE | CR0_PG | CR0_WP;
	c.cr4 = CR4_PAE;
	c.efer = EFER_NXE;
	c.cr3 = 0x9020;
	c.cs.attr = SEG_ATTR_DB;
	return c;
}

TEST(paging_pae)
{
	struct guest_ctx c = pae_ctx();

	CHECK_EQ(walk(&c, 0x400123, GW_USER | GW_WRITE), 0);
	CHECK_EQ(gpa, 0xc123);
	CHECK_EQ(walk(&c, 0x6fffff, GW_FETCH), 0);
	CHECK_EQ(gpa, 0x4fffff);
	CHECK_EQ(walk(&c, 0x401000, GW_USER), 0);
	CHECK_EQ(gpa, 0xd000);
	CHECK_EQ(walk(&c, 0x401000, GW_FETCH | GW_USER), -EFAULT);
	CHECK_EQ(pf, PF_ERR_P | PF_ERR_U | PF_ERR_ID);
	CHECK_EQ(walk(&c, 0x40000000, 0), -EFAULT); /* PDPTE[1] */
	CHECK_EQ(pf, 0);
	CHECK_EQ(walk(&c, 0x800000, GW_FETCH), -EFAULT); /* PDE[4] */
	CHECK_EQ(pf, PF_ERR_ID);
	CHECK_EQ(walk(&c, 0x600000, GW_USER), -EFAULT); /* 2 MiB supervisor page */
	CHECK_EQ(pf, PF_ERR_P | PF_ERR_U);
	/* PDPTE reserved bits: R/W (bit 1), and NX (bit 63). */
	set64(0x9020, 0xa000 | P | RW);
	CHECK_EQ(walk(&c, 0x400000, 0), -EFAULT);
	CHECK_EQ(pf, PF_ERR_P | PF_ERR_RSVD);
	set64(0x9020, 0xa000 | P | NX);
	CHECK_EQ(walk(&c, 0x400000, 0), -EFAULT);
	CHECK_EQ(pf, PF_ERR_P | PF_ERR_RSVD);
	/* Bit 5, which QEMU's TCG sets as an AMD CPU's accessed bit: no fault. */
	set64(0x9020, 0xa000 | P | A);
	CHECK_EQ(walk(&c, 0x400000, 0), 0);
	set64(0x9020, 0xa000 | P);
	/* Without NXE, an NX bit in a PTE is reserved. */
	c.efer = 0;
	CHECK_EQ(walk(&c, 0x401000, GW_USER), -EFAULT);
	CHECK_EQ(pf, PF_ERR_P | PF_ERR_RSVD | PF_ERR_U);
	/* 2 MiB page with a reserved bit. */
	set64(0xa000 + 3 * 8, 0x400000 | P | RW | PS | BIT(20));
	CHECK_EQ(walk(&c, 0x600000, 0), -EFAULT);
	CHECK_EQ(pf, PF_ERR_P | PF_ERR_RSVD);
	/* The PD outside RAM. */
	set64(0x9020 + 3 * 8, 0x7fff0000ULL | P);
	CHECK_EQ(walk(&c, 0xc0000000, 0), -ENOENT);
}

TEST(traced_walks)
{
	struct guest_ctx c = long_ctx();
	struct gwalk_trace t;

	CHECK_EQ(gwalk_traced(&vm, &c, 0x400123, 0, &gpa, &pf, &t), 0);
	CHECK_EQ(gpa, 0x10123);
	CHECK_EQ(t.n, 4);
	CHECK(t.entry[0] == (const u64 *)(ram + 0x1000));
	CHECK(t.entry[3] == (const u64 *)(ram + 0x4000));
	CHECK_EQ(t.value[2], 0x4000 | P | RW | US);
	CHECK(gwalk_trace_holds(&t));
	set64(0x4000, 0x10000 | P | RW | US | A);
	CHECK(!gwalk_trace_holds(&t));
	CHECK_EQ(gwalk_traced(&vm, &c, 0x600000, 0, &gpa, &pf, &t), 0); /* 2 MiB */
	CHECK_EQ(t.n, 3);
	CHECK_EQ(gwalk_traced(&vm, &c, 0x40000000, 0, &gpa, &pf, &t), 0); /* 1 GiB */
	CHECK_EQ(t.n, 2);
	CHECK_EQ(gwalk_traced(&vm, &c, 0x403000, 0, &gpa, &pf, &t), -EFAULT);
	CHECK_EQ(t.n, 4); /* the not-present entry too */
	CHECK_EQ(t.value[3], 0);
	c = pae_ctx();
	CHECK_EQ(gwalk_traced(&vm, &c, 0x400123, 0, &gpa, &pf, &t), 0);
	CHECK_EQ(t.n, 3);
	CHECK(t.complete);
	c = paging32_ctx();
	CHECK_EQ(gwalk_traced(&vm, &c, 0x400abc, 0, &gpa, &pf, &t), 0);
	CHECK_EQ(t.n, 0);
	CHECK(!t.complete);
	CHECK(!gwalk_trace_holds(&t));
	c.cr0 = CR0_PE;
	CHECK_EQ(gwalk_traced(&vm, &c, 0x1234, 0, &gpa, &pf, &t), 0);
	CHECK_EQ(t.n, 0);
	CHECK(t.complete);
	CHECK(gwalk_trace_holds(&t));
}

/* Bit 7 means PS only where a level can map a page (the shared descent's
 * large_levels): in a PTE it is PAT, in a PAE PDPTE it is reserved, in a
 * PML4E too. */
TEST(page_size_bit_per_level)
{
	struct guest_ctx c = long_ctx();

	set64(0x4000, 0x10000 | P | RW | US | PS); /* PTE: PAT, a 4 KiB page */
	CHECK_EQ(walk(&c, 0x400123, 0), 0);
	CHECK_EQ(gpa, 0x10123);
	c = pae_ctx();
	set64(0xb000, 0xc000 | P | RW | US | PS);
	CHECK_EQ(walk(&c, 0x400123, 0), 0);
	CHECK_EQ(gpa, 0xc123);
	set64(0x9020, 0xa000 | P | PS); /* PDPTE: no 1 GiB pages in PAE paging */
	CHECK_EQ(walk(&c, 0x400123, GW_WRITE), -EFAULT);
	CHECK_EQ(pf, PF_ERR_P | PF_ERR_RSVD | PF_ERR_W);
	c = paging32_ctx();
	set32(0x6000, 0x7000 | P | RW | US | PS); /* 32-bit PTE: PAT */
	CHECK_EQ(walk(&c, 0x400abc, 0), 0);
	CHECK_EQ(gpa, 0x7abc);
}

/* Rights accumulate through a large leaf as through a small one, and the
 * leaf's own reserved bits count only in a leaf. */
TEST(large_pages_rights_and_reserved_bits)
{
	struct guest_ctx c = long_ctx();

	/* The 1 GiB page is supervisor: no user access; NX on it stops fetches. */
	CHECK_EQ(walk(&c, 0x40000000, GW_USER), -EFAULT);
	CHECK_EQ(pf, PF_ERR_P | PF_ERR_U);
	set64(0x2000 + 8, 0x80000000 | P | PS | NX);
	CHECK_EQ(walk(&c, 0x40000000, GW_FETCH), -EFAULT);
	CHECK_EQ(pf, PF_ERR_P | PF_ERR_ID);
	CHECK_EQ(walk(&c, 0x40000000, GW_WRITE), -EFAULT); /* read-only, CR0.WP */
	CHECK_EQ(pf, PF_ERR_P | PF_ERR_W);
	/* Bit 29 is reserved in a 1 GiB page, but is address in a PDPTE that
	 * points to a page directory (here one at 0x20000000, outside RAM). */
	set64(0x2000 + 8, 0x80000000 | P | RW | PS | BIT(29));
	CHECK_EQ(walk(&c, 0x40000000, 0), -EFAULT);
	CHECK_EQ(pf, PF_ERR_P | PF_ERR_RSVD);
	set64(0x2000 + 8, 0x20000000 | P | RW);
	CHECK_EQ(walk(&c, 0x40000000, 0), -ENOENT);
	/* PAE: a 2 MiB page with the PAT bit (12) maps from its 2 MiB base. */
	c = pae_ctx();
	set64(0xa000 + 3 * 8, 0x400000 | P | RW | PS | BIT(12));
	CHECK_EQ(walk(&c, 0x654321, 0), 0);
	CHECK_EQ(gpa, 0x454321);
	/* 32-bit: the 4 MiB page with PSE-36 bits, user and writable. */
	c = paging32_ctx();
	set32(0x5000 + 3 * 4, 0x00400000 | P | RW | US | PS | (0x3 << 13));
	CHECK_EQ(walk(&c, 0xfedcba, GW_USER | GW_WRITE), 0);
	CHECK_EQ(gpa, 0x3007edcbaULL);
	/* ... and read-only in the PDE above a writable PTE. */
	set32(0x5000 + 1 * 4, 0x6000 | P | US);
	CHECK_EQ(walk(&c, 0x400abc, GW_USER | GW_WRITE), -EFAULT);
	CHECK_EQ(pf, PF_ERR_P | PF_ERR_U | PF_ERR_W);
}

/* Every PDPTE (the top-level index has 2 bits), and the last entry of a
 * 32-bit table. */
TEST(top_and_last_entries)
{
	struct guest_ctx c = pae_ctx();

	set64(0x9020 + 3 * 8, 0xe000 | P);
	set64(0xe000 + 511 * 8, 0x600000 | P | RW | PS);
	CHECK_EQ(walk(&c, 0xffeeddcc, 0), 0);
	CHECK_EQ(gpa, 0x6eddcc);
	CHECK_EQ(walk(&c, 0x1ffeeddccULL, 0), 0); /* 32-bit linear addresses */
	CHECK_EQ(gpa, 0x6eddcc);
	c = paging32_ctx();
	set32(0x5000 + 1023 * 4, 0xf000 | P | RW);
	set32(0xf000 + 1023 * 4, 0x9000 | P | RW);
	CHECK_EQ(walk(&c, 0xfffff123, GW_WRITE), 0);
	CHECK_EQ(gpa, 0x9123);
}

/* A walk that faults on a reserved bit still records the entry. */
TEST(trace_of_a_reserved_bit_fault)
{
	struct guest_ctx c = long_ctx();
	struct gwalk_trace t;

	set64(0x3000 + 2 * 8, 0x4000 | P | RW | US | NX);
	c.efer &= ~EFER_NXE;
	CHECK_EQ(gwalk_traced(&vm, &c, 0x400000, 0, &gpa, &pf, &t), -EFAULT);
	CHECK_EQ(pf, PF_ERR_P | PF_ERR_RSVD);
	CHECK_EQ(t.n, 3);
	CHECK(t.entry[2] == (const u64 *)(ram + 0x3000 + 2 * 8));
	CHECK(t.complete);
	c = pae_ctx();
	set64(0x9020, 0xa000 | P | RW); /* R/W is reserved in a PDPTE */
	CHECK_EQ(gwalk_traced(&vm, &c, 0x400000, 0, &gpa, &pf, &t), -EFAULT);
	CHECK_EQ(t.n, 1);
	CHECK_EQ(t.value[0], 0xa000 | P | RW);
}

/* Tables in a second 2 MiB chunk that is not next to the first in host
 * memory, and an entry that points past the end of RAM. */
TEST(tables_in_other_chunks)
{
	struct guest_ctx c = long_ctx();
	u8 *other = aligned_alloc(PAGE_SIZE, GMEM_CHUNK);
	u64 saved = vm.gmem.chunks[1];

	memset(other, 0, GMEM_CHUNK);
	vm.gmem.chunks[1] = (u64)(uintptr_t)other;
	/* PD[5] -> a page table at 0x201000 (chunk 1) -> a page in chunk 0. */
	set64(0x3000 + 5 * 8, 0x201000 | P | RW | US);
	memcpy(other + 0x1000, &(u64){ 0x13000 | P | RW | US }, 8);
	CHECK_EQ(walk(&c, 0xa00123, 0), 0);
	CHECK_EQ(gpa, 0x13123);
	/* An entry that points just past RAM. */
	set64(0x3000 + 6 * 8, RAM_SIZE | P | RW | US);
	CHECK_EQ(walk(&c, 0xc00000, 0), -ENOENT);
	/* RAM shrunk below the PML4: nothing is found. */
	vm.gmem.size = 0x1000;
	CHECK_EQ(walk(&c, 0x400000, 0), -ENOENT);
	vm.gmem.size = RAM_SIZE;
	/* 32-bit paging: 4-byte entries through the same look-up. PDE[5] ->
	 * a page table at 0x202000 (chunk 1), its last entry -> 0x14000. */
	c = paging32_ctx(); /* resets RAM, chunk 1 included */
	vm.gmem.chunks[1] = (u64)(uintptr_t)other;
	set32(0x5000 + 5 * 4, 0x202000 | P | RW);
	memcpy(other + 0x2000 + 1023 * 4, &(u32){ 0x14000 | P | RW }, 4);
	CHECK_EQ(walk(&c, 0x17ff456, 0), 0);
	CHECK_EQ(gpa, 0x14456);
	vm.gmem.chunks[1] = saved;
	free(other);
}

int main(void)
{
	RUN(paging_off);
	RUN(long_mode_translations);
	RUN(long_mode_not_present_each_level);
	RUN(long_mode_permissions);
	RUN(long_mode_nx_and_smep);
	RUN(long_mode_reserved_bits);
	RUN(long_mode_tables_outside_ram_and_limits);
	RUN(paging32);
	RUN(paging_pae);
	RUN(traced_walks);
	RUN(page_size_bit_per_level);
	RUN(large_pages_rights_and_reserved_bits);
	RUN(top_and_last_entries);
	RUN(trace_of_a_reserved_bit_fault);
	RUN(tables_in_other_chunks);
	free(ram);
	return unit_done();
}
