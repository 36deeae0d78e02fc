/*
 * storm's requests (tests/api-storm/storm.c): each made from the run's seed
 * and its number, with the answers it must get and whether the server may
 * close on it.
 */
#define _GNU_SOURCE
#include "storm.h"

/* Randomness: splitmix64, one stream per request. */
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

/* A well-formed request of a random method and path, without the token
 * or with a wrong one: its answer is 401. */
static void put_tokenless(struct req *q, struct rng *r, const char *host)
{
	putf(q, "%s ", PICK(r, methods));
	put_path(q, r);
	putf(q, " HTTP/1.1\r\nHost: %s\r\n", host);
	if (chance(r, 50))
		put_wrong_auth(q, r);
	PUTL(q, "\r\n");
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
		put_tokenless(q, r, "u");
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
	put_tokenless(q, r, "utsuwa");
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

void make_req(struct req *q, unsigned long index, unsigned long slow)
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

