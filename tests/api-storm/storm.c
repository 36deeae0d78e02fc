/*
 * storm: random and malformed requests against the management API
 * (docs/api.md, issue 11 item 5), run by tests/guests/api-storm-test.sh.
 *
 *   storm -p PORT -f TOKEN_FILE [-n N] [-s SEED] [-c CONNS] [-v CANARY] [-e N]
 *       N requests (10,000) made from SEED (printed: the same seed makes the
 *       same requests), sent to 127.0.0.1:PORT over CONNS - 1 keep-alive
 *       connections (4) and one slow sender, while every 2 s an authorized
 *       GET /host and GET /vms check that the API answers and that CANARY
 *       is running. Ends with the answers by status and "storm: PASS" or
 *       "storm: FAIL"; exit status 0 only on PASS.
 *   storm -p PORT -f TOKEN_FILE get PATH
 *       one authorized GET; the body on stdout; exit status 0 on a 200.
 *
 * The valid token is sent only with GET /host and GET /vms. Every storm
 * request goes without it, with a wrong one, or is malformed before the
 * token is looked at; each knows the answer it must get (exactly 401 for a
 * well-formed request without the token, the status the head's fault gets
 * otherwise, see core/api_http.c) and whether the connection stays open.
 * Failures: an answer that is not HTTP, a request answered with 1xx or 2xx,
 * a status other than the one expected, no answer within the per-request
 * timeout (a hang), a check that fails. Connections closed or reset before
 * an answer came are counted, not failures, where the server may close
 * (after it refused a head it had not read to the end).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 6
#define MAX_ANSWERS 8
#define REQ_TIMEOUT_MS 15000  /* the server answers a stuck request with 408 after 10 s */
#define SLOW_TIMEOUT_MS 20000
#define CHECK_EVERY_MS 2000
#define IDLE_MS 11000        /* past the server's 10 s for a request */

enum expect {
	EXP_ERR = -1, /* any 4xx or 5xx */
};

enum how {
	SEND_ALL,     /* in one write */
	SEND_SPLIT,   /* in two, a pause between */
	SEND_SLOW,    /* a byte at a time, whole within ~3 s */
	SEND_DRIBBLE, /* a head never finished, a byte every 250 ms */
	SEND_IDLE,    /* one request, IDLE_MS of nothing, then the next in two pieces */
	SEND_ABANDON, /* then close */
	SEND_RST,     /* then reset */
};

struct req {
	char *buf;
	size_t len, cap;
	size_t split_at;       /* SEND_IDLE: the first request's length */
	int nexp;              /* answers expected (0: none, the request is abandoned) */
	int exp[MAX_ANSWERS];  /* each: a status, or EXP_ERR */
	bool closes;           /* the server closes after the last answer */
	bool may_reset;        /* the server may close before we read its answer */
	enum how how;
	const char *kind;
};

/* ---- the figures, shared by the threads ---- */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long status_count[600];
static unsigned long by_class[6];
static unsigned long n_401_expected, n_401_got;
static unsigned long n_non_http, n_hang, n_accepted, n_mismatch, n_close_mismatch;
static unsigned long n_reset_ok, n_reset_bad, n_abandoned, n_refused, n_connect_fail;
static unsigned long n_check_ok, n_check_fail, n_canary_missing;
static unsigned long n_requests_done;
static int reported;

static atomic_ulong next_index;
static unsigned long n_total = 10000;
static unsigned long long seed;
static int port;
static char token[128];
static const char *canary = "cnt";
static int verbose_errors = 12;

static void report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void report(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&lock);
	if (reported++ < verbose_errors) {
		va_start(ap, fmt);
		printf("storm: ");
		vprintf(fmt, ap);
		printf("\n");
		fflush(stdout);
		va_end(ap);
	}
	pthread_mutex_unlock(&lock);
}

static uint64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static void sleep_ms(unsigned ms)
{
	struct timespec t = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&t, NULL);
}

/* ---- randomness: splitmix64, one stream per request ---- */

struct rng {
	uint64_t s;
};

