/*
 * The 82574 driver (drivers/e1000e.c) against a fake card in host memory:
 * its registers (CTRL.RST self-clearing, ICR write-1-to-clear, IMS/IMC,
 * EERD, RAL0/RAH0) and both descriptor rings, which the fake walks as the
 * card would: it completes receive descriptors from RDH up to RDT and sends
 * transmit descriptors from TDH up to TDT, only when a test says so. The
 * test plays the uplink (nic_rx, nic_rx_interrupt) and the MSI-X vector.
 */
#include "unit.h"
#include "drivers/e1000e.h"
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define PG 4096u
#define NREGS (0x20000 / 4)

#include "fake_driver_host.h"

/* ---- the fake card ---- */

enum {
	CTRL = 0x0000, STATUS = 0x0008, EECD = 0x0010, EERD = 0x0014, CTRL_EXT = 0x0018,
	ICR = 0x00c0, IMS = 0x00d0, IMC = 0x00d8, EIAC = 0x00dc, IVAR = 0x00e4,
	RCTL = 0x0100, TCTL = 0x0400, TIPG = 0x0410,
	RDBAL = 0x2800, RDBAH = 0x2804, RDLEN = 0x2808, RDH = 0x2810, RDT = 0x2818,
	TDBAL = 0x3800, TDBAH = 0x3804, TDLEN = 0x3808, TDH = 0x3810, TDT = 0x3818,
	TARC0 = 0x3840, RXCSUM = 0x5000, MTA = 0x5200, RAL0 = 0x5400, RAH0 = 0x5404,
};
#define CTRL_RST (1u << 26)
#define CTRL_SLU (1u << 6)
#define CTRL_GIO_MD (1u << 2)
#define RAH_AV (1u << 31)
#define ICR_LSC (1u << 2)
#define ICR_RXT0 (1u << 7)
#define ICR_RXQ0 (1u << 20)
#define ICR_OTHER (1u << 24)
#define ICR_ASSERTED (1u << 31)
#define DD 1
#define EOP 2

static u8 bar[0x20000] __attribute__((aligned(4096)));
static const u8 perm_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

static struct fake {
	bool link, ra_loaded, ra_stale, stuck_reset, nvm_dead;
	/* An 82540EM (8254x SDM): EERD's DONE in bit 4 and the address in
	 * 15:8; ICR cleared by reading it; writes to the 82574's own registers
	 * (IVAR, EIAC, CTRL_EXT, TXDCTL, TARC0, RFCTL) counted in absent. */
	bool i82540;
	unsigned absent;
	u16 eeprom[64];
	unsigned resets, rst_reads_left, bad;
	unsigned tdt_writes, rdt_writes, icr_reads;
	u32 seq_off[8192];
	unsigned nseq, reset_seq;
} f;

static u32 *reg(u32 off) { return (u32 *)(bar + off); }
static size_t off_of(const volatile void *p) { return (size_t)((const volatile u8 *)p - bar); }

static void load_ra(void)
{
	*reg(RAL0) = perm_mac[0] | perm_mac[1] << 8 | perm_mac[2] << 16 | (u32)perm_mac[3] << 24;
	*reg(RAH0) = perm_mac[4] | perm_mac[5] << 8 | RAH_AV;
}

static void fake_reset(void)
{
	memset(&f, 0, sizeof(f));
	memset(bar, 0, sizeof(bar));
	f.link = f.ra_loaded = true;
	for (int i = 0; i < 3; i++)
		f.eeprom[i] = (u16)(perm_mac[2 * i] | perm_mac[2 * i + 1] << 8);
	/* What a boot ROM might have left: garbage in the multicast table, a
	 * stale ring, receive on, checksum offload on. */
	for (int i = 0; i < 128; i++)
		*reg(MTA + 4 * i) = 0xdeadbeef;
	*reg(RDH) = 17;
	*reg(TDH) = 9;
	*reg(RCTL) = 2;
	*reg(RXCSUM) = 0x300;
	*reg(TARC0) = 3; /* without QEMU's ENABLE bit */
}

