/*
 * The 82574 driver's core (drivers/e1000e.h). Register offsets and bits are
 * the Intel 82574 GbE Controller Family Datasheet's (chapter 10.2; the
 * subsections named beside each group); what QEMU's model (hw/net/
 * e1000e_core.c, QEMU 7.2) honours is noted where it decides a choice.
 *
 * Receive: one ring of legacy descriptors, each with a 2 KiB buffer, so an
 * Ethernet frame (at most ETH_MAX_FRAME bytes, the CRC stripped) fits in one;
 * poll_rx passes each completed frame to nic_rx and hands the descriptor
 * back by moving RDT. Transmit: xmit copies the frame into the next
 * descriptor's buffer and moves TDT; descriptors the card has finished (DD)
 * are reclaimed lazily, in xmit, so no transmit interrupt is needed.
 *
 * The card is outside input: a descriptor's length and status are checked
 * before its buffer is read, and no loop runs further than once round a ring.
 *
 * The 82540EM (E1000E_82540) by the 8254x SDM (drivers/e1000e.h): the
 * registers used here are at the same offsets with the same bits (13.4:
 * CTRL, STATUS, ICR/IMS/IMC, RCTL, TCTL, TIPG, the rings, MTA, RAL/RAH,
 * RXCSUM), and the legacy descriptors are the same (3.2.4, 3.3.3). What
 * differs, each marked "8254x" where it is decided:
 *   - EERD (13.4.4): DONE is bit 4 and the word address bits 15:8 on the
 *     82540 (bit 1 and 15:2 only on the 82541/82547);
 *   - no PCIe: no CTRL.GIO_MASTER_DISABLE/STATUS.GIO_MASTER_ENABLE (bits 2
 *     and 19 are reserved, 13.4.1, 13.4.2), no EECD.AUTO_RD (bit 9 is
 *     EE_SIZE, 13.4.3), no TXDCTL bit 22, TARC0 or RFCTL to set;
 *   - no MSI or MSI-X (the 82540's PCI header has neither capability, 4.1):
 *     no IVAR, EIAC, CTRL_EXT.PBA_SUPPORT; ICR holds the legacy causes
 *     (13.4.17) and is cleared by reading it. The driver does not route its
 *     INTx line: IMS stays 0, so the card never asserts it, and the uplink
 *     calls nic.tick from CPU 0's timer tick, which reads ICR as the
 *     interrupt handler would (a frame waits at most one tick, 1 ms).
 */
#include "drivers/e1000e.h"
#include "drivers/iommu.h"
#include "drivers/hw.h"
#include "hv/console.h"
#include "hv/mm.h"
#include "lib/string.h"

/* General registers (10.2.2). */
#define REG_CTRL 0x0000
#define CTRL_GIO_MASTER_DISABLE BIT(2)
#define CTRL_SLU BIT(6)          /* set link up */
#define CTRL_FRCSPD BIT(11)
#define CTRL_FRCDPLX BIT(12)
#define CTRL_RST BIT(26)         /* self-clearing */
#define CTRL_VME BIT(30)         /* VLAN mode: would strip tags into descriptors */
#define CTRL_PHY_RST BIT(31)
#define REG_STATUS 0x0008
#define STATUS_LU BIT(1)
#define STATUS_GIO_MASTER_ENABLE BIT(19)
#define REG_EECD 0x0010
#define EECD_AUTO_RD BIT(9)      /* the NVM has been read after reset */
#define REG_EERD 0x0014
#define EERD_START BIT(0)
#define EERD_DONE BIT(1)
#define EERD_ADDR_SHIFT 2
#define EERD_DATA_SHIFT 16
#define EERD_8254X_DONE BIT(4)   /* 8254x SDM 13.4.4: the 82540's layout */
#define EERD_8254X_ADDR_SHIFT 8
#define REG_CTRL_EXT 0x0018
#define CTRL_EXT_EIAME BIT(24)
#define CTRL_EXT_IAME BIT(27)
#define CTRL_EXT_PBA_SUPPORT BIT(31) /* MSI-X pending bits kept in the PBA */

