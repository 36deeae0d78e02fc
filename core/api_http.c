/*
 * The management API's HTTP/1.1 side (include/hv/api.h, docs/api.md):
 * connections fed by a transport, requests parsed as their bytes arrive,
 * the bearer token checked, the route run, the answer sent back.
 *
 * A request's head (its line and headers, at most API_HEAD_MAX bytes) is
 * gathered in the connection's buffer until its empty line, however the
 * bytes were split, then parsed whole. Its body follows by Content-Length:
 * a JSON body into the connection's body buffer, an upload straight into
 * the image store. Chunked bodies are refused (501). Keep-alive is the
 * default of HTTP/1.1; a request that follows before the answer to the one
 * before has been handed to the transport waits in the buffer (pipelining),
 * and is parsed once the answer has gone.
 *
 * Time: a request must be whole within API_REQUEST_MS of its first byte
 * (an upload gets API_UPLOAD_RATE bytes a second on top), else 408 and the
 * connection closes; an idle connection closes after API_IDLE_MS, one
 * whose peer takes nothing for API_STALL_MS too. Any problem with the
 * framing (a bad head, an error before the body was read) closes the
 * connection after the answer: what follows could not be trusted.
 *
 * Every entry point calls io->close, if at all, as its very last action,
 * so a transport may free the connection from inside it.
 */
#include "hv/api.h"
#include "core/api_auth.h"
#include "core/api_host.h"
#include "core/api_http.h"
#include "hv/config.h"
#include "hv/console.h"
#include "hv/image_store.h"
#include "hv/mm.h"
#include "hv/vm.h"
#include "hv/vm_lifecycle.h"
#include "lib/format.h"
#include "lib/string.h"

#define ANSWER_HEAD_MAX 512 /* room for the head before a JSON body */
#define CONSOLE_UPGRADE "utsuwa-console"

enum conn_state {
	ST_HEAD,    /* gathering a request's head */
	ST_BODY,    /* reading its body */
	ST_CONSOLE, /* upgraded: bytes both ways with a VM's console */
};

struct api_conn {
	const struct api_io *io;
	void *ctx;
	enum conn_state st;
	bool want_close; /* close once the answer is handed over */
	bool closed;     /* io->close was called: nothing more happens */

	/* The request under way. */
	bool started;     /* its first byte has come */
	u64 start_ms;     /* when */
	u64 deadline_ms;  /* ST_BODY: when it must be whole */
	u64 idle_ms;      /* since when nothing is under way */
	const struct api_route *route;
	char arg[VM_IMAGE_MAX];
	bool keep_alive;
	bool upgrade;     /* Connection: Upgrade, Upgrade: utsuwa-console */
	u64 content_length, body_got;
	int upload;       /* BODY_IMAGE: the store's slot; -1: none */

	char in[API_HEAD_MAX];
	u32 in_len;
	u32 scan;         /* in[] up to here holds no end of the head */
	char body[API_JSON_MAX];

	char out[API_OUT_MAX];
	u32 out_len, out_sent;
	u64 out_ms;       /* the transport last took bytes */
	u32 answers;      /* answers made (api_conn_between) */

	/* ST_CONSOLE */
	struct vm *vm;
	char vm_name[VM_NAME_MAX];
	u64 cursor;
};

static unsigned nr_conns;
/* The JSON of the answer being made: CPU 0 makes one at a time. */
static char answer[API_OUT_MAX - ANSWER_HEAD_MAX];

static const char *const method_names[NR_API_METHODS] = {
	[API_GET] = "GET", [API_PUT] = "PUT", [API_POST] = "POST", [API_DELETE] = "DELETE",
};

static const char *reason(u16 status)
{
	switch (status) {
	case 100: return "Continue";
	case 101: return "Switching Protocols";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 417: return "Expectation Failed";
	case 426: return "Upgrade Required";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	case 507: return "Insufficient Storage";
	}
	return "Unknown";
}

/* ---- output ---- */

/* Queues bytes; false (and the connection closes) if they do not fit. */
static bool queue(struct api_conn *c, const char *s, u32 n, u64 now)
{
	if (c->out_sent == c->out_len)
		c->out_ms = now; /* the peer's time to take them starts now */
	if (c->out_sent) {
		memmove(c->out, c->out + c->out_sent, c->out_len - c->out_sent);
		c->out_len -= c->out_sent;
		c->out_sent = 0;
	}
	if (n > sizeof(c->out) - c->out_len) {
		c->want_close = true;
		return false;
	}
	memcpy(c->out + c->out_len, s, n);
	c->out_len += n;
	return true;
}

