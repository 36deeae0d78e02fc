/*
 * The management API's connections, independent of the transport
 * (docs/api.md, issue 11). The TCP side (core/api_tcp.c, on lwIP's raw API)
 * makes one struct api_conn per accepted connection and feeds it; the HTTP
 * side (core/api_http.c and the routes) parses requests, checks the bearer
 * token, runs the call and answers through io->send.
 *
 * Everything here runs on CPU 0 in its loop, as the monitor's commands do
 * (interrupts on, this_cpu()->in_monitor set), never in an interrupt
 * handler and never under a lock a guest exit needs.
 */
#ifndef HV_API_H
#define HV_API_H

#include "hv/types.h"

#define API_MAX_CONNS 8          /* more are refused at accept (503 and close) */

struct api_conn;

/* What the transport offers a connection. */
struct api_io {
	/* Queues up to len bytes for sending; returns how many it took (0
	 * when its buffer is full: api_conn_sent says when there is room). */
	u32 (*send)(void *ctx, const void *data, u32 len);
	/* Closes the connection after what was queued is sent. */
	void (*close)(void *ctx);
};

/* A new connection, or NULL when API_MAX_CONNS are open. */
struct api_conn *api_conn_new(const struct api_io *io, void *ctx, u64 now_ms);
/* Bytes that arrived. */
void api_conn_input(struct api_conn *c, const void *data, u32 len, u64 now_ms);
/* The transport sent len bytes: room to send more. */
void api_conn_sent(struct api_conn *c, u32 len, u64 now_ms);
/* Called every pass of CPU 0's loop: timeouts, a console's output. */
void api_conn_poll(struct api_conn *c, u64 now_ms);
/* For the transport's timing of requests (core/api_tcp.c): true when no
 * request is under way on c and all its answers have gone to io->send;
 * *answers counts the answers it has made. */
bool api_conn_between(const struct api_conn *c, u32 *answers);
/* The transport is gone (closed by the peer or by io->close): frees c. */
void api_conn_free(struct api_conn *c);

/* The bearer token every request must carry: from the configuration
 * (api_token=), or made at boot and printed once. */
void api_set_token(const char *token);

/* At boot (core/hv.c): the configuration's token (empty: one is made from
 * RDRAND and the TSC and printed once) and upload limit (0: the default). */
void api_init(const char *token, u64 image_max);

/* Every pass of CPU 0's loop, with or without connections (core/vcpu_run.c,
 * next to the monitor): what the API keeps pending, stop's hard stop after
 * its timeout. */
void api_poll(u64 now_ms);

/* The api_conn_* functions call io->close, if at all, as their last action:
 * the transport may free the connection from inside it. */

#endif
