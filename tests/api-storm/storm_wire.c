/*
 * storm's wire (tests/api-storm/storm.c): connections, sending a request the
 * way it says (whole, split, slow, dribbled, abandoned, reset), reading the
 * answers and judging each against what the request expects; the worker
 * threads.
 */
#define _GNU_SOURCE
#include "storm.h"

int dial(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return -1;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		return -1;
	}
	return fd;
}

bool send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t k = send(fd, p, n, MSG_NOSIGNAL);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return false;
		p += k;
		n -= (size_t)k;
	}
	return true;
}

struct answer {
	int status;
	bool close;
	bool http;
};

/* What the connection has read and not yet parsed. */
struct conn {
	int fd;
	char in[65536];
	size_t in_len;
};

enum read_result { RD_OK, RD_EOF, RD_RESET, RD_TIMEOUT, RD_BAD };

/* Reads until one whole answer is in c->in, or the deadline. */
static enum read_result read_answer(struct conn *c, struct answer *a, uint64_t deadline,
				    char *why, size_t why_cap)
{
	for (;;) {
		char *end = memmem(c->in, c->in_len, "\r\n\r\n", 4);

		if (memcmp(c->in, "HTTP/1.1 ", c->in_len < 9 ? c->in_len : 9)) {
			snprintf(why, why_cap, "the answer does not start with HTTP/1.1: '%.40s'",
				 c->in);
			return RD_BAD;
		}
		if (end) {
			size_t head = (size_t)(end - c->in) + 4, cl = 0;
			bool has_cl = false;
			char *p;

			*end = 0;
			if (strncmp(c->in, "HTTP/1.1 ", 9) || c->in[9] < '1' || c->in[9] > '5' ||
			    c->in[10] < '0' || c->in[10] > '9' || c->in[11] < '0' ||
			    c->in[11] > '9' || c->in[12] != ' ') {
				snprintf(why, why_cap, "a bad status line: '%.60s'", c->in);
				return RD_BAD;
			}
			a->status = atoi(c->in + 9);
			a->close = strcasestr(c->in, "\r\nConnection: close") != NULL;
			p = strcasestr(c->in, "\r\nContent-Length: ");
			if (p) {
				has_cl = true;
				cl = strtoul(p + 18, NULL, 10);
			}
			*end = '\r';
			if (a->status >= 200 && (!has_cl || cl > 20000)) {
				snprintf(why, why_cap, "an answer (%d) without a sane Content-Length",
					 a->status);
				return RD_BAD;
			}
			if (c->in_len >= head + cl) {
				if (cl && (c->in[head] != '{' || c->in[head + cl - 1] != '\n')) {
					snprintf(why, why_cap, "a body that is not a JSON object: '%.40s'",
						 c->in + head);
					return RD_BAD;
				}
				memmove(c->in, c->in + head + cl, c->in_len - head - cl);
				c->in_len -= head + cl;
				a->http = true;
				return RD_OK;
			}
		} else if (c->in_len > 4096) {
			snprintf(why, why_cap, "4 KiB without the end of an answer's head");
			return RD_BAD;
		}
		{
			uint64_t t = now_ms();
			struct pollfd pf = { c->fd, POLLIN, 0 };
			ssize_t k;

			if (t >= deadline)
				return RD_TIMEOUT;
			if (poll(&pf, 1, (int)(deadline - t)) <= 0)
				continue;
			k = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len - 1, 0);
			if (k == 0)
				return RD_EOF;
			if (k < 0) {
				if (errno == EINTR || errno == EAGAIN)
					continue;
				return RD_RESET;
			}
			c->in_len += (size_t)k;
			c->in[c->in_len] = 0;
		}
	}
}

static void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->in_len = 0;
}

static void conn_reset(struct conn *c)
{
	struct linger l = { 1, 0 };

	if (c->fd >= 0)
		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	conn_close(c);
}

static bool send_req(struct conn *c, const struct req *q)
{
	switch (q->how) {
	case SEND_SPLIT: {
		size_t a = 1 + (q->len > 2 ? (size_t)(rand() % (int)(q->len - 1)) : 0);

		if (!send_all(c->fd, q->buf, a))
			return false;
		sleep_ms(20 + (unsigned)(rand() % 80));
		return send_all(c->fd, q->buf + a, q->len - a);
	}
	case SEND_SLOW: /* at most ~3 s a request */
		for (size_t i = 0; i < q->len; i++) {
			if (!send_all(c->fd, q->buf + i, 1))
				return false;
			sleep_ms((unsigned)(3000 / q->len < 50 ? 3000 / q->len : 50));
		}
		return true;
	default:
		return send_all(c->fd, q->buf, q->len);
	}
}

/* The slow sender that never finishes its head: a byte every 250 ms until
 * an answer comes (the 408 after 10 s). */
static bool dribble(struct conn *c, const struct req *q, uint64_t deadline)
{
	if (!send_all(c->fd, q->buf, q->len))
		return false;
	while (now_ms() < deadline) {
		struct pollfd pf = { c->fd, POLLIN, 0 };

		if (poll(&pf, 1, 250) > 0)
			return true;
		if (!send_all(c->fd, "s", 1))
			return true; /* closed: read what came */
	}
	return true;
}

static void count_status(int st)
{
	if (st > 0 && st < 600) {
		status_count[st]++;
		by_class[st / 100]++;
	}
}

/* The start of a request for a report, printable, with anything that
 * looks like the token (the wrong ones are made from it) masked. */
static const char *shown(const struct req *q, char ex[121])
{
	size_t n = q->len < 120 ? q->len : 120, k = strlen(token) / 2;
	char *t;

	for (size_t i = 0; i < n; i++)
		ex[i] = q->buf[i] == '\r' || q->buf[i] == '\n' ? q->buf[i] :
			(q->buf[i] < ' ' || q->buf[i] > '~') ? '?' : q->buf[i];
	ex[n] = 0;
	while ((t = memmem(ex, n, token, k)))
		memset(t, '*', k);
	return ex;
}

