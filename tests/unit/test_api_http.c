/*
 * The API's HTTP side (core/api_http.c) and its token (core/api_auth.c):
 * requests split at every byte, limits, malformed heads, slow clients,
 * pipelining, keep-alive, the upgrade to a console, the bearer token.
 */
#include "unit.h"
#include "api_client.h"
#include "core/api_auth.h"
#include "core/api_http.h"
#include "hv/image_store.h"
#include "hv/vm_lifecycle.h"

#define AUTH "Authorization: Bearer " TOKEN "\r\n"

static void setup(void)
{
	conn_close();
	fake_reset();
	fake_module("kernel", 4096);
	fake_vm("web", VM_RUNNING, 2, 64);
	now = 1000;
}

/* The same bytes split at every place give the same answers. */
TEST(split_at_every_byte)
{
	static const char reqs[] =
		"GET /vms/web HTTP/1.1\r\nHost: h\r\n" AUTH "Content-Length: 2\r\n\r\n{}"
		"\r\n" /* an empty line between requests is skipped */
		"GET /host HTTP/1.1\r\nHost: h\r\n" AUTH "\r\n"
		"POST /vms/web/stop HTTP/1.1\r\nhost: h\r\nauthorization: bearer " TOKEN "\r\n"
		"content-length: 16\r\n\r\n{\"timeout_s\":60}";
	size_t n = sizeof(reqs) - 1;
	char whole[sizeof(io.sent)];
	u32 whole_len;

	setup();
	conn_open();
	feed(reqs, n);
	CHECK(!io.closed);
	memcpy(whole, io.sent, io.len);
	whole_len = io.len;
	CHECK(status_at(whole) == 200);
	CHECK(strstr(io.sent, "HTTP/1.1 202 Accepted") != NULL);
	for (size_t cut = 0; cut <= n; cut++) {
		conn_close();
		conn_open();
		feed(reqs, cut);
		feed(reqs + cut, n - cut);
		CHECK_EQ(io.len, whole_len);
		CHECK(!memcmp(io.sent, whole, whole_len));
	}
	/* One byte at a time. */
	conn_close();
	conn_open();
	for (size_t i = 0; i < n; i++)
		feed(reqs + i, 1);
	CHECK_EQ(io.len, whole_len);
	CHECK(!memcmp(io.sent, whole, whole_len));
	conn_close();
}

/* A POST /vms cut anywhere creates the same VM. */
TEST(split_create)
{
	static const char req[] =
		"POST /vms HTTP/1.1\r\nHost: h\r\n" AUTH "Content-Length: 60\r\n\r\n"
		"{\"name\":\"new\",\"image\":\"kernel\",\"mem_mib\":32,\"cmdline\":\"a b\"}";
	size_t n = sizeof(req) - 1;

	for (size_t cut = 0; cut <= n; cut++) {
		setup();
		conn_open();
		feed(req, cut);
		feed(req + cut, n - cut);
		if (status_at(io.sent) != 201)
			fprintf(stderr, "cut %zu: %.*s\n", cut, (int)io.len, io.sent);
		CHECK_EQ(status_at(io.sent), 201);
		CHECK(!strcmp(fake.last_line, "vm=new,image=kernel,mem=32M,cpus=1,cmdline=\"a b\""));
	}
	conn_close();
}

struct bad {
	const char *req;
	int status;
};

