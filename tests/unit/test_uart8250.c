#include "unit.h"
#include "devices/uart8250.h"

#include <string.h>
#include "hv/bus.h"
#include "hv/mm.h"

/* The heap, for the host. */
void *kzalloc(size_t size)
{
	return calloc(1, size);
}

void kfree(void *p)
{
	free(p);
}

/* What the device handed out, byte for byte, and in how many calls. */
static char outbuf[4096];
static size_t out_len;
static int out_calls;

static void out(void *ctx, const char *s, size_t n)
{
	CHECK(ctx == (void *)outbuf);
	CHECK(n == 1); /* every byte as it is written */
	if (out_len + n <= sizeof(outbuf)) {
		memcpy(outbuf + out_len, s, n);
		out_len += n;
	}
	out_calls++;
}

/* The output so far is exactly s. */
static bool out_is(const char *s)
{
	return out_len == strlen(s) && !memcmp(outbuf, s, out_len);
}

static int irq_calls;
static bool irq_now;

static void irq(void *ctx, u32 gsi, bool level)
{
	CHECK(ctx == &irq_calls);
	CHECK_EQ(gsi, 4u);
	CHECK(level != irq_now); /* called on changes only */
	irq_now = level;
	irq_calls++;
}

static struct bus pio;

static struct uart8250 *setup(void)
{
	struct uart8250 *u = uart8250_create(out, outbuf);

	memset(&pio, 0, sizeof(pio));
	out_len = 0;
	out_calls = 0;
	irq_calls = 0;
	irq_now = false;
	CHECK(u != NULL);
	CHECK_EQ(bus_register(&pio, UART8250_COM1_BASE, UART8250_NR_PORTS, "uart", &uart8250_ops, u),
		 0);
	return u;
}

static u8 in(unsigned reg)
{
	u64 v = 0x1234;

	CHECK_EQ(bus_read(&pio, UART8250_COM1_BASE + reg, 1, &v), 0);
	CHECK(v <= 0xff);
	return (u8)v;
}

static void outb(unsigned reg, u8 v)
{
	CHECK_EQ(bus_write(&pio, UART8250_COM1_BASE + reg, 1, v), 0);
}

static void puts_uart(const char *s)
{
	while (*s)
		outb(UART_THR, (u8)*s++);
}

TEST(reset_values)
{
	struct uart8250 *u = setup();

	CHECK_EQ(in(UART_IER), 0);
	CHECK_EQ(in(UART_IIR), UART_IIR_NO_INT);
	CHECK_EQ(in(UART_LCR), 0);
	CHECK_EQ(in(UART_MCR), 0);
	CHECK_EQ(in(UART_LSR), 0x60);
	CHECK_EQ(in(UART_MSR), 0xb0); /* DCD, DSR, CTS: a connected line */
	CHECK_EQ(in(UART_SCR), 0);
	CHECK_EQ(in(UART_RBR), 0); /* nothing received */
	uart8250_destroy(u);
}

/* No line buffering: a prompt without '\n' and a terminal's escape
 * sequences reach the console at once and unchanged, '\r' included. */
TEST(output_byte_for_byte)
{
	struct uart8250 *u = setup();

	puts_uart("# ");
	CHECK(out_is("# "));
	puts_uart("\x1b[6n\r\n\n");
	CHECK(out_is("# \x1b[6n\r\n\n"));
	CHECK_EQ(out_calls, 9);
	uart8250_destroy(u);
	CHECK_EQ(out_calls, 9); /* nothing held back to hand out at the end */
}

TEST(bytes_pass_through)
{
	struct uart8250 *u = setup();

	outb(UART_THR, 0);
	outb(UART_THR, 0x1b);
	outb(UART_THR, 0xff);
	CHECK_EQ(out_len, 3);
	CHECK_EQ((u8)outbuf[0], 0);
	CHECK_EQ((u8)outbuf[1], 0x1b);
	CHECK_EQ((u8)outbuf[2], 0xff);
	uart8250_destroy(u);
}