/* One request on c (dialled if needed); counts what came back. */
static void do_req(struct conn *c, const struct req *q, unsigned long index)
{
	uint64_t t0 = now_ms(), deadline;
	char why[200] = "", ex[121];
	bool fresh = false;

	if (q->how == SEND_ABANDON || q->how == SEND_RST) {
		conn_close(c);
		c->fd = dial();
		if (c->fd < 0) {
			pthread_mutex_lock(&lock);
			n_connect_fail++;
			pthread_mutex_unlock(&lock);
			return;
		}
		send_all(c->fd, q->buf, q->len);
		if (q->how == SEND_RST)
			conn_reset(c);
		else
			conn_close(c);
		pthread_mutex_lock(&lock);
		n_abandoned++;
		pthread_mutex_unlock(&lock);
		return;
	}
	if (c->fd < 0) {
		c->fd = dial();
		fresh = true;
		if (c->fd < 0) {
			pthread_mutex_lock(&lock);
			n_connect_fail++;
			pthread_mutex_unlock(&lock);
			report("request %lu: connect: %s", index, strerror(errno));
			return;
		}
	}
	deadline = t0 + (q->how == SEND_DRIBBLE ? SLOW_TIMEOUT_MS : REQ_TIMEOUT_MS) +
		   (q->how == SEND_SLOW ? 3000 : 0);
	if (q->how == SEND_DRIBBLE)
		dribble(c, q, deadline);
	else if (q->how == SEND_IDLE)
		send_all(c->fd, q->buf, q->split_at);
	else
		send_req(c, q); /* a failed send: what came back says why */
	for (int i = 0; i < q->nexp; i++) {
		struct answer a = { 0, false, false };
		enum read_result rr;

		if (q->how == SEND_IDLE && i == 1) {
			size_t half = (q->len - q->split_at) / 2;

			sleep_ms(IDLE_MS);
			t0 = now_ms();
			deadline = t0 + REQ_TIMEOUT_MS;
			send_all(c->fd, q->buf + q->split_at, half);
			sleep_ms(300);
			send_all(c->fd, q->buf + q->split_at + half, q->len - q->split_at - half);
		}
		rr = read_answer(c, &a, deadline, why, sizeof(why));

		pthread_mutex_lock(&lock);
		if (rr == RD_OK) {
			count_status(a.status);
			if (a.status == 503 && i == 0 && fresh) {
				n_refused++;
				pthread_mutex_unlock(&lock);
				conn_close(c);
				return;
			}
			if (a.status < 400)
				n_accepted++;
			if (q->exp[i] == 401)
				n_401_expected++;
			if (a.status == 401)
				n_401_got += q->exp[i] == 401;
			if (q->exp[i] == EXP_ERR ? a.status < 400 : a.status != q->exp[i]) {
				n_mismatch++;
				pthread_mutex_unlock(&lock);
				report("request %lu (%s), answer %d: status %d, expected %d (%s "
				       "connection, after %.1f s); sent '%s'", index, q->kind, i + 1,
				       a.status, q->exp[i], fresh ? "a new" : "a kept",
				       (now_ms() - t0) / 1000.0, shown(q, ex));
				pthread_mutex_lock(&lock);
			}
			if (i == q->nexp - 1 && a.close != q->closes) {
				n_close_mismatch++;
				pthread_mutex_unlock(&lock);
				report("request %lu (%s): the connection %s, expected it %s; sent '%s'",
				       index, q->kind, a.close ? "closes" : "stays open",
				       q->closes ? "closed" : "open", shown(q, ex));
				pthread_mutex_lock(&lock);
			}
			pthread_mutex_unlock(&lock);
			if (a.close) {
				conn_close(c);
				return;
			}
			continue;
		}
		if (rr == RD_TIMEOUT) {
			n_hang++;
			pthread_mutex_unlock(&lock);
			report("request %lu (%s): no answer in %llu ms (a hang); sent '%s'", index,
			       q->kind, (unsigned long long)(now_ms() - t0), shown(q, ex));
		} else if (rr == RD_BAD) {
			n_non_http++;
			pthread_mutex_unlock(&lock);
			report("request %lu (%s): %s", index, q->kind, why);
		} else if (q->may_reset || (i && q->closes)) {
			n_reset_ok++;
			pthread_mutex_unlock(&lock);
		} else {
			n_reset_bad++;
			pthread_mutex_unlock(&lock);
			report("request %lu (%s): the connection %s before answer %d (%s, %.1f s); "
			       "sent '%s'", index, q->kind, rr == RD_EOF ? "closed" : "was reset",
			       i + 1, fresh ? "new" : "kept", (now_ms() - t0) / 1000.0, shown(q, ex));
		}
		conn_close(c);
		return;
	}
	if (c->fd >= 0 && q->closes) { /* the answer said close: see that it does */
		conn_close(c);
	}
}

void *worker(void *arg)
{
	bool slow = arg != NULL;
	unsigned long slow_k = 0;
	struct conn *c = calloc(1, sizeof(*c));
	struct req q = { 0 };

	if (!c)
		return NULL;
	c->fd = -1;
	for (;;) {
		unsigned long i;

		i = atomic_fetch_add(&next_index, 1);
		if (i >= n_total)
			break;
		make_req(&q, i, slow ? ++slow_k : 0);
		do_req(c, &q, i);
		pthread_mutex_lock(&lock);
		n_requests_done++;
		pthread_mutex_unlock(&lock);
	}
	conn_close(c);
	free(c);
	free(q.buf);
	return NULL;
}

