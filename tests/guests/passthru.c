/*
 * passthru: a PCI function of the machine passed through (pci=, docs/
 * passthrough.md), seen from inside the VM. The function is QEMU's "edu"
 * device (-device edu: vendor 1234, device 11e8, one 1 MiB memory BAR with
 * an identification register at 0x00, a liveness register at 0x04 that
 * reads back inverted, a factorial unit at 0x08/0x20, and an interrupt raise
 * register at 0x60 and acknowledge at 0x64, status at 0x24; one MSI).
 *
 * Checks: the function is at slot 16 of bus 0 with the real IDs; writes to
 * read-only and hidden registers change nothing; the capability list holds
 * only MSI/MSI-X; BAR 0 sizes to 1 MiB, works where utsuwa placed it and
 * again where the guest moves it (and no longer at the old place); memory
 * decoding off hides it; MSI with the guest's vector arrives when the device
 * raises its interrupt, and nothing arrives with MSI off. Then the guest
 * resets its VM (port 0xCF9); the second boot finds the function reset: its
 * BAR back at the first boot's place, MSI off, and all of it working again.
 * arg=1: the same for an e1000e's MSI-X instead (its table and PBA trapped).
 * arg=2: says whether it sees the edu, then idles (tests/guests/passthru-test.sh).
 * arg=3: DMA through the IOMMU: edu's engine copies a page of the VM's RAM
 *   into the device and back to another page, by guest-physical addresses
 *   (the VM's IOMMU domain translates them); then it writes its buffer to
 *   addresses outside the VM's RAM (16 MiB and up), which must be refused
 *   (the VM is stopped where the IOMMU names the device, or runs on where it
 *   logs nothing: QEMU's amd-iommu).
 * arg=4: the canary beside it: fills 8 MiB of its RAM with a pattern, waits
 *   3 s and checks every word (no edu needed).
 * Exit: the number of failures.
 */
#include "guest.h"
#include "lapic.h"

#define EDU_VENDOR 0x1234
#define EDU_DEVICE 0x11e8
#define EDU_ID 0x00
#define EDU_LIVE 0x04
#define EDU_FACT 0x08
#define EDU_STATUS 0x20
#define EDU_IRQ_STATUS 0x24
#define EDU_IRQ_RAISE 0x60
#define EDU_IRQ_ACK 0x64
#define EDU_BAR_SIZE 0x100000u
#define MOVED_BAR 0xd8000000u
#define PT_SLOT 16
#define CMOS_MARK 0x50  /* general-purpose CMOS RAM: 1 after the first boot */
#define CMOS_FAILS 0x51 /* the first boot's failures */
#define CMOS_BAR 0x52   /* and 0x53: bits 31:16 of BAR 0 at power-on */
#define RAM_SPOT 0xc00000u /* 12 MiB: in the VM's 16 MiB, away from code and stack */

static u8 slot;

static u32 cfg_read32(u8 reg)
{
	outl(0xcf8, 0x80000000u | (u32)slot << 11 | (reg & 0xfc));
	return inl(0xcfc);
}

static u16 cfg_read16(u8 reg)
{
	return (u16)(cfg_read32(reg) >> 8 * (reg & 2));
}

static u8 cfg_read8(u8 reg)
{
	return (u8)(cfg_read32(reg) >> 8 * (reg & 3));
}

static void cfg_write32(u8 reg, u32 v)
{
	outl(0xcf8, 0x80000000u | (u32)slot << 11 | (reg & 0xfc));
	outl(0xcfc, v);
}

static void cfg_write16(u8 reg, u16 v)
{
	outl(0xcf8, 0x80000000u | (u32)slot << 11 | (reg & 0xfc));
	outw(0xcfc + (reg & 2), v);
}

static bool find(u16 vendor, u16 device)
{
	for (unsigned s = 0; s < 32; s++) {
		slot = (u8)s;
		if (cfg_read32(0) == ((u32)device << 16 | vendor))
			return true;
	}
	return false;
}

static bool edu_works(ulong bar, const char *where)
{
	bool ok = check_eq(where, mmio_read32(bar + EDU_ID) & 0xff, 0xed);

	mmio_write32(bar + EDU_LIVE, 0x12345678);
	ok = check_eq("edu_liveness", mmio_read32(bar + EDU_LIVE), ~0x12345678u) && ok;
	mmio_write32(bar + EDU_FACT, 5);
	for (u64 end = hc_time_ns() + 1000000000ull;
	     (mmio_read32(bar + EDU_STATUS) & 1) && hc_time_ns() < end;)
		cpu_relax();
	return check_eq("edu_factorial_5", mmio_read32(bar + EDU_FACT), 120) && ok;
}

