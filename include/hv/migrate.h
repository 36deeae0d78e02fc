/*
 * Live migration between two utsuwa hosts (docs/migration.md): pre-copy
 * over lwIP TCP, the stream of include/hv/migrate_stream.h. Everything runs
 * on CPU 0 in netstack_poll (its lwIP callbacks and migrate_poll), as the
 * management API does: the sending side in core/migrate_send.c, the
 * receiving side in core/migrate_recv.c, the settings in core/migrate.c.
 */
#ifndef HV_MIGRATE_H
#define HV_MIGRATE_H

#include "hv/config.h"
#include "hv/types.h"

struct vm;

/* netstack_init, after the API: keeps the settings and, with a
 * migrate_key=, listens for incoming VMs on migrate_port=. */
void migrate_init(const struct host_net_config *cfg);
/* Every pass of netstack_poll: timeouts, and sending on. */
void migrate_poll(u64 now_ms);

/* Starts moving vm to "A.B.C.D:PORT" (":PORT" may be left out: the
 * default). Returns at once: 0, or a negative errno with err saying why
 * (no key, the VM is not running, one is under way). damage_frame: a test
 * aid (as the monitor's damage): when not 0, the frame of that sequence
 * number (2 or more: a memory frame) has one payload byte flipped after it
 * is sealed, so that the destination must refuse the stream; wrong_key,
 * also a test aid: the frames are sealed under the key with its last byte
 * changed, as by a host with another migrate_key=. */
int migrate_start(struct vm *vm, const char *to, u32 damage_frame, bool wrong_key, char *err,
		  size_t n);
/* Cancels the migration of the VM called name: it stays here, running.
 * -EBUSY once the whole VM went out (the destination's answer decides). */
int migrate_cancel(const char *name, char *err, size_t n);
/* A migration of this VM is under way, and the caller is not it: the
 * lifecycle actions refuse (pause, resume, reset, destroy, snapshot). */
bool migrate_busy(const struct vm *vm);

/* Test aid (the monitor's migrate-test-recv nodone): the next VM that
 * arrives here is started, then the connection is reset instead of
 * sending DONE, as if this host died right after starting it. */
void migrate_recv_test_no_done(void);

#define MIGRATE_ERR_MAX 200

/* The last migration of a VM (this host keeps the last 4). */
struct migrate_status {
	char vm[VM_NAME_MAX];
	char to[24];
	/* connecting, offered, copying, stopped, confirming, done, failed,
	 * cancelled, or "in doubt": the whole VM went out and the destination
	 * neither confirmed nor gave up; it stays paused here (migrate_send.c) */
	const char *state;
	u32 rounds;
	u64 pages_sent, bytes_sent;
	u64 dirty_pages;     /* at the end of the last round */
	u64 rate_kib_s;      /* measured in the last round */
	u64 downtime_ms;     /* vCPUs stopped here until the destination said it runs */
	u64 total_ms;
	char error[MIGRATE_ERR_MAX];
};
/* 0 and *st, or -ENOENT when this host has no record of one. */
int migrate_status(const char *name, struct migrate_status *st);

#endif
