/*
 * utsuwactl's HTTP/1.1 client: one request per connection (Connection:
 * close), as the management API expects from a command-line tool
 * (docs/utsuwactl.md). Every wait is bounded: the connect by
 * HTTP_CONNECT_TIMEOUT_MS, each read and write by the caller's timeout.
 *
 * Functions return 0 or -1; on -1, http_error() says what went wrong in
 * words (cannot connect, timed out, not HTTP), which utsuwactl reports as a
 * transport error (exit status 3).
 */
#ifndef UTSUWACTL_HTTP_H
#define UTSUWACTL_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define HTTP_CONNECT_TIMEOUT_MS 5000
#define HTTP_MAX_HEADER 16384            /* a response's status line and headers */
#define HTTP_MAX_BODY (64u << 20)        /* a response body kept in memory */

struct http_conn {
	int fd;
	int timeout_ms;                  /* each read or write; -1: none */
	char buf[HTTP_MAX_HEADER];       /* bytes read and not yet consumed */
	size_t len, off;
};

struct http_request {
	const char *method;
	const char *path;                /* already percent-encoded */
	const char *host;                /* the Host header: what --host said */
	const char *token;               /* Authorization: Bearer <token> */
	const char *content_type;        /* NULL: no Content-Type */
	const void *body;                /* body_len bytes from memory, or */
	size_t body_len;
	int body_fd;                     /* >= 0: body_len bytes streamed from it */
	bool upgrade_console;            /* Connection: Upgrade, Upgrade: utsuwa-console */
};

struct http_response {
	int status;
	char reason[64];
	char *body;                      /* malloc'd, NUL-terminated; NULL if none */
	size_t body_len;
};

const char *http_error(void);

/* Connects to "HOST:PORT", "HOST" (port 8080) or "[V6]:PORT". */
int http_connect(struct http_conn *c, const char *hostport, int timeout_ms);
void http_close(struct http_conn *c);

/*
 * Sends the request. A failed write is not reported at once when the body
 * is being sent: the server may have answered already (a 413 for an image
 * too large) and closed; *write_failed is set and the caller reads the
 * answer anyway.
 */
int http_send(struct http_conn *c, const struct http_request *req, bool *write_failed);

/*
 * Reads the answer. With a 101 (Switching Protocols) the body is not read:
 * the connection is a raw byte stream from here, and the bytes already read
 * past the headers stay in c->buf[c->off .. c->len).
 */
int http_recv(struct http_conn *c, struct http_response *resp);
void http_response_free(struct http_response *resp);

/* Sends all of buf on the connection, each wait bounded by its timeout. */
int http_write(struct http_conn *c, const void *buf, size_t len);

/* Writes all of buf to fd (blocking), or -1. */
int write_all(int fd, const void *buf, size_t len);

/* Appends NAME to the path in dst, percent-encoding all but
 * [A-Za-z0-9._~+-] (the API's names are made of these; '+' is a plain
 * character in a path, RFC 3986 3.3, and the API takes it as it is). */
int path_append_name(char *dst, size_t size, const char *name);

#endif
