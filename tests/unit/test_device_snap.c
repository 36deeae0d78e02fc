/*
 * Every device's save and load: a device driven into a busy state through
 * its registers is saved, loaded into a freshly created one, and the two
 * compared field by field (the whole struct: callbacks match because both
 * were created alike) and by behaviour (the same reads at a later time).
 * Impossible values are refused with -EINVAL and the device left unchanged.
 */
#include "unit.h"

#include <string.h>
#include "devices/acpi_pm.h"
#include "devices/apic_bus.h"
#include "devices/pci_host.h"
#include "devices/pic8259.h"
#include "devices/pit8254.h"
#include "devices/rtc_cmos.h"
#include "devices/testdev.h"
#include "devices/pci_intx.h"
#include "devices/uart8250.h"
#include "devices/vioapic.h"
#include "hv/mm.h"
#include "hv/snapshot.h"
#include "snap_host_alloc.h"

void *kzalloc(size_t size)
{
	return calloc(1, size);
}

void kfree(void *p)
{
	free(p);
}

static u64 fake_now = 5000000000ULL;

static u64 clock_ns(void *ctx)
{
	return fake_now;
}

static u64 unix_1700000000(void *ctx)
{
	return 1700000000ULL;
}

static u64 unix_2000000000(void *ctx)
{
	return 2000000000ULL;
}

static int sink_calls;

static void sink_set(void *ctx, u32 gsi, bool level)
{
	sink_calls++;
}

static const struct irq_sink sink = { .set = sink_set };

static void wr(const struct io_ops *ops, void *dev, u64 off, u8 size, u64 v)
{
	CHECK_EQ(ops->write(dev, off, size, v), 0);
}

static u64 rd(const struct io_ops *ops, void *dev, u64 off, u8 size)
{
	u64 v = 0;

	CHECK_EQ(ops->read(dev, off, size, &v), 0);
	return v;
}

/* A snapshot of the configuration section and one device section. */
#define SAVE(save_fn, dev, snap)                                                   \
	do {                                                                       \
		struct snap_writer w_;                                             \
		CHECK_EQ(snap_writer_init(&w_, &host_snap_alloc), 0);              \
		CHECK_EQ(snap_section_begin(&w_, SNAP_SEC_CONFIG, 0, "config"), 0); \
		CHECK_EQ(snap_section_end(&w_), 0);                                \
		CHECK_EQ(snap_section_begin(&w_, SNAP_SEC_DEVICE, 0, "dev"), 0);   \
		CHECK_EQ(save_fn(dev, &w_), 0);                                    \
		CHECK_EQ(snap_section_end(&w_), 0);                                \
		CHECK_EQ(snap_writer_finish(&w_, snap), 0);                        \
		CHECK_EQ(snap_verify(snap, NULL, 0), 0);                           \
	} while (0)

static struct snap_cursor device_cursor(const struct snapshot *s)
{
	struct snap_cursor c;

	CHECK_EQ(snap_find(s, SNAP_SEC_DEVICE, 0, &c), 0);
	return c;
}

/* Overwrites payload bytes in place (the loads trust verify's CRC; these
 * tests skip it to reach the loads' own checks). */
static void poke(struct snapshot *s, u64 payload_off, const void *p, size_t n)
{
	struct snap_cursor c = device_cursor(s);

	memcpy(s->chunks[0] + c.start + payload_off, p, n);
}

static void poke8(struct snapshot *s, u64 off, u8 v)
{
	poke(s, off, &v, 1);
}

/*
 * Loads a copy of good with byte off set to v into dev: must be refused and
 * leave dev's bytes as they were.
 */
#define REFUSED(load_fn, dev, good, off, v)                                        \
	do {                                                                       \
		struct snapshot bad_;                                              \
		u8 *flat_ = malloc((good)->len);                                   \
		struct snap_cursor c_;                                             \
		__typeof__(*(dev)) before_ = *(dev);                               \
		snap_read_at(good, 0, flat_, (good)->len);                         \
		CHECK_EQ(snap_from_bytes(&bad_, &host_snap_alloc, flat_, (good)->len, \
					 SNAP_CHUNK_SHIFT), 0);                    \
		poke8(&bad_, off, v);                                              \
		c_ = device_cursor(&bad_);                                         \
		CHECK_EQ(load_fn(dev, &c_), -EINVAL);                              \
		CHECK(memcmp(&before_, dev, sizeof(before_)) == 0);                \
		snap_free(&bad_);                                                  \
		free(flat_);                                                       \
	} while (0)