static bool drained(const struct api_conn *c)
{
	return c->out_sent == c->out_len;
}

static void push(struct api_conn *c, u64 now)
{
	while (!c->closed && c->out_sent < c->out_len) {
		u32 rest = c->out_len - c->out_sent;
		u32 k = c->io->send(c->ctx, c->out + c->out_sent, rest);

		if (!k)
			break;
		c->out_sent += MIN(k, rest);
		c->out_ms = now;
	}
	if (drained(c))
		c->out_len = c->out_sent = 0;
}

/* The last thing every entry point does. */
static void finish(struct api_conn *c)
{
	if (c->want_close && !c->closed && drained(c)) {
		c->closed = true;
		if (c->upload >= 0)
			image_store_abort(c->upload);
		c->upload = -1;
		c->io->close(c->ctx); /* c may be freed from here on */
	}
}

/* The request is answered (run, or refused before it ran): the next one's
 * time starts with its first byte, or now if some of it came already. */
static void next_request(struct api_conn *c, u64 now)
{
	c->started = c->in_len > 0;
	c->start_ms = now;
}

/* The answer: a head, then body (JSON, n bytes) and a line end. */
static void answer_with(struct api_conn *c, u16 status, const char *body, u32 n,
			const char *allow, u64 now)
{
	char head[ANSWER_HEAD_MAX];
	int h;

	if (!c->keep_alive)
		c->want_close = true;
	h = fmt_snprintf(head, sizeof(head),
			 "HTTP/1.1 %u %s\r\nContent-Type: application/json\r\n"
			 "Content-Length: %u\r\n%s%s%s%s%s\r\n",
			 status, reason(status), n + 1, allow ? "Allow: " : "", allow ? allow : "",
			 allow ? "\r\n" : "",
			 status == 401 ? "WWW-Authenticate: Bearer realm=\"utsuwa\"\r\n" : "",
			 c->want_close ? "Connection: close\r\n" : "Connection: keep-alive\r\n");
	if (queue(c, head, (u32)MIN((size_t)h, sizeof(head) - 1), now) && queue(c, body, n, now))
		queue(c, "\n", 1, now);
	c->idle_ms = now;
	c->answers++;
	push(c, now);
}

/* An error before or instead of the route: {"error": why}. close: the
 * request's framing is not to be trusted, or its body was not read. */
static void fail(struct api_conn *c, u16 status, bool close, u64 now, const char *fmt, ...)
	__printf(5, 6);

static void fail(struct api_conn *c, u16 status, bool close, u64 now, const char *fmt, ...)
{
	char why[API_ERR_MAX];
	struct json_writer w;
	va_list ap;

	va_start(ap, fmt);
	fmt_vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	jw_init(&w, answer, sizeof(answer));
	jw_obj(&w);
	jw_kstr(&w, "error", why);
	jw_obj_end(&w);
	if (close)
		c->want_close = true;
	answer_with(c, status, answer, w.len, NULL, now);
	c->st = ST_HEAD;
	next_request(c, now);
}

void api_error(struct api_call *c, u16 status, const char *fmt, ...)
{
	char why[API_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	fmt_vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	c->status = status;
	jw_init(c->out, c->out->buf, c->out->cap);
	jw_obj(c->out);
	jw_kstr(c->out, "error", why);
	jw_obj_end(c->out);
}

/* ---- the head ---- */

struct head {
	enum api_method method;
	char *target;
	unsigned minor;          /* HTTP/1.minor */
	const char *auth;
	u32 auth_len;
	bool has_length, has_te, has_host, has_auth;
	u64 length;
	bool conn_close, conn_keep_alive, conn_upgrade;
	bool upgrade_console;
	bool expect_continue, expect_other;
};

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c | 0x20) : c;
}

/* Case-insensitive: is [s, s + n) the word w? */
static bool is_word(const char *s, u32 n, const char *w)
{
	size_t m = strlen(w);

	if (n != m)
		return false;
	for (u32 i = 0; i < n; i++)
		if (lower(s[i]) != w[i])
			return false;
	return true;
}