TEST(dlab_divisor_latch)
{
	struct uart8250 *u = setup();

	outb(UART_IER, 0x05);
	outb(UART_LCR, UART_LCR_DLAB | 0x03);
	CHECK_EQ(in(UART_LCR), 0x83);
	outb(UART_DLL, 0x0c); /* 9600 baud */
	outb(UART_DLM, 0x01);
	CHECK_EQ(in(UART_DLL), 0x0c);
	CHECK_EQ(in(UART_DLM), 0x01);
	CHECK_EQ(out_len, 0);
	outb(UART_LCR, 0x03);
	CHECK_EQ(in(UART_IER), 0x05); /* IER untouched by the divisor writes */
	outb(UART_THR, 'x');          /* and THR is THR again */
	CHECK(out_is("x"));
	outb(UART_LCR, UART_LCR_DLAB);
	CHECK_EQ(in(UART_DLL), 0x0c); /* the latch kept its value */
	CHECK_EQ(in(UART_DLM), 0x01);
	uart8250_destroy(u);
}

TEST(scratch_and_masks)
{
	struct uart8250 *u = setup();

	for (unsigned v = 0; v < 256; v += 0x11) {
		outb(UART_SCR, (u8)v);
		CHECK_EQ(in(UART_SCR), v);
	}
	outb(UART_IER, 0xff);
	CHECK_EQ(in(UART_IER), 0x0f);
	outb(UART_MCR, 0xff);
	CHECK_EQ(in(UART_MCR), 0x1f);
	uart8250_destroy(u);
}

TEST(lsr_and_receive_fifo)
{
	struct uart8250 *u = setup();

	CHECK_EQ(in(UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
	CHECK_EQ(uart8250_rx_push(u, 'a'), 0);
	CHECK_EQ(uart8250_rx_push(u, 'b'), 0);
	CHECK_EQ(in(UART_LSR), 0x61);
	CHECK_EQ(in(UART_RBR), 'a');
	CHECK_EQ(in(UART_LSR), 0x61);
	CHECK_EQ(in(UART_RBR), 'b');
	CHECK_EQ(in(UART_LSR), 0x60);
	CHECK_EQ(in(UART_RBR), 0);

	/* fill, overflow: the extra byte is dropped, OE reported once */
	for (int i = 0; i < UART8250_RX_FIFO; i++)
		CHECK_EQ(uart8250_rx_push(u, (u8)(0x30 + i)), 0);
	CHECK_EQ(uart8250_rx_push(u, 'X'), -ENOSPC);
	CHECK_EQ(in(UART_LSR), 0x63);
	CHECK_EQ(in(UART_LSR), 0x61);
	for (int i = 0; i < UART8250_RX_FIFO; i++)
		CHECK_EQ(in(UART_RBR), 0x30 + i);
	CHECK_EQ(in(UART_LSR), 0x60);

	/* wrap around the ring */
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 10; i++)
			CHECK_EQ(uart8250_rx_push(u, (u8)(round * 10 + i)), 0);
		for (int i = 0; i < 10; i++)
			CHECK_EQ(in(UART_RBR), round * 10 + i);
	}

	/* FCR clears the receive FIFO */
	uart8250_rx_push(u, 'q');
	outb(UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RX);
	CHECK_EQ(in(UART_LSR), 0x60);
	uart8250_rx_push(u, 'q');
	outb(UART_FCR, UART_FCR_ENABLE); /* no change of FCR0: kept */
	CHECK_EQ(in(UART_LSR), 0x61);
	outb(UART_FCR, 0); /* FCR0 changes: both FIFOs reset */
	CHECK_EQ(in(UART_LSR), 0x60);
	uart8250_destroy(u);
}