/* Malformed heads: a 4xx or 5xx with the reason, and the connection closes. */
TEST(malformed)
{
	static const struct bad bad[] = {
		{ "GET  /host HTTP/1.1\r\nHost: h\r\n\r\n", 400 },
		{ "GET /host  HTTP/1.1\r\nHost: h\r\n\r\n", 400 },
		{ "GET /host\r\nHost: h\r\n\r\n", 400 },
		{ "GET /host HTTP/1.1 x\r\nHost: h\r\n\r\n", 400 },
		{ "GET /host HTTP/2.0\r\nHost: h\r\n\r\n", 505 },
		{ "GET /host HTTP/1.2\r\nHost: h\r\n\r\n", 505 },
		{ "GET /host HTTQ/1.1\r\nHost: h\r\n\r\n", 400 },
		{ "BREW /host HTTP/1.1\r\nHost: h\r\n\r\n", 501 },
		{ "get /host HTTP/1.1\r\nHost: h\r\n\r\n", 501 },
		{ "G(T /host HTTP/1.1\r\nHost: h\r\n\r\n", 400 },
		{ "GET host HTTP/1.1\r\nHost: h\r\n\r\n", 400 },
		{ "GET * HTTP/1.1\r\nHost: h\r\n\r\n", 400 },
		{ "GET /host?x=1 HTTP/1.1\r\nHost: h\r\n\r\n", 400 },
		{ "GET /ho%73t HTTP/1.1\r\nHost: h\r\n\r\n", 400 },
		{ "GET /h\x01st HTTP/1.1\r\nHost: h\r\n\r\n", 400 },
		{ "GET /host HTTP/1.1\r\nHost h\r\n\r\n", 400 },
		{ "GET /host HTTP/1.1\r\nHost : h\r\n\r\n", 400 },
		{ "GET /host HTTP/1.1\r\n: h\r\n\r\n", 400 },
		{ "GET /host HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n", 400 },
		{ "GET /host HTTP/1.1\r\nHost: h\rx\r\n\r\n", 400 },
		{ "GET /host HTTP/1.1\r\nHost: h\x01\r\n\r\n", 400 },
		{ "GET /host HTTP/1.1\r\n\r\n", 400 }, /* 1.1 needs Host */
		{ "GET /host HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400 },
		{ "POST /vms HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", 400 },
		{ "POST /vms HTTP/1.1\r\nHost: h\r\nContent-Length: 1, 1\r\n\r\n", 400 },
		{ "POST /vms HTTP/1.1\r\nHost: h\r\nContent-Length: 0x10\r\n\r\n", 400 },
		{ "POST /vms HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n", 400 },
		{ "POST /vms HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999\r\n\r\n", 400 },
		{ "POST /vms HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
		  400 },
		{ "POST /vms HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", 501 },
		{ "POST /vms HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
		  "Content-Length: 3\r\n\r\n", 400 },
		{ "GET /host HTTP/1.1\r\nHost: h\r\nExpect: 200-ok\r\n\r\n", 417 },
		{ "GET /host HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer a\r\n"
		  "Authorization: Bearer b\r\n\r\n", 400 },
	};

	setup();
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		conn_close();
		conn_open();
		feed_str(bad[i].req);
		if (status_at(io.sent) != bad[i].status || !io.closed)
			fprintf(stderr, "%u: %s -> %.*s\n", i, bad[i].req, (int)io.len, io.sent);
		CHECK_EQ(status_at(io.sent), bad[i].status);
		CHECK(io.closed);
		CHECK(strstr(body(), "{\"error\":\"") == body());
	}
	{ /* a NUL in a header */
		static const char r[] = "GET /host HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n";

		conn_close();
		conn_open();
		feed(r, sizeof(r) - 1);
		CHECK_EQ(status_at(io.sent), 400);
		CHECK(io.closed);
	}
	/* Nothing was done by any of them. */
	CHECK_EQ(fake.create, 0);
	conn_close();
}

/* HTTP/1.0 needs no Host; it closes unless asked to keep alive. */
TEST(http10)
{
	setup();
	conn_open();
	feed_str("GET /host HTTP/1.0\r\n" AUTH "\r\n");
	CHECK_EQ(status_at(io.sent), 200);
	CHECK(sent_has("Connection: close\r\n"));
	CHECK(io.closed);
	conn_close();
	conn_open();
	feed_str("GET /host HTTP/1.0\r\nConnection: keep-alive\r\n" AUTH "\r\n");
	CHECK_EQ(status_at(io.sent), 200);
	CHECK(!io.closed);
	conn_close();
}

