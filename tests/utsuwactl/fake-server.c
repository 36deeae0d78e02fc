/*
 * A fake utsuwa management API for tests/utsuwactl/ctl-test.sh: it records
 * every request it receives and answers from a routes file, so that the test
 * checks what utsuwactl sent (method, path, headers, body) and what it makes
 * of each kind of answer.
 *
 *   fake-server -t TOKEN -r ROUTES -d LOGDIR -p PORTFILE
 *
 * It listens on 127.0.0.1 at a port the kernel picks (written to PORTFILE)
 * and serves one connection at a time until killed. For each request:
 *   LOGDIR/requests   gets a line "METHOD PATH"
 *   LOGDIR/last.head  the request line and headers as received
 *   LOGDIR/last.body  the body (Content-Length bytes)
 * all written before it answers. Like the real API it answers 401
 * {"error":"missing or wrong token"} unless Authorization is "Bearer TOKEN",
 * and 400 for a POST or PUT without Content-Length.
 *
 * ROUTES is read again for every request; a line is "METHOD PATH ACTION":
 *   STATUS [BODY]        answer STATUS with BODY (the rest of the line)
 *   chunked STATUS BODY  the same in chunked transfer encoding
 *   early STATUS BODY    answer before reading the body, then drain it
 *   console              101 if asked to upgrade to utsuwa-console, then
 *                        "console of PATH\r\n" and every byte back in upper
 *                        case (LOGDIR/console.in records them) until EOF
 *   hang                 never answer (until the client goes)
 *   garbage              answer something that is not HTTP
 * A request no line matches gets 404 {"error":"no route for METHOD PATH"}.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_HEAD 65536

static const char *token, *routes_path, *logdir;

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static const char *reason(int status)
{
	switch (status) {
	case 101: return "Switching Protocols";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 404: return "Not Found";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Status";
	}
}

static void send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}

static void answer(int fd, int status, const char *body, int chunked)
{
	char head[512];
	size_t blen = strlen(body);
	int n;

	if (chunked) {
		n = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
			     "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
			     status, reason(status));
		send_all(fd, head, (size_t)n);
		/* Two chunks, to show they are joined. */
		for (size_t off = 0, k = 0; k < 2; k++) {
			size_t len = k == 0 ? blen / 2 : blen - off;

			n = snprintf(head, sizeof(head), "%zx;ext=1\r\n", len);
			send_all(fd, head, (size_t)n);
			send_all(fd, body + off, len);
			send_all(fd, "\r\n", 2);
			off += len;
		}
		send_all(fd, "0\r\n\r\n", 5);
		return;
	}
	n = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\n", status, reason(status));
	if (status != 204)
		n += snprintf(head + n, sizeof(head) - (size_t)n,
			      "Content-Type: application/json\r\nContent-Length: %zu\r\n", blen);
	n += snprintf(head + n, sizeof(head) - (size_t)n, "Connection: close\r\n\r\n");
	send_all(fd, head, (size_t)n);
	if (status != 204)
		send_all(fd, body, blen);
}

/* The value of header name in head (which ends with an empty line), or NULL. */
static char *header(const char *head, const char *name, char *out, size_t size)
{
	size_t nlen = strlen(name);

	for (const char *l = strstr(head, "\r\n"); l && l[2] != '\r'; l = strstr(l + 2, "\r\n")) {
		const char *s = l + 2, *e = strstr(s, "\r\n");

		if (!e)
			break;
		if ((size_t)(e - s) > nlen && !strncasecmp(s, name, nlen) && s[nlen] == ':') {
			s += nlen + 1;
			while (*s == ' ')
				s++;
			snprintf(out, size, "%.*s", (int)(e - s), s);
			return out;
		}
	}
	return NULL;
}

static FILE *log_open(const char *name, const char *mode)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", logdir, name);
	f = fopen(path, mode);
	if (!f)
		die(path);
	return f;
}

/* Finds the route for method and path; returns its action (static). */
static const char *route(const char *method, const char *path)
{
	static char line[8192];
	FILE *f = fopen(routes_path, "r");
	char m[16], p[2048];
	int off;

	if (!f)
		die(routes_path);
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' || sscanf(line, "%15s %2047s %n", m, p, &off) != 2)
			continue;
		if (!strcmp(m, method) && !strcmp(p, path)) {
			fclose(f);
			return line + off;
		}
	}
	fclose(f);
	return NULL;
}

static void console(int fd, const char *path)
{
	FILE *in = log_open("console.in", "w");
	char buf[8192];
	ssize_t n;

	snprintf(buf, sizeof(buf), "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
		 "Upgrade: utsuwa-console\r\n\r\nconsole of %s\r\n", path);
	send_all(fd, buf, strlen(buf));
	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) {
		fwrite(buf, 1, (size_t)n, in);
		fflush(in);
		for (ssize_t k = 0; k < n; k++)
			buf[k] = (char)toupper((unsigned char)buf[k]);
		send_all(fd, buf, (size_t)n);
	}
	fclose(in);
}

