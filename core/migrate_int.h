/*
 * What the two sides of live migration share inside core/ (core/migrate.c,
 * core/migrate_send.c, core/migrate_recv.c); users include hv/migrate.h.
 */
#ifndef CORE_MIGRATE_INT_H
#define CORE_MIGRATE_INT_H

#include "hv/migrate.h"
#include "hv/migrate_stream.h"
#include "hv/types.h"

struct tcp_pcb;

struct migrate_settings {
	bool keyed;              /* migrate_key= was given */
	char key[API_TOKEN_MAX + 1];
	u16 port;
	u32 downtime_ms;
	bool precopy;            /* migrate_precopy= (default on) */
};
extern struct migrate_settings mig_cfg; /* set once at boot (migrate_init) */

/* A fresh 16-byte nonce (RDRAND and the TSC). */
void mig_nonce(u8 out[MIG_NONCE_LEN]);
/* The CPUID words of mig_feature_words as the VM's policy answers them. */
void mig_vm_features(const struct vm *vm, u32 out[MIG_NR_FEATURES]);
/* Writes as much of [p, p+len) as the pcb takes now: the count. */
u32 mig_tcp_write(struct tcp_pcb *pcb, const u8 *p, u64 len);
/* Takes every callback off the pcb and aborts it (a RST to the peer). */
void mig_tcp_drop(struct tcp_pcb *pcb);

/* The sides' hooks, from migrate_poll. */
void migrate_send_poll(u64 now_ms);
void migrate_recv_poll(u64 now_ms);
int migrate_recv_listen(void);

#endif