TEST(keep_alive_and_close)
{
	setup();
	conn_open();
	feed_str("GET /host HTTP/1.1\r\nHost: h\r\n" AUTH "\r\n");
	CHECK(sent_has("Connection: keep-alive\r\n"));
	CHECK(!io.closed);
	io.len = 0;
	feed_str("GET /vms HTTP/1.1\r\nHost: h\r\n" AUTH "Connection: foo, Close\r\n\r\n");
	CHECK_EQ(status_at(io.sent), 200);
	CHECK(sent_has("Connection: close\r\n"));
	CHECK(io.closed);
	/* Bytes after the close are not read. */
	io.len = 0;
	feed_str("GET /host HTTP/1.1\r\nHost: h\r\n" AUTH "\r\n");
	CHECK_EQ(io.len, 0);
	conn_close();
}

TEST(limits)
{
	char big[API_HEAD_MAX + 100];
	int n;

	setup();
	/* A head longer than API_HEAD_MAX. */
	conn_open();
	n = snprintf(big, sizeof(big), "GET /host HTTP/1.1\r\nHost: h\r\nX: ");
	memset(big + n, 'a', sizeof(big) - (size_t)n);
	feed(big, sizeof(big));
	CHECK_EQ(status_at(io.sent), 431);
	CHECK(io.closed);
	/* The target. */
	conn_close();
	conn_open();
	n = snprintf(big, sizeof(big), "GET /");
	memset(big + n, 'a', 300);
	n += 300;
	n += snprintf(big + n, sizeof(big) - (size_t)n, " HTTP/1.1\r\nHost: h\r\n\r\n");
	feed(big, (size_t)n);
	CHECK_EQ(status_at(io.sent), 414);
	/* Headers. */
	conn_close();
	conn_open();
	n = snprintf(big, sizeof(big), "GET /host HTTP/1.1\r\n");
	for (int i = 0; i < 33; i++)
		n += snprintf(big + n, sizeof(big) - (size_t)n, "X-%d: y\r\n", i);
	n += snprintf(big + n, sizeof(big) - (size_t)n, "\r\n");
	feed(big, (size_t)n);
	CHECK_EQ(status_at(io.sent), 431);
	/* A JSON body larger than API_JSON_MAX: refused before it is read. */
	conn_close();
	conn_open();
	feed_str("POST /vms HTTP/1.1\r\nHost: h\r\n" AUTH "Content-Length: 8193\r\n\r\n{");
	CHECK_EQ(status_at(io.sent), 413);
	CHECK(io.closed);
	/* An upload larger than api_image_max. */
	conn_close();
	conn_open();
	image_store_set_max(1000);
	feed_str("PUT /images/big HTTP/1.1\r\nHost: h\r\n" AUTH "Content-Length: 1001\r\n\r\n");
	CHECK_EQ(status_at(io.sent), 413);
	CHECK(io.closed);
	CHECK(strstr(body(), "more than the limit, 1000 (api_image_max=)") != NULL);
	CHECK_EQ(fake_pages_live, 0);
	image_store_set_max(IMAGE_MAX_DEFAULT);
	/* An upload needs a length. */
	conn_close();
	conn_open();
	feed_str("PUT /images/big HTTP/1.1\r\nHost: h\r\n" AUTH "\r\n");
	CHECK_EQ(status_at(io.sent), 411);
	/* Connections. */
	conn_close();
	{
		struct api_conn *c[API_MAX_CONNS];

		for (unsigned i = 0; i < API_MAX_CONNS; i++)
			CHECK((c[i] = api_conn_new(&fake_api_io, &io, now)) != NULL);
		CHECK(api_conn_new(&fake_api_io, &io, now) == NULL);
		for (unsigned i = 0; i < API_MAX_CONNS; i++)
			api_conn_free(c[i]);
	}
}

