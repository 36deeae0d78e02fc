/* A client for the API's host tests: requests into a connection, answers
 * out of the fake transport (tests/unit/api_fakes.h). */
#ifndef API_CLIENT_H
#define API_CLIENT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api_fakes.h"

#define TOKEN "test-token-0123456789abcdef"

static struct fake_io io;
static struct api_conn *conn;
static u64 now;

static void conn_open(void)
{
	memset(&io, 0, sizeof(io));
	conn = api_conn_new(&fake_api_io, &io, now);
}

static void conn_close(void)
{
	if (conn)
		api_conn_free(conn);
	conn = NULL;
}

static void feed(const char *s, size_t n)
{
	api_conn_input(conn, s, (u32)n, now);
}

static void feed_str(const char *s)
{
	feed(s, strlen(s));
}

/* The status of the answer at the start of s, or 0. */
static int status_at(const char *s)
{
	if (strncmp(s, "HTTP/1.1 ", 9))
		return 0;
	return atoi(s + 9);
}

/* The body of the (last) answer in io.sent. */
static const char *body(void)
{
	static char b[sizeof(io.sent) + 1];
	const char *p = NULL, *q = io.sent;

	memcpy(b, io.sent, io.len);
	b[io.len] = 0;
	while ((q = strstr(q, "\r\n\r\n"))) {
		p = q + 4;
		q += 4;
	}
	return p ? b + (p - io.sent) : "";
}

static bool sent_has(const char *s)
{
	char b[sizeof(io.sent) + 1];

	memcpy(b, io.sent, io.len);
	b[io.len] = 0;
	return strstr(b, s) != NULL;
}

/* One request with the token on a fresh connection; its status. */
static int request(const char *method, const char *path, const char *json)
{
	char req[1 << 14];
	int n;

	conn_close();
	conn_open();
	n = snprintf(req, sizeof(req),
		     "%s %s HTTP/1.1\r\nHost: utsuwa\r\nAuthorization: Bearer " TOKEN "\r\n"
		     "Content-Length: %zu\r\n\r\n%s",
		     method, path, json ? strlen(json) : 0, json ? json : "");
	feed(req, (size_t)n);
	return status_at(io.sent);
}

#endif