/* A payload one byte short, and one with a byte to spare: both refused. */
#define WRONG_LENGTHS(load_fn, dev, good)                                          \
	do {                                                                       \
		struct snap_cursor c_ = device_cursor(good);                       \
		__typeof__(*(dev)) before_ = *(dev);                               \
		c_.end--;                                                          \
		CHECK_EQ(load_fn(dev, &c_), -EINVAL);                              \
		c_ = device_cursor(good);                                          \
		c_.end++;                                                          \
		CHECK_EQ(load_fn(dev, &c_), -EINVAL);                              \
		c_ = device_cursor(good);                                          \
		poke8(good, 0, 2); /* a payload version this reader does not know */ \
		CHECK_EQ(load_fn(dev, &c_), -EINVAL);                              \
		poke8(good, 0, 1);                                                 \
		CHECK(memcmp(&before_, dev, sizeof(before_)) == 0);                \
	} while (0)

/* ---- uart8250 ---- */

static char out_text[1024];

static void uart_out(void *ctx, const char *s, size_t n)
{
	strncat(out_text, s, n);
	strcat(out_text, "|");
}

TEST(uart8250)
{
	struct uart8250 *a = uart8250_create(uart_out, NULL), *b = uart8250_create(uart_out, NULL);
	struct snapshot s;
	struct snap_cursor c;
	const char *in = "hello, world";

	wr(&uart8250_ops, a, UART_LCR, 1, UART_LCR_DLAB | 3);
	wr(&uart8250_ops, a, UART_DLL, 1, 0x0c);
	wr(&uart8250_ops, a, UART_DLM, 1, 0x01);
	wr(&uart8250_ops, a, UART_LCR, 1, 3);
	wr(&uart8250_ops, a, UART_FCR, 1, 0xc7);
	wr(&uart8250_ops, a, UART_IER, 1, UART_IER_RDI | UART_IER_RLSI);
	wr(&uart8250_ops, a, UART_MCR, 1, UART_MCR_DTR | UART_MCR_RTS | UART_MCR_OUT2);
	wr(&uart8250_ops, a, UART_SCR, 1, 0x5a);
	for (const char *p = "partial"; *p; p++)
		wr(&uart8250_ops, a, UART_THR, 1, (u8)*p);
	for (const char *p = in; *p; p++)
		CHECK_EQ(uart8250_rx_push(a, (u8)*p), 0);
	/* Read two: the ring's head moves, so the saved order matters. */
	CHECK_EQ(rd(&uart8250_ops, a, UART_RBR, 1), 'h');
	CHECK_EQ(rd(&uart8250_ops, a, UART_RBR, 1), 'e');
	for (const char *p = "ABCDEF"; *p; p++)
		uart8250_rx_push(a, (u8)*p); /* wraps around the 16-byte ring */
	CHECK(a->irq_level);

	SAVE(uart8250_save, a, &s);
	c = device_cursor(&s);
	CHECK_EQ(snap_cursor_left(&c), 32); /* docs/snapshot.md: 16 FIFO bytes, no line */
	CHECK_EQ(uart8250_load(b, &c), 0);
	CHECK_EQ(b->ier, a->ier);
	CHECK_EQ(b->lcr, a->lcr);
	CHECK_EQ(b->mcr, a->mcr);
	CHECK_EQ(b->scr, 0x5a);
	CHECK_EQ(b->fcr, a->fcr);
	CHECK_EQ(b->dll, 0x0c);
	CHECK_EQ(b->dlm, 0x01);
	CHECK_EQ(b->lsr_errors, a->lsr_errors);
	CHECK_EQ(b->msr_delta, a->msr_delta);
	CHECK_EQ(b->thr_irq, a->thr_irq);
	CHECK_EQ(b->irq_level, true);
	CHECK_EQ(b->rx_count, 16);
	CHECK(b->out == uart_out);
	/* Behaviour: the same register reads, the FIFO in the same order. */
	CHECK_EQ(rd(&uart8250_ops, b, UART_IIR, 1), rd(&uart8250_ops, a, UART_IIR, 1));
	CHECK_EQ(rd(&uart8250_ops, b, UART_LSR, 1), rd(&uart8250_ops, a, UART_LSR, 1));
	for (int i = 0; i < 17; i++)
		CHECK_EQ(rd(&uart8250_ops, b, UART_RBR, 1), rd(&uart8250_ops, a, UART_RBR, 1));

	REFUSED(uart8250_load, b, &s, 2, 0x10);  /* IER bit 4 */
	REFUSED(uart8250_load, b, &s, 4, 0x20);  /* MCR bit 5 */
	REFUSED(uart8250_load, b, &s, 6, 0x08);  /* FCR bit 3 (DMA mode): never kept */
	REFUSED(uart8250_load, b, &s, 11, 2);    /* thr_irq: not a bool */
	REFUSED(uart8250_load, b, &s, 13, 17);   /* rx_count past the FIFO */
	REFUSED(uart8250_load, b, &s, 30, 1);    /* an output line: never kept now */
	WRONG_LENGTHS(uart8250_load, b, &s);
	snap_free(&s);
	uart8250_destroy(a);
	uart8250_destroy(b);
}