u32 mmio_read32(const volatile void *p)
{
	size_t off = off_of(p);

	if (off >= sizeof(bar) || (off & 3)) {
		f.bad++;
		return 0;
	}
	switch (off) {
	case CTRL:
		if (f.rst_reads_left && !f.stuck_reset && !--f.rst_reads_left)
			*reg(CTRL) &= ~CTRL_RST;
		return *reg(CTRL);
	case STATUS:
		return (f.link ? 2u : 0) | (*reg(CTRL) & CTRL_GIO_MD ? 0 : 1u << 19);
	case EECD:
		return 1u << 9;
	case ICR:
		f.icr_reads++;
		if (f.i82540) {
			u32 v = *reg(ICR);

			*reg(ICR) = 0;
			return v;
		}
		return *reg(ICR);
	default:
		return *reg((u32)off);
	}
}

void mmio_write32(volatile void *p, u32 v)
{
	size_t off = off_of(p);

	if (off >= sizeof(bar) || (off & 3)) {
		f.bad++;
		return;
	}
	if (f.nseq < 8192)
		f.seq_off[f.nseq++] = (u32)off;
	if (f.i82540 && (off == IVAR || off == EIAC || off == CTRL_EXT || off == 0x3828 ||
			 off == TARC0 || off == 0x5008 || (off == CTRL && (v & CTRL_GIO_MD))))
		f.absent++;
	switch (off) {
	case CTRL:
		*reg(CTRL) = v;
		if (v & CTRL_RST) {
			f.resets++;
			f.reset_seq = f.nseq;
			f.rst_reads_left = 3; /* reads back set a little while */
			if (f.ra_loaded) {
				load_ra();
			} else {
				/* An address without Address Valid: not to be used. */
				*reg(RAL0) = f.ra_stale ? 0x04030200 : 0;
				*reg(RAH0) = f.ra_stale ? 0x0605 : 0;
			}
		}
		return;
	case ICR:
		*reg(ICR) &= ~v;
		return;
	case IMS:
		*reg(IMS) |= v;
		return;
	case IMC:
		*reg(IMS) &= ~v;
		return;
	case EERD:
		if (f.i82540) {
			unsigned a = (v >> 8) & 0xff;

			*reg(EERD) = (v & 1) && !f.nvm_dead && a < 64 ?
					     (u32)f.eeprom[a] << 16 | a << 8 | 1u << 4 : 0;
			return;
		}
		if ((v & 1) && !f.nvm_dead) {
			unsigned a = (v >> 2) & 0x3fff;

			*reg(EERD) = (a < 64 ? (u32)f.eeprom[a] << 16 : 0) | a << 2 | 2;
		} else {
			*reg(EERD) = 0;
		}
		return;
	case RDT:
		f.rdt_writes++;
		break;
	case TDT:
		f.tdt_writes++;
		break;
	}
	*reg((u32)off) = v;
}

u16 mmio_read16(const volatile void *p) { f.bad++; return 0; }
void mmio_write16(volatile void *p, u16 v) { f.bad++; }
u8 mmio_read8(const volatile void *p) { f.bad++; return 0; }
void mmio_write8(volatile void *p, u8 v) { f.bad++; }

static void *ptr(u64 pa) { return (void *)(uintptr_t)pa; }
static u32 rx_size(void) { return *reg(RDLEN) / 16; }
static struct e1000e_rx_desc *rx_ring(void)
{
	return ptr(*reg(RDBAL) | (u64)*reg(RDBAH) << 32);
}
static struct e1000e_tx_desc *tx_ring(void)
{
	return ptr(*reg(TDBAL) | (u64)*reg(TDBAH) << 32);
}