/* Interrupt registers (10.2.4). ICR's causes: the same bits in ICS, IMS, IMC. */
#define REG_ICR 0x00c0
#define REG_IMS 0x00d0
#define REG_IMC 0x00d8
#define REG_EIAC 0x00dc
#define REG_IVAR 0x00e4
#define ICR_LSC BIT(2)
#define ICR_RXDMT0 BIT(4)        /* few receive descriptors left */
#define ICR_RXO BIT(6)           /* receive overrun: the ring was full */
#define ICR_RXT0 BIT(7)          /* receive timer: frames written */
#define ICR_RXQ0 BIT(20)         /* MSI-X: receive queue 0 */
#define ICR_TXQ0 BIT(22)
#define ICR_OTHER BIT(24)        /* MSI-X: LSC, RXO and the rest */
#define ICR_RX_CAUSES (ICR_RXT0 | ICR_RXDMT0 | ICR_RXO | ICR_RXQ0)
/* IVAR: a 4-bit field per cause, the MSI-X entry in bits 2:0 and a valid
 * bit 3: RX queue 0 in 3:0, TX queue 0 in 11:8, other causes in 19:16. */
#define IVAR_VALID 0x8u
#define IVAR_RXQ0_SHIFT 0
#define IVAR_TXQ0_SHIFT 8
#define IVAR_OTHER_SHIFT 16

/* Receive registers (10.2.5). */
#define REG_RCTL 0x0100
#define RCTL_EN BIT(1)
#define RCTL_UPE BIT(3)          /* unicast promiscuous */
#define RCTL_MPE BIT(4)          /* multicast promiscuous */
#define RCTL_BAM BIT(15)         /* accept broadcast */
#define RCTL_SECRC BIT(26)       /* strip the Ethernet CRC */
/* BSIZE (17:16) 00b and BSEX 0: 2048-byte buffers; LPE 0: no long frames;
 * DTYP 00b with RFCTL.EXTEN 0: legacy descriptors. */
#define REG_RDBAL 0x2800
#define REG_RDBAH 0x2804
#define REG_RDLEN 0x2808
#define REG_RDH 0x2810
#define REG_RDT 0x2818
#define REG_RDTR 0x2820
#define REG_RXCSUM 0x5000
#define REG_RFCTL 0x5008
#define RFCTL_EXTEN BIT(15)
#define REG_MTA 0x5200           /* 128 words */
#define MTA_WORDS 128
#define REG_RAL0 0x5400
#define REG_RAH0 0x5404
#define RAH_AV BIT(31)

/* Transmit registers (10.2.6). */
#define REG_TCTL 0x0400
#define TCTL_EN BIT(1)
#define TCTL_PSP BIT(3)          /* pad short frames */
#define TCTL_CT(x) ((u32)(x) << 4)    /* collision threshold */
#define TCTL_COLD(x) ((u32)(x) << 12) /* collision distance */
#define TCTL_RTLC BIT(24)
#define REG_TIPG 0x0410
/* IPGT 8, IPGR1 8, IPGR2 6: the datasheet's values for IEEE 802.3 (and
 * QEMU's reset value). */
#define TIPG_DEFAULT (8u | 8u << 10 | 6u << 20)
#define REG_TDBAL 0x3800
#define REG_TDBAH 0x3804
#define REG_TDLEN 0x3808
#define REG_TDH 0x3810
#define REG_TDT 0x3818
#define REG_TXDCTL 0x3828
#define TXDCTL_BIT22 BIT(22)     /* reserved, to be written 1 (as Linux's e1000e does) */
#define REG_TARC0 0x3840
#define TARC_ENABLE BIT(10)      /* QEMU transmits only with it (its reset sets it) */

/* Descriptor bits (7.1, 7.2: legacy formats). */
#define RXD_STAT_DD BIT(0)
#define RXD_STAT_EOP BIT(1)
/* RXERRS: CRC/alignment (CE), symbol (SE), sequence (SEQ), carrier
 * extension (CXE), RX data (RXE). Not IPE/TCPE: checksum offload is off. */
#define RXD_ERR_FRAME (BIT(0) | BIT(1) | BIT(2) | BIT(4) | BIT(7))
#define TXD_CMD_EOP BIT(0)
#define TXD_CMD_IFCS BIT(1)      /* insert the CRC */
#define TXD_CMD_RS BIT(3)        /* report status: set DD when done */
#define TXD_STAT_DD BIT(0)

static u32 rd(struct e1000e *e, u32 off) { return mmio_read32(e->regs + off); }
static void wr(struct e1000e *e, u32 off, u32 v) { mmio_write32(e->regs + off, v); }

static u64 pa(const volatile void *p)
{
	return (u64)(uintptr_t)p;
}

