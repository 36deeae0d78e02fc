/*
 * Live migration's settings and the helpers both sides use
 * (docs/migration.md). The key stays here and in the sessions' prepared
 * HMAC states: it is never printed, never sent, and not in any status.
 */
#include "hv/migrate.h"
#include "core/api_host.h"
#include "core/migrate_int.h"
#include "hv/console.h"
#include "hv/vm.h"
#include "arch/x86/emul/cpuid.h"
#include "lib/string.h"

#include "lwip/tcp.h"

struct migrate_settings mig_cfg;

void migrate_init(const struct host_net_config *cfg)
{
	mig_cfg.port = cfg->migrate_port;
	mig_cfg.downtime_ms = cfg->migrate_downtime_ms;
	mig_cfg.precopy = !cfg->migrate_no_precopy;
	if (!cfg->migrate_key[0]) {
		kprintf("migrate: no migrate_key=: no live migration in or out\n");
		return;
	}
	strlcpy(mig_cfg.key, cfg->migrate_key, sizeof(mig_cfg.key));
	mig_cfg.keyed = true;
	if (!migrate_recv_listen())
		kprintf("migrate: listening on TCP port %u for incoming VMs; downtime target %u ms\n",
			mig_cfg.port, mig_cfg.downtime_ms);
}

void migrate_poll(u64 now_ms)
{
	if (!mig_cfg.keyed)
		return;
	migrate_send_poll(now_ms);
	migrate_recv_poll(now_ms);
}

void mig_nonce(u8 out[MIG_NONCE_LEN])
{
	for (int i = 0; i < MIG_NONCE_LEN; i += 8) {
		u64 r = api_entropy();

		memcpy(out + i, &r, 8);
	}
}

void mig_vm_features(const struct vm *vm, u32 out[MIG_NR_FEATURES])
{
	for (int i = 0; i < MIG_NR_FEATURES; i++) {
		const struct mig_feature *f = &mig_feature_words[i];
		struct cpuid_leaf r = cpuid_policy_lookup(vm->cpuid, 0, f->leaf, f->subleaf);
		u32 regs[4] = { r.eax, r.ebx, r.ecx, r.edx };

		out[i] = regs[f->reg];
	}
	/* CPUID.1:ECX bit 27 (OSXSAVE) mirrors the guest's CR4, not the CPU. */
	out[0] &= ~(1u << 27);
}

u32 mig_tcp_write(struct tcp_pcb *pcb, const u8 *p, u64 len)
{
	u32 n = (u32)MIN(len, (u64)tcp_sndbuf(pcb));
	err_t err = ERR_OK;

	/* As the API's send: the segment queue may be full before the buffer. */
	while (n && (err = tcp_write(pcb, p, (u16_t)MIN(n, 0xffffu), TCP_WRITE_FLAG_COPY)) ==
			    ERR_MEM)
		n /= 2;
	if (!n || err != ERR_OK)
		return 0;
	return MIN(n, 0xffffu);
}

void mig_tcp_drop(struct tcp_pcb *pcb)
{
	tcp_arg(pcb, NULL);
	tcp_recv(pcb, NULL);
	tcp_sent(pcb, NULL);
	tcp_err(pcb, NULL);
	tcp_abort(pcb);
}
