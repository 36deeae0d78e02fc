/*
 * The management API's TCP listener (hv/api_tcp.h): lwIP's raw API on the
 * hypervisor's own address. Each accepted connection gets a slot and one
 * struct api_conn (hv/api.h), which is fed what arrives and answers through
 * api_io.send; everything runs on CPU 0 in netstack_poll.
 *
 * Closing: the API's io->close only marks the slot, since it may be called
 * from inside api_conn_input or api_conn_poll, with the connection in use;
 * the slot is closed right after those return (close_now): lwIP's callbacks
 * are taken off the pcb, tcp_close sends what was queued and then FIN, the
 * connection is freed. When the peer closes (an empty receive) or lwIP drops
 * the connection (an error: reset, retransmissions given up, out of memory),
 * the connection is freed at once.
 *
 * Timing (bench/README.md, "Management API"): a request that comes whole in
 * one TCP segment and whose answer all goes to tcp_write in that segment's
 * receive callback is timed from the host TSC at which netstack_poll took its
 * frame from the receive ring to the return of lwIP's input function for it
 * (api_tcp_frame_done): lwIP's input path (Ethernet, IP, TCP), the HTTP
 * parse, the token check, the route, the JSON, the answer's head, tcp_write,
 * and the answer's segment, which lwIP sends as tcp_input ends (tcp_output
 * does nothing inside a receive callback): TCP, IP, Ethernet and the frame's
 * way through the switch to the uplink's transmit queue. GET /host reports
 * the last such figure (api_last_request_tsc): that of the request before it.
 */
#include "hv/api_tcp.h"
#include "hv/api.h"
#include "hv/console.h"
#include "hv/netstack.h"

#include "lwip/tcp.h"
#include "asm/cpu.h"

struct api_slot {
	struct tcp_pcb *pcb;   /* NULL: the slot is free */
	struct api_conn *conn; /* NULL until api_conn_new answered */
	bool closing;          /* io->close was called */
};

static struct tcp_pcb *listener;
static struct api_slot slots[API_MAX_CONNS];
static u64 refused;        /* connections refused: every slot taken */
static u64 last_request_tsc; /* api_tcp_last_request_tsc */
static bool timed;           /* the frame lwIP handles holds a timed request */

u64 api_tcp_last_request_tsc(void)
{
	return last_request_tsc;
}

void api_tcp_frame_done(void)
{
	if (timed) {
		last_request_tsc = rdtsc() - netstack_frame_tsc();
		timed = false;
	}
}

static u32 api_send(void *ctx, const void *data, u32 len)
{
	struct api_slot *s = ctx;
	u32 n;
	err_t err;

	if (!s->pcb || s->closing || !len)
		return 0;
	n = MIN(len, (u32)tcp_sndbuf(s->pcb));
	/* The segment queue can be full while the buffer is not: try less. */
	while (n && (err = tcp_write(s->pcb, data, (u16_t)n, TCP_WRITE_FLAG_COPY)) == ERR_MEM)
		n /= 2;
	if (!n || err != ERR_OK)
		return 0;
	tcp_output(s->pcb);
	return n;
}

static void api_close(void *ctx)
{
	struct api_slot *s = ctx;

	s->closing = true;
}

static const struct api_io io = { .send = api_send, .close = api_close };

static void slot_free(struct api_slot *s)
{
	struct api_conn *c = s->conn;

	s->pcb = NULL;
	s->conn = NULL;
	s->closing = false;
	if (c)
		api_conn_free(c);
}

/* Hands the pcb to lwIP to close (what was queued goes first) and frees the
 * connection. ERR_ABRT when the pcb had to be aborted instead (no memory for
 * the FIN): a receive callback must then return it. */