/* The card receives one frame into the descriptor at RDH, writing `len` as
 * its length (a lying card may claim more than it wrote), with this status
 * and errors. False when the ring has no descriptor for it (RDH == RDT). */
static bool card_rx(const u8 *data, u32 copy, u16 len, u8 status, u8 errors)
{
	u32 h = *reg(RDH);
	struct e1000e_rx_desc *d;

	if (!(*reg(RCTL) & 2) || h == *reg(RDT) || h >= rx_size())
		return false;
	d = &rx_ring()[h];
	if (!d->addr || d->status) {
		f.bad++; /* posted without a buffer, or not cleared */
		return false;
	}
	memcpy(ptr(d->addr), data, copy < 2048 ? copy : 2048);
	d->length = len;
	d->errors = errors;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	d->status = status;
	*reg(RDH) = (h + 1) % rx_size();
	return true;
}

static bool card_rx_frame(const u8 *data, u16 len)
{
	return card_rx(data, len, len, DD | EOP, 0);
}

/* Frames the card sent, in order. */
static u8 sent[512][2048];
static u32 sent_len[512];
static unsigned nsent;

/* The card sends every descriptor from TDH up to TDT. */
static unsigned card_tx(void)
{
	unsigned n = 0;

	if (!(*reg(TCTL) & 2))
		return 0;
	while (*reg(TDH) != *reg(TDT) && n < 1000) {
		struct e1000e_tx_desc *d = &tx_ring()[*reg(TDH)];

		if (d->cmd != (1 | 2 | 8) || d->length > 2048 || !d->addr)
			f.bad++; /* EOP|IFCS|RS, legacy (no DEXT), one buffer */
		else if (nsent < 512) {
			memcpy(sent[nsent], ptr(d->addr), d->length);
			sent_len[nsent++] = d->length;
		}
		d->status |= DD;
		*reg(TDH) = (*reg(TDH) + 1) % (*reg(TDLEN) / 16);
		n++;
	}
	return n;
}

/* ---- the uplink's side ---- */

static u8 got[1024][2048];
static u32 got_len[1024];
static unsigned ngot, rx_interrupts;

void nic_rx(struct nic *n, const void *frame, u32 len)
{
	if (len > 2048 || ngot >= 1024) {
		f.bad++;
		return;
	}
	memcpy(got[ngot], frame, len);
	got_len[ngot++] = len;
}

void nic_rx_interrupt(struct nic *n) { rx_interrupts++; }

static struct e1000e *dev;

static int start(void)
{
	dev = calloc(1, sizeof(*dev));
	strcpy(dev->nic.name, "e1000e-test");
	dev->name = dev->nic.name;
	dev->regs = bar;
	dev->msix_entry = 0;
	ngot = nsent = rx_interrupts = 0;
	return e1000e_start(dev);
}

static void setup(void)
{
	fake_reset();
	CHECK_EQ(start(), 0);
}

static void pattern(u8 *p, u32 len, unsigned seed)
{
	for (u32 i = 0; i < len; i++)
		p[i] = (u8)(i * 7 + seed * 31 + (i >> 8));
}

static unsigned poll(unsigned budget) { return dev->nic.poll_rx(&dev->nic, budget); }
static bool xmit(const void *p, u32 len) { return dev->nic.xmit(&dev->nic, p, len); }

/* ---- tests ---- */