/* RFC 9110's tchar: what a method or a header's name is made of. */
static bool is_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Each comma-separated token of a Connection header. */
static void connection_tokens(struct head *h, const char *v, u32 n)
{
	u32 i = 0;

	while (i < n) {
		u32 from, to;

		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		from = i;
		while (i < n && v[i] != ',')
			i++;
		to = i;
		while (to > from && (v[to - 1] == ' ' || v[to - 1] == '\t'))
			to--;
		if (is_word(v + from, to - from, "close"))
			h->conn_close = true;
		else if (is_word(v + from, to - from, "keep-alive"))
			h->conn_keep_alive = true;
		else if (is_word(v + from, to - from, "upgrade"))
			h->conn_upgrade = true;
	}
}

/* One header line (no line end). 0, or the status to refuse with and why. */
static u16 header(struct head *h, char *line, u32 n, const char **why)
{
	u32 colon = 0, vs, ve;

	while (colon < n && is_tchar(line[colon]))
		colon++;
	if (!colon || colon == n || line[colon] != ':')
		return *why = "a header line is not name: value", 400;
	for (vs = colon + 1; vs < n && (line[vs] == ' ' || line[vs] == '\t'); vs++)
		;
	for (ve = n; ve > vs && (line[ve - 1] == ' ' || line[ve - 1] == '\t'); ve--)
		;
	for (u32 i = vs; i < ve; i++)
		if (((u8)line[i] < 0x20 && line[i] != '\t') || line[i] == 0x7f)
			return *why = "a header's value has a control character", 400;
	if (is_word(line, colon, "content-length")) {
		u64 v = 0;

		if (vs == ve || ve - vs > 12)
			return *why = "Content-Length is not a number of bytes", 400;
		for (u32 i = vs; i < ve; i++) {
			if (line[i] < '0' || line[i] > '9')
				return *why = "Content-Length is not a number of bytes", 400;
			v = v * 10 + (u64)(line[i] - '0');
		}
		if (h->has_length && h->length != v)
			return *why = "two different Content-Lengths", 400;
		h->has_length = true;
		h->length = v;
	} else if (is_word(line, colon, "transfer-encoding")) {
		h->has_te = true;
	} else if (is_word(line, colon, "host")) {
		if (h->has_host)
			return *why = "two Host headers", 400;
		h->has_host = true;
	} else if (is_word(line, colon, "authorization")) {
		if (h->has_auth)
			return *why = "two Authorization headers", 400;
		h->has_auth = true;
		h->auth = line + vs;
		h->auth_len = ve - vs;
	} else if (is_word(line, colon, "connection")) {
		connection_tokens(h, line + vs, ve - vs);
	} else if (is_word(line, colon, "upgrade")) {
		h->upgrade_console = is_word(line + vs, ve - vs, CONSOLE_UPGRADE);
	} else if (is_word(line, colon, "expect")) {
		if (is_word(line + vs, ve - vs, "100-continue"))
			h->expect_continue = true;
		else
			h->expect_other = true;
	}
	return 0;
}

/* The request line: METHOD SP target SP HTTP/1.x. 0, or a status and why. */
static u16 request_line(struct head *h, char *line, u32 n, const char **why)
{
	u32 m = 0, t, te;

	while (m < n && is_tchar(line[m]))
		m++;
	if (!m || m == n || line[m] != ' ')
		return *why = "the request line is not METHOD /path HTTP/1.1", 400;
	for (h->method = 0; h->method < NR_API_METHODS; h->method++)
		if (m == strlen(method_names[h->method]) &&
		    !memcmp(line, method_names[h->method], m))
			break;
	t = m + 1;
	for (te = t; te < n && line[te] != ' '; te++)
		if ((u8)line[te] <= 0x20 || (u8)line[te] >= 0x7f)
			return *why = "the request target has a character that is not allowed", 400;
	if (te == t || te == n || te + 1 + 8 != n)
		return *why = "the request line is not METHOD /path HTTP/1.1", 400;
	if (memcmp(line + te + 1, "HTTP/", 5) || line[te + 7] != '.' || line[te + 6] < '0' ||
	    line[te + 6] > '9' || line[te + 8] < '0' || line[te + 8] > '9')
		return *why = "the request line does not end in HTTP/1.1", 400;
	if (line[te + 6] != '1' || line[te + 8] > '1')
		return *why = "only HTTP/1.1 and HTTP/1.0 are spoken here", 505;
	h->minor = (unsigned)(line[te + 8] - '0');
	if (h->method == NR_API_METHODS)
		return *why = "the method is not GET, PUT, POST or DELETE", 501;
	if (te - t > API_URL_MAX)
		return *why = "the path is longer than 256 characters", 414;
	if (line[t] != '/')
		return *why = "the request target is not a path (/...)", 400;
	for (u32 i = t; i < te; i++) {
		if (line[i] == '?' || line[i] == '#')
			return *why = "the path has a query or fragment; the API takes none", 400;
		if (line[i] == '%')
			return *why = "the path is percent-encoded; names here need no encoding", 400;
	}
	line[te] = 0;
	h->target = line + t;
	return 0;
}