TEST(interrupt_identification)
{
	struct uart8250 *u = setup();

	u->irq = (struct irq_sink){ .set = irq, .ctx = &irq_calls };
	u->gsi = 4;

	outb(UART_FCR, UART_FCR_ENABLE | UART_FCR_TRIGGER);
	CHECK_EQ(in(UART_IIR), 0xc1); /* FIFOs on, nothing pending */
	outb(UART_FCR, 0);
	CHECK_EQ(in(UART_IIR), 0x01);

	outb(UART_MCR, UART_MCR_OUT2 | UART_MCR_DTR | UART_MCR_RTS);
	CHECK_EQ(irq_calls, 0);

	/* Enabling THRE with THR empty raises it; reading IIR acknowledges it. */
	outb(UART_IER, UART_IER_THRI);
	CHECK(irq_now);
	CHECK_EQ(in(UART_IIR), UART_IIR_THRI);
	CHECK(!irq_now);
	CHECK_EQ(in(UART_IIR), UART_IIR_NO_INT);
	/* ... and every write to THR raises it again */
	outb(UART_THR, 'a');
	CHECK(irq_now);
	CHECK_EQ(irq_calls, 3);

	/* received data outranks THRE; reading RBR clears it */
	outb(UART_IER, UART_IER_THRI | UART_IER_RDI);
	uart8250_rx_push(u, 'z');
	CHECK_EQ(in(UART_IIR), UART_IIR_RDI);
	CHECK_EQ(in(UART_IIR), UART_IIR_RDI); /* not acknowledged by IIR */
	CHECK_EQ(in(UART_RBR), 'z');
	CHECK_EQ(in(UART_IIR), UART_IIR_THRI);
	CHECK_EQ(in(UART_IIR), UART_IIR_NO_INT);
	CHECK(!irq_now);

	/* line status (overrun) outranks all */
	outb(UART_IER, UART_IER_RLSI | UART_IER_RDI);
	for (int i = 0; i <= UART8250_RX_FIFO; i++)
		uart8250_rx_push(u, 'o');
	CHECK(irq_now);
	CHECK_EQ(in(UART_IIR), UART_IIR_RLSI);
	CHECK_EQ(in(UART_LSR), 0x63);
	CHECK_EQ(in(UART_IIR), UART_IIR_RDI);
	outb(UART_FCR, UART_FCR_CLEAR_RX);
	CHECK_EQ(in(UART_IIR), UART_IIR_NO_INT);
	CHECK(!irq_now);

	/* without OUT2 the line stays low though IIR shows the cause */
	outb(UART_MCR, 0);
	uart8250_rx_push(u, 'p');
	CHECK_EQ(in(UART_IIR), UART_IIR_RDI);
	CHECK(!irq_now);
	outb(UART_MCR, UART_MCR_OUT2);
	CHECK(irq_now);
	outb(UART_IER, 0);
	CHECK(!irq_now);
	uart8250_destroy(u);
}

TEST(loopback_and_modem_status)
{
	struct uart8250 *u = setup();

	CHECK_EQ(in(UART_MSR), 0xb0);
	/* Linux's 8250 probe: loopback with OUT2|RTS must read back DCD|CTS */
	outb(UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2 | UART_MCR_RTS);
	CHECK_EQ(in(UART_MSR) & 0xf0, UART_MSR_DCD | UART_MSR_CTS);
	outb(UART_MCR, UART_MCR_LOOP | UART_MCR_DTR | UART_MCR_OUT1);
	/* DSR rose, CTS and DCD fell: three deltas; RI rose (no TERI) */
	CHECK_EQ(in(UART_MSR), UART_MSR_DSR | UART_MSR_RI | UART_MSR_DCTS | UART_MSR_DDSR |
				       UART_MSR_DDCD);
	CHECK_EQ(in(UART_MSR), UART_MSR_DSR | UART_MSR_RI); /* deltas cleared by the read */
	outb(UART_MCR, UART_MCR_LOOP | UART_MCR_DTR);
	CHECK_EQ(in(UART_MSR), UART_MSR_DSR | UART_MSR_TERI); /* RI's trailing edge */

	/* transmitted bytes come back to the receiver, not the output */
	puts_uart("hi\n");
	CHECK_EQ(out_len, 0);
	CHECK_EQ(in(UART_LSR), 0x61);
	CHECK_EQ(in(UART_RBR), 'h');
	CHECK_EQ(in(UART_RBR), 'i');
	CHECK_EQ(in(UART_RBR), '\n');
	CHECK_EQ(in(UART_LSR), 0x60);
	outb(UART_MCR, 0);
	puts_uart("out\n");
	CHECK(out_is("out\n"));
	uart8250_destroy(u);
}

TEST(modem_status_interrupt)
{
	struct uart8250 *u = setup();

	u->irq = (struct irq_sink){ .set = irq, .ctx = &irq_calls };
	u->gsi = 4;
	outb(UART_IER, UART_IER_MSI);
	outb(UART_MCR, UART_MCR_OUT2); /* outside loopback the inputs do not change: no delta */
	CHECK_EQ(in(UART_IIR), UART_IIR_NO_INT);
	outb(UART_MCR, UART_MCR_LOOP | UART_MCR_RTS);
	/* the level is forced low in loopback, but IIR reports the cause */
	CHECK_EQ(in(UART_IIR), UART_IIR_MSI);
	CHECK(!irq_now);
	in(UART_MSR);
	CHECK_EQ(in(UART_IIR), UART_IIR_NO_INT);
	uart8250_destroy(u);
}