/* ---- pic8259 ---- */

static int pic_int_calls;

static void pic_int(void *ctx, bool level)
{
	pic_int_calls++;
}

static void pic_init_like_linux(struct pic8259 *p)
{
	wr(&pic_master_ops, p, 0, 1, 0x11);
	wr(&pic_master_ops, p, 1, 1, 0x30);
	wr(&pic_master_ops, p, 1, 1, 0x04);
	wr(&pic_master_ops, p, 1, 1, 0x01);
	wr(&pic_slave_ops, p, 0, 1, 0x11);
	wr(&pic_slave_ops, p, 1, 1, 0x38);
	wr(&pic_slave_ops, p, 1, 1, 0x02);
	wr(&pic_slave_ops, p, 1, 1, 0x01);
	wr(&pic_master_ops, p, 1, 1, 0xe0);
	wr(&pic_elcr_ops, p, 1, 1, 0x0a); /* IRQ 9 and 11 level */
}

TEST(pic8259)
{
	struct pic8259 *a = pic_create(pic_int, NULL), *b = pic_create(pic_int, NULL);
	struct snapshot s;
	struct snap_cursor c;

	pic_init_like_linux(a);
	pic_set_irq(a, 1, true);
	CHECK_EQ(pic_ack(a), 0x31);       /* IRQ 1 in service */
	pic_set_irq(a, 4, true);          /* pending behind it */
	pic_set_irq(a, 11, true);
	wr(&pic_slave_ops, a, 0, 1, PIC_OCW3 | PIC_OCW3_RR | PIC_OCW3_RIS);

	SAVE(pic_save, a, &s);
	c = device_cursor(&s);
	CHECK_EQ(snap_cursor_left(&c), 37); /* docs/snapshot.md */
	CHECK_EQ(pic_load(b, &c), 0);
	CHECK(memcmp(a, b, sizeof(*a)) == 0);
	CHECK_EQ(pic_pending_vector(b), pic_pending_vector(a));
	CHECK_EQ(rd(&pic_slave_ops, b, 0, 1), rd(&pic_slave_ops, a, 0, 1));
	wr(&pic_master_ops, a, 0, 1, 0x20); /* EOI */
	wr(&pic_master_ops, b, 0, 1, 0x20);
	CHECK_EQ(pic_ack(b), pic_ack(a));
	CHECK_EQ(pic_ack(b), pic_ack(a));

	REFUSED(pic_load, b, &s, 2 + 8, 1);    /* master icw_step 1 */
	REFUSED(pic_load, b, &s, 2 + 7, 8);    /* priority_add 8 */
	REFUSED(pic_load, b, &s, 2 + 5, 0x31); /* vector base not a multiple of 8 */
	REFUSED(pic_load, b, &s, 2 + 4, 0x01); /* ELCR for IRQ 0: always edge */
	WRONG_LENGTHS(pic_load, b, &s);
	snap_free(&s);
	pic_destroy(a);
	pic_destroy(b);
}

/* ---- pit8254 ---- */

static int reprograms;

static void pit_reprogrammed(void *ctx)
{
	reprograms++;
}

static u16 pit_read_counter(struct pit8254 *p, unsigned i)
{
	u16 lo, hi;

	wr(&pit_ops, p, PIT_CONTROL, 1, i << 6); /* latch */
	lo = (u16)rd(&pit_ops, p, i, 1);
	hi = (u16)rd(&pit_ops, p, i, 1);
	return (u16)(lo | hi << 8);
}

