/*
 * storm (tests/api-storm/storm.c): what its three files share. The requests
 * are built in storm_req.c, sent and their answers judged in storm_wire.c,
 * and storm.c holds the figures, the authorized checks and main.
 */
#ifndef STORM_H
#define STORM_H

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>


#define MAX_CONNS 6
#define MAX_ANSWERS 8
#define REQ_TIMEOUT_MS 15000  /* the server answers a stuck request with 408 after 10 s */
#define SLOW_TIMEOUT_MS 20000
#define CHECK_EVERY_MS 2000
#define IDLE_MS 11000        /* past the server's 10 s for a request */

enum expect {
	EXP_ERR = -1, /* any 4xx or 5xx */
};

enum how {
	SEND_ALL,     /* in one write */
	SEND_SPLIT,   /* in two, a pause between */
	SEND_SLOW,    /* a byte at a time, whole within ~3 s */
	SEND_DRIBBLE, /* a head never finished, a byte every 250 ms */
	SEND_IDLE,    /* one request, IDLE_MS of nothing, then the next in two pieces */
	SEND_ABANDON, /* then close */
	SEND_RST,     /* then reset */
};

struct req {
	char *buf;
	size_t len, cap;
	size_t split_at;       /* SEND_IDLE: the first request's length */
	int nexp;              /* answers expected (0: none, the request is abandoned) */
	int exp[MAX_ANSWERS];  /* each: a status, or EXP_ERR */
	bool closes;           /* the server closes after the last answer */
	bool may_reset;        /* the server may close before we read its answer */
	enum how how;
	const char *kind;
};


/* The figures (storm.c), under lock. */
extern pthread_mutex_t lock;
extern unsigned long status_count[600];
extern unsigned long by_class[6];
extern unsigned long n_401_expected, n_401_got;
extern unsigned long n_non_http, n_hang, n_accepted, n_mismatch, n_close_mismatch;
extern unsigned long n_reset_ok, n_reset_bad, n_abandoned, n_refused, n_connect_fail;
extern unsigned long n_requests_done;

/* The run's settings (storm.c, from the command line). */
extern atomic_ulong next_index;
extern unsigned long n_total;
extern unsigned long long seed;
extern int port;
extern char token[128];
extern const char *canary;

/* One line of what went wrong, the first few only (storm.c). */
void report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
uint64_t now_ms(void);
void sleep_ms(unsigned ms);

/* Request number index of the run from the seed, into q; slow: the slow
 * sender's count, 0 for the others (storm_req.c). */
void make_req(struct req *q, unsigned long index, unsigned long slow);

/* A connection to the API on 127.0.0.1:port, -1 if none; a whole send
 * (storm_wire.c). */
int dial(void);
bool send_all(int fd, const char *p, size_t n);
/* A sending thread: requests until n_total are taken; arg non-NULL for
 * the slow sender (storm_wire.c). */
void *worker(void *arg);

#endif
