/*
 * The management API's TCP listener (core/api_tcp.c): lwIP's raw API on
 * the hypervisor's own address, one struct api_conn (hv/api.h) per accepted
 * connection. Runs on CPU 0 in netstack_poll, as lwIP does.
 */
#ifndef HV_API_TCP_H
#define HV_API_TCP_H

#include "hv/types.h"

/* Listens on port; 0, or a negative errno (said on the console). */
int api_tcp_start(u16 port);
/* Every pass of netstack_poll: api_conn_poll for each connection, and the
 * closes the API asked for. */
void api_tcp_poll(u64 now_ms);
/* Host TSC ticks the last timed request took, from its frame's arrival to
 * the end of lwIP's input for it, its answer sent (core/api_tcp.c); 0
 * before the first. */
u64 api_tcp_last_request_tsc(void);
/* netstack_poll, after lwIP's input function for each frame: ends a timing. */
void api_tcp_frame_done(void);

#endif