static void test_header(void)
{
	u32 id = cfg_read32(0);

	check_eq("pt_slot", slot, PT_SLOT);
	check_eq("pt_class_rev", cfg_read32(0x08) >> 8, 0x00ff00);
	check_eq("pt_header_type", cfg_read8(0x0e) & 0x7f, 0);
	check_eq("pt_int_pin", cfg_read8(0x3d), 0);
	/* Read-only and unvirtualized bytes ignore writes. */
	cfg_write32(0x00, 0);
	check_eq("pt_id_read_only", cfg_read32(0), id);
	cfg_write32(0xf0, 0xdeadbeef);
	check_eq("pt_unvirtualized_dropped", cfg_read32(0xf0), 0);
	cfg_write32(0x30, 0xffffffff);
	check_eq("pt_no_rom", cfg_read32(0x30), 0);
}

static u8 test_caps(void)
{
	u8 msi = 0, n = 0;

	check(cfg_read16(0x06) & 0x10, "pt_cap_list", "status %#x", cfg_read16(0x06));
	for (u8 p = cfg_read8(0x34) & 0xfc; p && n < 48; p = cfg_read8(p + 1) & 0xfc, n++) {
		u8 id = cfg_read8(p);

		check(id == 0x05 || id == 0x11, "pt_cap_only_msi", "capability %#x at %#x", id, p);
		if (id == 0x05)
			msi = p;
	}
	check(msi, "pt_msi_cap", "no MSI capability");
	return msi;
}

static ulong test_bar(void)
{
	u32 orig = cfg_read32(0x10), size;
	ulong bar = orig & ~0xfu;

	check(!(orig & 1), "pt_bar0_memory", "BAR0 %#x", orig);
	check(bar >= 0xc0000000u, "pt_bar0_placed", "BAR0 %#x", orig);
	cfg_write32(0x10, 0xffffffff);
	size = ~(cfg_read32(0x10) & ~0xfu) + 1;
	check_eq("pt_bar0_size", size, EDU_BAR_SIZE);
	cfg_write32(0x10, orig);
	check_eq("pt_bar0_restored", cfg_read32(0x10), orig);
	cfg_write16(0x04, 0x0006); /* memory space, bus master (MSI is a write) */
	edu_works(bar, "edu_id_at_firmware_place");

	cfg_write32(0x10, MOVED_BAR);
	check_eq("pt_bar0_moved", cfg_read32(0x10) & ~0xfu, MOVED_BAR);
	edu_works(MOVED_BAR, "edu_id_after_move");
	check_eq("old_place_empty", mmio_read32(bar + EDU_ID), 0xffffffff);

	/* Over the guest's own RAM: RAM stays, and stays when the BAR leaves. */
	mmio_write32(RAM_SPOT, 0x600dcafe);
	cfg_write32(0x10, RAM_SPOT);
	check_eq("bar_over_ram_keeps_ram", mmio_read32(RAM_SPOT), 0x600dcafe);
	cfg_write32(0x10, MOVED_BAR);
	check_eq("ram_after_bar_left", mmio_read32(RAM_SPOT), 0x600dcafe);
	check_eq("edu_back", mmio_read32(MOVED_BAR + EDU_ID) & 0xff, 0xed);

	cfg_write16(0x04, 0x0004);
	check_eq("decode_off_hides", mmio_read32(MOVED_BAR + EDU_ID), 0xffffffff);
	cfg_write16(0x04, 0x0006);
	check_eq("decode_on_again", mmio_read32(MOVED_BAR + EDU_ID) & 0xff, 0xed);
	return MOVED_BAR;
}

static bool irq_arrives(ulong bar, u64 ms)
{
	u32 before = timer_count;

	mmio_write32(bar + EDU_IRQ_RAISE, 1);
	irq_enable();
	for (u64 end = hc_time_ns() + ms * 1000000ull; timer_count == before && hc_time_ns() < end;)
		cpu_relax();
	irq_disable();
	mmio_write32(bar + EDU_IRQ_ACK, 1);
	if (timer_count != before)
		mmio_write32(LAPIC + APIC_EOI, 0);
	return timer_count != before;
}