/* The head being parsed, taken out of the connection's buffer (CPU 0 parses
 * one at a time); h points into it. */
static char head_buf[API_HEAD_MAX];

/* Parses head_buf[0, end) into h, lines ended by LF or CRLF. 0, or a status and why. */
static u16 parse_head(u32 end, struct head *h, const char **why)
{
	char *in = head_buf;

	u32 pos = 0, nr = 0;
	u16 st;

	memset(h, 0, sizeof(*h));
	while (pos < end) {
		u32 nl = pos, n;

		while (in[nl] != '\n')
			nl++;
		n = nl - pos;
		if (n && in[pos + n - 1] == '\r')
			n--;
		for (u32 i = pos; i < pos + n; i++)
			if (in[i] == '\r' || !in[i])
				return *why = "a bare CR or a NUL in the head", 400;
		if (!n)
			break; /* the empty line: the end of the head */
		if (pos == 0)
			st = request_line(h, in, n, why);
		else if (in[pos] == ' ' || in[pos] == '\t')
			st = (*why = "a header is folded onto a second line (obsolete)", 400);
		else if (++nr > API_HEADERS_MAX)
			st = (*why = "more than 32 headers", 431);
		else
			st = header(h, in + pos, n, why);
		if (st)
			return st;
		pos = nl + 1;
	}
	return 0;
}

/* What a well-formed head may still ask that is refused: 0, or a status and why. */
static u16 head_refused(const struct head *h, const char **why)
{
	if (h->has_te && h->has_length)
		return *why = "both Transfer-Encoding and Content-Length", 400;
	if (h->has_te)
		return *why = "Transfer-Encoding (chunked bodies) is not supported: send "
			      "Content-Length", 501;
	if (h->minor && !h->has_host)
		return *why = "an HTTP/1.1 request without a Host header", 400;
	if (h->expect_other)
		return *why = "the only expectation met is 100-continue", 417;
	return 0;
}

/* Is the head whole? Its length (up to and with the empty line) in *end. */
static bool head_end(struct api_conn *c, u32 *end)
{
	for (u32 i = c->scan; i < c->in_len; i++) {
		if (c->in[i] != '\n')
			continue;
		if ((i >= 1 && c->in[i - 1] == '\n') ||
		    (i >= 2 && c->in[i - 1] == '\r' && c->in[i - 2] == '\n')) {
			*end = i + 1;
			return true;
		}
	}
	c->scan = c->in_len;
	return false;
}

/* Takes the first n bytes out of in[]. */
static void consume(struct api_conn *c, u32 n)
{
	memmove(c->in, c->in + n, c->in_len - n);
	c->in_len -= n;
	c->scan = 0;
}

/* ---- requests ---- */

static void run(struct api_conn *c, u64 now);
static u32 take_body(struct api_conn *c, const char *p, u32 n);

static void call_init(struct api_conn *c, struct api_call *call, struct json_writer *w, u64 now)
{
	memset(call, 0, sizeof(*call));
	jw_init(w, answer, sizeof(answer));
	call->out = w;
	call->arg = c->arg;
	call->now_ms = now;
	call->status = 200;
	call->upload = c->upload;
	call->content_length = c->content_length;
}

