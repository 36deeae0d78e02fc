/*
 * A passed-through function's virtual configuration space
 * (devices/pci_passthru.c) over a fake real function: IDs read through,
 * BAR sizing and moves, the command register forwarded, the capability
 * list filtered, the MSI-X table and PBA emulated (masking, pending), MSI,
 * and the guest's messages decoded as the APIC bus will.
 */
#include "unit.h"
#include "devices/pci_passthru.h"

#include <string.h>
#include "devices/apic_bus.h"
#include "hv/mm.h"

void *kzalloc(size_t size)
{
	return calloc(1, size);
}

void kfree(void *p)
{
	free(p);
}

/* ---- the fake real function ---- */

static u8 real[256];
static unsigned real_writes; /* configuration writes other than the command register */
static struct {
	unsigned bar;
	u64 old_gpa, new_gpa;
} moves[16];
static unsigned nr_moves;
static struct {
	u64 addr;
	u32 data;
} sent[16];
static unsigned nr_sent;
static unsigned bar_reads, bar_writes;

static void rput(unsigned reg, unsigned size, u32 v)
{
	for (unsigned i = 0; i < size; i++)
		real[reg + i] = (u8)(v >> 8 * i);
}

static u32 rget(unsigned reg, unsigned size)
{
	u32 v = 0;

	for (unsigned i = 0; i < size; i++)
		v |= (u32)real[reg + i] << 8 * i;
	return v;
}

static u32 f_cfg_read(void *ctx, u8 reg, u8 size)
{
	return rget(reg, size);
}

static void f_cfg_write(void *ctx, u8 reg, u8 size, u32 val)
{
	if (reg != PCI_COMMAND || size != 2)
		real_writes++;
	rput(reg, size, val);
}

static void f_bar_moved(void *ctx, unsigned bar, u64 old_gpa, u64 new_gpa)
{
	if (nr_moves < 16)
		moves[nr_moves++] = (typeof(moves[0])){ bar, old_gpa, new_gpa };
}

static u64 f_bar_read(void *ctx, unsigned bar, u64 off, u8 size)
{
	bar_reads++;
	return 0x5a;
}

static void f_bar_write(void *ctx, unsigned bar, u64 off, u8 size, u64 val)
{
	bar_writes++;
}

static void f_send(void *ctx, u64 addr, u32 data)
{
	if (nr_sent < 16)
		sent[nr_sent++] = (typeof(sent[0])){ addr, data };
}

static const struct pt_host_ops fake_ops = {
	.cfg_read = f_cfg_read, .cfg_write = f_cfg_write, .bar_moved = f_bar_moved,
	.bar_read = f_bar_read, .bar_write = f_bar_write, .send = f_send,
};

#define MSI_AT 0x50
#define MSIX_AT 0xb0

/*
 * 8086:10d3 class 020000 rev 3, subsystem 8086:a01f; capabilities PM (0x40)
 * -> MSI 64-bit with per-vector masking (0x50) -> PCI Express (0x70) ->
 * MSI-X, 16 entries, table at BAR 2 + 0x2000, PBA at BAR 2 + 0x3000 (0xb0)
 * -> vendor-specific, 16 bytes (0xd0), as virtio 1.x describes its
 * registers; with_msix false leaves MSI-X out of the list.
 */
static void fake_function(bool with_msix)
{
	memset(real, 0, sizeof(real));
	rput(0x00, 4, 0x10d38086);
	rput(0x08, 4, 0x02000003);
	rput(0x2c, 4, 0xa01f8086);
	rput(PCI_STATUS, 2, PT_STATUS_CAP_LIST);
	rput(0x34, 1, 0x40);
	rput(0x40, 2, 0x5000 | PT_CAP_ID_PM);
	rput(0x50, 2, 0x7000 | PT_CAP_ID_MSI);
	rput(0x52, 2, PT_MSI_CTRL_64BIT | PT_MSI_CTRL_PVM | 0x6 /* 8 messages */);
	rput(0x70, 2, (with_msix ? 0xb000 : 0xd000) | PT_CAP_ID_EXP);
	rput(0xb0, 2, 0xd000 | PT_CAP_ID_MSIX);
	rput(0xb2, 2, 15);
	rput(0xb4, 4, 0x2000 | 2);
	rput(0xb8, 4, 0x3000 | 2);
	rput(0xd0, 4, 0x00100000 | 0x09); /* length 0x10 in byte 2 */
	rput(0xd4, 4, 0x12345678);
	real_writes = nr_moves = nr_sent = bar_reads = bar_writes = 0;
}

