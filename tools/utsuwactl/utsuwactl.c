/*
 * utsuwactl: utsuwa's management API from the command line (docs/utsuwactl.md,
 * the API in docs/api.md). One command, one HTTP request, one connection;
 * tables for people, the API's JSON as it is with --json.
 *
 *   utsuwactl [--host H:P] [--token-file F] [--json] [--timeout S] COMMAND [ARGS]
 */
#include "console.h"
#include "http.h"
#include "json.h"
#include "hv/cpu_features.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Exit statuses (docs/utsuwactl.md, EXIT STATUS). */
enum {
	EXIT_OK = 0,
	EXIT_REFUSED = 1,      /* the API said no: a 4xx, its error printed */
	EXIT_USAGE = 2,        /* bad arguments, no token, a file that cannot be read */
	EXIT_TRANSPORT = 3,    /* cannot connect, timed out, not an HTTP answer */
	EXIT_SERVER = 4,       /* a 5xx, or an answer utsuwactl cannot read */
	EXIT_IN_DOUBT = 5,     /* migrate: the VM went whole, unconfirmed; paused here */
};

#define DEFAULT_HOST "127.0.0.1:8080"
#define DEFAULT_TIMEOUT_S 60
#define MAX_TOKEN 512
#define MAX_SPEC (1u << 20)

struct ctl {
	const char *migrate_to;     /* migrate --to HOST:PORT */
	long damage_frame;          /* migrate --damage-frame N: a test aid (docs/migration.md) */
	bool wrong_key;             /* migrate --wrong-key: a test aid too */
	const char *host;
	const char *token_file;
	bool json;
	int timeout_ms;
	char token[MAX_TOKEN];
};

struct command {
	const char *name;
	int nargs;
	const char *args;
	int (*run)(struct ctl *ctl, const struct command *cmd, char **argv);
};

static const char *prog_cmd = "";          /* the command, for messages */

static void usage(FILE *out);

/* The entries of a NULL-terminated argv. */
static size_t argc_of(char **argv)
{
	size_t n = 0;

	while (argv[n])
		n++;
	return n;
}