static err_t close_now(struct api_slot *s)
{
	struct tcp_pcb *pcb = s->pcb;
	err_t ret = ERR_OK;

	tcp_arg(pcb, NULL);
	tcp_recv(pcb, NULL); /* lwIP's tcp_recv_null: late data is acknowledged and dropped */
	tcp_sent(pcb, NULL);
	tcp_err(pcb, NULL);
	if (tcp_close(pcb) != ERR_OK) {
		tcp_abort(pcb);
		ret = ERR_ABRT;
	}
	slot_free(s);
	return ret;
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct api_slot *s = arg;
	u64 now = netstack_now_ms();
	u32 answers0, answers1;
	bool between;

	if (!s) { /* cannot happen: close_now takes the callback off first */
		if (p)
			pbuf_free(p);
		return ERR_OK;
	}
	if (!p) /* the peer closed its side: the connection is over */
		return close_now(s);
	if (err != ERR_OK) {
		pbuf_free(p);
		return err;
	}
	between = api_conn_between(s->conn, &answers0);
	for (struct pbuf *q = p; q && !s->closing; q = q->next)
		api_conn_input(s->conn, q->payload, q->len, now);
	/* One whole request in, its whole answer queued: timed, until lwIP
	 * has sent it (api_tcp_frame_done). */
	if (between && api_conn_between(s->conn, &answers1) && answers1 == answers0 + 1)
		timed = true;
	tcp_recved(pcb, p->tot_len);
	pbuf_free(p);
	return s->closing ? close_now(s) : ERR_OK;
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	struct api_slot *s = arg;

	if (!s)
		return ERR_OK;
	api_conn_sent(s->conn, len, netstack_now_ms());
	return s->closing ? close_now(s) : ERR_OK;
}

/* lwIP has freed the pcb already (a reset, retransmissions given up). */
static void on_err(void *arg, err_t err)
{
	struct api_slot *s = arg;

	if (s)
		slot_free(s);
}

/* Every slot taken, or the API has no room: a 503 that says so, then FIN. */
static err_t refuse(struct tcp_pcb *pcb)
{
	static const char msg[] = "HTTP/1.1 503 Service Unavailable\r\n"
				  "Content-Type: application/json\r\n"
				  "Content-Length: 34\r\n"
				  "Connection: close\r\n\r\n"
				  "{\"error\":\"too many connections\"}\r\n";

	refused++;
	tcp_write(pcb, msg, sizeof(msg) - 1, 0); /* static: not copied */
	if (tcp_close(pcb) != ERR_OK) {
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	return ERR_OK;
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct api_slot *s = NULL;

	if (err != ERR_OK || !pcb)
		return ERR_VAL;
	for (unsigned i = 0; i < API_MAX_CONNS && !s; i++)
		if (!slots[i].pcb)
			s = &slots[i];
	if (!s)
		return refuse(pcb);
	/* The slot holds the pcb before the API sees it: it may send at once. */
	s->pcb = pcb;
	s->closing = false;
	tcp_arg(pcb, s);
	tcp_err(pcb, on_err);
	tcp_nagle_disable(pcb); /* answers are whole: send them now */
	s->conn = api_conn_new(&io, s, netstack_now_ms());
	if (!s->conn) {
		tcp_arg(pcb, NULL);
		tcp_err(pcb, NULL);
		s->pcb = NULL;
		return refuse(pcb);
	}
	tcp_recv(pcb, on_recv);
	tcp_sent(pcb, on_sent);
	if (s->closing)
		return close_now(s);
	return ERR_OK;
}

int api_tcp_start(u16 port)
{
	struct tcp_pcb *pcb = tcp_new();
	struct tcp_pcb *l;

	if (!pcb) {
		kprintf("api: no memory for a TCP listener: no API\n");
		return -ENOMEM;
	}
	if (tcp_bind(pcb, IP_ANY_TYPE, port) != ERR_OK) {
		kprintf("api: cannot bind TCP port %u: no API\n", port);
		tcp_abort(pcb);
		return -EBUSY;
	}
	l = tcp_listen_with_backlog(pcb, TCP_DEFAULT_LISTEN_BACKLOG);
	if (!l) {
		kprintf("api: cannot listen on TCP port %u: no API\n", port);
		tcp_abort(pcb);
		return -ENOMEM;
	}
	listener = l;
	tcp_accept(listener, on_accept);
	kprintf("api: listening on TCP port %u (at most %u connections)\n", port, API_MAX_CONNS);
	return 0;
}

void api_tcp_poll(u64 now_ms)
{
	for (unsigned i = 0; i < API_MAX_CONNS; i++) {
		struct api_slot *s = &slots[i];

		if (!s->pcb)
			continue;
		if (!s->closing)
			api_conn_poll(s->conn, now_ms);
		if (s->pcb && s->closing)
			close_now(s);
	}
}