static struct pci_passthru pt;

/* BAR 0: 128 KiB 32-bit; BAR 2-3: 16 KiB 64-bit prefetchable; BAR 4 (I/O) not given. */
static void setup(bool with_msix)
{
	struct pt_bar bars[PCI_NR_BARS] = {
		[0] = { .size = 0x20000, .place = 0xd0000000 },
		[2] = { .size = 0x4000, .flags = PCI_BAR_MEM64 | PCI_BAR_PREFETCH, .place = 0xd0020000 },
	};

	fake_function(with_msix);
	CHECK_EQ(pci_passthru_init(&pt, &fake_ops, NULL, bars), 0);
}

static u32 vr(u8 reg, u8 size)
{
	return pci_passthru_cfg_ops.read(&pt, reg, size);
}

static void vw(u8 reg, u8 size, u32 v)
{
	pci_passthru_cfg_ops.write(&pt, reg, size, v);
}

TEST(ids_read_through_and_read_only)
{
	setup(true);
	CHECK_EQ(vr(0x00, 4), 0x10d38086);
	CHECK_EQ(vr(0x08, 4), 0x02000003);
	CHECK_EQ(vr(0x2c, 4), 0xa01f8086);
	CHECK_EQ(vr(PCI_HEADER_TYPE, 1), 0);
	CHECK_EQ(vr(PCI_INTERRUPT_PIN, 1), 0);
	vw(0x00, 4, 0);
	vw(0x08, 4, 0);
	vw(0x2c, 4, 0);
	vw(0x30, 4, 0xffffffff); /* no expansion ROM */
	CHECK_EQ(vr(0x00, 4), 0x10d38086);
	CHECK_EQ(vr(0x2c, 4), 0xa01f8086);
	CHECK_EQ(vr(0x30, 4), 0);
	CHECK_EQ(real_writes, 0);
}