static void test_msi(ulong bar, u8 msi)
{
	u16 ctrl = cfg_read16(msi + 2);
	u8 data = ctrl & 0x80 ? 12 : 8;
	u32 apic_id = mmio_read32(LAPIC + APIC_ID) >> 24;

	check_eq("msi_one_message", (ctrl >> 1) & 7, 0);
	mmio_write32(LAPIC + APIC_SVR, 0x1ff);
	/* Fixed delivery, edge, physical destination: this vCPU (SDM vol. 3A, 11.11). */
	cfg_write32(msi + 4, 0xfee00000u | apic_id << 12);
	if (ctrl & 0x80)
		cfg_write32(msi + 8, 0);
	cfg_write16(msi + data, TIMER_VECTOR);
	check_eq("msi_address_kept", cfg_read32(msi + 4), 0xfee00000u | apic_id << 12);
	check_eq("msi_data_kept", cfg_read16(msi + data), TIMER_VECTOR);

	check(!irq_arrives(bar, 50), "msi_off_nothing", "an interrupt with MSI disabled");
	cfg_write16(msi + 2, ctrl | 1);
	check(irq_arrives(bar, 2000), "msi_vector_delivered",
	      "no interrupt on vector %#x after the raise", TIMER_VECTOR);
	check(irq_arrives(bar, 2000), "msi_again", "no second interrupt");
	cfg_write16(msi + 2, ctrl & ~1);
	check(!irq_arrives(bar, 50), "msi_disabled_again", "an interrupt with MSI disabled");
}

/* ---- arg=1: QEMU's e1000e (82574L) and its MSI-X ---- */

#define E1000E_DEVICE 0x10d3
#define E1000_STATUS 0x0008
#define E1000_ICR 0x00c0
#define E1000_ICS 0x00c8
#define E1000_IMS 0x00d0
#define E1000_IMC 0x00d8
#define E1000_IVAR 0x00e4
#define E1000_RAL0 0x5400
#define E1000_ICR_RXQ0 (1u << 20)
#define IVAR_RXQ0_VEC0 0x8 /* 82574L IVAR: RxQ0 to MSI-X vector 0, valid (bit 3) */

static ulong mem_bar(u8 n)
{
	u32 lo = cfg_read32(0x10 + 4 * n);
	ulong hi = (lo & 6) == 4 ? cfg_read32(0x14 + 4 * n) : 0;

	return hi << 32 | (lo & ~0xfu);
}

static bool msix_arrives(ulong regs, u64 ms)
{
	u32 before = timer_count;

	mmio_write32(regs + E1000_ICS, E1000_ICR_RXQ0);
	irq_enable();
	for (u64 end = hc_time_ns() + ms * 1000000ull; timer_count == before && hc_time_ns() < end;)
		cpu_relax();
	irq_disable();
	/* With MSI-X and causes enabled, reading ICR does not clear it (so
	 * QEMU's model, after the 82574L's ICR description): write the cause
	 * back, or the device sends no more. */
	mmio_write32(regs + E1000_ICR, E1000_ICR_RXQ0);
	if (timer_count != before)
		mmio_write32(LAPIC + APIC_EOI, 0);
	return timer_count != before;
}

