/*
 * utsuwactl's HTTP/1.1 client (http.h). The socket stays non-blocking and
 * every read and write waits in poll() first, so that no wait is unbounded.
 */
#include "http.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

static char err_text[512];

static int fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err_text, sizeof(err_text), fmt, ap);
	va_end(ap);
	return -1;
}

const char *http_error(void)
{
	return err_text;
}

/* Waits until fd is ready for events; 0 ready, -1 with the error set. */
static int wait_fd(int fd, short events, int timeout_ms, const char *what)
{
	struct pollfd p = { .fd = fd, .events = events };
	int n;

	do
		n = poll(&p, 1, timeout_ms);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return fail("%s: poll: %s", what, strerror(errno));
	if (n == 0)
		return fail("%s: timed out after %d ms", what, timeout_ms);
	return 0;
}

int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (wait_fd(fd, POLLOUT, -1, "write") < 0)
				return -1;
			continue;
		}
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int http_write(struct http_conn *c, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (wait_fd(c->fd, POLLOUT, c->timeout_ms, "sending") < 0)
				return -1;
			continue;
		}
		if (n < 0)
			return fail("sending: %s", strerror(errno));
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads more bytes into c->buf; returns how many, 0 at the end, -1. */
static ssize_t conn_fill(struct http_conn *c)
{
	ssize_t n;

	if (c->off) {
		memmove(c->buf, c->buf + c->off, c->len - c->off);
		c->len -= c->off;
		c->off = 0;
	}
	if (c->len == sizeof(c->buf))
		return fail("the server's headers are longer than %zu bytes", sizeof(c->buf));
	for (;;) {
		if (wait_fd(c->fd, POLLIN, c->timeout_ms, "waiting for the server") < 0)
			return -1;
		n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		if (n < 0)
			return fail("receiving: %s", strerror(errno));
		c->len += (size_t)n;
		return n;
	}
}

/* Reads exactly n bytes into dst (what is buffered first); -1 if the server closes early. */
static int conn_read(struct http_conn *c, char *dst, size_t n)
{
	while (n) {
		size_t have = c->len - c->off;

		if (!have) {
			ssize_t r = conn_fill(c);

			if (r < 0)
				return -1;
			if (r == 0)
				return fail("the server closed the connection in the middle of the body");
			continue;
		}
		if (have > n)
			have = n;
		memcpy(dst, c->buf + c->off, have);
		c->off += have;
		dst += have;
		n -= have;
	}
	return 0;
}

/* A line ending in CRLF (or LF) from the buffer, NUL-terminated in place; NULL on error. */
static char *conn_line(struct http_conn *c)
{
	for (;;) {
		char *start = c->buf + c->off;
		char *nl = memchr(start, '\n', c->len - c->off);

		if (nl) {
			c->off = (size_t)(nl - c->buf) + 1;
			if (nl > start && nl[-1] == '\r')
				nl--;
			*nl = '\0';
			return start;
		}
		ssize_t r = conn_fill(c);

		if (r < 0)
			return NULL;
		if (r == 0) {
			fail("the server closed the connection in the middle of its answer");
			return NULL;
		}
	}
}

int http_connect(struct http_conn *c, const char *hostport, int timeout_ms)
{
	char host[256];
	const char *port = "8080";
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res, *ai;
	const char *colon;
	size_t hlen;
	int rc;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->timeout_ms = timeout_ms;
	if (hostport[0] == '[') {           /* [v6addr]:port */
		const char *end = strchr(hostport, ']');

		if (!end)
			return fail("bad host %s: no ']'", hostport);
		hlen = (size_t)(end - hostport - 1);
		if (hlen >= sizeof(host))
			return fail("bad host %s: too long", hostport);
		memcpy(host, hostport + 1, hlen);
		if (end[1] == ':')
			port = end + 2;
		else if (end[1])
			return fail("bad host %s", hostport);
	} else {
		colon = strrchr(hostport, ':');
		hlen = colon ? (size_t)(colon - hostport) : strlen(hostport);
		if (hlen >= sizeof(host))
			return fail("bad host %s: too long", hostport);
		memcpy(host, hostport, hlen);
		if (colon)
			port = colon + 1;
	}
	host[hlen] = '\0';
	if (!host[0] || !port[0])
		return fail("bad host %s: HOST:PORT expected", hostport);

	rc = getaddrinfo(host, port, &hints, &res);
	if (rc)
		return fail("cannot connect to %s: %s", hostport, gai_strerror(rc));
	fail("cannot connect to %s: no address", hostport);
	for (ai = res; ai; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
				ai->ai_protocol);
		int soerr = 0;
		socklen_t slen = sizeof(soerr);

		if (fd < 0) {
			fail("cannot connect to %s: socket: %s", hostport, strerror(errno));
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
			fail("cannot connect to %s: %s", hostport, strerror(errno));
			close(fd);
			continue;
		}
		if (wait_fd(fd, POLLOUT, HTTP_CONNECT_TIMEOUT_MS, "connecting") < 0) {
			fail("cannot connect to %s: timed out after %d ms", hostport,
			     HTTP_CONNECT_TIMEOUT_MS);
			close(fd);
			continue;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &slen) < 0 || soerr) {
			fail("cannot connect to %s: %s", hostport, strerror(soerr ? soerr : errno));
			close(fd);
			continue;
		}
		c->fd = fd;
		break;
	}
	freeaddrinfo(res);
	return c->fd >= 0 ? 0 : -1;
}