TEST(other_sizes_and_offsets)
{
	struct uart8250 *u = setup();
	u64 v;

	outb(UART_SCR, 0x5a);
	CHECK_EQ(uart8250_ops.read(u, UART_SCR, 2, &v), 0);
	CHECK_EQ(v, 0xffff);
	CHECK_EQ(uart8250_ops.read(u, 0, 4, &v), 0);
	CHECK_EQ(v, 0xffffffff);
	CHECK_EQ(uart8250_ops.read(u, 0, 8, &v), 0);
	CHECK_EQ(v, ~0ULL);
	CHECK_EQ(uart8250_ops.read(u, 8, 1, &v), 0);
	CHECK_EQ(v, 0xff);
	CHECK_EQ(uart8250_ops.write(u, UART_SCR, 2, 0x1111), 0);
	CHECK_EQ(uart8250_ops.write(u, UART_THR, 4, 'A'), 0);
	CHECK_EQ(uart8250_ops.write(u, 9, 1, 'A'), 0);
	CHECK_EQ(in(UART_SCR), 0x5a);
	CHECK_EQ(out_len, 0); /* the dword write to THR was not a byte */
	/* LSR and MSR are read-only */
	outb(UART_LSR, 0);
	outb(UART_MSR, 0);
	CHECK_EQ(in(UART_LSR), 0x60);
	CHECK_EQ(in(UART_MSR), 0xb0);
	/* the bus: a word access at 0x3fe runs past the range */
	CHECK_EQ(bus_read(&pio, 0x3ff, 2, &v), -ENOENT);
	uart8250_destroy(u);
}

TEST(no_output_callback)
{
	struct uart8250 *u = uart8250_create(NULL, NULL);

	CHECK(u != NULL);
	for (int i = 0; i < 1000; i++)
		CHECK_EQ(uart8250_ops.write(u, UART_THR, 1, i & 0xff), 0);
	uart8250_destroy(u);
	uart8250_destroy(NULL);
}

/* A reboot: the registers read as at creation,
 * pending input is gone, the raised line falls; the wiring still works. */
TEST(reset)
{
	struct uart8250 *u = setup();

	u->irq = (struct irq_sink){ .set = irq, .ctx = &irq_calls };
	u->gsi = 4;
	outb(UART_LCR, UART_LCR_DLAB);
	outb(UART_DLL, 0x0c);
	outb(UART_DLM, 0x01);
	outb(UART_LCR, 0x1b);
	outb(UART_FCR, UART_FCR_ENABLE | UART_FCR_TRIGGER);
	outb(UART_SCR, 0x5a);
	outb(UART_MCR, UART_MCR_OUT2 | UART_MCR_DTR | UART_MCR_RTS);
	outb(UART_IER, UART_IER_RDI | UART_IER_MSI);
	for (int i = 0; i <= UART8250_RX_FIFO; i++)
		uart8250_rx_push(u, 'i'); /* full, and an overrun */
	puts_uart("last wor");
	CHECK(irq_now);
	CHECK(out_is("last wor"));

	uart8250_reset(u);
	CHECK(!irq_now);
	CHECK(out_is("last wor"));
	CHECK_EQ(in(UART_IER), 0);
	CHECK_EQ(in(UART_IIR), UART_IIR_NO_INT); /* FIFOs off, nothing pending */
	CHECK_EQ(in(UART_LCR), 0);
	CHECK_EQ(in(UART_MCR), 0);
	CHECK_EQ(in(UART_LSR), UART_LSR_THRE | UART_LSR_TEMT); /* no data, no overrun */
	CHECK_EQ(in(UART_MSR), 0xb0);                          /* no deltas */
	CHECK_EQ(in(UART_SCR), 0);
	CHECK_EQ(in(UART_RBR), 0);
	outb(UART_LCR, UART_LCR_DLAB);
	CHECK_EQ(in(UART_DLL), 1);
	CHECK_EQ(in(UART_DLM), 0);
	outb(UART_LCR, 0x03);

	/* The same output and interrupt wiring. */
	puts_uart("again\n");
	CHECK(out_is("last woragain\n"));
	outb(UART_MCR, UART_MCR_OUT2);
	outb(UART_IER, UART_IER_THRI);
	CHECK(irq_now);
	uart8250_reset(u);
	CHECK(!irq_now);
	CHECK(out_is("last woragain\n"));
	uart8250_destroy(u);
}