/* A head or body that comes too slowly: 408 and closed. */
TEST(timeouts)
{
	setup();
	conn_open();
	feed_str("GET /host HTTP/1.1\r\nHost: h\r\n");
	now += API_REQUEST_MS;
	api_conn_poll(conn, now);
	CHECK_EQ(io.len, 0);
	now += 1;
	api_conn_poll(conn, now);
	CHECK_EQ(status_at(io.sent), 408);
	CHECK(io.closed);

	/* A body one byte a second. */
	conn_close();
	conn_open();
	feed_str("POST /vms HTTP/1.1\r\nHost: h\r\n" AUTH "Content-Length: 100\r\n\r\n");
	for (int i = 0; i < 20 && !io.closed; i++) {
		now += 1000;
		feed_str("{");
		api_conn_poll(conn, now);
	}
	CHECK_EQ(status_at(io.sent), 408);
	CHECK(io.closed);
	CHECK_EQ(fake.create, 0);

	/* An upload gets API_UPLOAD_RATE on top: 1 MiB, 4 s more. */
	conn_close();
	conn_open();
	feed_str("PUT /images/slow HTTP/1.1\r\nHost: h\r\n" AUTH "Content-Length: 1048576\r\n\r\n");
	now += API_REQUEST_MS + 4000;
	api_conn_poll(conn, now);
	CHECK_EQ(io.len, 0);
	now += 1;
	api_conn_poll(conn, now);
	CHECK_EQ(status_at(io.sent), 408);
	CHECK(io.closed);
	CHECK_EQ(fake_pages_live, 0); /* the upload's memory is back */

	/* Idle: closed without a word. */
	conn_close();
	conn_open();
	feed_str("GET /host HTTP/1.1\r\nHost: h\r\n" AUTH "\r\n");
	io.len = 0;
	now += API_IDLE_MS;
	api_conn_poll(conn, now);
	CHECK(!io.closed);
	now += 1;
	api_conn_poll(conn, now);
	CHECK(io.closed);
	CHECK_EQ(io.len, 0);

	/* A request refused before it ran (401, 404) ends like one that ran:
	 * the next one, coming later in pieces on the same connection, has
	 * its own API_REQUEST_MS (found by tests/api-storm/storm.c). */
	static const char *const refused[] = {
		"GET /host HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET /nope HTTP/1.1\r\nHost: h\r\n" AUTH "\r\n",
		"DELETE /host HTTP/1.1\r\nHost: h\r\n" AUTH "\r\n",
	};
	for (unsigned i = 0; i < ARRAY_SIZE(refused); i++) {
		conn_close();
		conn_open();
		feed_str(refused[i]);
		CHECK(status_at(io.sent) == 401 || status_at(io.sent) == 404 ||
		      status_at(io.sent) == 405);
		CHECK(!io.closed);
		io.len = 0;
		now += API_REQUEST_MS + 1000;
		feed_str("GET /host HTTP/1.1\r\n");
		api_conn_poll(conn, now);
		CHECK_EQ(io.len, 0);
		now += 500;
		feed_str("Host: h\r\n" AUTH "\r\n");
		CHECK_EQ(status_at(io.sent), 200);
		CHECK(!io.closed);
	}

	/* A peer that reads nothing. */
	conn_close();
	conn_open();
	io.full = true;
	feed_str("GET /host HTTP/1.1\r\nHost: h\r\n" AUTH "\r\n");
	now += API_STALL_MS + 1;
	api_conn_poll(conn, now);
	CHECK(io.closed);
	conn_close();
}