void http_close(struct http_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

/* Appends to a request's head; *n past size means it did not fit. */
__attribute__((format(printf, 4, 5)))
static void head_add(char *head, size_t size, size_t *n, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (*n >= size)
		return;
	va_start(ap, fmt);
	r = vsnprintf(head + *n, size - *n, fmt, ap);
	va_end(ap);
	*n += r < 0 ? size : (size_t)r;
}

int http_send(struct http_conn *c, const struct http_request *req, bool *write_failed)
{
	char head[4096];
	size_t n = 0;
	bool has_body = req->body || req->body_fd >= 0;

	*write_failed = false;
	head_add(head, sizeof(head), &n,
		 "%s %s HTTP/1.1\r\n"
		 "Host: %s\r\n"
		 "User-Agent: utsuwactl/1\r\n"
		 "Accept: application/json\r\n"
		 "Authorization: Bearer %s\r\n",
		 req->method, req->path, req->host, req->token);
	if (req->upgrade_console)
		head_add(head, sizeof(head), &n, "Connection: Upgrade\r\nUpgrade: utsuwa-console\r\n");
	else
		head_add(head, sizeof(head), &n, "Connection: close\r\n");
	if (req->content_type)
		head_add(head, sizeof(head), &n, "Content-Type: %s\r\n", req->content_type);
	/* A POST with nothing to say still says so: Content-Length: 0. */
	if (has_body || (strcmp(req->method, "GET") && strcmp(req->method, "DELETE")))
		head_add(head, sizeof(head), &n, "Content-Length: %zu\r\n",
			 has_body ? req->body_len : 0);
	head_add(head, sizeof(head), &n, "\r\n");
	if (n >= sizeof(head))
		return fail("the request's headers are too long");
	if (http_write(c, head, n) < 0)
		return -1;

	if (req->body) {
		if (http_write(c, req->body, req->body_len) < 0)
			*write_failed = true;
	} else if (req->body_fd >= 0) {
		/* Streamed: the file is never in memory as a whole. */
		static char chunk[1 << 16];
		size_t left = req->body_len;

		while (left) {
			ssize_t r = read(req->body_fd, chunk, left < sizeof(chunk) ? left : sizeof(chunk));

			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				return fail("reading the file: %s",
					    r < 0 ? strerror(errno) : "it became shorter");
			if (http_write(c, chunk, (size_t)r) < 0) {
				*write_failed = true;
				break;
			}
			left -= (size_t)r;
		}
	}
	return 0;
}

/* Appends n bytes to a growing body, bounded by HTTP_MAX_BODY. */
static int body_add(struct http_response *resp, size_t *cap, struct http_conn *c, size_t n)
{
	if (resp->body_len + n > HTTP_MAX_BODY)
		return fail("the answer is larger than %u bytes", HTTP_MAX_BODY);
	if (resp->body_len + n + 1 > *cap) {
		size_t ncap = *cap ? *cap : 4096;
		char *nb;

		while (ncap < resp->body_len + n + 1)
			ncap *= 2;
		nb = realloc(resp->body, ncap);
		if (!nb)
			return fail("out of memory");
		resp->body = nb;
		*cap = ncap;
	}
	if (conn_read(c, resp->body + resp->body_len, n) < 0)
		return -1;
	resp->body_len += n;
	resp->body[resp->body_len] = '\0';
	return 0;
}

static int read_chunked(struct http_conn *c, struct http_response *resp, size_t *cap)
{
	for (;;) {
		char *line = conn_line(c), *end;
		unsigned long size;

		if (!line)
			return -1;
		errno = 0;
		size = strtoul(line, &end, 16);
		if (end == line || errno || (*end && *end != ';' && *end != ' '))
			return fail("a bad chunk size from the server: \"%.40s\"", line);
		if (size == 0)
			break;
		if (size > HTTP_MAX_BODY || body_add(resp, cap, c, size) < 0)
			return size > HTTP_MAX_BODY ? fail("a chunk too large from the server") : -1;
		line = conn_line(c);
		if (!line)
			return -1;
		if (*line)
			return fail("no CRLF after a chunk from the server");
	}
	/* Trailers, up to the empty line. */
	for (;;) {
		char *line = conn_line(c);

		if (!line)
			return -1;
		if (!*line)
			return 0;
	}
}

static int read_to_close(struct http_conn *c, struct http_response *resp, size_t *cap)
{
	for (;;) {
		size_t have = c->len - c->off;

		if (have) {
			if (body_add(resp, cap, c, have) < 0)
				return -1;
			continue;
		}
		ssize_t r = conn_fill(c);

		if (r < 0)
			return -1;
		if (r == 0)
			return 0;
	}
}

int http_recv(struct http_conn *c, struct http_response *resp)
{
	char *line, *p, *end;
	long long content_length = -1;
	bool chunked = false;
	size_t cap = 0;

	memset(resp, 0, sizeof(*resp));
	line = conn_line(c);
	if (!line)
		return -1;
	/* HTTP/1.1 200 OK */
	if (strncmp(line, "HTTP/1.", 7) || !line[7] || line[8] != ' ')
		return fail("not an HTTP answer: \"%.40s\"", line);
	errno = 0;
	resp->status = (int)strtol(line + 9, &end, 10);
	if (end != line + 12 || resp->status < 100 || resp->status > 599 || (*end && *end != ' '))
		return fail("a bad status line: \"%.60s\"", line);
	snprintf(resp->reason, sizeof(resp->reason), "%s", *end ? end + 1 : "");

	for (;;) {
		line = conn_line(c);
		if (!line)
			return -1;
		if (!*line)
			break;
		p = strchr(line, ':');
		if (!p)
			return fail("a bad header line: \"%.60s\"", line);
		*p++ = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		if (!strcasecmp(line, "Content-Length")) {
			errno = 0;
			content_length = strtoll(p, &end, 10);
			if (end == p || errno || content_length < 0)
				return fail("a bad Content-Length: \"%.40s\"", p);
		} else if (!strcasecmp(line, "Transfer-Encoding") && strcasestr(p, "chunked")) {
			chunked = true;
		}
	}

	if (resp->status == 101 || resp->status == 204 || resp->status == 304)
		return 0;
	if (chunked)
		return read_chunked(c, resp, &cap);
	if (content_length >= 0) {
		if ((unsigned long long)content_length > HTTP_MAX_BODY)
			return fail("the answer is larger than %u bytes", HTTP_MAX_BODY);
		resp->body = malloc((size_t)content_length + 1);
		if (!resp->body)
			return fail("out of memory");
		cap = (size_t)content_length + 1;
		resp->body[0] = '\0';
		return body_add(resp, &cap, c, (size_t)content_length);
	}
	return read_to_close(c, resp, &cap);
}

void http_response_free(struct http_response *resp)
{
	free(resp->body);
	resp->body = NULL;
	resp->body_len = 0;
}

int path_append_name(char *dst, size_t size, const char *name)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(dst);

	for (const unsigned char *s = (const unsigned char *)name; *s; s++) {
		bool plain = (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
			     (*s >= '0' && *s <= '9') || strchr("._~+-", *s);

		if (n + (plain ? 1 : 3) >= size)
			return -1;
		if (plain) {
			dst[n++] = (char)*s;
		} else {
			dst[n++] = '%';
			dst[n++] = hex[*s >> 4];
			dst[n++] = hex[*s & 15];
		}
	}
	dst[n] = '\0';
	return 0;
}