/* The owner's input queue, as core/vm_console.c keeps it. */
static u8 queue[5000];
static unsigned queue_len, queue_pos;

static int refill(void *ctx)
{
	CHECK(ctx == queue);
	return queue_pos < queue_len ? queue[queue_pos++] : -1;
}

/* A paste longer than the FIFO: the guest reads every byte in order, none
 * lost and no overrun, the FIFO topped up after each read. */
TEST(rx_refill_keeps_the_fifo_full)
{
	struct uart8250 *u = setup();

	u->irq = (struct irq_sink){ .set = irq, .ctx = &irq_calls };
	u->gsi = 4;
	u->rx_refill = refill;
	u->refill_ctx = queue;
	queue_len = 4096;
	queue_pos = 0;
	for (unsigned i = 0; i < queue_len; i++)
		queue[i] = (u8)(i * 7 + i / 256);
	outb(UART_MCR, UART_MCR_OUT2);
	outb(UART_IER, UART_IER_RDI);
	CHECK(!irq_now); /* nothing pulled until the owner says so */
	uart8250_rx_refill(u);
	CHECK(irq_now);
	CHECK_EQ(queue_pos, UART8250_RX_FIFO);
	for (unsigned i = 0; i < queue_len; i++) {
		CHECK_EQ(in(UART_LSR), UART_LSR_THRE | UART_LSR_TEMT | UART_LSR_DR);
		CHECK_EQ(in(UART_RBR), (u8)(i * 7 + i / 256));
	}
	CHECK_EQ(in(UART_LSR), UART_LSR_THRE | UART_LSR_TEMT); /* no overrun */
	CHECK(!irq_now);
	/* more input later: the owner's refill raises the line again */
	queue[queue_len++] = 'z';
	uart8250_rx_refill(u);
	CHECK(irq_now);
	CHECK_EQ(in(UART_RBR), 'z');
	/* with the device's lock held elsewhere the refill does not wait */
	queue[queue_len++] = 'y';
	spin_lock(&u->lock);
	uart8250_rx_refill(u);
	spin_unlock(&u->lock);
	CHECK(!(in(UART_LSR) & UART_LSR_DR));
	uart8250_rx_refill(u);
	CHECK_EQ(in(UART_RBR), 'y');
	/* clearing the FIFO drops what it held, then refills from the queue */
	queue_len = queue_pos = 0;
	for (unsigned i = 0; i < 40; i++)
		queue[queue_len++] = (u8)('A' + i % 26);
	uart8250_rx_refill(u);
	outb(UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RX);
	CHECK_EQ(in(UART_RBR), 'A' + 16 % 26);
	CHECK_EQ(queue_pos, 33);
	uart8250_destroy(u);
}

/* In loopback the chip's serial input is cut off: nothing is pulled. */
TEST(rx_refill_not_in_loopback)
{
	struct uart8250 *u = setup();

	u->rx_refill = refill;
	u->refill_ctx = queue;
	queue_len = 3;
	queue_pos = 0;
	outb(UART_MCR, UART_MCR_LOOP);
	uart8250_rx_refill(u);
	CHECK_EQ(queue_pos, 0);
	CHECK_EQ(in(UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
	outb(UART_MCR, 0);
	uart8250_rx_refill(u);
	CHECK_EQ(queue_pos, 3);
	CHECK_EQ(in(UART_RBR), queue[0]);
	uart8250_destroy(u);
}

int main(void)
{
	RUN(reset_values);
	RUN(output_byte_for_byte);
	RUN(rx_refill_keeps_the_fifo_full);
	RUN(rx_refill_not_in_loopback);
	RUN(bytes_pass_through);
	RUN(dlab_divisor_latch);
	RUN(scratch_and_masks);
	RUN(lsr_and_receive_fifo);
	RUN(interrupt_identification);
	RUN(loopback_and_modem_status);
	RUN(modem_status_interrupt);
	RUN(other_sizes_and_offsets);
	RUN(no_output_callback);
	RUN(reset);
	return unit_done();
}