TEST(init_sequence)
{
	struct e1000e_rx_desc *rx;
	unsigned first_ring_write = ~0u;

	setup();
	CHECK_EQ(f.resets, 1);
	/* Interrupts masked and receive off before the reset. */
	CHECK(f.reset_seq > 0);
	CHECK(f.seq_off[0] == IMC || f.seq_off[0] == RCTL);
	for (unsigned i = 0; i < f.nseq; i++)
		if (f.seq_off[i] == RDBAL || f.seq_off[i] == TDBAL) {
			first_ring_write = i;
			break;
		}
	CHECK(first_ring_write != ~0u && first_ring_write > f.reset_seq);
	CHECK(!(*reg(CTRL) & CTRL_RST));
	CHECK(*reg(CTRL) & CTRL_SLU);
	CHECK(!(*reg(CTRL) & CTRL_GIO_MD));
	CHECK(!memcmp(dev->nic.mac, perm_mac, 6));
	/* The rings and buffers are granted to the device (drivers/iommu.h). */
	CHECK(fake_granted((u64)(uintptr_t)dev->rx, E1000E_RX_RING * 16));
	CHECK(fake_granted((u64)(uintptr_t)dev->tx, E1000E_TX_RING * 16));
	CHECK(fake_granted((u64)(uintptr_t)dev->rx_buf, E1000E_RX_RING * E1000E_BUF_SIZE));
	CHECK(fake_granted((u64)(uintptr_t)dev->tx_buf, E1000E_TX_RING * E1000E_BUF_SIZE));
	CHECK(*reg(RAH0) & RAH_AV);
	for (int i = 0; i < 128; i++)
		CHECK_EQ(*reg(MTA + 4 * i), 0);
	CHECK_EQ(*reg(RXCSUM), 0);
	/* Receive ring: every descriptor posted with its own buffer, all but one
	 * handed to the card. */
	CHECK_EQ(rx_size(), E1000E_RX_RING);
	rx = rx_ring();
	CHECK(rx == (void *)dev->rx);
	CHECK_EQ((uintptr_t)rx % 16, 0);
	CHECK_EQ(*reg(RDH), 0);
	CHECK_EQ(*reg(RDT), E1000E_RX_RING - 1);
	for (unsigned i = 0; i < E1000E_RX_RING; i++) {
		CHECK_EQ(rx[i].addr, (uintptr_t)dev->rx_buf + i * 2048);
		CHECK_EQ(rx[i].status, 0);
	}
	/* EN, UPE, MPE, BAM, SECRC; BSIZE 2048 (00), no LPE, legacy DTYP. */
	CHECK_EQ(*reg(RCTL), (1u << 1) | (1u << 3) | (1u << 4) | (1u << 15) | (1u << 26));
	/* Transmit ring. */
	CHECK_EQ(*reg(TDLEN) / 16, E1000E_TX_RING);
	CHECK(tx_ring() == (void *)dev->tx);
	CHECK_EQ(*reg(TDH), 0);
	CHECK_EQ(*reg(TDT), 0);
	CHECK_EQ(*reg(TCTL) & ((1u << 1) | (1u << 3)), (1u << 1) | (1u << 3)); /* EN | PSP */
	CHECK(*reg(TIPG) != 0);
	CHECK(*reg(TARC0) & (1u << 10));
	/* Every cause on MSI-X entry 0, valid; no auto-clear; causes enabled. */
	CHECK_EQ(*reg(IVAR), 0x00080808);
	CHECK_EQ(*reg(EIAC), 0);
	CHECK_EQ(*reg(IMS) & (ICR_RXQ0 | ICR_RXT0 | ICR_LSC | ICR_OTHER),
		 ICR_RXQ0 | ICR_RXT0 | ICR_LSC | ICR_OTHER);
	CHECK(dev->link_up);
	CHECK(dev->nic.xmit && dev->nic.poll_rx && dev->nic.priv == dev);
	CHECK_EQ(f.bad, 0);
}