static uint64_t rnd(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static unsigned below(struct rng *r, unsigned n)
{
	return n ? (unsigned)(rnd(r) % n) : 0;
}

static bool chance(struct rng *r, unsigned pct)
{
	return below(r, 100) < pct;
}

#define PICK(r, a) ((a)[below((r), sizeof(a) / sizeof((a)[0]))])

/* ---- building a request ---- */

static void put(struct req *q, const void *s, size_t n)
{
	if (q->len + n + 1 > q->cap) {
		q->cap = (q->len + n + 1) * 2;
		q->buf = realloc(q->buf, q->cap);
		if (!q->buf) {
			perror("storm: realloc");
			exit(2);
		}
	}
	memcpy(q->buf + q->len, s, n);
	q->len += n;
	q->buf[q->len] = 0;
}

/* A string literal, NULs and all, without its terminating one. */
#define PUTL(q, lit) put((q), (lit), sizeof(lit) - 1)

static void putf(struct req *q, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(struct req *q, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	put(q, tmp, (size_t)(n < (int)sizeof(tmp) ? n : (int)sizeof(tmp) - 1));
}

static void put_rep(struct req *q, char c, size_t n)
{
	while (n--)
		put(q, &c, 1);
}

static const char *const methods[] = { "GET", "PUT", "POST", "DELETE" };

/* A path the API has, or nearly: the canary's actions among them. */
static void put_path(struct req *q, struct rng *r)
{
	static const char *const fixed[] = {
		"/host", "/vms", "/vms/restore", "/images", "/snapshots", "/snapshots/1",
		"/snapshots/0", "/images/vmlinuz", "/", "/nope", "//host", "/vms/",
		"/vms/../host", "/vms/./cnt", "/../../etc/passwd", "/images/..", "/images/.",
		"/snapshots/-1", "/snapshots/99999999999999999999", "/vms//pause", "/host/",
		"/HOST", "/vms/cnt/pause/x", "/images/a/b", "/vms/restore/x",
	};
	static const char *const actions[] = {
		"", "/pause", "/destroy", "/reset", "/stop", "/start", "/resume", "/snapshot",
		"/console", "/nope",
	};
	switch (below(r, 3)) {
	case 0:
		putf(q, "%s", PICK(r, fixed));
		break;
	case 1:
		putf(q, "/vms/%s%s", canary, PICK(r, actions));
		break;
	default: { /* a name: plain, too long, or with characters a name has not */
		static const char cs[] = "abcXYZ019_-.+~!$&'()*,;=:@";
		unsigned n = chance(r, 20) ? 16 + below(r, 200) : 1 + below(r, 15);

		putf(q, "%s", chance(r, 50) ? "/vms/" : "/images/");
		for (unsigned i = 0; i < n; i++)
			put(q, &cs[below(r, sizeof(cs) - 1)], 1);
		if (chance(r, 30))
			putf(q, "%s", PICK(r, actions));
	}
	}
}

/* An Authorization header that is not the token. */
static void put_wrong_auth(struct req *q, struct rng *r)
{
	size_t tl = strlen(token);
	char t[160];

	memcpy(t, token, tl + 1);
	switch (below(r, 10)) {
	case 0: /* random hex, the length of a made token */
		for (unsigned i = 0; i < 32; i++)
			t[i] = "0123456789abcdef"[below(r, 16)];
		t[32] = 0;
		if (!strcmp(t, token))
			t[0] = t[0] == 'x' ? 'y' : 'x';
		putf(q, "Authorization: Bearer %s\r\n", t);
		break;
	case 1: /* the token less its last character */
		putf(q, "Authorization: Bearer %.*s\r\n", (int)tl - 1, token);
		break;
	case 2: /* one more */
		putf(q, "Authorization: Bearer %sA\r\n", token);
		break;
	case 3: { /* one character changed */
		unsigned i = below(r, (unsigned)tl);

		t[i] = t[i] == 'Z' ? 'Y' : 'Z';
		putf(q, "Authorization: bEaReR %s\r\n", t);
		break;
	}
	case 4:
		putf(q, "Authorization: Basic dXRzdXdhOnV0c3V3YQ==\r\n");
		break;
	case 5:
		putf(q, "Authorization: Bearer\r\n");
		break;
	case 6:
		putf(q, "Authorization:\r\n");
		break;
	case 7: /* the token's case changed */
		for (size_t i = 0; i < tl; i++)
			if (t[i] >= 'a' && t[i] <= 'z')
				t[i] = (char)(t[i] - 32);
			else if (t[i] >= 'A' && t[i] <= 'Z')
				t[i] = (char)(t[i] + 32);
		if (!strcmp(t, token))
			t[0] = '~';
		putf(q, "Authorization: Bearer %s\r\n", t);
		break;
	case 8: /* twice the token, and the scheme glued to it */
		putf(q, "Authorization: Bearer %s%s\r\n", token, token);
		break;
	default: { /* a long one */
		unsigned n = 60 + below(r, 3000);

		PUTL(q, "Authorization: Bearer ");
		for (unsigned i = 0; i < n; i++)
			put(q, &"abcdef0123456789"[below(r, 16)], 1);
		PUTL(q, "\r\n");
	}
	}
}

/* A JSON body the routes would refuse, or would take with a token. */
static void make_json(char *out, size_t cap, struct rng *r)
{
	static const char *const bodies[] = {
		"{}", "{", "}", "[]", "null", "{\"name\":", "{\"name\":\"web\"", "{\"name\":1}",
		"{\"name\":\"web\",\"image\":\"vmlinuz\",\"mem_mib\":\"16\"}",
		"{\"name\":\"web\",\"image\":\"vmlinuz\",\"cpus\":-1}",
		"{\"name\":\"web\",\"image\":\"vmlinuz\",\"mem_mib\":99999999999999999999}",
		"{\"name\":\"web\",\"name\":\"web\",\"image\":\"x\"}",
		"{\"name\":\"a,b=c\",\"image\":\"vmlinuz\"}",
		"{\"name\":\"web\",\"image\":\"vmlinuz\",\"cmdline\":\"x\\\" vm=evil\"}",
		"{\"timeout_s\":-5}", "{\"timeout_s\":1e99}", "{\"timeout_s\":\"10\"}",
		"{\"snapshot\":1,\"name\":\"cnt\"}", "{\"snapshot\":\"1\"}",
		"{\"disks\":[{\"source\":\"gpt:x\",\"ro\":1}]}", "{\"net\":{\"mac\":\"zz\"}}",
		"{\"unknown\":true}", "{\"\\u0000\":1}", "{\"a\":\"\\ud800\"}", "\"str\"",
		"{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
		"{\"name\":\"\xff\xfe\"}", "{'name':'web'}", "{\"name\":\"web\",}",
	};
	size_t n;

	switch (below(r, 4)) {
	case 0: { /* a very long name */
		unsigned k = 20 + below(r, 4000);

		n = (size_t)snprintf(out, cap, "{\"");
		for (unsigned i = 0; i < k && n + 8 < cap; i++)
			out[n++] = (char)('a' + below(r, 26));
		n += (size_t)snprintf(out + n, cap - n, "\":1}");
		break;
	}
	case 1: { /* random printable bytes */
		unsigned k = 1 + below(r, 300);

		for (n = 0; n < k && n + 1 < cap; n++)
			out[n] = (char)(0x20 + below(r, 95));
		out[n] = 0;
		break;
	}
	default:
		n = (size_t)snprintf(out, cap, "%s", PICK(r, bodies));
	}
	out[n < cap ? n : cap - 1] = 0;
}

static void expect1(struct req *q, int status, bool closes)
{
	q->nexp = 1;
	q->exp[0] = status;
	q->closes = closes;
}

/* A well-formed request without a valid token: 401. A body (Content-Length
 * above 0) closes the connection, since it is not read. */
static void make_unauthorized(struct req *q, struct rng *r, bool canary_action)
{
	static const char *const actions[] = { "pause", "destroy", "reset", "stop", "snapshot" };
	char json[8192];
	bool body = chance(r, 35), ten = chance(r, 8), ka10 = ten && chance(r, 50);
	bool lf = chance(r, 10);
	const char *eol = lf ? "\n" : "\r\n";

	json[0] = 0;
	if (body)
		make_json(json, sizeof(json), r);
	if (canary_action) {
		putf(q, "POST /vms/%s/%s HTTP/1.%d%s", canary, PICK(r, actions), ten ? 0 : 1, eol);
		q->kind = "canary action, bad token";
	} else {
		putf(q, "%s ", PICK(r, methods));
		put_path(q, r);
		putf(q, " HTTP/1.%d%s", ten ? 0 : 1, eol);
		q->kind = "no or wrong token";
	}
	if (!ten || chance(r, 50))
		putf(q, "Host: %s%s", chance(r, 50) ? "utsuwa" : "127.0.0.1", eol);
	if (canary_action || chance(r, 60)) {
		put_wrong_auth(q, r);
		if (lf) { /* the header's CRLF as LF */
			q->len -= 2;
			PUTL(q, "\n");
		}
	}
	if (chance(r, 20))
		putf(q, "Content-Type: application/json%s", eol);
	if (chance(r, 10)) {
		PUTL(q, "X-Filler: ");
		put_rep(q, '0', 1 + below(r, 4000));
		put(q, eol, strlen(eol));
	}
	if (chance(r, 10))
		putf(q, "Connection: Upgrade%sUpgrade: utsuwa-console%s", eol, eol);
	if (ka10)
		putf(q, "Connection: keep-alive%s", eol);
	else if (chance(r, 5))
		putf(q, "Connection: close%s", eol);
	if (body && chance(r, 15))
		putf(q, "Expect: 100-continue%s", eol);
	if (body)
		putf(q, "Content-Length: %zu%s", strlen(json), eol);
	else if (chance(r, 10))
		putf(q, "Content-Length: 0%s", eol);
	put(q, eol, strlen(eol));
	put(q, json, strlen(json));
	expect1(q, 401, (body && json[0]) || (ten && !ka10) || strstr(q->buf, "Connection: close"));
	q->may_reset = q->closes && body && json[0];
}

/* A head refused before its token is looked at. */
static void make_malformed(struct req *q, struct rng *r)
{
	static const char *const lines[] = {
		"GET /host HTTP/1.1 extra", "GET /host", "GET", "GET  /host HTTP/1.1",
		"GET /host  HTTP/1.1", " GET /host HTTP/1.1", "GET /host HTTP/1.x", "GET /host HTTP/11.",
		"GET /host HTTPS/1.1", "GET /host http/1.1", "GET host HTTP/1.1", "GET * HTTP/1.1",
		"GET http://10.0.2.50/host HTTP/1.1", "GET /host?x=1 HTTP/1.1", "GET /host#frag HTTP/1.1",
		"GET /%2e%2e/host HTTP/1.1", "GET /vms/%63nt HTTP/1.1", "GET /vms/cnt%00 HTTP/1.1",
		"POST /vms/cnt/%70ause HTTP/1.1", "GET /\x7f HTTP/1.1", "GET /\xc3\xa9 HTTP/1.1",
		"GET /a\tb HTTP/1.1", "GET /host HTTP/1.1\t", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
		"GET /vms?canary=cnt&action=destroy HTTP/1.1", "G\xc3\x89T /host HTTP/1.1",
		"GET /host HTTP/1.1\r", "GET\x00/host HTTP/1.1",
	};
	static const char *const headers[] = {
		"NoColon", ": empty name", "Bad Name: x", "Name : x", "X: a\x01b", "X: a\x7f",
		"X: a\rb", " folded: x", "\tfolded", "Host: a\r\nHost: b", "Content-Length: -1",
		"Content-Length: 1e3", "Content-Length: 0x10", "Content-Length: 1234567890123",
		"Content-Length: 18446744073709551616000", "Content-Length: 1\r\nContent-Length: 2",
		"Content-Length: +5", "Content-Length: 5 5", "Content-Length:",
		"Transfer-Encoding: chunked\r\nContent-Length: 5",
		"Authorization: Bearer x\r\nAuthorization: Bearer y", "X\x00Y: z", "X: \x00",
		"Expect: 200-ok", "Expect: 100-continue, x",
	};
	static const int header_status[] = {
		400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400,
		400, 400, 400, 400, 400, 400, 400, 417, 417,
	};
	_Static_assert(sizeof(headers) / sizeof(headers[0]) ==
		       sizeof(header_status) / sizeof(header_status[0]), "one status a header");
	unsigned k;

	q->kind = "malformed head";
	switch (below(r, 8)) {
	case 0: case 1: { /* the request line */
		const char *l = PICK(r, lines);

		put(q, l, strlen(l));
		if (!strcmp(l, "GET\x00/host HTTP/1.1")) /* strlen stops at the NUL */
			PUTL(q, "\0/host HTTP/1.1");
		PUTL(q, "\r\nHost: utsuwa\r\n\r\n");
		expect1(q, 400, true);
		break;
	}
	case 2: case 3: /* a header */
		k = below(r, sizeof(headers) / sizeof(headers[0]));
		putf(q, "%s %s HTTP/1.1\r\nHost: utsuwa\r\n", PICK(r, methods),
		     chance(r, 50) ? "/host" : "/vms/cnt/destroy");
		put(q, headers[k], strlen(headers[k]));
		if (!strcmp(headers[k], "X\x00Y: z") || !strcmp(headers[k], "X: \x00"))
			put(q, headers[k][1] ? "\0Y: z" : "\0", headers[k][1] ? 5 : 1);
		PUTL(q, "\r\n\r\n");
		expect1(q, header_status[k], true);
		break;
	case 4: { /* versions and methods */
		static const char *const v[] = { "HTTP/2.0", "HTTP/1.2", "HTTP/0.9", "HTTP/3.0",
						 "HTTP/1.9" };
		static const char *const m[] = { "PATCH", "HEAD", "OPTIONS", "CONNECT", "TRACE",
						 "get", "Post", "PRI", "FOO", "GETGETGETGET",
						 "DELETE!", "M-SEARCH" };
		if (chance(r, 40)) {
			putf(q, "GET /host %s\r\nHost: utsuwa\r\n\r\n", PICK(r, v));
			expect1(q, 505, true);
		} else {
			putf(q, "%s /vms/%s/destroy HTTP/1.1\r\nHost: utsuwa\r\n\r\n", PICK(r, m),
			     canary);
			expect1(q, 501, true);
		}
		break;
	}
	case 5: /* too long: the path, the head, the number of headers */
		switch (below(r, 3)) {
		case 0:
			PUTL(q, "GET /vms/");
			put_rep(q, 'a', 257 + below(r, 3000));
			PUTL(q, " HTTP/1.1\r\nHost: u\r\n\r\n");
			expect1(q, 414, true);
			break;
		case 1: /* 8 KiB of head, sent whole: the server stops reading at 8192 */
			PUTL(q, "GET /host HTTP/1.1\r\nHost: u\r\nX-Big: ");
			put_rep(q, 'b', 8200 + below(r, 4000));
			PUTL(q, "\r\n\r\n");
			expect1(q, 431, true);
			q->may_reset = true;
			break;
		default:
			PUTL(q, "GET /host HTTP/1.1\r\nHost: u\r\n");
			k = 32 + below(r, 40);
			for (unsigned i = 0; i < k; i++)
				putf(q, "X-%u: %u\r\n", i, i);
			PUTL(q, "\r\n");
			expect1(q, 431, true);
		}
		break;
	case 6: /* 1.1 without Host; chunked */
		if (chance(r, 50)) {
			putf(q, "POST /vms/%s/pause HTTP/1.1\r\nAuthorization: Bearer nope\r\n\r\n", canary);
			expect1(q, 400, true);
		} else {
			putf(q, "POST /vms HTTP/1.1\r\nHost: u\r\nTransfer-Encoding: chunked\r\n\r\n"
				"2\r\n{}\r\n0\r\n\r\n");
			expect1(q, 501, true);
			q->may_reset = true;
		}
		break;
	default: /* a request line with bytes of every kind */
		k = 1 + below(r, 200);
		for (unsigned i = 0; i < k; i++) {
			char c = (char)below(r, 256);

			if (c == '\n' || c == '\r')
				c = 'x';
			put(q, &c, 1);
		}
		if (chance(r, 50) && q->buf[0] >= ' ' && q->buf[0] <= '~')
			q->buf[0] = 'x'; /* a tchar first, often */
		PUTL(q, "\r\n\r\n");
		expect1(q, EXP_ERR, true);
	}
	/* The NUL and bare-CR lines: 400 too. */
}

/* Random bytes, then an end of head: whatever they are, an error. */
static void make_random(struct req *q, struct rng *r)
{
	unsigned k = chance(r, 5) ? 9000 + below(r, 3000) : 1 + below(r, 1500);

	q->kind = "random bytes";
	for (unsigned i = 0; i < k; i++) {
		char c = (char)below(r, 256);

		put(q, &c, 1);
	}
	/* Not all line ends and blanks: those are skipped before a request. */
	q->buf[0] = 'Z';
	PUTL(q, "\r\n\r\n");
	expect1(q, EXP_ERR, true);
	q->may_reset = true;
}

/* Several requests in one write; some end in garbage. */
static void make_pipeline(struct req *q, struct rng *r)
{
	unsigned k = 2 + below(r, MAX_ANSWERS - 2);

	q->kind = "pipelined";
	q->nexp = 0;
	for (unsigned i = 0; i < k; i++) {
		putf(q, "%s ", PICK(r, methods));
		put_path(q, r);
		PUTL(q, " HTTP/1.1\r\nHost: u\r\n");
		if (chance(r, 50))
			put_wrong_auth(q, r);
		PUTL(q, "\r\n");
		q->exp[q->nexp++] = 401;
	}
	q->closes = false;
	if (chance(r, 40)) {
		PUTL(q, "\x01garbage\r\n\r\nGET /host HTTP/1.1\r\n\r\n");
		q->exp[q->nexp++] = 400;
		q->closes = true;
	}
}

/* A request cut short: a body shorter than its Content-Length (the 401 comes
 * at once: the token is checked before the body is read), or a connection
 * closed or reset half-way (no answer). */
static void make_cut(struct req *q, struct rng *r)
{
	if (chance(r, 40)) {
		q->kind = "truncated body";
		putf(q, "POST /vms HTTP/1.1\r\nHost: u\r\nContent-Length: %u\r\n\r\n{\"name\":\"w",
		     100 + below(r, 8000));
		expect1(q, 401, true);
		return;
	}
	q->kind = "closed mid-request";
	q->how = chance(r, 50) ? SEND_ABANDON : SEND_RST;
	q->nexp = 0;
	switch (below(r, 3)) {
	case 0:
		break; /* connect and go */
	case 1:
		putf(q, "POST /vms/%s/destroy HTTP/1.1\r\nHost: u\r\nAuthoriz", canary);
		break;
	default:
		putf(q, "GET /ho");
	}
}

/* A request in pieces with a pause between them. */
static void make_split(struct req *q, struct rng *r)
{
	putf(q, "%s ", PICK(r, methods));
	put_path(q, r);
	PUTL(q, " HTTP/1.1\r\nHost: utsuwa\r\n");
	if (chance(r, 50))
		put_wrong_auth(q, r);
	PUTL(q, "\r\n");
	q->kind = "split";
	q->how = SEND_SPLIT;
	expect1(q, 401, false);
}

/* The slow sender's requests, in turn: a keep-alive connection left idle
 * past the server's request time, then a request in two pieces (401, not a
 * 408 counted from the request before); a head never finished (408); a
 * request a byte at a time (its answer). */
static void make_slow(struct req *q, struct rng *r, unsigned long k)
{
	switch (k % 3) {
	case 1:
		q->kind = "idle, then split";
		putf(q, "GET /vms/%s HTTP/1.1\r\nHost: u\r\n\r\n", canary);
		q->split_at = q->len;
		putf(q, "POST /vms/%s/pause HTTP/1.1\r\nHost: u\r\n", canary);
		put_wrong_auth(q, r);
		PUTL(q, "\r\n");
		q->how = SEND_IDLE;
		q->nexp = 2;
		q->exp[0] = q->exp[1] = 401;
		break;
	case 2:
		q->kind = "slow, never whole";
		putf(q, "POST /vms/%s/destroy HTTP/1.1\r\nHost: u\r\nX-Slow: ", canary);
		q->how = SEND_DRIBBLE;
		expect1(q, 408, true);
		break;
	default:
		make_unauthorized(q, r, chance(r, 30));
		q->kind = "slow, whole";
		q->how = SEND_SLOW;
	}
}

static void make_req(struct req *q, unsigned long index, unsigned long slow)
{
	struct rng r = { seed ^ (index * 0xd1342543de82ef95ull) };
	unsigned w;

	q->len = 0;
	q->nexp = 0;
	q->closes = q->may_reset = false;
	q->how = SEND_ALL;
	rnd(&r);
	if (slow) {
		make_slow(q, &r, slow);
		return;
	}
	w = below(&r, 100);
	if (w < 30)
		make_unauthorized(q, &r, false);
	else if (w < 40)
		make_unauthorized(q, &r, true);
	else if (w < 62)
		make_malformed(q, &r);
	else if (w < 70)
		make_random(q, &r);
	else if (w < 80)
		make_pipeline(q, &r);
	else if (w < 90)
		make_cut(q, &r);
	else
		make_split(q, &r);
}

/* ---- the wire ---- */

static int dial(void)
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

static bool send_all(int fd, const char *p, size_t n)
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

static void *worker(void *arg)
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

/* ---- authorized checks ---- */

/* One authorized GET on a new connection, read to its close: the status;
 * the body in out. */
static int get_body(const char *path, char *out, size_t cap)
{
	char req[512], *body;
	size_t n = 0;
	int fd = dial(), st = -1;
	uint64_t deadline = now_ms() + REQ_TIMEOUT_MS;

	out[0] = 0;
	if (fd < 0)
		return -1;
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: utsuwa\r\nAuthorization: Bearer %s\r\n"
		 "Connection: close\r\n\r\n", path, token);
	if (send_all(fd, req, strlen(req))) {
		while (n + 1 < cap && now_ms() < deadline) {
			struct pollfd pf = { fd, POLLIN, 0 };
			ssize_t k;

			if (poll(&pf, 1, 500) <= 0)
				continue;
			k = recv(fd, out + n, cap - n - 1, 0);
			if (k <= 0)
				break;
			n += (size_t)k;
		}
	}
	close(fd);
	out[n] = 0;
	if (!strncmp(out, "HTTP/1.1 ", 9))
		st = atoi(out + 9);
	body = strstr(out, "\r\n\r\n");
	if (body)
		memmove(out, body + 4, strlen(body + 4) + 1);
	return st;
}

/* With retries: a connection the storm just closed may hold the server's
 * slot a moment longer (a 503 at accept). */
static int get_retry(const char *path, char *out, size_t cap)
{
	int st = -1;

	for (int i = 0; i < 3 && st != 200; i++) {
		if (i)
			sleep_ms(300);
		st = get_body(path, out, cap);
	}
	return st;
}

static void check(void)
{
	char body[16384], name[200];
	int h = get_retry("/host", body, sizeof(body));
	int v = get_retry("/vms", body, sizeof(body));

	snprintf(name, sizeof(name), "{\"name\":\"%s\",\"state\":\"running\"", canary);
	pthread_mutex_lock(&lock);
	if (h == 200 && v == 200)
		n_check_ok++;
	else
		n_check_fail++;
	if (v == 200 && !strstr(body, name))
		n_canary_missing++;
	pthread_mutex_unlock(&lock);
	if (h != 200 || v != 200)
		report("check: GET /host %d, GET /vms %d", h, v);
	else if (!strstr(body, name))
		report("check: %s is not running: %.200s", canary, body);
}

static void read_token(const char *file)
{
	FILE *f = fopen(file, "r");
	size_t n;

	if (!f || !fgets(token, sizeof(token), f)) {
		fprintf(stderr, "storm: cannot read the token from %s\n", file);
		exit(2);
	}
	fclose(f);
	n = strcspn(token, "\r\n");
	token[n] = 0;
	if (n < 16) {
		fprintf(stderr, "storm: the token in %s is too short\n", file);
		exit(2);
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: storm -p PORT -f TOKEN_FILE [-n N] [-s SEED] [-c CONNS] "
			"[-v CANARY] [-e ERRORS_SHOWN]\n"
			"       storm -p PORT -f TOKEN_FILE get PATH\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int opt, conns = MAX_CONNS;
	bool have_seed = false;
	const char *token_file = NULL;
	pthread_t th[MAX_CONNS];
	uint64_t t0, last_check, last_progress;
	double secs;
	bool pass;

	signal(SIGPIPE, SIG_IGN);
	while ((opt = getopt(argc, argv, "p:f:n:s:c:v:e:")) != -1) {
		switch (opt) {
		case 'p': port = atoi(optarg); break;
		case 'f': token_file = optarg; break;
		case 'n': n_total = strtoul(optarg, NULL, 0); break;
		case 's': seed = strtoull(optarg, NULL, 0); have_seed = true; break;
		case 'c': conns = atoi(optarg); break;
		case 'v': canary = optarg; break;
		case 'e': verbose_errors = atoi(optarg); break;
		default: usage();
		}
	}
	if (port <= 0 || port > 65535 || !token_file || conns < 2 || conns > MAX_CONNS)
		usage();
	read_token(token_file);
	if (optind < argc) {
		char body[65536];
		int st;

		if (strcmp(argv[optind], "get") || optind + 2 != argc)
			usage();
		st = get_body(argv[optind + 1], body, sizeof(body));
		fputs(body, stdout);
		return st == 200 ? 0 : 1;
	}
	if (!have_seed)
		seed = (unsigned long long)time(NULL) ^ ((unsigned long long)getpid() << 32);
	srand((unsigned)seed);
	printf("storm: seed %llu (storm -s %llu reproduces it), %lu requests, %d connections "
	       "(one a slow sender), canary %s\n", seed, seed, n_total, conns, canary);
	fflush(stdout);
	t0 = last_check = last_progress = now_ms();
	check();
	for (int i = 0; i < conns - 1; i++)
		if (pthread_create(&th[i], NULL, worker, i == conns - 2 ? (void *)1 : NULL)) {
			perror("storm: pthread_create");
			return 2;
		}
	for (;;) {
		unsigned long done;

		sleep_ms(100);
		pthread_mutex_lock(&lock);
		done = n_requests_done;
		pthread_mutex_unlock(&lock);
		if (done >= n_total)
			break;
		if (now_ms() - last_check >= CHECK_EVERY_MS) {
			check();
			last_check = now_ms();
		}
		if (now_ms() - last_progress >= 15000) {
			printf("storm: %lu requests after %.0f s\n", done, (now_ms() - t0) / 1000.0);
			fflush(stdout);
			last_progress = now_ms();
		}
	}
	for (int i = 0; i < conns - 1; i++)
		pthread_join(th[i], NULL);
	secs = (now_ms() - t0) / 1000.0;
	check();

	printf("storm: %lu requests in %.1f s (%.0f a second)\n", n_requests_done, secs,
	       n_requests_done / secs);
	printf("storm: answers 1xx %lu, 2xx %lu, 3xx %lu, 4xx %lu, 5xx %lu; by status:",
	       by_class[1], by_class[2], by_class[3], by_class[4], by_class[5]);
	for (int s = 100; s < 600; s++)
		if (status_count[s])
			printf(" %d:%lu", s, status_count[s]);
	printf("\n");
	printf("storm: 401 for %lu of %lu requests without the token or with a wrong one\n",
	       n_401_got, n_401_expected);
	printf("storm: %lu closed mid-request by us, %lu closed or reset by the server where it "
	       "may, %lu refused (503), %lu connects failed\n", n_abandoned, n_reset_ok, n_refused,
	       n_connect_fail);
	printf("storm: failures: %lu not HTTP, %lu hangs, %lu accepted (1xx-3xx), %lu other "
	       "statuses than expected, %lu keep-alive mismatches, %lu closed or reset before "
	       "an answer\n", n_non_http, n_hang, n_accepted, n_mismatch, n_close_mismatch,
	       n_reset_bad);
	printf("storm: checks: %lu authorized GET /host and GET /vms answered, %lu failed; "
	       "%s not running in %lu\n", n_check_ok, n_check_fail, canary, n_canary_missing);
	pass = !n_non_http && !n_hang && !n_accepted && !n_mismatch && !n_close_mismatch &&
	       !n_reset_bad && !n_check_fail && !n_canary_missing && n_401_got == n_401_expected &&
	       n_requests_done == n_total;
	printf("storm: %s\n", pass ? "PASS" : "FAIL");
	return pass ? 0 : 1;
}