TEST(pipelining)
{
	static const char two[] = "GET /vms HTTP/1.1\r\nHost: h\r\n" AUTH "\r\n"
				  "GET /host HTTP/1.1\r\nHost: h\r\n" AUTH "\r\n";

	setup();
	conn_open();
	feed_str(two);
	CHECK_EQ(status_at(io.sent), 200);
	CHECK(sent_has("[{\"name\":\"web\""));
	CHECK(sent_has("\"backend\":\"svm\""));
	/* The second waits while the first's answer is not taken. */
	conn_close();
	conn_open();
	io.full = true;
	feed_str(two);
	CHECK_EQ(io.len, 0);
	io.full = false;
	io.window = 7; /* a few bytes a call */
	api_conn_sent(conn, 0, now);
	CHECK(sent_has("[{\"name\":\"web\""));
	CHECK(sent_has("\"backend\":\"svm\""));
	CHECK(!io.closed);
	/* A peer that sends far ahead of what it reads is dropped. */
	conn_close();
	conn_open();
	io.full = true;
	for (int i = 0; i < 200 && !io.closed; i++)
		feed_str(two);
	CHECK(io.closed);
	conn_close();
}

TEST(expect_continue)
{
	setup();
	conn_open();
	feed_str("PUT /images/k2 HTTP/1.1\r\nHost: h\r\n" AUTH
		 "Expect: 100-continue\r\nContent-Length: 5\r\n\r\n");
	CHECK(!strcmp(io.sent, "HTTP/1.1 100 Continue\r\n\r\n"));
	feed_str("hello");
	CHECK(sent_has("HTTP/1.1 201 Created\r\n"));
	CHECK(image_find(NULL, "k2") != NULL);
	/* Refused before the body: no 100, closed. */
	conn_close();
	conn_open();
	feed_str("PUT /images/k2 HTTP/1.1\r\nHost: h\r\n" AUTH
		 "Expect: 100-continue\r\nContent-Length: 5\r\n\r\n");
	CHECK_EQ(status_at(io.sent), 409);
	CHECK(io.closed);
	CHECK_EQ(image_store_delete("k2", (char[80]){ 0 }, 80), 0);
	conn_close();
}

/* The token: no header, another scheme, a wrong one, one byte short or
 * long: 401, counted, logged once a second, never shown. */
TEST(token)
{
	static const char *const wrong[] = {
		"",
		"Authorization: Basic dXNlcjpwYXNz\r\n",
		"Authorization: Bearer\r\n",
		"Authorization: Bearer \r\n",
		"Authorization: Bearer test-token-0123456789abcde\r\n",
		"Authorization: Bearer test-token-0123456789abcdeff\r\n",
		"Authorization: Bearer Test-token-0123456789abcdef\r\n",
		"Authorization: Bearer  test-token-0123456789abcdef\r\n",
		"Authorization: Bearertest-token-0123456789abcdef\r\n",
	};
	u64 before = api_auth_refusals();
	char req[512];

	setup();
	for (unsigned i = 0; i < ARRAY_SIZE(wrong); i++) {
		conn_close();
		conn_open();
		snprintf(req, sizeof(req), "POST /vms/web/pause HTTP/1.1\r\nHost: h\r\n%s\r\n",
			 wrong[i]);
		feed_str(req);
		CHECK_EQ(status_at(io.sent), 401);
		CHECK(sent_has("WWW-Authenticate: Bearer realm=\"utsuwa\"\r\n"));
		CHECK(!io.closed); /* no body: the connection can go on */
	}
	CHECK_EQ(fake.pause, 0);
	CHECK_EQ(api_auth_refusals(), before + ARRAY_SIZE(wrong));
	/* One line in that second; the next second's says how many were not. */
	CHECK(strstr(fake_log, "api: 401:") != NULL);
	CHECK(strstr(strstr(fake_log, "api: 401:") + 1, "api: 401:") == NULL);
	now += 1000;
	conn_close();
	conn_open();
	feed_str("GET /host HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer guess-0123456789abcdef\r\n\r\n");
	CHECK(strstr(fake_log, "(8 more refused in the last 1000 ms, not logged; ") != NULL);
	CHECK(!strstr(fake_log, "guess") && !strstr(fake_log, TOKEN) && !strstr(fake_log, "dXNl"));
	/* Upper or lower case scheme; the token itself is exact. */
	conn_close();
	conn_open();
	feed_str("GET /host HTTP/1.1\r\nHost: h\r\nAuthorization: bEaReR " TOKEN "\r\n\r\n");
	CHECK_EQ(status_at(io.sent), 200);
	/* With a body, a 401 closes: the body is not read. */
	conn_close();
	conn_open();
	feed_str("PUT /images/x HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\n");
	CHECK_EQ(status_at(io.sent), 401);
	CHECK(io.closed);
	CHECK_EQ(fake_pages_live, 0);
	conn_close();
}

