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
#include "storm.h"

/* ---- the figures, shared by the threads ---- */

pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
unsigned long status_count[600];
unsigned long by_class[6];
unsigned long n_401_expected, n_401_got;
unsigned long n_non_http, n_hang, n_accepted, n_mismatch, n_close_mismatch;
unsigned long n_reset_ok, n_reset_bad, n_abandoned, n_refused, n_connect_fail;
static unsigned long n_check_ok, n_check_fail, n_canary_missing;
unsigned long n_requests_done;
static int reported;

atomic_ulong next_index;
unsigned long n_total = 10000;
unsigned long long seed;
int port;
char token[128];
const char *canary = "cnt";
static int verbose_errors = 12;

void report(const char *fmt, ...)
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

uint64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

void sleep_ms(unsigned ms)
{
	struct timespec t = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&t, NULL);
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