static void drain(int fd)
{
	char buf[65536];
	struct pollfd p = { .fd = fd, .events = POLLIN };

	while (poll(&p, 1, 10000) > 0 && recv(fd, buf, sizeof(buf), 0) > 0)
		;
}

static void serve(int fd)
{
	static char head[MAX_HEAD + 1];
	char method[16], path[4096], value[8192], *end = NULL;
	const char *act;
	size_t len = 0, blen = 0;
	long long clen = -1;
	FILE *f;

	/* The head: up to the empty line. */
	while (!end) {
		ssize_t n;

		if (len == MAX_HEAD)
			return;
		n = recv(fd, head + len, MAX_HEAD - len, 0);
		if (n <= 0)
			return;
		len += (size_t)n;
		head[len] = '\0';
		end = strstr(head, "\r\n\r\n");
	}
	end += 4;
	blen = len - (size_t)(end - head);
	if (sscanf(head, "%15s %4095s HTTP/1.1\r\n", method, path) != 2) {
		answer(fd, 400, "{\"error\":\"bad request line\"}", 0);
		return;
	}
	f = log_open("requests", "a");
	fprintf(f, "%s %s\n", method, path);
	fclose(f);
	f = log_open("last.head", "w");
	fwrite(head, 1, (size_t)(end - head), f);
	fclose(f);
	if (header(head, "Content-Length", value, sizeof(value)))
		clen = atoll(value);

	act = route(method, path);
	if (act && !strncmp(act, "early ", 6)) {
		answer(fd, atoi(act + 6), strchr(act + 6, ' ') ? strchr(act + 6, ' ') + 1 : "", 0);
		shutdown(fd, SHUT_WR);
		drain(fd);
		return;
	}

	/* The body: Content-Length bytes, streamed to last.body. */
	f = log_open("last.body", "w");
	fwrite(end, 1, blen, f);
	while (clen >= 0 && (long long)blen < clen) {
		char buf[65536];
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n <= 0)
			break;
		fwrite(buf, 1, (size_t)n, f);
		blen += (size_t)n;
	}
	fclose(f);

	snprintf(value, sizeof(value), "Bearer %s", token);
	char auth[1024];

	if (!header(head, "Authorization", auth, sizeof(auth)) || strcmp(auth, value)) {
		answer(fd, 401, "{\"error\":\"missing or wrong token\"}", 0);
		return;
	}
	if (!header(head, "Host", value, sizeof(value))) {
		answer(fd, 400, "{\"error\":\"no Host header\"}", 0);
		return;
	}
	if ((!strcmp(method, "POST") || !strcmp(method, "PUT")) && clen < 0) {
		answer(fd, 400, "{\"error\":\"no Content-Length\"}", 0);
		return;
	}
	if (!act) {
		snprintf(value, sizeof(value), "{\"error\":\"no route for %s %s\"}", method, path);
		answer(fd, 404, value, 0);
	} else if (!strcmp(act, "console")) {
		char up[64], conn[64];

		if (header(head, "Upgrade", up, sizeof(up)) && !strcmp(up, "utsuwa-console") &&
		    header(head, "Connection", conn, sizeof(conn)) && !strcasecmp(conn, "Upgrade"))
			console(fd, path);
		else
			answer(fd, 400, "{\"error\":\"console needs Upgrade: utsuwa-console\"}", 0);
	} else if (!strcmp(act, "hang")) {
		drain(fd);
	} else if (!strcmp(act, "garbage")) {
		send_all(fd, "SSH-2.0-what\r\n\r\n", 16);
	} else if (!strncmp(act, "chunked ", 8)) {
		answer(fd, atoi(act + 8), strchr(act + 8, ' ') ? strchr(act + 8, ' ') + 1 : "", 1);
	} else {
		answer(fd, atoi(act), strchr(act, ' ') ? strchr(act, ' ') + 1 : "", 0);
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t slen = sizeof(sa);
	const char *portfile = NULL;
	int opt, ls, one = 1;
	FILE *f;

	while ((opt = getopt(argc, argv, "t:r:d:p:")) != -1) {
		switch (opt) {
		case 't': token = optarg; break;
		case 'r': routes_path = optarg; break;
		case 'd': logdir = optarg; break;
		case 'p': portfile = optarg; break;
		default: return 2;
		}
	}
	if (!token || !routes_path || !logdir || !portfile) {
		fprintf(stderr, "usage: fake-server -t TOKEN -r ROUTES -d LOGDIR -p PORTFILE\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	ls = socket(AF_INET, SOCK_STREAM, 0);
	if (ls < 0)
		die("socket");
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ls, 8) < 0)
		die("bind");
	if (getsockname(ls, (struct sockaddr *)&sa, &slen) < 0)
		die("getsockname");
	f = fopen(portfile, "w");
	if (!f)
		die(portfile);
	fprintf(f, "%d\n", ntohs(sa.sin_port));
	fclose(f);
	for (;;) {
		int fd = accept(ls, NULL, NULL);
		struct timeval tv = { .tv_sec = 30 };

		if (fd < 0) {
			if (errno == EINTR)
				continue;
			die("accept");
		}
		/* A client that stops talking does not hold the server past this. */
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		serve(fd);
		close(fd);
	}
}