static int e1000e_main(void)
{
	u8 msix = 0, n = 0;
	ulong regs, table, pba;
	u32 apic_id = mmio_read32(LAPIC + APIC_ID) >> 24, t;
	u16 ctrl;

	if (!check(find(0x8086, E1000E_DEVICE), "e1000e_found", "no 8086:%04x on bus 0",
		   E1000E_DEVICE))
		return 1;
	check_eq("e1000e_slot", slot, PT_SLOT);
	for (u8 p = cfg_read8(0x34) & 0xfc; p && n < 48; p = cfg_read8(p + 1) & 0xfc, n++) {
		u8 id = cfg_read8(p);

		/* PM, MSI and PCI Express are hidden: MSI-X alone. */
		check(id == 0x11, "e1000e_cap_only_msix", "capability %#x at %#x", id, p);
		if (id == 0x11)
			msix = p;
	}
	if (!check(msix, "e1000e_msix_cap", "no MSI-X capability"))
		return (int)failures;
	cfg_write16(0x04, 0x0006);
	regs = mem_bar(0);
	check(mmio_read32(regs + E1000_STATUS) != 0xffffffff, "e1000e_status_reads", "STATUS %#x",
	      mmio_read32(regs + E1000_STATUS));
	mmio_write32(regs + E1000_RAL0, 0x12345678);
	check_eq("e1000e_ral0", mmio_read32(regs + E1000_RAL0), 0x12345678);

	ctrl = cfg_read16(msix + 2);
	t = cfg_read32(msix + 4);
	table = mem_bar(t & 7) + (t & ~7u);
	t = cfg_read32(msix + 8);
	pba = mem_bar(t & 7) + (t & ~7u);
	printf("e1000e: MSI-X %u entries, table %#lx, PBA %#lx\n", (ctrl & 0x7ff) + 1, table, pba);
	check_eq("msix_entry_starts_masked", mmio_read32(table + 12) & 1, 1);
	mmio_write32(LAPIC + APIC_SVR, 0x1ff);
	mmio_write32(table + 0, 0xfee00000u | apic_id << 12);
	mmio_write32(table + 4, 0);
	mmio_write32(table + 8, TIMER_VECTOR);
	mmio_write32(table + 12, 0);
	check_eq("msix_entry_kept", mmio_read32(table + 8), TIMER_VECTOR);
	cfg_write16(msix + 2, 0x8000 | (ctrl & 0x7ff));
	mmio_write32(regs + E1000_IVAR, IVAR_RXQ0_VEC0);
	mmio_write32(regs + E1000_IMS, E1000_ICR_RXQ0);

	check(msix_arrives(regs, 2000), "msix_vector_delivered", "no interrupt on vector %#x",
	      TIMER_VECTOR);
	/* Masked: held back as pending in the PBA, sent when unmasked. */
	mmio_write32(table + 12, 1);
	check(!msix_arrives(regs, 50), "msix_masked_nothing", "an interrupt while masked");
	check_eq("msix_pba_pending", mmio_read32(pba) & 1, 1);
	{
		u32 before = timer_count;

		mmio_write32(table + 12, 0);
		irq_enable();
		for (u64 end = hc_time_ns() + 2000000000ull;
		     timer_count == before && hc_time_ns() < end;)
			cpu_relax();
		irq_disable();
		check(timer_count != before, "msix_pending_sent_on_unmask", "nothing on unmask");
		if (timer_count != before)
			mmio_write32(LAPIC + APIC_EOI, 0);
	}
	check_eq("msix_pba_clear", mmio_read32(pba) & 1, 0);
	/* Function mask likewise. */
	cfg_write16(msix + 2, 0xc000 | (ctrl & 0x7ff));
	check(!msix_arrives(regs, 50), "msix_function_masked", "an interrupt while masked");
	cfg_write16(msix + 2, 0x8000 | (ctrl & 0x7ff));
	check(msix_arrives(regs, 2000), "msix_after_function_mask",
	      "no interrupt after the function mask");
	mmio_write32(regs + E1000_IMC, ~0u);
	return (int)failures;
}

/* edu's DMA engine (QEMU hw/misc/edu.c): source, destination, count, and a
 * command register whose bit 0 starts it (and reads 1 while it runs) and
 * bit 1 says "from the device's buffer to RAM". The buffer is at 0x40000 in
 * the device's own addresses; edu refuses addresses above 2^28 itself. */
#define EDU_DMA_SRC 0x80
#define EDU_DMA_DST 0x88
#define EDU_DMA_CNT 0x90
#define EDU_DMA_CMD 0x98
#define EDU_DMA_START 1u
#define EDU_DMA_TO_RAM 2u
#define EDU_BUF 0x40000u
/* Less than its 4 KiB buffer: QEMU 7.2's edu takes a whole-buffer DMA for
 * out of bounds (an off-by-one in edu_check_range) and stops the machine. */
#define EDU_DMA_LEN 2048u

static u8 dma_src[4096] __attribute__((aligned(4096)));
static u8 dma_dst[4096] __attribute__((aligned(4096)));

static bool edu_dma(ulong bar, u64 src, u64 dst, u32 cmd)
{
	mmio_write32(bar + EDU_DMA_SRC, (u32)src);
	mmio_write32(bar + EDU_DMA_SRC + 4, (u32)(src >> 32));
	mmio_write32(bar + EDU_DMA_DST, (u32)dst);
	mmio_write32(bar + EDU_DMA_DST + 4, (u32)(dst >> 32));
	mmio_write32(bar + EDU_DMA_CNT, EDU_DMA_LEN);
	mmio_write32(bar + EDU_DMA_CMD, EDU_DMA_START | cmd);
	for (u64 end = hc_time_ns() + 2000000000ull; hc_time_ns() < end;)
		if (!(mmio_read32(bar + EDU_DMA_CMD) & EDU_DMA_START))
			return true;
	return false;
}