/* Polls until (reg & mask) == want, up to ms milliseconds. */
static bool wait_reg(struct e1000e *e, u32 off, u32 mask, u32 want, unsigned ms)
{
	for (unsigned t = 0; t <= ms * 10; t++) {
		if ((rd(e, off) & mask) == want)
			return true;
		hw_delay_us(100);
	}
	return false;
}

/*
 * 4.6: interrupts masked, receive and transmit off, bus mastering stopped
 * (a boot ROM may have left DMA running), then the global reset CTRL.RST,
 * which the card clears itself; it reloads its NVM (EECD.AUTO_RD) after.
 * QEMU's CTRL.RST reloads only the MAC address, so every register we rely
 * on is written below rather than assumed at its reset value.
 */
static int reset(struct e1000e *e)
{
	bool pcie = e->model == E1000E_82574;

	wr(e, REG_IMC, ~0u);
	wr(e, REG_RCTL, 0);
	wr(e, REG_TCTL, TCTL_PSP);
	if (pcie) {
		wr(e, REG_CTRL, rd(e, REG_CTRL) | CTRL_GIO_MASTER_DISABLE);
		wait_reg(e, REG_STATUS, STATUS_GIO_MASTER_ENABLE, 0, 10);
	}
	wr(e, REG_CTRL, rd(e, REG_CTRL) | CTRL_RST);
	hw_delay_us(1000);
	if (!wait_reg(e, REG_CTRL, CTRL_RST, 0, 100)) {
		kprintf("%s: does not reset (CTRL.RST stays set)\n", e->name);
		return -EIO;
	}
	if (pcie)
		wait_reg(e, REG_EECD, EECD_AUTO_RD, EECD_AUTO_RD, 10);
	else
		hw_delay_us(5000); /* 8254x: no AUTO_RD to wait on; the EEPROM's load time */
	wr(e, REG_IMC, ~0u);
	wr(e, REG_ICR, rd(e, REG_ICR)); /* 8254x: the read alone clears it */
	return 0;
}

/* One NVM word through EERD (10.2.2: EEPROM Read Register); -1 on timeout. */
static int eerd_word(struct e1000e *e, unsigned addr)
{
	bool old = e->model == E1000E_82540;
	u32 done = old ? EERD_8254X_DONE : EERD_DONE;

	wr(e, REG_EERD, addr << (old ? EERD_8254X_ADDR_SHIFT : EERD_ADDR_SHIFT) | EERD_START);
	for (unsigned t = 0; t < 1000; t++) {
		u32 v = rd(e, REG_EERD);

		if (v & done)
			return (int)(v >> EERD_DATA_SHIFT);
		hw_delay_us(10);
	}
	return -1;
}

static bool mac_valid(const u8 *m)
{
	return !(m[0] & 1) && (m[0] | m[1] | m[2] | m[3] | m[4] | m[5]);
}

/*
 * The MAC: receive address 0 (RAL0/RAH0), which the card loads from its NVM
 * after reset (QEMU loads it from -device e1000e,mac=); failing that, NVM
 * words 0-2 (the Ethernet address, low byte first) through EERD. Written
 * back into RAL0/RAH0 with Address Valid either way.
 */
static int read_mac(struct e1000e *e)
{
	u8 *m = e->nic.mac;
	u32 ral = rd(e, REG_RAL0), rah = rd(e, REG_RAH0);

	for (int i = 0; i < 4; i++)
		m[i] = (u8)(ral >> (8 * i));
	m[4] = (u8)rah;
	m[5] = (u8)(rah >> 8);
	if (!(rah & RAH_AV) || !mac_valid(m)) {
		for (unsigned w = 0; w < 3; w++) {
			int v = eerd_word(e, w);

			if (v < 0) {
				kprintf("%s: the NVM does not answer (EERD)\n", e->name);
				return -EIO;
			}
			m[2 * w] = (u8)v;
			m[2 * w + 1] = (u8)(v >> 8);
		}
		if (!mac_valid(m)) {
			kprintf("%s: has no valid MAC address\n", e->name);
			return -EIO;
		}
	}
	wr(e, REG_RAL0, (u32)m[0] | (u32)m[1] << 8 | (u32)m[2] << 16 | (u32)m[3] << 24);
	wr(e, REG_RAH0, (u32)m[4] | (u32)m[5] << 8 | RAH_AV);
	return 0;
}

static u64 buf_pages(unsigned n)
{
	return ALIGN_UP((u64)n * E1000E_BUF_SIZE, PAGE_SIZE) / PAGE_SIZE;
}