TEST(pit8254)
{
	struct pit8254 *a = pit_create(clock_ns, NULL, &sink), *b = pit_create(clock_ns, NULL, &sink);
	struct snapshot s;
	struct snap_cursor c;

	pit_set_reprogrammed(b, pit_reprogrammed, NULL);
	pit_set_reprogrammed(a, pit_reprogrammed, NULL);
	fake_now = 5000000000ULL;
	/* Counter 0: mode 2, 1193 (1 kHz). Counter 2: mode 3 gated by port 0x61. */
	wr(&pit_ops, a, PIT_CONTROL, 1, 0x34);
	wr(&pit_ops, a, 0, 1, 1193 & 0xff);
	wr(&pit_ops, a, 0, 1, 1193 >> 8);
	wr(&pit_ops, a, PIT_CONTROL, 1, 0xb6);
	wr(&pit_ops, a, 2, 1, 0x00);
	wr(&pit_ops, a, 2, 1, 0x10);
	wr(&pit_port61_ops, a, 0, 1, PORT61_GATE2 | PORT61_SPKR);
	fake_now += 2345678;
	pit_update(a, fake_now);
	/* Counter 1: a latch pending read, half read. */
	wr(&pit_ops, a, PIT_CONTROL, 1, 0x74);
	wr(&pit_ops, a, 1, 1, 0x34);
	wr(&pit_ops, a, 1, 1, 0x12);
	wr(&pit_ops, a, PIT_CONTROL, 1, 0x40);
	rd(&pit_ops, a, 1, 1);

	SAVE(pit_save, a, &s);
	reprograms = 0;
	c = device_cursor(&s);
	CHECK_EQ(snap_cursor_left(&c), 200); /* docs/snapshot.md */
	CHECK_EQ(pit_load(b, &c), 0);
	CHECK_EQ(reprograms, 1);
	CHECK(memcmp(a, b, sizeof(*a)) == 0);
	/* Later, on the same clock, both count alike. */
	CHECK_EQ(rd(&pit_ops, b, 1, 1), rd(&pit_ops, a, 1, 1)); /* the latch's MSB */
	for (int i = 0; i < 5; i++) {
		fake_now += 123457;
		CHECK_EQ(pit_read_counter(b, 0), pit_read_counter(a, 0));
		CHECK_EQ(pit_read_counter(b, 2), pit_read_counter(a, 2));
		CHECK_EQ(rd(&pit_port61_ops, b, 0, 1) & PORT61_OUT2,
			 rd(&pit_port61_ops, a, 0, 1) & PORT61_OUT2);
		CHECK_EQ(pit_next_event_ns(b), pit_next_event_ns(a));
	}
	CHECK(pit_next_event_ns(b) != PIT_NO_EVENT);

	/* Counter 0's fields start at payload offset 2: mode, rw, bcd, gate, ... */
	REFUSED(pit_load, b, &s, 2, 6);      /* mode 6 */
	REFUSED(pit_load, b, &s, 3, 0);      /* rw 0: the latch command, not a mode */
	REFUSED(pit_load, b, &s, 5, 0);      /* counter 0's gate low */
	{
		static const u8 zero[4];
		struct snapshot bad;
		u8 *flat = malloc(s.len);
		struct pit8254 before = *b;

		/* Loaded with n = 0: would divide by zero. */
		snap_read_at(&s, 0, flat, s.len);
		CHECK_EQ(snap_from_bytes(&bad, &host_snap_alloc, flat, s.len, SNAP_CHUNK_SHIFT), 0);
		poke(&bad, 2 + 15, zero, 4);
		c = device_cursor(&bad);
		CHECK_EQ(pit_load(b, &c), -EINVAL);
		CHECK(memcmp(&before, b, sizeof(before)) == 0);
		snap_free(&bad);
		free(flat);
	}
	WRONG_LENGTHS(pit_load, b, &s);
	snap_free(&s);
	pit_destroy(a);
	pit_destroy(b);
}

/* ---- rtc_cmos ---- */

static u8 rtc_rd(struct rtc_cmos *r, u8 idx)
{
	wr(&rtc_cmos_ops, r, 0, 1, idx);
	return (u8)rd(&rtc_cmos_ops, r, 1, 1);
}

static void rtc_wr(struct rtc_cmos *r, u8 idx, u8 v)
{
	wr(&rtc_cmos_ops, r, 0, 1, idx);
	wr(&rtc_cmos_ops, r, 1, 1, v);
}

