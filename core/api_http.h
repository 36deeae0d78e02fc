/*
 * Between the management API's HTTP side (core/api_http.c: connections,
 * requests, answers) and its routes (core/api_routes.c: what each call
 * does). docs/api.md describes both.
 */
#ifndef CORE_API_HTTP_H
#define CORE_API_HTTP_H

#include "core/api_json.h"
#include "hv/types.h"

#define API_HEAD_MAX 8192     /* a request's line and headers */
#define API_URL_MAX 256       /* its target */
#define API_HEADERS_MAX 32
#define API_JSON_MAX 8192     /* a JSON body */
#define API_OUT_MAX 16384     /* an answer, head and body */
#define API_REQUEST_MS 10000  /* a request (head and JSON body) within this of its first byte */
#define API_UPLOAD_RATE 262144 /* bytes a second an upload must keep up, on average */
#define API_IDLE_MS 60000     /* a connection with no request under way this long is closed */
#define API_STALL_MS 30000    /* ... and one whose peer takes no bytes this long */
#define API_ERR_MAX 160       /* an error line */

enum api_method { API_GET, API_PUT, API_POST, API_DELETE, NR_API_METHODS };

/* What a request's body is. */
enum api_body {
	BODY_JSON,  /* a JSON object (an empty body counts as {}), up to API_JSON_MAX */
	BODY_IMAGE, /* raw bytes into the image store (PUT /images/NAME) */
};

struct vm;

/* One call: its request, and its answer as the route leaves it. */
struct api_call {
	const char *arg;   /* NAME in the path, checked by the route's pattern */
	const char *body;  /* BODY_JSON: the body */
	u32 body_len;
	u64 content_length;
	int upload;        /* BODY_IMAGE: the store's slot (image_store_begin) */
	u64 now_ms;

	bool upgrade;      /* the request asked for the console's upgrade */

	u16 status;        /* 200 unless the route says otherwise */
	struct json_writer *out; /* the answer's body */
	const char *allow; /* 405: the methods the path has */
	struct vm *console; /* status 101: the connection becomes this VM's console */
};

struct api_route {
	enum api_method method;
	const char *path;  /* segments; '*' is NAME: /vms/ * /pause */
	enum api_arg { ARG_NONE, ARG_VM, ARG_IMAGE, ARG_SNAPSHOT, ARG_POOL } arg;
	enum api_body body;
	/* BODY_IMAGE: before the body, once the head is known; 0, or an error
	 * answer set in c (the body is then not read: the connection closes). */
	int (*begin)(struct api_call *c);
	void (*run)(struct api_call *c);
};

/*
 * The route for method and path (NUL-terminated, no query), with NAME in
 * arg (arg_cap bytes). NULL, with c->status and an error answer set, when
 * there is none: 404, 405 (c->allow set), 400 for a NAME that cannot be one.
 */
const struct api_route *api_route_find(enum api_method m, const char *path, char *arg,
				       size_t arg_cap, struct api_call *c);

/* An error answer: {"error":"<why>"} with status. */
void api_error(struct api_call *c, u16 status, const char *fmt, ...) __printf(3, 4);

/* Called every pass of CPU 0's loop (api_poll): stop's timeouts. */
void api_routes_poll(u64 now_ms);

#endif