static int rings_alloc(struct e1000e *e)
{
	u64 rx = page_alloc(1, PAGE_SIZE), tx = page_alloc(1, PAGE_SIZE);
	u64 rxb = page_alloc(buf_pages(E1000E_RX_RING), PAGE_SIZE);
	u64 txb = page_alloc(buf_pages(E1000E_TX_RING), PAGE_SIZE);

	_Static_assert(E1000E_RX_RING * sizeof(struct e1000e_rx_desc) <= PAGE_SIZE &&
			       E1000E_TX_RING * sizeof(struct e1000e_tx_desc) <= PAGE_SIZE,
		       "each ring in one page");
	/* RDLEN/TDLEN: a multiple of 128 bytes (10.2.5, 10.2.6). */
	_Static_assert(E1000E_RX_RING % 8 == 0 && E1000E_TX_RING % 8 == 0, "rings of 8n");
	if (!rx || !tx || !rxb || !txb) {
		if (rx)
			page_free(rx, 1);
		if (tx)
			page_free(tx, 1);
		if (rxb)
			page_free(rxb, buf_pages(E1000E_RX_RING));
		if (txb)
			page_free(txb, buf_pages(E1000E_TX_RING));
		kprintf("%s: out of memory for its rings\n", e->name);
		return -ENOMEM;
	}
	/* The device reaches the rings and their buffers, nothing else (drivers/iommu.h). */
	iommu_grant_host(rx, PAGE_SIZE, IOMMU_READ | IOMMU_WRITE);
	iommu_grant_host(tx, PAGE_SIZE, IOMMU_READ | IOMMU_WRITE);
	iommu_grant_host(rxb, buf_pages(E1000E_RX_RING) * PAGE_SIZE, IOMMU_READ | IOMMU_WRITE);
	iommu_grant_host(txb, buf_pages(E1000E_TX_RING) * PAGE_SIZE, IOMMU_READ | IOMMU_WRITE);
	e->rx = (volatile struct e1000e_rx_desc *)(uintptr_t)rx;
	e->tx = (volatile struct e1000e_tx_desc *)(uintptr_t)tx;
	e->rx_buf = (u8 *)(uintptr_t)rxb;
	e->tx_buf = (u8 *)(uintptr_t)txb;
	return 0;
}

static void rx_post(struct e1000e *e, u32 i)
{
	e->rx[i].addr = pa(e->rx_buf + (u64)i * E1000E_BUF_SIZE);
	e->rx[i].length = 0;
	e->rx[i].errors = 0;
	e->rx[i].status = 0;
}

static void rx_init(struct e1000e *e)
{
	for (u32 i = 0; i < E1000E_RX_RING; i++)
		rx_post(e, i);
	e->rx_next = 0;
	e->rx_discarding = false;
	/* No multicast table filtering and no checksum offload: the switch
	 * behind us forwards frames unchanged, so the card should judge none. */
	for (unsigned i = 0; i < MTA_WORDS; i++)
		wr(e, REG_MTA + 4 * i, 0);
	wr(e, REG_RXCSUM, 0);
	if (e->model == E1000E_82574) /* 8254x: no RFCTL, no extended descriptors */
		wr(e, REG_RFCTL, rd(e, REG_RFCTL) & ~RFCTL_EXTEN);
	wr(e, REG_RDTR, 0); /* interrupt at once, no receive delay timer */
	wr(e, REG_RDBAL, (u32)pa(e->rx));
	wr(e, REG_RDBAH, (u32)(pa(e->rx) >> 32));
	wr(e, REG_RDLEN, E1000E_RX_RING * sizeof(struct e1000e_rx_desc));
	wr(e, REG_RDH, 0);
	wr(e, REG_RDT, 0);
	/*
	 * Promiscuous (UPE, MPE) as well as broadcast: the card is the virtual
	 * switch's uplink, and the VMs behind it have MACs of their own, any
	 * number of them, more than the card's 16 receive addresses; the switch
	 * decides which frames go where.
	 */
	wr(e, REG_RCTL, RCTL_EN | RCTL_UPE | RCTL_MPE | RCTL_BAM | RCTL_SECRC);
	hw_mb(); /* the descriptors before the tail that hands them over */
	/* All but one: RDT == RDH would mean none are the card's (7.1). */
	wr(e, REG_RDT, E1000E_RX_RING - 1);
}

