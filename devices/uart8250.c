/*
 * A virtual 16550A UART, after the National Semiconductor PC16550D data sheet.
 *
 * There is no line and no baud clock: a byte written to THR leaves at once, so
 * THR and the transmitter are always empty (LSR.THRE|TEMT) and a THRE
 * interrupt follows every write. The receive FIFO is 16 bytes deep whether or
 * not FCR enables it (a 16450 would hold one byte); a guest that polls
 * LSR.DR reads the bytes one by one all the same.
 */
#include "devices/uart8250.h"

#include "hv/mm.h"
#include "lib/string.h"

#define UART_MCR_MASK 0x1f
#define UART_IER_MASK 0x0f

static u64 all_ones(u8 size)
{
	return size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
}

/* MSR bits 4-7. In loopback the modem outputs feed the inputs (data sheet,
 * MCR bit 4); otherwise the line looks connected and ready. */
static u8 msr_status(const struct uart8250 *u)
{
	u8 s = 0;

	if (!(u->mcr & UART_MCR_LOOP))
		return UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
	if (u->mcr & UART_MCR_RTS)
		s |= UART_MSR_CTS;
	if (u->mcr & UART_MCR_DTR)
		s |= UART_MSR_DSR;
	if (u->mcr & UART_MCR_OUT1)
		s |= UART_MSR_RI;
	if (u->mcr & UART_MCR_OUT2)
		s |= UART_MSR_DCD;
	return s;
}

/* The highest-priority pending interrupt that IER enables (data sheet, table 4). */
static u8 iir_value(const struct uart8250 *u)
{
	u8 id;

	if ((u->ier & UART_IER_RLSI) && u->lsr_errors)
		id = UART_IIR_RLSI;
	else if ((u->ier & UART_IER_RDI) && u->rx_count)
		id = UART_IIR_RDI;
	else if ((u->ier & UART_IER_THRI) && u->thr_irq)
		id = UART_IIR_THRI;
	else if ((u->ier & UART_IER_MSI) && u->msr_delta)
		id = UART_IIR_MSI;
	else
		id = UART_IIR_NO_INT;
	return id | (u->fcr & UART_FCR_ENABLE ? UART_IIR_FIFO : 0);
}

/*
 * On a PC the chip's INTR pin reaches the interrupt controller only through a
 * buffer enabled by OUT2; in loopback OUT2 is forced inactive at the pin, so
 * the line stays low.
 */
static void update_irq(struct uart8250 *u)
{
	bool level = !(iir_value(u) & UART_IIR_NO_INT) &&
		     (u->mcr & (UART_MCR_OUT2 | UART_MCR_LOOP)) == UART_MCR_OUT2;

	if (level == u->irq_level)
		return;
	u->irq_level = level;
	irq_set(&u->irq, u->gsi, level);
}

static int rx_queue(struct uart8250 *u, u8 byte)
{
	if (u->rx_count == UART8250_RX_FIFO) {
		u->lsr_errors |= UART_LSR_OE;
		return -ENOSPC;
	}
	u->rx[(u->rx_head + u->rx_count) % UART8250_RX_FIFO] = byte;
	u->rx_count++;
	return 0;
}

static u8 rx_pop(struct uart8250 *u)
{
	u8 byte;

	if (!u->rx_count)
		return 0;
	byte = u->rx[u->rx_head];
	u->rx_head = (u->rx_head + 1) % UART8250_RX_FIFO;
	u->rx_count--;
	return byte;
}

static void rx_clear(struct uart8250 *u)
{
	u->rx_head = u->rx_count = 0;
}

/* Pull queued input into the FIFO while it has room, so a paste longer than
 * 16 bytes reaches the guest as fast as it reads. */
static void rx_fill(struct uart8250 *u)
{
	int byte;

	if (!u->rx_refill || (u->mcr & UART_MCR_LOOP))
		return;
	while (u->rx_count < UART8250_RX_FIFO && (byte = u->rx_refill(u->refill_ctx)) >= 0)
		rx_queue(u, (u8)byte);
}

static void transmit(struct uart8250 *u, u8 byte)
{
	char c = (char)byte;

	if (u->mcr & UART_MCR_LOOP) {
		rx_queue(u, byte);
		return;
	}
	if (u->out)
		u->out(u->out_ctx, &c, 1);
}

static void write_mcr(struct uart8250 *u, u8 val)
{
	u8 before = msr_status(u), after, changed;

	u->mcr = val & UART_MCR_MASK;
	after = msr_status(u);
	changed = before ^ after;
	if (changed & UART_MSR_CTS)
		u->msr_delta |= UART_MSR_DCTS;
	if (changed & UART_MSR_DSR)
		u->msr_delta |= UART_MSR_DDSR;
	if (changed & UART_MSR_DCD)
		u->msr_delta |= UART_MSR_DDCD;
	if ((before & UART_MSR_RI) && !(after & UART_MSR_RI))
		u->msr_delta |= UART_MSR_TERI; /* trailing edge only */
}