/* A problem found before sending anything: reported, and status 2. */
__attribute__((format(printf, 1, 2)))
static int local_error(const char *fmt, ...)
{
	va_list ap;

	fputs("utsuwactl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_USAGE;
}

/* ---- the token ---- */

/* The first line of path, trailing blanks dropped; 0, or -1 with errno. */
static int read_token_file(const char *path, char *tok, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -1;
	if (!fgets(tok, (int)size, f))
		tok[0] = '\0';
	n = strcspn(tok, "\r\n");
	/* A line that filled the buffer without ending: longer than any token. */
	if (n == size - 1 && fgetc(f) != EOF) {
		fclose(f);
		errno = E2BIG;
		return -1;
	}
	fclose(f);
	while (n && (tok[n - 1] == ' ' || tok[n - 1] == '\t'))
		n--;
	tok[n] = '\0';
	return 0;
}

/* --token-file, then $UTSUWA_TOKEN, then ~/.utsuwa-token; checked before connecting. */
static int find_token(struct ctl *ctl)
{
	const char *env = getenv("UTSUWA_TOKEN"), *home = getenv("HOME");
	char path[4096];

	if (ctl->token_file) {
		if (read_token_file(ctl->token_file, ctl->token, sizeof(ctl->token)) < 0)
			return local_error("cannot read the token file %s: %s", ctl->token_file,
					   errno == E2BIG ? "its first line is too long for a token"
							  : strerror(errno));
	} else if (env && *env) {
		if (strlen(env) >= sizeof(ctl->token))
			return local_error("UTSUWA_TOKEN is longer than %zu bytes", sizeof(ctl->token) - 1);
		snprintf(ctl->token, sizeof(ctl->token), "%s", env);
	} else if (home && snprintf(path, sizeof(path), "%s/.utsuwa-token", home) < (int)sizeof(path) &&
		   read_token_file(path, ctl->token, sizeof(ctl->token)) == 0) {
		/* found */
	} else {
		return local_error("no token: give --token-file FILE, set UTSUWA_TOKEN "
				   "or write it to ~/.utsuwa-token");
	}
	if (!ctl->token[0])
		return local_error("the token is empty");
	/* It goes into a header line: printable ASCII, no blanks. */
	for (const char *s = ctl->token; *s; s++)
		if (*s < 0x21 || *s > 0x7e)
			return local_error("the token has a character that cannot be sent");
	return 0;
}

/* ---- one call ---- */

static void print_api_error(const struct http_response *resp)
{
	struct json j;
	char *msg = NULL;

	if (resp->body && json_parse(&j, resp->body, resp->body_len) == 0) {
		int e = json_get(&j, 0, "error");

		if (e >= 0)
			msg = json_text(&j, e);
		json_free(&j);
	}
	if (!msg && resp->body && resp->body_len) {
		/* Not the API's error object: the body as it is, safe for a terminal. */
		msg = strndup(resp->body, 200);
		for (char *p = msg; p && *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = ' ';
	}
	fprintf(stderr, "utsuwactl: %s: %s (HTTP %d%s%s)\n", prog_cmd,
		msg ? msg : resp->reason[0] ? resp->reason : "no reason given", resp->status,
		resp->reason[0] ? " " : "", resp->reason);
	free(msg);
}

/*
 * Sends req and reads the answer into resp. Returns EXIT_OK for the status
 * expected (a 2xx, or 101 for the console), else reports and returns the
 * exit status. c is left open (the console goes on with it).
 */
static int call(struct ctl *ctl, struct http_conn *c, struct http_request *req,
		struct http_response *resp)
{
	bool write_failed;

	memset(resp, 0, sizeof(*resp));
	req->host = ctl->host;
	req->token = ctl->token;
	if (http_connect(c, ctl->host, ctl->timeout_ms) < 0) {
		fprintf(stderr, "utsuwactl: %s\n", http_error());
		return EXIT_TRANSPORT;
	}
	if (http_send(c, req, &write_failed) < 0) {
		fprintf(stderr, "utsuwactl: %s: %s\n", prog_cmd, http_error());
		http_close(c);
		return EXIT_TRANSPORT;
	}
	/* A server that stopped reading the body may have answered why. */
	if (http_recv(c, resp) < 0) {
		fprintf(stderr, "utsuwactl: %s: %s%s\n", prog_cmd, http_error(),
			write_failed ? " (it stopped reading the request)" : "");
		http_close(c);
		return EXIT_TRANSPORT;
	}
	if (req->upgrade_console ? resp->status == 101 : resp->status / 100 == 2)
		return EXIT_OK;
	http_close(c);
	if (resp->status / 100 == 4) {
		print_api_error(resp);
		return EXIT_REFUSED;
	}
	if (resp->status / 100 == 5) {
		print_api_error(resp);
		return EXIT_SERVER;
	}
	fprintf(stderr, "utsuwactl: %s: an unexpected answer: HTTP %d %s\n", prog_cmd,
		resp->status, resp->reason);
	return EXIT_SERVER;
}

/* How a successful answer is shown to people. */
enum show_as { SHOW_FIELDS, SHOW_STATE, SHOW_IMAGE, SHOW_SNAPSHOT, SHOW_VMS, SHOW_IMAGES,
	       SHOW_SNAPSHOTS, SHOW_NOTHING };

static const struct json_column vm_columns[] = {
	{ "name", "NAME", false },
	{ "state", "STATE", false },
	{ "vcpus", "VCPUS", true },
	{ "mem_mib", "MEM_MIB", true },
};
static const struct json_column image_columns[] = {
	{ "name", "NAME", false },
	{ "bytes", "BYTES", true },
};
static const struct json_column snapshot_columns[] = {
	{ "id", "ID", true },
	{ "vm", "VM", false },
	{ "bytes", "BYTES", true },
};

/* Prints "<a><sep><b>" from two fields of object 0. */
static void print_pair(struct json *j, const char *ka, const char *sep, const char *kb,
		       const char *suffix)
{
	char *a = json_text(j, json_get(j, 0, ka)), *b = json_text(j, json_get(j, 0, kb));

	printf("%s%s%s%s\n", a ? a : "?", sep, b ? b : "?", suffix);
	free(a);
	free(b);
}

static int show(struct ctl *ctl, const struct http_response *resp, enum show_as how,
		const char *name)
{
	struct json j;
	int rc = EXIT_OK;

	if (ctl->json) {
		if (resp->body_len) {
			fwrite(resp->body, 1, resp->body_len, stdout);
			if (resp->body[resp->body_len - 1] != '\n')
				putchar('\n');
		}
		return EXIT_OK;
	}
	if (how == SHOW_NOTHING) {
		printf("%s: deleted\n", name);
		return EXIT_OK;
	}
	if (!resp->body || json_parse(&j, resp->body, resp->body_len) < 0) {
		fprintf(stderr, "utsuwactl: %s: the answer is not JSON:\n", prog_cmd);
		if (resp->body)
			fwrite(resp->body, 1, resp->body_len, stderr);
		fputc('\n', stderr);
		return EXIT_SERVER;
	}
	switch (how) {
	case SHOW_FIELDS:
		json_print_fields(&j, 0, stdout);
		break;
	case SHOW_STATE:
		/* 202: accepted, not done (stop: the power button is pressed and
		 * the guest decides; the state is the one before). */
		print_pair(&j, "name", ": ", "state",
			   resp->status == 202 ? " (accepted; the VM has not stopped yet)" : "");
		break;
	case SHOW_IMAGE:
		print_pair(&j, "name", ": ", "bytes", " bytes");
		break;
	case SHOW_SNAPSHOT:
		{
			char *id = json_text(&j, json_get(&j, 0, "id"));

			printf("%s: snapshot %s\n", name, id ? id : "?");
			free(id);
		}
		break;
	case SHOW_VMS:
	case SHOW_IMAGES:
	case SHOW_SNAPSHOTS:
		if (how == SHOW_VMS)
			rc = json_print_table(&j, 0, vm_columns, 4, stdout);
		else if (how == SHOW_IMAGES)
			rc = json_print_table(&j, 0, image_columns, 2, stdout);
		else
			rc = json_print_table(&j, 0, snapshot_columns, 3, stdout);
		if (rc < 0) {
			fprintf(stderr, "utsuwactl: %s: the answer is not a list\n", prog_cmd);
			rc = EXIT_SERVER;
		}
		break;
	case SHOW_NOTHING:
		break;
	}
	json_free(&j);
	return rc;
}

/* A request without a body, shown as how. */
static int simple(struct ctl *ctl, const char *method, const char *path, enum show_as how,
		  const char *name)
{
	struct http_request req = { .method = method, .path = path, .body_fd = -1 };
	struct http_response resp;
	struct http_conn c;
	int rc = call(ctl, &c, &req, &resp);

	if (rc == EXIT_OK) {
		http_close(&c);
		rc = show(ctl, &resp, how, name);
	}
	http_response_free(&resp);
	return rc;
}

/* "/vms/" + NAME (percent-encoded) + suffix. */
static int make_path(char *path, size_t size, const char *prefix, const char *name,
		     const char *suffix)
{
	snprintf(path, size, "%s", prefix);
	if (path_append_name(path, size, name) < 0 || strlen(path) + strlen(suffix) >= size)
		return local_error("the name is too long: %s", name);
	strcat(path, suffix);
	return 0;
}

/* ---- the commands ---- */

static int cmd_host(struct ctl *ctl, const struct command *cmd, char **argv)
{
	return simple(ctl, "GET", "/host", SHOW_FIELDS, NULL);
}

static int cmd_list(struct ctl *ctl, const struct command *cmd, char **argv)
{
	return simple(ctl, "GET", "/vms", SHOW_VMS, NULL);
}

static int cmd_images(struct ctl *ctl, const struct command *cmd, char **argv)
{
	return simple(ctl, "GET", "/images", SHOW_IMAGES, NULL);
}

static int cmd_snapshots(struct ctl *ctl, const struct command *cmd, char **argv)
{
	return simple(ctl, "GET", "/snapshots", SHOW_SNAPSHOTS, NULL);
}

/* A snapshot's number: decimal digits, from 1. */
static int snapshot_id(const char *s, unsigned long long *id)
{
	char *end;

	errno = 0;
	*id = strtoull(s, &end, 10);
	if (*s < '0' || *s > '9' || *end || errno || *id == 0)
		return local_error("%s: ID is a snapshot's number (from 1), not \"%s\"", prog_cmd, s);
	return 0;
}

static int cmd_rmsnapshot(struct ctl *ctl, const struct command *cmd, char **argv)
{
	unsigned long long id;
	char path[64], what[48];

	if (snapshot_id(argv[0], &id))
		return EXIT_USAGE;
	snprintf(path, sizeof(path), "/snapshots/%llu", id);
	snprintf(what, sizeof(what), "snapshot %llu", id);
	return simple(ctl, "DELETE", path, SHOW_NOTHING, what);
}

static int cmd_show(struct ctl *ctl, const struct command *cmd, char **argv)
{
	char path[1024];

	if (make_path(path, sizeof(path), "/vms/", argv[0], ""))
		return EXIT_USAGE;
	return simple(ctl, "GET", path, SHOW_FIELDS, argv[0]);
}

static int cmd_rmimage(struct ctl *ctl, const struct command *cmd, char **argv)
{
	char path[1024];

	if (make_path(path, sizeof(path), "/images/", argv[0], ""))
		return EXIT_USAGE;
	return simple(ctl, "DELETE", path, SHOW_NOTHING, argv[0]);
}

/* start, pause, resume, reset, stop, destroy, snapshot: POST /vms/NAME/<command>. */
static int cmd_vm_action(struct ctl *ctl, const struct command *cmd, char **argv)
{
	char path[1024], suffix[32];

	snprintf(suffix, sizeof(suffix), "/%s", cmd->name);
	if (make_path(path, sizeof(path), "/vms/", argv[0], suffix))
		return EXIT_USAGE;
	return simple(ctl, "POST", path,
		      strcmp(cmd->name, "snapshot") ? SHOW_STATE : SHOW_SNAPSHOT, argv[0]);
}

static int post_json(struct ctl *ctl, const char *path, const char *body, size_t len)
{
	struct http_request req = { .method = "POST", .path = path, .body = body, .body_len = len,
				    .body_fd = -1, .content_type = "application/json" };
	struct http_response resp;
	struct http_conn c;
	int rc = call(ctl, &c, &req, &resp);

	if (rc == EXIT_OK) {
		http_close(&c);
		rc = show(ctl, &resp, SHOW_STATE, NULL);
	}
	http_response_free(&resp);
	return rc;
}

/* The spec goes as it is: the API checks it and says what is wrong. */
static int cmd_create(struct ctl *ctl, const struct command *cmd, char **argv)
{
	FILE *f = fopen(argv[0], "rb");
	char *spec;
	size_t len;
	int rc;

	if (!f)
		return local_error("cannot read %s: %s", argv[0], strerror(errno));
	spec = malloc(MAX_SPEC + 1);
	len = spec ? fread(spec, 1, MAX_SPEC + 1, f) : 0;
	if (!spec || ferror(f) || len > MAX_SPEC) {
		fclose(f);
		free(spec);
		return local_error("cannot read %s: %s", argv[0],
				   len > MAX_SPEC ? "larger than 1 MiB" : strerror(errno));
	}
	fclose(f);
	rc = post_json(ctl, "/vms", spec, len);
	free(spec);
	return rc;
}

static int cmd_restore(struct ctl *ctl, const struct command *cmd, char **argv)
{
	char *body = NULL;
	size_t len = 0;
	unsigned long long id;
	FILE *m;
	int rc;

	if (snapshot_id(argv[0], &id))
		return EXIT_USAGE;
	m = open_memstream(&body, &len);
	if (!m)
		return local_error("out of memory");
	fprintf(m, "{\"snapshot\":%llu,\"name\":", id);
	json_put_string(m, argv[1]);
	fputc('}', m);
	fclose(m);
	rc = post_json(ctl, "/vms/restore", body, len);
	free(body);
	return rc;
}

/* The file is streamed: never in memory as a whole. */
static int cmd_upload(struct ctl *ctl, const struct command *cmd, char **argv)
{
	struct http_request req = { .method = "PUT", .content_type = "application/octet-stream" };
	struct http_response resp;
	struct http_conn c;
	struct stat st;
	char path[1024];
	int fd, rc;

	if (make_path(path, sizeof(path), "/images/", argv[0], ""))
		return EXIT_USAGE;
	fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return local_error("cannot read %s: %s", argv[1], strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return local_error("%s: %s", argv[1], "not a regular file (its size must be known)");
	}
	req.path = path;
	req.body_fd = fd;
	req.body_len = (size_t)st.st_size;
	rc = call(ctl, &c, &req, &resp);
	close(fd);
	if (rc == EXIT_OK) {
		http_close(&c);
		rc = show(ctl, &resp, SHOW_IMAGE, argv[0]);
	}
	http_response_free(&resp);
	return rc;
}

static int cmd_console(struct ctl *ctl, const struct command *cmd, char **argv)
{
	struct http_request req = { .method = "GET", .body_fd = -1, .upgrade_console = true };
	struct http_response resp;
	struct http_conn c;
	char path[1024];
	int rc;

	if (make_path(path, sizeof(path), "/vms/", argv[0], "/console"))
		return EXIT_USAGE;
	req.path = path;
	rc = call(ctl, &c, &req, &resp);
	http_response_free(&resp);
	if (rc != EXIT_OK)
		return rc;
	rc = console_relay(&c, argv[0]) < 0 ? EXIT_TRANSPORT : EXIT_OK;
	http_close(&c);
	return rc;
}

/* ---- live migration (docs/migration.md) ---- */

/* GET /vms/NAME/migrate: the migration's record, parsed; 0 or an exit status. */
static int migration_get(struct ctl *ctl, const char *path, struct json *j,
			 struct http_response *resp)
{
	struct http_request req = { .method = "GET", .path = path, .body_fd = -1 };
	struct http_conn c;
	int rc = call(ctl, &c, &req, resp);

	if (rc != EXIT_OK)
		return rc;
	http_close(&c);
	if (!resp->body || json_parse(j, resp->body, resp->body_len) < 0) {
		fprintf(stderr, "utsuwactl: %s: the answer is not JSON\n", prog_cmd);
		return EXIT_SERVER;
	}
	return EXIT_OK;
}

static char *field(struct json *j, const char *k)
{
	char *t = json_text(j, json_get(j, 0, k));

	return t ? t : strdup("?");
}

/* POST /vms/NAME/migrate {"to": ...}, then the record every half second
 * until it is done, failed, cancelled or in doubt. */
static int cmd_migrate(struct ctl *ctl, const struct command *cmd, char **argv)
{
	char path[1024], *body = NULL, *last = NULL;
	size_t len = 0;
	FILE *m;
	int rc;

	if (!ctl->migrate_to)
		return local_error("migrate: --to HOST:PORT is required");
	if (make_path(path, sizeof(path), "/vms/", argv[0], "/migrate"))
		return EXIT_USAGE;
	m = open_memstream(&body, &len);
	if (!m)
		return local_error("out of memory");
	fputs("{\"to\":", m);
	json_put_string(m, ctl->migrate_to);
	if (ctl->damage_frame)
		fprintf(m, ",\"damage_frame\":%ld", ctl->damage_frame);
	if (ctl->wrong_key)
		fputs(",\"wrong_key\":true", m);
	fputc('}', m);
	fclose(m);
	{
		struct http_request req = { .method = "POST", .path = path, .body = body,
					    .body_len = len, .body_fd = -1,
					    .content_type = "application/json" };
		struct http_response resp;
		struct http_conn c;

		rc = call(ctl, &c, &req, &resp);
		if (rc == EXIT_OK)
			http_close(&c);
		http_response_free(&resp);
	}
	free(body);
	if (rc != EXIT_OK)
		return rc;
	for (;;) {
		struct http_response resp;
		struct json j;
		char *state, *round;

		usleep(500 * 1000);
		rc = migration_get(ctl, path, &j, &resp);
		if (rc != EXIT_OK) {
			http_response_free(&resp);
			return rc;
		}
		state = field(&j, "state");
		round = field(&j, "rounds");
		if (!ctl->json && (!last || strcmp(last, state))) {
			printf("%s: %s\n", argv[0], state);
			fflush(stdout);
		}
		free(last);
		last = strdup(state);
		if (!strcmp(state, "done") || !strcmp(state, "failed") ||
		    !strcmp(state, "cancelled") || !strcmp(state, "in doubt")) {
			char *to = field(&j, "to"), *err = field(&j, "error");
			char *total = field(&j, "total_ms"), *down = field(&j, "downtime_ms");
			char *pages = field(&j, "pages_sent");

			if (ctl->json)
				fwrite(resp.body, 1, resp.body_len, stdout);
			else if (!strcmp(state, "done"))
				printf("%s: runs on %s now: %s ms in all, %s ms stopped, %s rounds, %s "
				       "pages\n", argv[0], to, total, down, round, pages);
			else if (!strcmp(state, "in doubt"))
				printf("%s: in doubt (%s): it may run on %s; it stays paused here: "
				       "resume it here only if it does not run there, else destroy "
				       "it\n", argv[0], err, to);
			else
				printf("%s: not migrated (%s); it runs here\n", argv[0], err);
			rc = !strcmp(state, "done") ? EXIT_OK :
			     !strcmp(state, "in doubt") ? EXIT_IN_DOUBT : EXIT_REFUSED;
			free(to), free(err), free(total), free(down), free(pages);
		}
		free(state);
		free(round);
		json_free(&j);
		http_response_free(&resp);
		if (rc != EXIT_OK || (last && !strcmp(last, "done")))
			break;
	}
	free(last);
	return rc;
}

static int cmd_migration(struct ctl *ctl, const struct command *cmd, char **argv)
{
	char path[1024];

	if (make_path(path, sizeof(path), "/vms/", argv[0], "/migrate"))
		return EXIT_USAGE;
	return simple(ctl, strcmp(cmd->name, "cancel") ? "GET" : "DELETE", path, SHOW_FIELDS,
		      argv[0]);
}

/* ---- CPU-feature pools (docs/migration.md) ---- */

static int cmd_pools(struct ctl *ctl, const struct command *cmd, char **argv)
{
	static const struct json_column cols[] = { { "name", "NAME", false },
						   { "features", "FEATURES", false } };
	struct http_request req = { .method = "GET", .path = "/pools", .body_fd = -1 };
	struct http_response resp;
	struct http_conn c;
	struct json j;
	int rc = call(ctl, &c, &req, &resp);

	if (rc == EXIT_OK) {
		http_close(&c);
		if (ctl->json || !resp.body || json_parse(&j, resp.body, resp.body_len) < 0) {
			rc = show(ctl, &resp, SHOW_FIELDS, NULL); /* --json, or says it is not JSON */
		} else {
			int arr = json_get(&j, 0, "pools");

			if (arr < 0 || json_print_table(&j, arr, cols, 2, stdout) < 0) {
				fprintf(stderr, "utsuwactl: pools: the answer has no list of pools\n");
				rc = EXIT_SERVER;
			}
			json_free(&j);
		}
	}
	http_response_free(&resp);
	return rc;
}

/* What a VM on host sees: GET /host's cpu_features. */
static int host_features(struct ctl *ctl, const char *host, struct cpu_featureset *out)
{
	struct http_request req = { .method = "GET", .path = "/host", .body_fd = -1 };
	struct http_response resp;
	struct http_conn c;
	struct json j;
	char *text = NULL;
	int rc;

	ctl->host = host;
	rc = call(ctl, &c, &req, &resp);
	if (rc != EXIT_OK) {
		http_response_free(&resp);
		return rc;
	}
	http_close(&c);
	if (resp.body && json_parse(&j, resp.body, resp.body_len) == 0) {
		text = json_text(&j, json_get(&j, 0, "cpu_features"));
		json_free(&j);
	}
	http_response_free(&resp);
	if (!text || cpu_featureset_parse(text, strlen(text), out)) {
		fprintf(stderr, "utsuwactl: pool: %s reports no CPU features (GET /host has no "
				"cpu_features%s%s)\n", host, text ? ": " : "", text ? text : "");
		free(text);
		return EXIT_SERVER;
	}
	free(text);
	return EXIT_OK;
}

/*
 * pool NAME HOST...: the baseline of the hosts' features (cpu_featureset_
 * meet), defined as NAME on every one of them (PUT /pools/NAME). Nothing is
 * defined anywhere unless every host answered GET /host.
 */
static int cmd_pool(struct ctl *ctl, const struct command *cmd, char **argv)
{
	struct cpu_featureset base, one;
	char text[CPU_FEATURESET_TEXT_MAX], path[64], body[CPU_FEATURESET_TEXT_MAX + 20];
	int rc;

	if (!cpu_pool_name_ok(argv[0], strlen(argv[0])))
		return local_error("pool: NAME is 1 to %d characters of a-z A-Z 0-9 _ -, not \"%s\"",
				   CPU_POOL_NAME_MAX - 1, argv[0]);
	for (int h = 1; argv[h]; h++) {
		rc = host_features(ctl, argv[h], h == 1 ? &base : &one);
		if (rc != EXIT_OK)
			return rc;
		if (h > 1)
			cpu_featureset_meet(&base, &one);
	}
	cpu_featureset_format(&base, text);
	snprintf(path, sizeof(path), "/pools/%s", argv[0]);
	snprintf(body, sizeof(body), "{\"features\":\"%s\"}", text);
	for (int h = 1; argv[h]; h++) {
		struct http_request req = { .method = "PUT", .path = path, .body = body,
					    .body_len = strlen(body), .body_fd = -1,
					    .content_type = "application/json" };
		struct http_response resp;
		struct http_conn c;

		ctl->host = argv[h];
		rc = call(ctl, &c, &req, &resp);
		if (rc == EXIT_OK)
			http_close(&c);
		http_response_free(&resp);
		if (rc != EXIT_OK) {
			fprintf(stderr, "utsuwactl: pool: %s is defined on the hosts before %s only\n",
				argv[0], argv[h]);
			return rc;
		}
	}
	if (ctl->json)
		printf("{\"name\":\"%s\",\"features\":\"%s\"}\n", argv[0], text);
	else
		printf("%s: %s on %d host%s\n", argv[0], text, (int)(argc_of(argv) - 1),
		       argc_of(argv) == 2 ? "" : "s");
	return EXIT_OK;
}

static const struct command commands[] = {
	{ "host", 0, "", cmd_host },
	{ "list", 0, "", cmd_list },
	{ "show", 1, "NAME", cmd_show },
	{ "create", 1, "SPEC.json", cmd_create },
	{ "upload", 2, "NAME FILE", cmd_upload },
	{ "images", 0, "", cmd_images },
	{ "rmimage", 1, "NAME", cmd_rmimage },
	{ "start", 1, "NAME", cmd_vm_action },
	{ "pause", 1, "NAME", cmd_vm_action },
	{ "resume", 1, "NAME", cmd_vm_action },
	{ "reset", 1, "NAME", cmd_vm_action },
	{ "stop", 1, "NAME", cmd_vm_action },
	{ "destroy", 1, "NAME", cmd_vm_action },
	{ "console", 1, "NAME", cmd_console },
	{ "snapshot", 1, "NAME", cmd_vm_action },
	{ "restore", 2, "ID NEWNAME", cmd_restore },
	{ "snapshots", 0, "", cmd_snapshots },
	{ "rmsnapshot", 1, "ID", cmd_rmsnapshot },
	{ "migrate", 1, "NAME --to HOST:PORT", cmd_migrate },
	{ "migration", 1, "NAME", cmd_migration },
	{ "cancel", 1, "NAME", cmd_migration },
	{ "pools", 0, "", cmd_pools },
	/* nargs -2: two or more */
	{ "pool", -2, "NAME HOST:PORT...", cmd_pool },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: utsuwactl [--host H:P] [--token-file F] [--json] [--timeout S] "
		     "COMMAND [ARGS]\ncommands:\n");
	for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++)
		fprintf(out, "  %s%s%s\n", commands[k].name, commands[k].args[0] ? " " : "",
			commands[k].args);
	fprintf(out, "console: Ctrl-] leaves. Exit status: 0 ok, 1 refused by the API (4xx), "
		     "2 usage,\n3 cannot connect or transport error, 4 server error (5xx). "
		     "See docs/utsuwactl.md.\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "host", required_argument, NULL, 'H' },
		{ "token-file", required_argument, NULL, 'T' },
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ "to", required_argument, NULL, 'o' },
		{ "damage-frame", required_argument, NULL, 'D' },
		{ "wrong-key", no_argument, NULL, 'W' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl ctl = { .timeout_ms = DEFAULT_TIMEOUT_S * 1000 };
	const struct command *cmd = NULL;
	const char *env_host = getenv("UTSUWA_HOST");
	int opt;

	ctl.host = env_host && *env_host ? env_host : DEFAULT_HOST;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		char *end;
		long s;

		switch (opt) {
		case 'H':
			ctl.host = optarg;
			break;
		case 'T':
			ctl.token_file = optarg;
			break;
		case 'j':
			ctl.json = true;
			break;
		case 't':
			s = strtol(optarg, &end, 10);
			if (*end || s <= 0 || s > 86400) {
				fprintf(stderr, "utsuwactl: --timeout takes seconds, 1 to 86400\n");
				return EXIT_USAGE;
			}
			ctl.timeout_ms = (int)s * 1000;
			break;
		case 'o':
			ctl.migrate_to = optarg;
			break;
		case 'D':
			ctl.damage_frame = strtol(optarg, &end, 10);
			if (*end || ctl.damage_frame < 2) {
				fprintf(stderr, "utsuwactl: --damage-frame takes a frame number from 2\n");
				return EXIT_USAGE;
			}
			break;
		case 'W':
			ctl.wrong_key = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++)
		if (!strcmp(argv[optind], commands[k].name))
			cmd = &commands[k];
	if (!cmd) {
		fprintf(stderr, "utsuwactl: no command %s\n", argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (cmd->nargs < 0 ? argc - optind - 1 < -cmd->nargs : argc - optind - 1 != cmd->nargs) {
		fprintf(stderr, "usage: utsuwactl [OPTIONS] %s %s\n", cmd->name, cmd->args);
		return EXIT_USAGE;
	}
	for (int k = 0; k < argc - optind - 1; k++)
		if (!argv[optind + 1 + k][0]) {
			fprintf(stderr, "utsuwactl: %s: an empty argument\n", cmd->name);
			return EXIT_USAGE;
		}
	prog_cmd = cmd->name;
	/* Before any connection: no token, no request. */
	if (find_token(&ctl))
		return EXIT_USAGE;
	return cmd->run(&ctl, cmd, argv + optind + 1);
}