/* A whole head in in[0, end): decide what to do with the request. */
static void begin(struct api_conn *c, u32 end, u64 now)
{
	struct api_call call;
	struct json_writer w;
	const char *why = "";
	struct head h;
	u16 st;

	memcpy(head_buf, c->in, end);
	consume(c, end);
	st = parse_head(end, &h, &why);
	c->keep_alive = false;
	c->content_length = h.has_length ? h.length : 0;
	c->body_got = 0;
	if (!st)
		st = head_refused(&h, &why);
	if (st) {
		fail(c, st, true, now, "%s", why);
		return;
	}
	c->keep_alive = h.minor ? !h.conn_close : h.conn_keep_alive && !h.conn_close;
	if (!h.has_auth || !api_auth_check(h.auth, h.auth_len)) {
		api_auth_refused(!h.has_auth ? "a request without an Authorization header"
					     : "a request with a wrong token", now);
		fail(c, 401, c->content_length > 0, now,
		     "this call needs Authorization: Bearer <token>");
		return;
	}
	call_init(c, &call, &w, now);
	c->route = api_route_find(h.method, h.target, c->arg, sizeof(c->arg), &call);
	if (!c->route) {
		if (c->content_length)
			c->want_close = true;
		answer_with(c, call.status, answer, w.len, call.allow, now);
		next_request(c, now);
		return;
	}
	c->upgrade = h.upgrade_console && h.conn_upgrade;
	if (c->route->body == BODY_JSON && c->content_length > API_JSON_MAX) {
		fail(c, 413, true, now, "a JSON body is at most %u bytes", API_JSON_MAX);
		return;
	}
	if (c->route->body == BODY_IMAGE) {
		if (!h.has_length) {
			fail(c, 411, true, now, "an upload needs Content-Length");
			return;
		}
		if (c->route->begin(&call)) {
			if (c->content_length)
				c->want_close = true;
			answer_with(c, call.status, answer, w.len, NULL, now);
			next_request(c, now);
			return;
		}
		c->upload = call.upload;
	}
	c->deadline_ms = c->start_ms + API_REQUEST_MS +
			 (c->route->body == BODY_IMAGE ? c->content_length * 1000 / API_UPLOAD_RATE : 0);
	if (!c->content_length) {
		run(c, now);
		return;
	}
	c->st = ST_BODY;
	if (h.expect_continue)
		queue(c, "HTTP/1.1 100 Continue\r\n\r\n", 25, now);
	/* The body's first bytes may have come with the head. */
	if (c->in_len)
		consume(c, take_body(c, c->in, c->in_len));
	if (c->body_got == c->content_length)
		run(c, now);
	else
		push(c, now);
}

/* The request is whole: run its route and answer. */
static void run(struct api_conn *c, u64 now)
{
	struct api_call call;
	struct json_writer w;

	call_init(c, &call, &w, now);
	call.body = c->body;
	call.body_len = (u32)c->body_got;
	call.upgrade = c->upgrade;
	c->st = ST_HEAD;
	c->route->run(&call);
	c->upload = -1; /* the route committed or dropped it */
	next_request(c, now);
	if (call.status == 101 && call.console) {
		static const char up[] = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
					 "Upgrade: " CONSOLE_UPGRADE "\r\n\r\n";

		c->vm = call.console;
		strlcpy(c->vm_name, c->vm->name, sizeof(c->vm_name));
		c->cursor = api_console_start(c->vm);
		c->st = ST_CONSOLE;
		queue(c, up, sizeof(up) - 1, now);
		push(c, now);
		return;
	}
	if (!jw_ok(&w)) {
		api_error(&call, 500, "the answer does not fit in %u bytes", (unsigned)sizeof(answer));
	}
	answer_with(c, call.status, answer, w.len, call.allow, now);
}

/* Up to n bytes of the body; how many it took. */
static u32 take_body(struct api_conn *c, const char *p, u32 n)
{
	u32 k = (u32)MIN((u64)n, c->content_length - c->body_got);

	if (c->route->body == BODY_IMAGE)
		image_store_write(c->upload, c->body_got, p, k);
	else
		memcpy(c->body + c->body_got, p, k);
	c->body_got += k;
	return k;
}

/* Parses and answers what in[] holds, while the answers before have gone. */
static void process(struct api_conn *c, u64 now)
{
	while (c->st == ST_HEAD && !c->want_close && drained(c) && c->in_len) {
		u32 end;

		/* Empty lines before a request line are skipped (RFC 9112, 2.2). */
		if (c->in[0] == '\r' || c->in[0] == '\n') {
			consume(c, 1);
			continue;
		}
		if (!head_end(c, &end)) {
			if (c->in_len == sizeof(c->in))
				fail(c, 431, true, now, "the request line and headers are longer "
					"than %u bytes", API_HEAD_MAX);
			return;
		}
		begin(c, end, now);
	}
}

/* ---- the console ---- */