static void write_fcr(struct uart8250 *u, u8 val)
{
	/* Changing FCR0 resets both FIFOs (data sheet, FCR bit 0). The transmit
	 * FIFO is always empty here, so clearing it is a no-op. */
	if ((val ^ u->fcr) & UART_FCR_ENABLE || (val & UART_FCR_CLEAR_RX))
		rx_clear(u);
	u->fcr = val & (UART_FCR_ENABLE | UART_FCR_TRIGGER);
}

static int uart8250_read(void *dev, u64 offset, u8 size, u64 *val)
{
	struct uart8250 *u = dev;
	bool dlab;
	u8 v = 0xff;

	if (size != 1 || offset >= UART8250_NR_PORTS) {
		*val = all_ones(size);
		return 0;
	}
	spin_lock(&u->lock);
	dlab = u->lcr & UART_LCR_DLAB;
	switch (offset) {
	case UART_RBR:
		if (dlab) {
			v = u->dll;
		} else {
			v = rx_pop(u);
			rx_fill(u);
		}
		break;
	case UART_IER:
		v = dlab ? u->dlm : u->ier;
		break;
	case UART_IIR:
		v = iir_value(u);
		/* Reading IIR while it names THRE acknowledges that interrupt. */
		if ((v & 0x0f) == UART_IIR_THRI)
			u->thr_irq = false;
		break;
	case UART_LCR:
		v = u->lcr;
		break;
	case UART_MCR:
		v = u->mcr;
		break;
	case UART_LSR:
		v = UART_LSR_THRE | UART_LSR_TEMT | (u->rx_count ? UART_LSR_DR : 0) | u->lsr_errors;
		u->lsr_errors = 0;
		break;
	case UART_MSR:
		v = msr_status(u) | u->msr_delta;
		u->msr_delta = 0;
		break;
	case UART_SCR:
		v = u->scr;
		break;
	}
	update_irq(u);
	spin_unlock(&u->lock);
	*val = v;
	return 0;
}

static int uart8250_write(void *dev, u64 offset, u8 size, u64 val)
{
	struct uart8250 *u = dev;
	bool dlab;
	u8 v = (u8)val;

	if (size != 1 || offset >= UART8250_NR_PORTS)
		return 0;
	spin_lock(&u->lock);
	dlab = u->lcr & UART_LCR_DLAB;
	switch (offset) {
	case UART_THR:
		if (dlab) {
			u->dll = v;
		} else {
			transmit(u, v);
			u->thr_irq = true; /* THR is empty again at once */
		}
		break;
	case UART_IER:
		if (dlab) {
			u->dlm = v;
		} else {
			/* Enabling THRE while THR is empty raises it (and THR always is). */
			if ((v & UART_IER_THRI) && !(u->ier & UART_IER_THRI))
				u->thr_irq = true;
			u->ier = v & UART_IER_MASK;
		}
		break;
	case UART_FCR:
		write_fcr(u, v);
		rx_fill(u);
		break;
	case UART_LCR:
		u->lcr = v;
		break;
	case UART_MCR:
		write_mcr(u, v);
		break;
	case UART_SCR:
		u->scr = v;
		break;
	default:
		break; /* LSR and MSR: factory test only; ignored */
	}
	update_irq(u);
	spin_unlock(&u->lock);
	return 0;
}

const struct io_ops uart8250_ops = {
	.read = uart8250_read,
	.write = uart8250_write,
};

/* The registers and receive FIFO at power-on (data sheet, "UART Reset
 * Configuration"; SCR and the divisor, not in it, get fixed values). The
 * callbacks and the output line are not the chip's. */
static void regs_init(struct uart8250 *u)
{
	u->ier = u->lcr = u->mcr = u->scr = u->fcr = 0;
	u->dll = 1; /* the chip leaves the divisor undefined; say 115200 baud */
	u->dlm = 0;
	u->lsr_errors = u->msr_delta = 0;
	u->thr_irq = false;
	rx_clear(u);
}

struct uart8250 *uart8250_create(uart8250_out_fn out, void *ctx)
{
	struct uart8250 *u = kzalloc(sizeof(*u));

	if (!u)
		return NULL;
	u->out = out;
	u->out_ctx = ctx;
	regs_init(u);
	return u;
}

void uart8250_reset(struct uart8250 *uart)
{
	spin_lock(&uart->lock);
	regs_init(uart);
	update_irq(uart); /* IER is 0: a raised line falls */
	spin_unlock(&uart->lock);
}

void uart8250_destroy(struct uart8250 *uart)
{
	kfree(uart);
}

int uart8250_rx_push(struct uart8250 *uart, u8 byte)
{
	int ret;

	spin_lock(&uart->lock);
	ret = rx_queue(uart, byte);
	update_irq(uart);
	spin_unlock(&uart->lock);
	return ret;
}

void uart8250_rx_refill(struct uart8250 *uart)
{
	/* Never waits: CPU 0's tick calls this, and CPU 0 may hold the lock
	 * itself, interrupted (a monitor command runs with interrupts on). */
	if (__atomic_exchange_n(&uart->lock.locked, 1, __ATOMIC_ACQUIRE))
		return;
	rx_fill(uart);
	update_irq(uart);
	spin_unlock(&uart->lock);
}