TEST(rtc_cmos)
{
	struct rtc_cmos *a, *b;
	struct snapshot s;
	struct snap_cursor c;

	fake_now = 5000000000ULL;
	a = rtc_cmos_create(clock_ns, unix_1700000000, NULL, &sink);
	fake_now += 777000000;
	/* Created later with another wall clock: the load must bring a's. */
	b = rtc_cmos_create(clock_ns, unix_2000000000, NULL, &sink);
	rtc_cmos_set_memory(a, 256ULL << 20, 0);
	rtc_wr(a, RTC_REG_B, RTC_B_24H | RTC_B_DM_BINARY | RTC_B_UIE | RTC_B_PIE);
	rtc_wr(a, RTC_SECONDS_ALARM, 0xc0);
	fake_now += 3500000000ULL;
	rtc_update(a, fake_now);
	rtc_wr(a, 0x40, 0x99); /* CMOS RAM */
	wr(&rtc_cmos_ops, a, 0, 1, RTC_INDEX_NMI_DISABLE | RTC_MINUTES);

	SAVE(rtc_cmos_save, a, &s);
	c = device_cursor(&s);
	CHECK_EQ(snap_cursor_left(&c), 175); /* docs/snapshot.md */
	CHECK_EQ(rtc_cmos_load(b, &c), 0);
	CHECK(memcmp(a, b, sizeof(*a)) == 0);
	CHECK_EQ(rd(&rtc_cmos_ops, b, 1, 1), rd(&rtc_cmos_ops, a, 1, 1)); /* the index kept */
	for (int i = 0; i < 3; i++) {
		fake_now += 1100000000ULL;
		CHECK_EQ(rtc_rd(b, RTC_SECONDS), rtc_rd(a, RTC_SECONDS));
		CHECK_EQ(rtc_rd(b, RTC_HOURS), rtc_rd(a, RTC_HOURS));
		CHECK_EQ(rtc_rd(b, RTC_YEAR), rtc_rd(a, RTC_YEAR));
		CHECK_EQ(rtc_rd(b, RTC_REG_C), rtc_rd(a, RTC_REG_C));
		CHECK_EQ(rtc_next_event_ns(b), rtc_next_event_ns(a));
	}
	CHECK_EQ(rtc_rd(b, RTC_YEAR), 23); /* 2023, a's clock, not b's 2033 */

	REFUSED(rtc_cmos_load, b, &s, 2, 0x80);            /* index past the RAM */
	REFUSED(rtc_cmos_load, b, &s, 2 + 1 + 1 + 128 + 7, 0x10); /* base_sec after 9999 */
	REFUSED(rtc_cmos_load, b, &s, 2 + 1 + 1 + 128 + 8 + 8 + 1 + 8, 0x01); /* flag bit 0 */
	WRONG_LENGTHS(rtc_cmos_load, b, &s);
	snap_free(&s);
	rtc_cmos_destroy(a);
	rtc_cmos_destroy(b);
}

/* ---- acpi_pm ---- */

static const struct acpi_pm_ops pm_ops = { .now_ns = clock_ns };

TEST(acpi_pm)
{
	struct acpi_pm *a, *b;
	struct snapshot s;
	struct snap_cursor c;

	fake_now = 5000000000ULL;
	a = acpi_pm_create(&pm_ops, &sink);
	fake_now += 1234567;
	b = acpi_pm_create(&pm_ops, &sink); /* another timer base */
	wr(&acpi_pm_ops, a, ACPI_PM1_EN, 2, ACPI_PM1_PWRBTN_EN | ACPI_PM1_TMR_EN);
	acpi_pm_power_button(a);
	wr(&acpi_pm_ops, a, ACPI_PM1_CNT, 2, ACPI_PM1_SCI_EN | (3u << ACPI_PM1_SLP_TYP_SHIFT));
	CHECK_EQ(acpi_pm_rcr_ops.write(a, 0, 1, ACPI_RCR_SYS_RST), 0);
	CHECK(a->sci_level);

	SAVE(acpi_pm_save, a, &s);
	c = device_cursor(&s);
	CHECK_EQ(snap_cursor_left(&c), 26); /* docs/snapshot.md */
	CHECK_EQ(acpi_pm_load(b, &c), 0);
	CHECK(memcmp(a, b, sizeof(*a)) == 0);
	for (int i = 0; i < 3; i++) {
		fake_now += 98765432;
		CHECK_EQ(rd(&acpi_pm_ops, b, ACPI_PM_TMR, 4), rd(&acpi_pm_ops, a, ACPI_PM_TMR, 4));
		CHECK_EQ(rd(&acpi_pm_ops, b, ACPI_PM1_STS, 2), rd(&acpi_pm_ops, a, ACPI_PM1_STS, 2));
		CHECK_EQ(acpi_pm_next_event_ns(b), acpi_pm_next_event_ns(a));
	}

	REFUSED(acpi_pm_load, b, &s, 2, 0x02);       /* PM1_STS bit 1: no such status */
	REFUSED(acpi_pm_load, b, &s, 4, 0x02);       /* PM1_EN bit 1 */
	REFUSED(acpi_pm_load, b, &s, 6, 0x00);       /* PM1_CNT without SCI_EN */
	REFUSED(acpi_pm_load, b, &s, 2 + 6 + 16 + 1, ACPI_RCR_RST_CPU); /* self-clearing bit */
	WRONG_LENGTHS(acpi_pm_load, b, &s);
	snap_free(&s);
	acpi_pm_destroy(a);
	acpi_pm_destroy(b);
}