static void tx_init(struct e1000e *e)
{
	for (u32 i = 0; i < E1000E_TX_RING; i++) {
		e->tx[i].addr = pa(e->tx_buf + (u64)i * E1000E_BUF_SIZE);
		e->tx[i].cmd = 0;
		e->tx[i].status = 0;
	}
	e->tx_tail = e->tx_clean = 0;
	wr(e, REG_TDBAL, (u32)pa(e->tx));
	wr(e, REG_TDBAH, (u32)(pa(e->tx) >> 32));
	wr(e, REG_TDLEN, E1000E_TX_RING * sizeof(struct e1000e_tx_desc));
	wr(e, REG_TDH, 0);
	wr(e, REG_TDT, 0);
	wr(e, REG_TIPG, TIPG_DEFAULT);
	if (e->model == E1000E_82574) { /* 8254x: TXDCTL bit 22 reserved, no TARC0 */
		wr(e, REG_TXDCTL, rd(e, REG_TXDCTL) | TXDCTL_BIT22);
		wr(e, REG_TARC0, rd(e, REG_TARC0) | TARC_ENABLE);
	}
	/* Full duplex: collision threshold 15, distance 63 (the datasheet's). */
	wr(e, REG_TCTL, TCTL_EN | TCTL_PSP | TCTL_CT(0x0f) | TCTL_COLD(0x3f) | TCTL_RTLC);
}

/*
 * 7.4: with MSI-X the causes reach a vector through IVAR (RX queue 0, TX
 * queue 0, "other": link, overrun), and ICR shows RXQ0/TXQ0/OTHER; with MSI
 * IVAR is unused and ICR shows RXT0, RXDMT0, RXO, LSC. We enable both sets
 * and send everything to one entry. No auto-clear (EIAC 0, CTRL_EXT.IAME
 * and EIAME 0): the handler clears what it read by writing it back to ICR,
 * which works alike in both modes (QEMU 7.2's ICR read does not clear it
 * with MSI-X, and sends a cause again only after it was cleared).
 */
static void irq_init(struct e1000e *e)
{
	u32 v = IVAR_VALID | (e->msix_entry & 7);

	if (e->model == E1000E_82540) {
		/* No MSI: every cause stays masked (IMS 0), so INTx is never
		 * asserted; e1000e_tick reads ICR instead. */
		(void)rd(e, REG_ICR);
		return;
	}
	wr(e, REG_IVAR, v << IVAR_RXQ0_SHIFT | v << IVAR_TXQ0_SHIFT | v << IVAR_OTHER_SHIFT);
	wr(e, REG_EIAC, 0);
	wr(e, REG_CTRL_EXT, (rd(e, REG_CTRL_EXT) & ~(CTRL_EXT_IAME | CTRL_EXT_EIAME)) |
				    CTRL_EXT_PBA_SUPPORT);
	wr(e, REG_ICR, ~0u);
	wr(e, REG_IMS, ICR_RX_CAUSES | ICR_LSC | ICR_OTHER);
}

/* An 82540's nic.tick: its causes from ICR, as e1000e_irq reads them. */
static void e1000e_tick(struct nic *n)
{
	e1000e_irq(n->priv);
}

int e1000e_start(struct e1000e *e)
{
	int ret;

	e->nic.priv = e;
	e->nic.xmit = e1000e_xmit;
	e->nic.poll_rx = e1000e_poll_rx;
	e->nic.tick = e->model == E1000E_82540 ? e1000e_tick : NULL;
	ret = reset(e);
	if (ret)
		return ret;
	ret = read_mac(e);
	if (ret)
		return ret;
	/* Link up by the PHY's auto-negotiation (4.6: copper set-up). */
	wr(e, REG_CTRL, (rd(e, REG_CTRL) | CTRL_SLU) & ~(CTRL_FRCSPD | CTRL_FRCDPLX | CTRL_VME |
							  CTRL_PHY_RST | CTRL_RST |
							  CTRL_GIO_MASTER_DISABLE));
	ret = rings_alloc(e);
	if (ret)
		return ret;
	rx_init(e);
	tx_init(e);
	e->link_up = rd(e, REG_STATUS) & STATUS_LU;
	__atomic_store_n(&e->started, true, __ATOMIC_RELEASE);
	irq_init(e);
	return 0;
}