/* The VM the connection is attached to, still there and not ended. */
static bool console_vm_ok(struct api_conn *c)
{
	struct vm *vm = vm_find(c->vm_name);

	return vm == c->vm && (vm->state == VM_RUNNING || vm->state == VM_PAUSED ||
			       vm->state == VM_RESETTING);
}

static void console_pump(struct api_conn *c, u64 now)
{
	if (!console_vm_ok(c)) {
		c->want_close = true;
		return;
	}
	if (c->out_sent) {
		memmove(c->out, c->out + c->out_sent, c->out_len - c->out_sent);
		c->out_len -= c->out_sent;
		c->out_sent = 0;
	}
	if (c->out_len < sizeof(c->out)) {
		u64 lost = 0;

		c->out_len += api_console_read(c->vm, &c->cursor, c->out + c->out_len,
					       (u32)sizeof(c->out) - c->out_len, &lost);
	}
	push(c, now);
}

/* ---- the interface (include/hv/api.h) ---- */

struct api_conn *api_conn_new(const struct api_io *io, void *ctx, u64 now_ms)
{
	struct api_conn *c;

	if (nr_conns >= API_MAX_CONNS)
		return NULL;
	c = kzalloc(sizeof(*c));
	if (!c)
		return NULL;
	c->io = io;
	c->ctx = ctx;
	c->upload = -1;
	c->idle_ms = c->out_ms = now_ms;
	nr_conns++;
	return c;
}

void api_conn_input(struct api_conn *c, const void *data, u32 len, u64 now_ms)
{
	const char *p = data;

	while (len && !c->closed && !c->want_close) {
		u32 k;

		if (c->st == ST_CONSOLE) {
			if (console_vm_ok(c))
				api_console_write(c->vm, (const u8 *)p, len); /* the rest: dropped, counted */
			else
				c->want_close = true;
			break;
		}
		if (c->st == ST_BODY) {
			k = take_body(c, p, len);
			p += k;
			len -= k;
			if (c->body_got == c->content_length)
				run(c, now_ms);
			process(c, now_ms);
			continue;
		} else {
			if (!c->started) {
				c->started = true;
				c->start_ms = now_ms;
			}
			k = MIN(len, (u32)sizeof(c->in) - c->in_len);
			if (!k) { /* a peer that sends far ahead of what it reads */
				c->want_close = true;
				c->out_len = c->out_sent = 0;
				break;
			}
			memcpy(c->in + c->in_len, p, k);
			c->in_len += k;
		}
		p += k;
		len -= k;
		process(c, now_ms);
		if (c->st == ST_CONSOLE && c->in_len) { /* sent right behind the upgrade */
			api_console_write(c->vm, (const u8 *)c->in, c->in_len);
			consume(c, c->in_len);
		}
	}
	finish(c);
}

void api_conn_sent(struct api_conn *c, u32 len, u64 now_ms)
{
	if (c->closed)
		return;
	c->out_ms = now_ms;
	push(c, now_ms);
	process(c, now_ms);
	finish(c);
}

void api_conn_poll(struct api_conn *c, u64 now_ms)
{
	if (c->closed)
		return;
	push(c, now_ms);
	if (!drained(c) && now_ms - c->out_ms > API_STALL_MS) {
		c->want_close = true; /* the peer reads nothing: drop what it did not take */
		c->out_len = c->out_sent = 0;
	} else if (c->st == ST_CONSOLE) {
		console_pump(c, now_ms);
	} else if (c->st == ST_BODY && now_ms > c->deadline_ms) {
		fail(c, 408, true, now_ms, "the request was not whole within %u s",
		     (unsigned)((c->deadline_ms - c->start_ms) / 1000));
	} else if (c->st == ST_HEAD && drained(c) && c->started && c->in_len &&
		   now_ms - c->start_ms > API_REQUEST_MS) {
		fail(c, 408, true, now_ms, "the request was not whole within %u s",
		     API_REQUEST_MS / 1000);
	} else if (c->st == ST_HEAD && drained(c) && !c->in_len &&
		   now_ms - c->idle_ms > API_IDLE_MS) {
		c->want_close = true;
	}
	finish(c);
}

bool api_conn_between(const struct api_conn *c, u32 *answers)
{
	*answers = c->answers;
	return c->st == ST_HEAD && !c->started && drained(c);
}

void api_conn_free(struct api_conn *c)
{
	if (c->upload >= 0)
		image_store_abort(c->upload);
	nr_conns--;
	kfree(c);
}