/* ---- pci_host ---- */

static struct pci_config other_dev;

TEST(pci_host)
{
	struct pci_host *a = pci_host_create(), *b = pci_host_create(), *c3 = pci_host_create();
	struct snapshot s;
	struct snap_cursor c;

	pci_config_init(&other_dev, 0x1af4, 0x1041, 0x020000, 1);
	CHECK_EQ(pci_host_add(a, PCI_DEVFN(3, 0), &pci_config_ops, &other_dev), 0);
	CHECK_EQ(pci_host_add(b, PCI_DEVFN(3, 0), &pci_config_ops, &other_dev), 0);
	wr(&pci_host_ops, a, 0, 4, PCI_ADDR_ENABLE | PCI_COMMAND);
	wr(&pci_host_ops, a, 4, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	wr(&pci_host_ops, a, 0, 4, PCI_ADDR_ENABLE | PCI_LATENCY_TIMER);
	wr(&pci_host_ops, a, 5, 1, 0x40);
	wr(&pci_host_ops, a, 0, 4, PCI_ADDR_ENABLE | PCI_DEVFN(3, 0) << 8);

	SAVE(pci_host_save, a, &s);
	c = device_cursor(&s);
	CHECK_EQ(snap_cursor_left(&c), 266); /* docs/snapshot.md */
	CHECK_EQ(pci_host_load(b, &c), 0);
	/* Not memcmp: slot 0 points at each host's own bridge. */
	CHECK_EQ(b->address, a->address);
	CHECK_EQ(b->address_ext, a->address_ext);
	CHECK(memcmp(&a->bridge, &b->bridge, sizeof(a->bridge)) == 0);
	CHECK_EQ(b->nr_slots, 2);
	CHECK_EQ(b->slots[1].devfn, PCI_DEVFN(3, 0));
	CHECK_EQ(rd(&pci_host_ops, b, 4, 4), 0x10411af4);
	wr(&pci_host_ops, b, 0, 4, PCI_ADDR_ENABLE | PCI_COMMAND);
	CHECK_EQ(rd(&pci_host_ops, b, 4, 2), PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);

	/* A host without the device at 03.0 is wired differently. */
	c = device_cursor(&s);
	CHECK_EQ(pci_host_load(c3, &c), -EINVAL);
	REFUSED(pci_host_load, b, &s, 2 + 4 + 1 + PCI_VENDOR_ID, 0x87); /* a read-only ID */
	REFUSED(pci_host_load, b, &s, 2 + 3, 0x7f);                     /* reserved address bits */
	REFUSED(pci_host_load, b, &s, 2 + 4 + 1 + 256 + 1 + 1, 4 << 3);  /* devfn 04.0 */
	WRONG_LENGTHS(pci_host_load, b, &s);
	snap_free(&s);
	pci_host_destroy(a);
	pci_host_destroy(b);
	pci_host_destroy(c3);
}

/* ---- vioapic ---- */

static void ioapic_wr(struct vioapic *io, u32 reg, u32 v)
{
	wr(&vioapic_mmio_ops, io, IOAPIC_REGSEL, 4, reg);
	wr(&vioapic_mmio_ops, io, IOAPIC_WIN, 4, v);
}

TEST(vioapic)
{
	struct apic_bus *bus = apic_bus_create();
	struct vioapic *a = vioapic_create(bus, 2), *b = vioapic_create(bus, 0);
	struct snapshot s;
	struct snap_cursor c;
	u64 rte;

	ioapic_wr(a, IOAPIC_REG_REDTBL + 2 * 4, 0x34);      /* pin 4: edge, vector 0x34 */
	ioapic_wr(a, IOAPIC_REG_REDTBL + 2 * 4 + 1, 0x01000000);
	ioapic_wr(a, IOAPIC_REG_REDTBL + 2 * 9, (u32)(IOAPIC_RTE_LEVEL | IOAPIC_RTE_MASKED | 0x39));
	vioapic_set_line(a, 9, true);
	a->rte[9] &= ~IOAPIC_RTE_MASKED; /* as if delivered: Remote IRR set */
	a->rte[9] |= IOAPIC_RTE_REMOTE_IRR;
	wr(&vioapic_mmio_ops, a, IOAPIC_REGSEL, 4, IOAPIC_REG_REDTBL + 2 * 4 + 1);

	SAVE(vioapic_save, a, &s);
	c = device_cursor(&s);
	CHECK_EQ(snap_cursor_left(&c), 207); /* docs/snapshot.md */
	CHECK_EQ(vioapic_load(b, &c), 0);
	CHECK(memcmp(a, b, sizeof(*a)) == 0);
	CHECK_EQ(rd(&vioapic_mmio_ops, b, IOAPIC_WIN, 4), 0x01000000);

	/* Payload: version 2, id 4, regsel 4, level 4, count 1, then the entries. */
	REFUSED(vioapic_load, b, &s, 2, 0x01);            /* ID bits below 24 */
	REFUSED(vioapic_load, b, &s, 2 + 4 + 1, 0x01);    /* IOREGSEL above 0xff */
	REFUSED(vioapic_load, b, &s, 2 + 8 + 3, 0x01);    /* a pin 24 */
	REFUSED(vioapic_load, b, &s, 2 + 12, 25);         /* another pin count */
	rte = 0x34 | IOAPIC_RTE_REMOTE_IRR;               /* Remote IRR on an edge entry */
	REFUSED(vioapic_load, b, &s, 2 + 13 + 8 * 4 + 1, (u8)(rte >> 8));
	REFUSED(vioapic_load, b, &s, 2 + 13 + 8 * 4 + 1, (u8)(IOAPIC_RTE_DELIVS >> 8));
	REFUSED(vioapic_load, b, &s, 2 + 13 + 8 * 4 + 3, 0x01); /* bit 24: reserved */
	WRONG_LENGTHS(vioapic_load, b, &s);
	snap_free(&s);
	vioapic_destroy(a);
	vioapic_destroy(b);
	apic_bus_destroy(bus);
}

/* ---- testdev and apic_bus ---- */

TEST(testdev)
{
	struct testdev *a = testdev_create(), *b = testdev_create();
	struct snapshot s;
	struct snap_cursor c;

	wr(&testdev_ops, a, TESTDEV_SCRATCH32, 4, 0xfeedface);
	wr(&testdev_ops, a, TESTDEV_SCRATCH64, 8, 0x0123456789abcdefULL);
	SAVE(testdev_save, a, &s);
	c = device_cursor(&s);
	CHECK_EQ(snap_cursor_left(&c), 19); /* docs/snapshot.md */
	CHECK_EQ(testdev_load(b, &c), 0);
	CHECK(memcmp(a, b, sizeof(*a)) == 0);
	CHECK_EQ(rd(&testdev_ops, b, TESTDEV_WRITES, 4), 2);
	CHECK_EQ(rd(&testdev_ops, b, TESTDEV_SCRATCH64, 8), 0x0123456789abcdefULL);
	/* WRONG_LENGTHS, but 2 is this payload's version and 3 the unknown one. */
	{
		struct snap_cursor c_ = device_cursor(&s);
		struct testdev before_ = *b;

		c_.end--;
		CHECK_EQ(testdev_load(b, &c_), -EINVAL);
		c_ = device_cursor(&s);
		c_.end++;
		CHECK_EQ(testdev_load(b, &c_), -EINVAL);
		c_ = device_cursor(&s);
		poke8(&s, 0, 3);
		CHECK_EQ(testdev_load(b, &c_), -EINVAL);
		poke8(&s, 0, 2);
		CHECK(memcmp(&before_, b, sizeof(before_)) == 0);
	}
	snap_free(&s);
	testdev_destroy(a);
	testdev_destroy(b);
}

/* The INTx# register's lines, seen at the wiring's output. */
static int wire_calls;
static u32 wire_gsi;
static bool wire_level;
static void wire_set(void *ctx, u32 gsi, bool level)
{
	(void)ctx;
	wire_calls++;
	wire_gsi = gsi;
	wire_level = level;
}

TEST(testdev_intx)
{
	struct testdev *a = testdev_create(), *b = testdev_create();
	struct pci_intx wa, wb;
	struct snapshot s;
	struct snap_cursor c;
	u8 v1[18];

	pci_intx_init(&wa, (struct irq_sink){ .set = wire_set });
	pci_intx_init(&wb, (struct irq_sink){ .set = wire_set });
	testdev_set_wires(a, &wa);
	testdev_set_wires(b, &wb);
	/* Two functions of slot 31 on GSI 23: wire-ORed. */
	wr(&testdev_ops, a, TESTDEV_INTX, 1, 3);
	CHECK_EQ(wire_calls, 1);
	CHECK_EQ(wire_gsi, 23);
	CHECK(wire_level);
	CHECK_EQ(rd(&testdev_ops, a, TESTDEV_INTX, 1), 3);
	wr(&testdev_ops, a, TESTDEV_INTX, 1, 2); /* one lets go: still asserted */
	CHECK_EQ(wire_calls, 1);
	CHECK(pci_intx_level(&wa, 23));
	/* Saved asserted; the load records the level without driving it (the
	 * I/O APIC's own state holds it). */
	SAVE(testdev_save, a, &s);
	c = device_cursor(&s);
	CHECK_EQ(testdev_load(b, &c), 0);
	CHECK_EQ(wire_calls, 1);
	CHECK(pci_intx_level(&wb, 23));
	CHECK_EQ(rd(&testdev_ops, b, TESTDEV_INTX, 1), 2);
	wr(&testdev_ops, b, TESTDEV_INTX, 1, 0); /* released after the load */
	CHECK_EQ(wire_calls, 2);
	CHECK(!wire_level && !pci_intx_level(&wb, 23));
	/* Reset releases a's line. */
	testdev_reset(a);
	CHECK_EQ(wire_calls, 3);
	CHECK(!wire_level && !pci_intx_level(&wa, 23));
	CHECK_EQ(rd(&testdev_ops, a, TESTDEV_INTX, 1), 0);
	/* A version-1 payload (no INTx# byte) loads with the register clear. */
	c = device_cursor(&s);
	memcpy(v1, s.chunks[0] + c.start, sizeof(v1));
	v1[0] = 1;
	c.end = c.start + sizeof(v1);
	memcpy(s.chunks[0] + c.start, v1, sizeof(v1));
	wr(&testdev_ops, b, TESTDEV_INTX, 1, 1);
	CHECK_EQ(testdev_load(b, &c), 0);
	CHECK_EQ(rd(&testdev_ops, b, TESTDEV_INTX, 1), 0);
	snap_free(&s);
	testdev_destroy(a);
	testdev_destroy(b);
}

TEST(apic_bus)
{
	struct apic_bus *a = apic_bus_create(), *b = apic_bus_create(), *other = apic_bus_create();
	struct snapshot s;
	struct snap_cursor c;

	/* Save and load touch no vLAPIC: the count alone stands for them. */
	a->n = b->n = 3;
	other->n = 2;
	a->rr_next = 2;
	SAVE(apic_bus_save, a, &s);
	c = device_cursor(&s);
	CHECK_EQ(snap_cursor_left(&c), 10); /* docs/snapshot.md */
	CHECK_EQ(apic_bus_load(b, &c), 0);
	CHECK_EQ(b->rr_next, 2);
	c = device_cursor(&s);
	CHECK_EQ(apic_bus_load(other, &c), -EINVAL);
	CHECK_EQ(other->rr_next, 0);
	REFUSED(apic_bus_load, b, &s, 2 + 4, 4); /* past the last vLAPIC */
	WRONG_LENGTHS(apic_bus_load, b, &s);
	snap_free(&s);
	apic_bus_destroy(a);
	apic_bus_destroy(b);
	apic_bus_destroy(other);
}

int main(void)
{
	RUN(uart8250);
	RUN(pic8259);
	RUN(pit8254);
	RUN(rtc_cmos);
	RUN(acpi_pm);
	RUN(pci_host);
	RUN(vioapic);
	RUN(testdev);
	RUN(testdev_intx);
	RUN(apic_bus);
	CHECK_EQ(host_stats.live, 0);
	return unit_done();
}