unsigned e1000e_poll_rx(struct nic *n, unsigned budget)
{
	struct e1000e *e = n->priv;
	unsigned seen = 0;
	u32 i = e->rx_next;

	if (!__atomic_load_n(&e->started, __ATOMIC_ACQUIRE))
		return 0;
	/* Every descriptor counts against the budget, frame or not (drivers/nic.h). */
	while (seen < budget && seen < E1000E_RX_RING) {
		volatile struct e1000e_rx_desc *d = &e->rx[i];
		u8 status = d->status;

		if (!(status & RXD_STAT_DD))
			break;
		hw_mb(); /* the rest of the descriptor, and the buffer, after DD */
		u16 len = d->length;
		u8 errors = d->errors;

		if (e->rx_discarding) {
			/* The rest of a frame too long for one buffer, up to its EOP. */
			if (status & RXD_STAT_EOP)
				e->rx_discarding = false;
		} else if (!(status & RXD_STAT_EOP)) {
			e->rx_spanning++;
			e->rx_discarding = true;
		} else if (errors & RXD_ERR_FRAME) {
			e->rx_errors++;
		} else if (len < ETH_HLEN || len > ETH_MAX_FRAME) {
			e->rx_bad_length++; /* never more than the buffer: ETH_MAX_FRAME < 2048 */
		} else {
			nic_rx(n, e->rx_buf + (u64)i * E1000E_BUF_SIZE, len);
		}
		rx_post(e, i);
		i = (i + 1) % E1000E_RX_RING;
		seen++;
	}
	if (seen) {
		e->rx_next = i;
		hw_mb(); /* the reposted descriptors before the tail */
		wr(e, REG_RDT, (i + E1000E_RX_RING - 1) % E1000E_RX_RING);
	}
	return seen;
}

/* Descriptors the card has sent (DD) become free again. Lock held. */
static void tx_reclaim(struct e1000e *e)
{
	while (e->tx_clean != e->tx_tail && (e->tx[e->tx_clean].status & TXD_STAT_DD))
		e->tx_clean = (e->tx_clean + 1) % E1000E_TX_RING;
}

bool e1000e_xmit(struct nic *n, const void *frame, u32 len)
{
	_Static_assert(ETH_MAX_FRAME <= E1000E_BUF_SIZE, "a frame fits in one buffer");
	struct e1000e *e = n->priv;
	volatile struct e1000e_tx_desc *d;
	bool sent = false;
	u64 flags;
	u32 next;

	if (len < ETH_HLEN || len > ETH_MAX_FRAME || !__atomic_load_n(&e->started,
								       __ATOMIC_ACQUIRE)) {
		__atomic_fetch_add(&e->tx_refused, 1, __ATOMIC_RELAXED);
		return false;
	}
	flags = hw_irq_save();
	spin_lock(&e->tx_lock);
	tx_reclaim(e);
	next = (e->tx_tail + 1) % E1000E_TX_RING;
	if (next != e->tx_clean) { /* one stays empty: TDT == TDH means none queued */
		d = &e->tx[e->tx_tail];
		memcpy(e->tx_buf + (u64)e->tx_tail * E1000E_BUF_SIZE, frame, len);
		d->addr = pa(e->tx_buf + (u64)e->tx_tail * E1000E_BUF_SIZE);
		d->length = (u16)len;
		d->cso = 0;
		d->css = 0;
		d->special = 0;
		d->status = 0;
		d->cmd = TXD_CMD_EOP | TXD_CMD_IFCS | TXD_CMD_RS;
		e->tx_tail = next;
		e->tx_frames++;
		hw_mb(); /* the descriptor and the frame before the tail (7.2) */
		wr(e, REG_TDT, next);
		sent = true;
	}
	spin_unlock(&e->tx_lock);
	hw_irq_restore(flags);
	return sent;
}

void e1000e_irq(void *ctx)
{
	struct e1000e *e = ctx;
	u32 icr;

	if (!__atomic_load_n(&e->started, __ATOMIC_ACQUIRE))
		return;
	icr = rd(e, REG_ICR);
	if (!icr)
		return;
	wr(e, REG_ICR, icr); /* write 1 to clear (10.2.4; 8254x: cleared by the read) */
	e->interrupts++;
	if (icr & ICR_LSC) {
		bool up = rd(e, REG_STATUS) & STATUS_LU;

		if (up != e->link_up)
			kprintf("%s: link %s\n", e->name, up ? "up" : "down");
		e->link_up = up;
	}
	if (icr & ICR_RX_CAUSES)
		nic_rx_interrupt(&e->nic);
}