TEST(token_check)
{
	char t[70];

	api_set_token("abcdefghijklmnop");
	CHECK(api_auth_check("Bearer abcdefghijklmnop", 23));
	CHECK(!api_auth_check("Bearer abcdefghijklmno", 22));
	CHECK(!api_auth_check("Bearer abcdefghijklmnopq", 24));
	CHECK(!api_auth_check("Bearer abcdefghijklmnoP", 23));
	CHECK(!api_auth_check("Bearer ", 7));
	CHECK(!api_auth_check("", 0));
	memset(t, 'a', sizeof(t));
	memcpy(t, "Bearer ", 7);
	CHECK(!api_auth_check(t, sizeof(t))); /* longer than any token */
	api_set_token("");
	CHECK(!api_auth_check("Bearer ", 7)); /* no token set: nothing passes */
	{
		u64 seed[2] = { 0x0123456789abcdefULL, 0xfedcba9876543210ULL };
		char made[API_TOKEN_MADE_LEN + 1];

		api_token_make(seed, made);
		CHECK(!strcmp(made, "fedcba98765432100123456789abcdef"));
	}
	api_set_token(TOKEN);
}

TEST(console_upgrade)
{
	struct vm *vm;

	setup();
	vm = vm_find("web");
	fake_console_output(vm, "boot\nutsuwa:/# ");
	/* Without the upgrade headers: 426. */
	CHECK_EQ(request("GET", "/vms/web/console", NULL), 426);
	conn_close();
	conn_open();
	feed_str("GET /vms/web/console HTTP/1.1\r\nHost: h\r\n" AUTH
		 "Connection: Upgrade\r\nUpgrade: utsuwa-console\r\n\r\nls\r");
	CHECK(!strcmp(io.sent, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
			       "Upgrade: utsuwa-console\r\n\r\n"));
	CHECK_EQ(fake.console_in_len, 3); /* what came behind the head */
	CHECK(!memcmp(fake.console_in_buf, "ls\r", 3));
	io.len = 0;
	api_conn_poll(conn, now);
	CHECK_EQ(io.len, 10); /* the line it is on */
	CHECK(!memcmp(io.sent, "utsuwa:/# ", 10));
	fake_console_output(vm, "ls\r\nbin\r\n");
	api_conn_poll(conn, now);
	CHECK(sent_has("ls\r\nbin\r\n"));
	feed_str("GET /host HTTP/1.1\r\n"); /* raw bytes now, not a request */
	CHECK_EQ(fake.console_in_len, 23);
	now += API_IDLE_MS * 2;
	api_conn_poll(conn, now);
	CHECK(!io.closed); /* a console is not idle */
	/* The VM goes: so does the connection. */
	vm->state = VM_ENDED;
	api_conn_poll(conn, now);
	CHECK(io.closed);
	conn_close();
}

int main(void)
{
	api_set_token(TOKEN);
	RUN(split_at_every_byte);
	RUN(split_create);
	RUN(malformed);
	RUN(http10);
	RUN(keep_alive_and_close);
	RUN(limits);
	RUN(timeouts);
	RUN(pipelining);
	RUN(expect_continue);
	RUN(token);
	RUN(token_check);
	RUN(console_upgrade);
	fake_reset();
	return unit_done();
}