TEST(mac_from_nvm_and_failures)
{
	fake_reset();
	f.ra_loaded = false; /* RAH0 without Address Valid: read the NVM */
	f.ra_stale = true;
	f.eeprom[0] = 0x1102;
	f.eeprom[1] = 0x3322;
	f.eeprom[2] = 0x5544;
	CHECK_EQ(start(), 0);
	static const u8 want[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
	CHECK(!memcmp(dev->nic.mac, want, 6));
	CHECK_EQ(*reg(RAL0), 0x33221102);
	CHECK_EQ(*reg(RAH0), 0x5544 | RAH_AV);

	fake_reset();
	f.ra_loaded = false;
	f.nvm_dead = true;
	CHECK_EQ(start(), -EIO);

	fake_reset();
	f.ra_loaded = false;
	memset(f.eeprom, 0, sizeof(f.eeprom)); /* 00:00:00:00:00:00 */
	CHECK_EQ(start(), -EIO);

	fake_reset();
	f.ra_loaded = false;
	f.eeprom[0] = 0x0001; /* a multicast address */
	CHECK_EQ(start(), -EIO);

	fake_reset();
	f.stuck_reset = true;
	unsigned before = log_lines;
	CHECK_EQ(start(), -EIO);
	CHECK_EQ(log_lines, before + 1);
	CHECK(!(*reg(RCTL) & 2)); /* receive left off */

	fake_reset();
	f.link = false;
	CHECK_EQ(start(), 0);
	CHECK(!dev->link_up);
}

TEST(receive_in_order)
{
	static u8 fr[3][1518];
	const u16 lens[3] = { 60, 1518, 342 };

	setup();
	CHECK_EQ(poll(64), 0); /* nothing yet */
	CHECK_EQ(f.rdt_writes, 2); /* the start's two, no more */
	for (int i = 0; i < 3; i++) {
		pattern(fr[i], lens[i], (unsigned)i);
		CHECK(card_rx_frame(fr[i], lens[i]));
	}
	/* The vector: ICR read, written back, the uplink told. */
	*reg(ICR) = ICR_RXQ0 | ICR_ASSERTED;
	e1000e_irq(dev);
	CHECK_EQ(rx_interrupts, 1);
	CHECK_EQ(*reg(ICR), 0);
	CHECK_EQ(ngot, 0); /* the uplink polls, not the handler */
	CHECK_EQ(poll(64), 3);
	CHECK_EQ(ngot, 3);
	for (int i = 0; i < 3; i++) {
		CHECK_EQ(got_len[i], lens[i]);
		CHECK(!memcmp(got[i], fr[i], lens[i]));
	}
	/* Reposted: status cleared, the same buffers, the tail behind them. */
	for (int i = 0; i < 3; i++) {
		CHECK_EQ(dev->rx[i].status, 0);
		CHECK_EQ(dev->rx[i].addr, (uintptr_t)dev->rx_buf + (unsigned)i * 2048);
	}
	CHECK_EQ(*reg(RDT), 2);
	CHECK_EQ(dev->rx_next, 3);
	CHECK_EQ(poll(64), 0);
	CHECK_EQ(f.bad, 0);
}

TEST(receive_wraps_and_budget)
{
	static u8 fr[1518];
	unsigned sent_frames = 0, total = 0;

	setup();
	/* 700 frames through a ring of 128, in batches of up to 100. */
	for (int batch = 0; batch < 7; batch++) {
		for (int k = 0; k < 100; k++) {
			u16 len = (u16)(60 + (sent_frames * 13) % 1400);

			pattern(fr, len, sent_frames);
			if (!card_rx_frame(fr, len))
				break;
			sent_frames++;
		}
		while (total < sent_frames) {
			unsigned n = poll(32);

			CHECK(n > 0 && n <= 32);
			if (!n)
				break;
			total += n;
			CHECK_EQ(*reg(RDT), (dev->rx_next + E1000E_RX_RING - 1) % E1000E_RX_RING);
		}
	}
	CHECK_EQ(sent_frames, 700);
	CHECK_EQ(ngot, 700);
	for (unsigned i = 0; i < ngot; i++) {
		u16 len = (u16)(60 + (i * 13) % 1400);

		pattern(fr, len, i);
		CHECK_EQ(got_len[i], len);
		CHECK(!memcmp(got[i], fr, len));
	}
	/* The card fills every descriptor it owns (127); then it has none. */
	for (int k = 0; k < 127; k++)
		CHECK(card_rx_frame(fr, 64));
	CHECK(!card_rx_frame(fr, 64));
	CHECK_EQ(poll(10), 10);
	CHECK_EQ(poll(1000), 117);
	CHECK(card_rx_frame(fr, 64)); /* room again */
	CHECK_EQ(poll(0), 0);
	CHECK_EQ(poll(1), 1);
	CHECK_EQ(f.bad, 0);
}

TEST(receive_drops_bad_descriptors)
{
	static u8 fr[2048], good[200];
	unsigned rdt_before;

	setup();
	pattern(fr, sizeof(fr), 9);
	pattern(good, sizeof(good), 5);
	/* An error (CRC) flagged: dropped. */
	CHECK(card_rx(fr, 100, 100, DD | EOP, 0x01));
	/* A frame over three buffers (no EOP until the last): dropped whole. */
	CHECK(card_rx(fr, 2048, 2048, DD, 0));
	CHECK(card_rx(fr, 2048, 2048, DD, 0));
	CHECK(card_rx(fr, 500, 500, DD | EOP, 0));
	/* Lengths no frame has: more than the buffer, 0, under a header, over
	 * ETH_MAX_FRAME. The driver must not read past its 2 KiB. */
	CHECK(card_rx(fr, 2048, 65535, DD | EOP, 0));
	CHECK(card_rx(fr, 2048, 2049, DD | EOP, 0));
	CHECK(card_rx(fr, 0, 0, DD | EOP, 0));
	CHECK(card_rx(fr, 13, 13, DD | EOP, 0));
	CHECK(card_rx(fr, 1519, 1519, DD | EOP, 0));
	/* Then a good one. */
	CHECK(card_rx_frame(good, sizeof(good)));
	rdt_before = *reg(RDT);
	CHECK_EQ(poll(64), 10); /* ten descriptors handled, one frame passed on */
	CHECK_EQ(ngot, 1);
	CHECK_EQ(got_len[0], sizeof(good));
	CHECK(!memcmp(got[0], good, sizeof(good)));
	CHECK_EQ(dev->rx_errors, 1);
	CHECK_EQ(dev->rx_spanning, 1);
	CHECK_EQ(dev->rx_bad_length, 5);
	/* Every dropped descriptor was given back too. */
	CHECK(rdt_before != *reg(RDT));
	CHECK_EQ(*reg(RDT), 9);
	for (int i = 0; i < 10; i++)
		CHECK_EQ(dev->rx[i].status, 0);

	/* A frame whose first part was in an earlier poll: still dropped whole. */
	CHECK(card_rx(fr, 2048, 2048, DD, 0));
	CHECK_EQ(poll(64), 1);
	CHECK_EQ(ngot, 1);
	CHECK(card_rx(fr, 100, 100, DD | EOP, 0));
	CHECK(card_rx_frame(good, 100));
	CHECK_EQ(poll(64), 2);
	CHECK_EQ(ngot, 2);
	CHECK(!memcmp(got[1], good, 100));
	CHECK_EQ(dev->rx_spanning, 2);
	CHECK_EQ(f.bad, 0);
}

TEST(receive_never_loops)
{
	setup();
	/* A card gone mad marks every descriptor done, even the one it does
	 * not own, with EOP missing everywhere: one poll looks at each at most
	 * once, delivers nothing, and ends. */
	for (unsigned i = 0; i < E1000E_RX_RING; i++) {
		dev->rx[i].length = 60;
		dev->rx[i].status = DD;
	}
	CHECK_EQ(poll(1000), E1000E_RX_RING); /* each handled once */
	CHECK_EQ(ngot, 0);
	CHECK_EQ(dev->rx_spanning, 1);
	CHECK_EQ(dev->rx_next, 0); /* once round */
	/* A descriptor without DD stops the walk even if later ones have it. */
	setup();
	dev->rx[1].status = DD | EOP;
	dev->rx[1].length = 60;
	CHECK_EQ(poll(64), 0);
	CHECK_EQ(dev->rx_next, 0);
}

TEST(transmit)
{
	static u8 fr[1518];
	u8 small[60];

	setup();
	pattern(small, sizeof(small), 1);
	CHECK(xmit(small, sizeof(small)));
	CHECK_EQ(*reg(TDT), 1);
	CHECK_EQ(f.tdt_writes, 2); /* the start's, then this one */
	CHECK_EQ(dev->tx[0].length, 60);
	CHECK_EQ(dev->tx[0].cmd, 1 | 2 | 8); /* EOP | IFCS | RS */
	CHECK_EQ(dev->tx[0].status, 0);
	CHECK(!memcmp(ptr(dev->tx[0].addr), small, 60));
	CHECK_EQ(card_tx(), 1);
	CHECK_EQ(nsent, 1);
	CHECK_EQ(sent_len[0], 60);
	CHECK(!memcmp(sent[0], small, 60));

	/* Fill the ring: 127 descriptors usable (one stays empty), the first
	 * already sent and reclaimed on the way. */
	unsigned ok = 0;
	for (unsigned i = 0; i < 200; i++) {
		pattern(fr, 1000, 100 + i);
		if (!xmit(fr, 1000))
			break;
		ok++;
	}
	CHECK_EQ(ok, E1000E_TX_RING - 1);
	CHECK(!xmit(small, 60)); /* full */
	CHECK_EQ(*reg(TDT), (1 + ok) % E1000E_TX_RING);
	CHECK_EQ(card_tx(), ok);
	CHECK_EQ(nsent, 1 + ok);
	for (unsigned i = 0; i < ok; i++) {
		pattern(fr, 1000, 100 + i);
		CHECK_EQ(sent_len[1 + i], 1000);
		CHECK(!memcmp(sent[1 + i], fr, 1000));
	}
	/* Reclaimed by DD: room again, and the tail wraps. */
	CHECK(xmit(small, 60));
	CHECK_EQ(*reg(TDT), (2 + ok) % E1000E_TX_RING);
	CHECK_EQ(card_tx(), 1);
	CHECK(!memcmp(sent[nsent - 1], small, 60));
	CHECK_EQ(dev->tx_frames, 2 + ok);
	CHECK_EQ(f.bad, 0);
}

TEST(transmit_refuses_bad_lengths)
{
	static u8 fr[2048];
	u32 tdt;

	setup();
	tdt = *reg(TDT);
	CHECK(!xmit(fr, 1519)); /* over ETH_MAX_FRAME */
	CHECK(!xmit(fr, 2048));
	CHECK(!xmit(fr, 13));   /* under a header */
	CHECK(!xmit(fr, 0));
	CHECK_EQ(dev->tx_refused, 4);
	CHECK_EQ(*reg(TDT), tdt);
	CHECK(xmit(fr, 1518));
	CHECK(xmit(fr, 14));
	CHECK_EQ(card_tx(), 2);
	CHECK_EQ(sent_len[0], 1518);
	CHECK_EQ(sent_len[1], 14);
	CHECK_EQ(f.bad, 0);
}

TEST(interrupts)
{
	unsigned before;

	/* Before the start: the vector is ignored, ICR not even read. */
	fake_reset();
	dev = calloc(1, sizeof(*dev));
	dev->regs = bar;
	*reg(ICR) = ICR_RXQ0;
	e1000e_irq(dev);
	CHECK_EQ(f.icr_reads, 0);
	CHECK_EQ(rx_interrupts, 0);

	setup();
	/* Link lost: logged, no receive poll asked for. */
	f.link = false;
	*reg(ICR) = ICR_LSC | ICR_OTHER | ICR_ASSERTED;
	before = log_lines;
	e1000e_irq(dev);
	CHECK(!dev->link_up);
	CHECK_EQ(log_lines, before + 1);
	CHECK_EQ(rx_interrupts, 0);
	CHECK_EQ(*reg(ICR), 0);
	/* MSI (no MSI-X): the legacy receive cause. */
	*reg(ICR) = ICR_RXT0 | ICR_ASSERTED;
	e1000e_irq(dev);
	CHECK_EQ(rx_interrupts, 1);
	CHECK_EQ(*reg(ICR), 0);
	/* Nothing pending (shared or late): nothing done. */
	e1000e_irq(dev);
	CHECK_EQ(rx_interrupts, 1);
}

/* The 82540EM: its EERD layout, none of the 82574's registers written,
 * interrupts left masked, nic.tick set; a tick reads ICR and asks for a
 * receive poll as the interrupt handler would. */
TEST(i82540_variant)
{
	unsigned before;

	fake_reset();
	f.i82540 = true;
	f.ra_loaded = false; /* the MAC through EERD, the 82540's way */
	f.eeprom[0] = 0x1102;
	f.eeprom[1] = 0x3322;
	f.eeprom[2] = 0x5544;
	dev = calloc(1, sizeof(*dev));
	strcpy(dev->nic.name, "e1000e-test");
	dev->name = dev->nic.name;
	dev->regs = bar;
	dev->model = E1000E_82540;
	ngot = nsent = rx_interrupts = 0;
	CHECK_EQ(e1000e_start(dev), 0);
	static const u8 want[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
	CHECK(!memcmp(dev->nic.mac, want, 6));
	CHECK_EQ(*reg(RAH0), 0x5544 | RAH_AV);
	CHECK_EQ(f.absent, 0);
	CHECK_EQ(*reg(IMS), 0);
	CHECK(dev->nic.tick != NULL);
	CHECK_EQ(*reg(RCTL), (1u << 1) | (1u << 3) | (1u << 4) | (1u << 15) | (1u << 26));
	CHECK_EQ(*reg(RDT), E1000E_RX_RING - 1);
	/* A frame arrives: the tick sees RXT0 and asks for a poll, which gets it. */
	u8 fr[60];
	pattern(fr, sizeof(fr), 3);
	CHECK(card_rx_frame(fr, sizeof(fr)));
	*reg(ICR) = ICR_RXT0;
	dev->nic.tick(&dev->nic);
	CHECK_EQ(rx_interrupts, 1);
	CHECK_EQ(*reg(ICR), 0);
	CHECK_EQ(poll(64), 1);
	CHECK_EQ(ngot, 1);
	CHECK(!memcmp(got[0], fr, sizeof(fr)));
	/* A quiet tick: nothing asked for. */
	dev->nic.tick(&dev->nic);
	CHECK_EQ(rx_interrupts, 1);
	/* The link lost: seen on the tick, logged. */
	f.link = false;
	*reg(ICR) = ICR_LSC;
	before = log_lines;
	dev->nic.tick(&dev->nic);
	CHECK(!dev->link_up);
	CHECK_EQ(log_lines, before + 1);
	/* Transmit as on the 82574. */
	CHECK(xmit(fr, sizeof(fr)));
	CHECK_EQ(card_tx(), 1);
	CHECK_EQ(f.absent, 0);
	CHECK_EQ(f.bad, 0);

	/* An 82574 keeps its interrupts and has no tick. */
	setup();
	CHECK(dev->nic.tick == NULL);
	CHECK(*reg(IMS) != 0);
}

int main(void)
{
	RUN(init_sequence);
	RUN(mac_from_nvm_and_failures);
	RUN(receive_in_order);
	RUN(receive_wraps_and_budget);
	RUN(receive_drops_bad_descriptors);
	RUN(receive_never_loops);
	RUN(transmit);
	RUN(transmit_refuses_bad_lengths);
	RUN(interrupts);
	RUN(i82540_variant);
	return unit_done();
}