TEST(bar_sizing_and_moves)
{
	setup(true);
	/* Placed and decoding at power-on, as firmware leaves them. */
	CHECK_EQ(vr(0x10, 4), 0xd0000000);
	CHECK_EQ(vr(0x18, 4), 0xd0020000 | PCI_BAR_MEM64 | PCI_BAR_PREFETCH);
	CHECK_EQ(vr(0x1c, 4), 0);
	CHECK_EQ(nr_moves, 2);
	CHECK_EQ(moves[0].new_gpa, 0xd0000000);
	CHECK_EQ(moves[1].bar, 2);

	/* Sizing with decoding off (what an OS does): nothing mapped. */
	vw(PCI_COMMAND, 2, 0);
	CHECK_EQ(nr_moves, 4);
	CHECK_EQ(moves[2].new_gpa, 0);
	vw(0x10, 4, 0xffffffff);
	CHECK_EQ(vr(0x10, 4), 0xfffe0000);
	vw(0x18, 4, 0xffffffff);
	vw(0x1c, 4, 0xffffffff);
	CHECK_EQ(vr(0x18, 4), 0xffffc000 | PCI_BAR_MEM64 | PCI_BAR_PREFETCH);
	CHECK_EQ(vr(0x1c, 4), 0xffffffff);
	vw(0x20, 4, 0xffffffff); /* the I/O BAR is not offered */
	CHECK_EQ(vr(0x20, 4), 0);
	CHECK_EQ(nr_moves, 4);

	/* Placed above 4 GiB and decoding again: mapped there. */
	vw(0x10, 4, 0xe0000000);
	vw(0x18, 4, 0x00000000);
	vw(0x1c, 4, 0x1);
	vw(PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	CHECK_EQ(nr_moves, 6);
	CHECK_EQ(moves[4].new_gpa, 0xe0000000);
	CHECK_EQ(moves[5].new_gpa, 0x100000000ULL);
	/* Moved while decoding: unmapped from the old place. */
	vw(0x10, 4, 0xe0100000);
	CHECK_EQ(nr_moves, 7);
	CHECK_EQ(moves[6].old_gpa, 0xe0000000);
	CHECK_EQ(moves[6].new_gpa, 0xe0100000);
	/* The real BARs never change. */
	CHECK_EQ(real_writes, 0);
	pci_passthru_unmap(&pt);
	CHECK_EQ(nr_moves, 9);
}

TEST(command_forwarded)
{
	setup(true);
	CHECK_EQ(rget(PCI_COMMAND, 2), PCI_COMMAND_MEMORY | PT_COMMAND_INTX_DISABLE);
	vw(PCI_COMMAND, 2, 0xffff);
	/* I/O space never, INTx# always off on the real function. */
	CHECK_EQ(rget(PCI_COMMAND, 2), PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
					       PT_COMMAND_INTX_DISABLE);
	CHECK_EQ(vr(PCI_COMMAND, 2), PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
					     PT_COMMAND_INTX_DISABLE);
	vw(PCI_COMMAND, 2, 0);
	CHECK_EQ(rget(PCI_COMMAND, 2), PT_COMMAND_INTX_DISABLE);
}

TEST(capabilities_filtered)
{
	unsigned n = 0;

	setup(true);
	CHECK(vr(PCI_STATUS, 2) & PT_STATUS_CAP_LIST);
	/* MSI-X (MSI is not offered beside it), then the vendor-specific one,
	 * read-only; PM and PCIe hidden. */
	for (u8 p = (u8)vr(0x34, 1); p && n < 10; p = (u8)vr(p + 1, 1), n++)
		CHECK_EQ(vr(p, 1), n == 0 ? PT_CAP_ID_MSIX : PT_CAP_ID_VNDR);
	CHECK_EQ(n, 2);
	CHECK_EQ(vr(0x34, 1), MSIX_AT);
	CHECK_EQ(vr(MSIX_AT + 1, 1), 0xd0);
	CHECK_EQ(vr(0x40, 4), 0);
	CHECK_EQ(vr(MSI_AT, 4), 0);
	CHECK_EQ(vr(0x70, 4), 0);
	CHECK_EQ(vr(0xd2, 1), 0x10);
	CHECK_EQ(vr(0xd4, 4), 0x12345678);
	vw(0xd4, 4, 0);
	CHECK_EQ(vr(0xd4, 4), 0x12345678);
	CHECK_EQ(real_writes, 0);
	/* Table size capped; table and PBA where the real ones are. */
	CHECK_EQ(vr(MSIX_AT + 2, 2), PT_MAX_VECTORS - 1);
	CHECK_EQ(vr(MSIX_AT + 4, 4), 0x2002);
	CHECK_EQ(vr(MSIX_AT + 8, 4), 0x3002);
	vw(MSIX_AT + 4, 4, 0);
	CHECK_EQ(vr(MSIX_AT + 4, 4), 0x2002);

	setup(false);
	n = 0;
	for (u8 p = (u8)vr(0x34, 1); p && n < 10; p = (u8)vr(p + 1, 1), n++)
		CHECK_EQ(vr(p, 1), n == 0 ? PT_CAP_ID_MSI : PT_CAP_ID_VNDR);
	CHECK_EQ(n, 2);
	/* A vendor capability whose length runs past the space is hidden. */
	fake_function(false);
	rput(0xd0, 4, 0x00400000 | 0x09);
	CHECK_EQ(pci_passthru_init(&pt, &fake_ops, NULL, (struct pt_bar[PCI_NR_BARS]){
			 [0] = { .size = 0x20000, .place = 0xd0000000 } }), 0);
	CHECK_EQ(vr(0xd0, 4), 0);
	setup(false);
	/* One message, no per-vector masking, 64-bit as the real one. */
	CHECK_EQ(vr(MSI_AT + 2, 2), PT_MSI_CTRL_64BIT);
	vw(MSI_AT + 2, 2, 0xffff);
	CHECK_EQ(vr(MSI_AT + 2, 2), PT_MSI_CTRL_64BIT | PT_MSI_CTRL_ENABLE);
}

static void msix_entry(unsigned e, u32 addr, u32 data, u32 ctrl)
{
	u64 t = 0x2000 + 16 * e;

	pci_passthru_trap_write(&pt, 2, t, 4, addr);
	pci_passthru_trap_write(&pt, 2, t + 4, 4, 0);
	pci_passthru_trap_write(&pt, 2, t + 8, 4, data);
	pci_passthru_trap_write(&pt, 2, t + 12, 4, ctrl);
}

TEST(msix_table_emulated)
{
	u64 off = 0, len = 0;
	struct apic_msg m;

	setup(true);
	CHECK(pci_passthru_trap_range(&pt, 2, &off, &len));
	CHECK_EQ(off, 0x2000);
	CHECK_EQ(len, 0x2000);
	CHECK(!pci_passthru_trap_range(&pt, 0, &off, &len));
	/* Entries start masked. */
	CHECK_EQ(pci_passthru_trap_read(&pt, 2, 0x200c, 4), PT_MSIX_ENTRY_MASKED);

	/* Off: dropped, not pending. */
	pci_passthru_irq(&pt, 1);
	CHECK_EQ(nr_sent, 0);
	CHECK_EQ(pci_passthru_trap_read(&pt, 2, 0x3000, 8), 0);

	vw(MSIX_AT + 2, 2, PT_MSIX_CTRL_ENABLE);
	msix_entry(1, 0xfee03000, 0x4041 & 0xff, 0);
	CHECK_EQ(pci_passthru_trap_read(&pt, 2, 0x2010, 4), 0xfee03000);
	CHECK_EQ(pci_passthru_trap_read(&pt, 2, 0x2010, 8), 0xfee03000);
	pci_passthru_irq(&pt, 1);
	CHECK_EQ(nr_sent, 1);
	CHECK_EQ(sent[0].addr, 0xfee03000);
	CHECK_EQ(apic_msi_to_msg(sent[0].addr, sent[0].data, &m), 0);
	CHECK_EQ(m.dest, 3);
	CHECK_EQ(m.vector, 0x41);
	CHECK(!m.logical);

	/* Masked entry: pending in the PBA, sent on unmask. */
	pci_passthru_trap_write(&pt, 2, 0x201c, 4, PT_MSIX_ENTRY_MASKED);
	pci_passthru_irq(&pt, 1);
	CHECK_EQ(nr_sent, 1);
	CHECK_EQ(pci_passthru_trap_read(&pt, 2, 0x3000, 8), 2);
	CHECK_EQ(pci_passthru_trap_read(&pt, 2, 0x3000, 1), 2);
	CHECK_EQ(pci_passthru_trap_read(&pt, 2, 0x3004, 4), 0);
	pci_passthru_trap_write(&pt, 2, 0x201c, 4, 0);
	CHECK_EQ(nr_sent, 2);
	CHECK_EQ(pci_passthru_trap_read(&pt, 2, 0x3000, 8), 0);

	/* Function mask likewise, released by the configuration write. */
	vw(MSIX_AT + 2, 2, PT_MSIX_CTRL_ENABLE | PT_MSIX_CTRL_MASKALL);
	pci_passthru_irq(&pt, 1);
	CHECK_EQ(nr_sent, 2);
	vw(MSIX_AT + 2, 2, PT_MSIX_CTRL_ENABLE);
	CHECK_EQ(nr_sent, 3);

	/* The PBA is read-only; entries past those offered, and the rest of
	 * the real table, are neither emulated nor reachable; other bytes of
	 * the trapped pages go to the real BAR. */
	pci_passthru_trap_write(&pt, 2, 0x3000, 8, ~0ULL);
	CHECK_EQ(pci_passthru_trap_read(&pt, 2, 0x3000, 8), 0);
	pci_passthru_trap_write(&pt, 2, 0x2000 + 16 * PT_MAX_VECTORS, 4, 0xfee00000);
	CHECK_EQ(pci_passthru_trap_read(&pt, 2, 0x2000 + 16 * PT_MAX_VECTORS, 4), 0);
	CHECK_EQ(bar_writes, 0);
	CHECK_EQ(pci_passthru_trap_read(&pt, 2, 0x2800, 4), 0x5a);
	pci_passthru_trap_write(&pt, 2, 0x2800, 4, 1);
	CHECK_EQ(bar_reads, 1);
	CHECK_EQ(bar_writes, 1);
	pci_passthru_irq(&pt, PT_MAX_VECTORS); /* no such entry */
	CHECK_EQ(nr_sent, 3);
	CHECK_EQ(real_writes, 0);
}

TEST(msi_emulated)
{
	struct apic_msg m;

	setup(false);
	vw(MSI_AT + 4, 4, 0xfee01000);
	vw(MSI_AT + 8, 4, 0);
	vw(MSI_AT + 12, 2, 0x0052);
	pci_passthru_irq(&pt, 0);
	CHECK_EQ(nr_sent, 0); /* MSI off: dropped */
	vw(MSI_AT + 2, 2, PT_MSI_CTRL_ENABLE);
	pci_passthru_irq(&pt, 0);
	CHECK_EQ(nr_sent, 1);
	CHECK_EQ(apic_msi_to_msg(sent[0].addr, sent[0].data, &m), 0);
	CHECK_EQ(m.dest, 1);
	CHECK_EQ(m.vector, 0x52);
	/* Nothing the guest wrote reached the real MSI registers. */
	CHECK_EQ(real_writes, 0);
	CHECK_EQ(rget(MSI_AT + 4, 4), 0);
	pci_passthru_irq(&pt, 1); /* MSI has one message */
	CHECK_EQ(nr_sent, 1);
}

TEST(reset)
{
	setup(true);
	vw(0x10, 4, 0xe0000000);
	vw(MSIX_AT + 2, 2, PT_MSIX_CTRL_ENABLE);
	msix_entry(0, 0xfee00000, 0x30, 0);
	pci_passthru_reset(&pt);
	CHECK_EQ(vr(0x10, 4), 0xd0000000);
	CHECK_EQ(vr(MSIX_AT + 2, 2), PT_MAX_VECTORS - 1);
	CHECK_EQ(pci_passthru_trap_read(&pt, 2, 0x200c, 4), PT_MSIX_ENTRY_MASKED);
	CHECK_EQ(pci_passthru_trap_read(&pt, 2, 0x2000, 4), 0);
	CHECK_EQ(pt.bar[0].mapped, 0xd0000000);
}

TEST(not_a_device)
{
	struct pt_bar bars[PCI_NR_BARS] = { 0 };

	fake_function(true);
	rput(PCI_HEADER_TYPE, 1, 1); /* a PCI-to-PCI bridge */
	CHECK_EQ(pci_passthru_init(&pt, &fake_ops, NULL, bars), -ENODEV);
}

int main(void)
{
	RUN(ids_read_through_and_read_only);
	RUN(bar_sizing_and_moves);
	RUN(command_forwarded);
	RUN(capabilities_filtered);
	RUN(msix_table_emulated);
	RUN(msi_emulated);
	RUN(reset);
	RUN(not_a_device);
	return unit_done();
}