static int dma_main(void)
{
	ulong bar;
	bool same = true;

	if (!check(find(EDU_VENDOR, EDU_DEVICE), "pt_found", "no edu on bus 0"))
		return 1;
	bar = cfg_read32(0x10) & ~0xfu;
	cfg_write16(0x04, 0x0006); /* memory decoding and bus mastering */
	for (unsigned i = 0; i < sizeof(dma_src); i++) {
		dma_src[i] = (u8)(i * 7 + 3);
		dma_dst[i] = 0;
	}
	/* The guest is identity-mapped: these addresses are guest-physical. */
	check(edu_dma(bar, (ulong)dma_src, EDU_BUF, 0), "edu_dma_to_device", "the DMA never ended");
	check(edu_dma(bar, EDU_BUF, (ulong)dma_dst, EDU_DMA_TO_RAM), "edu_dma_to_ram",
	      "the DMA never ended");
	for (unsigned i = 0; i < sizeof(dma_dst); i++)
		same &= dma_dst[i] == (i < EDU_DMA_LEN ? dma_src[i] : 0);
	check(same, "edu_dma_roundtrip", "the page that came back differs");
	/* Past its RAM (16 MiB): the machine's memory there is the hypervisor's
	 * or another VM's. The IOMMU must refuse each. */
	printf("passthru: stray DMA to 0x1000000, 0x4000000, 0xff00000\n");
	edu_dma(bar, EDU_BUF, 0x1000000, EDU_DMA_TO_RAM);
	edu_dma(bar, EDU_BUF, 0x4000000, EDU_DMA_TO_RAM);
	edu_dma(bar, EDU_BUF, 0xff00000, EDU_DMA_TO_RAM);
	delay_ns(500000000); /* a unit that names the device stops this VM meanwhile */
	printf("passthru: still running after the stray DMA\n");
	return (int)failures;
}

#define CANARY_WORDS (8u << 20) / 8
static u64 canary[CANARY_WORDS];

static int canary_main(void)
{
	u64 bad = 0;

	for (u64 i = 0; i < CANARY_WORDS; i++)
		canary[i] = i * 0x9e3779b97f4a7c15ull;
	delay_ns(3000000000ull);
	for (u64 i = 0; i < CANARY_WORDS; i++)
		bad += canary[i] != i * 0x9e3779b97f4a7c15ull;
	check(!bad, "canary_memory_intact", "%llu of %u words changed", (unsigned long long)bad,
	      CANARY_WORDS);
	return (int)failures;
}

/* After the VM's reset (port 0xCF9): the function reset too, its BAR back
 * where "firmware" put it, MSI off, and everything working again. */
static void test_after_reset(u8 msi)
{
	ulong bar = cfg_read32(0x10) & ~0xfu;

	check_eq("first_boot_failures", cmos_read(CMOS_FAILS), 0);
	check_eq("reset_bar_back", bar, (ulong)cmos_read(CMOS_BAR) << 24 | (ulong)cmos_read(CMOS_BAR + 1) << 16);
	check_eq("reset_command", cfg_read16(0x04), 0x0002);
	check_eq("reset_msi_off", cfg_read16(msi + 2) & 1, 0);
	check_eq("reset_old_place_empty", mmio_read32(MOVED_BAR + EDU_ID), 0xffffffff);
	cfg_write16(0x04, 0x0006);
	edu_works(bar, "edu_id_after_reset");
	test_msi(bar, msi);
}

int main(ulong arg)
{
	ulong bar;
	u8 msi;

	if (arg == 1)
		return e1000e_main();
	if (arg == 3)
		return dma_main();
	if (arg == 4)
		return canary_main();
	if (arg == 2) { /* for the monitor's tests: say what it sees, then idle */
		printf("passthru: edu %s\n", find(EDU_VENDOR, EDU_DEVICE) ? "found" : "missing");
		for (;;)
			delay_ns(1000000000ull);
	}
	if (!check(find(EDU_VENDOR, EDU_DEVICE), "pt_found", "no %04x:%04x on bus 0", EDU_VENDOR,
		   EDU_DEVICE))
		return 1;
	if (cmos_read(CMOS_MARK) == 1) {
		cmos_write(CMOS_MARK, 2);
		msi = test_caps();
		if (msi)
			test_after_reset(msi);
		return (int)failures;
	}
	bar = cfg_read32(0x10) & ~0xfu;
	cmos_write(CMOS_BAR, (u8)(bar >> 24));
	cmos_write(CMOS_BAR + 1, (u8)(bar >> 16));
	test_header();
	msi = test_caps();
	bar = test_bar();
	if (msi)
		test_msi(bar, msi);
	/* Leave state a reset must clear: BAR moved, MSI on. */
	if (msi)
		cfg_write16(msi + 2, cfg_read16(msi + 2) | 1);
	cmos_write(CMOS_FAILS, (u8)failures);
	cmos_write(CMOS_MARK, 1);
	printf("passthru: first boot; resetting through port 0xcf9\n");
	outb(0xcf9, 0x02);
	outb(0xcf9, 0x06);
	delay_ns(1000000000ull);
	check(false, "reset_happens", "still running 1 s after the reset");
	return (int)failures;
}
