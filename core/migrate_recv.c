/*
 * Live migration, the receiving side (docs/migration.md): a listener on
 * migrate_port=, one incoming VM at a time, on CPU 0 in netstack_poll.
 *
 *   OFFER, CONFIG -> the checks: the name is free here, the memory is, the
 *   VM can be built (its images and disks exist here), every CPUID feature
 *   it sees is one a VM here sees -> ANSWER (refused: why, and nothing is
 *   kept) -> memory frames into the VM's RAM -> vCPU, device and VM
 *   sections -> END -> the state is loaded as a restore loads it, the VM is
 *   listed and runs -> DONE.
 *
 * The VM is built (not listed: no tick, console or API reaches it) when the
 * offer is accepted, and freed on any failure before DONE: a stream that is
 * corrupt, truncated, wrongly keyed or out of the protocol's order, a
 * source that goes away or falls silent. Nothing half-made stays.
 */
#include "core/migrate_int.h"
#include "core/vm_state_io.h"
#include "hv/console.h"
#include "hv/cpu_features.h"
#include "hv/gmem.h"
#include "hv/hv.h"
#include "hv/image_store.h"
#include "hv/mm.h"
#include "hv/netstack.h"
#include "hv/percpu.h"
#include "hv/platform.h"
#include "hv/snapshot_vm.h"
#include "hv/vm.h"
#include "hv/vm_lifecycle.h"
#include "hv/vm_net.h"
#include "asm/cpu.h"
#include "asm/percpu.h"
#include "lib/format.h"
#include "lib/string.h"

#include <stdarg.h>

#include "lwip/ip_addr.h"
#include "lwip/tcp.h"

#define SILENCE_TIMEOUT_MS 30000
#define MEM_MARGIN (16ULL << 20) /* the VM's tables and devices, beyond its RAM */
#define BUF_PAGES ((MIG_MAX_PAYLOAD + PAGE_SIZE - 1) / PAGE_SIZE)

enum dst_state { D_IDLE, D_OFFER, D_CONFIG, D_MEMORY, D_STATE };

static struct {
	struct tcp_pcb *listener, *pcb;
	enum dst_state state;
	char peer[IP4ADDR_STRLEN_MAX];
	struct mig_keys keys;
	struct mig_rx rx;
	u8 *buf;                /* BUF_PAGES: a frame's payload */
	u8 out[MIG_HDR_LEN + 3 + MIG_NONCE_LEN + MIG_REASON_MAX + MIG_MAC_LEN];
	u32 seq;
	struct mig_offer offer;
	struct vm *vm;          /* built, not listed */
	char name[VM_NAME_MAX];
	struct snap_writer w;   /* config, vCPUs, devices, VM section */
	bool writer_open;
	bool aborted;           /* the pcb in lwIP's callback was aborted */
	u64 start_ms, last_rx_ms, pages;
	/* CPU 0's time (host TSC ticks) in parsing and authenticating frames
	 * (mig_rx_feed: the copy out of lwIP's buffers, CRC-32, HMAC-SHA-256)
	 * and in acting on them (a memory frame's copy into the VM's RAM). */
	u64 tsc_feed, tsc_apply;
	u64 halted_at_start;    /* CPU 0's halted_tsc at the connection */
} dst;

/* ---- frames out ---- */

static void send_answer(u32 type, bool ok, const u8 *nonce, const char *text)
{
	struct mig_answer a = { .ok = ok };
	u64 len, n;

	if (nonce)
		memcpy(a.nonce, nonce, MIG_NONCE_LEN);
	strlcpy(a.text, text, sizeof(a.text));
	len = mig_answer_put(dst.out + MIG_HDR_LEN, &a);
	n = mig_seal(&dst.keys, MIG_LABEL_DEST, dst.out, type, 0, dst.seq++,
		     type == MIG_ANSWER ? "answer" : "done", len);
	if (dst.pcb && mig_tcp_write(dst.pcb, dst.out, n) == n)
		tcp_output(dst.pcb);
}

/* ---- ending ---- */

/* Lets go of the connection: gracefully when something was said last (an
 * answer, DONE): our FIN after it, and what the source still sends is
 * taken and dropped (lwIP's tcp_recv_null) until it closes, so that it
 * reads the reason rather than a reset. Else with a reset. */
static bool test_no_done; /* migrate_recv_test_no_done */

void migrate_recv_test_no_done(void)
{
	test_no_done = true;
}

static void drop_conn(bool graceful)
{
	struct tcp_pcb *pcb = dst.pcb;

	dst.pcb = NULL;
	if (!pcb)
		return;
	tcp_arg(pcb, NULL);
	tcp_recv(pcb, NULL);
	tcp_sent(pcb, NULL);
	tcp_err(pcb, NULL);
	if (!graceful || tcp_shutdown(pcb, 0, 1) != ERR_OK) {
		tcp_abort(pcb);
		dst.aborted = true;
	}
}

static void reset_session(void)
{
	if (dst.writer_open)
		snap_writer_abort(&dst.w);
	dst.writer_open = false;
	if (dst.vm)
		vm_free(dst.vm);
	dst.vm = NULL;
	mig_keys_wipe(&dst.keys);
	dst.state = D_IDLE;
}

/* The incoming VM is refused or given up: nothing of it stays. The reason
 * goes to the source too when the connection still carries frames. */
static void give_up(bool tell, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void give_up(bool tell, const char *fmt, ...)
{
	char why[MIG_REASON_MAX + 1];
	va_list ap;

	if (dst.state == D_IDLE)
		return;
	va_start(ap, fmt);
	fmt_vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	kprintf("migrate: from %s: %s%s%s; nothing was kept\n", dst.peer,
		dst.name[0] ? "vm " : "", dst.name[0] ? dst.name : "", why);
	/* The source is told without the ": " that follows the VM's name. */
	if (tell && dst.pcb)
		send_answer(dst.state <= D_CONFIG ? MIG_ANSWER : MIG_DONE, false, NULL,
			    why[0] == ':' ? why + 2 : why);
	reset_session();
	drop_conn(tell);
}

/* ---- the checks before anything moves ---- */

static const char *const reg_names[] = { "EAX", "EBX", "ECX", "EDX" };

/* "CPUID.80000001h.0:ECX 0x1 (LAHF-LM); ..." for every word in which the
 * offer has bits that mine lacks. */
static void missing_features(const u32 *mine, char *out, size_t size)
{
	size_t len = 0;

	out[0] = 0;
	for (int i = 0; i < MIG_NR_FEATURES && len + 1 < size; i++) {
		const struct mig_feature *mf = &mig_feature_words[i];
		u32 bits = dst.offer.features[i] & ~mine[i];
		char names[96];

		if (!bits)
			continue;
		cpu_feature_list(names, sizeof(names), mf->leaf, mf->subleaf, mf->reg, bits);
		len += (size_t)fmt_snprintf(out + len, size - len, "%sCPUID.%xh.%u:%s 0x%x (%s)",
					    len ? "; " : "", mf->leaf, mf->subleaf,
					    reg_names[mf->reg], bits, names);
	}
}

static bool build_vm(const u8 *payload, u64 len)
{
	static struct snap_vm_config cfg;
	static struct hv_config hc;
	struct snapshot one = { 0 };
	char err[MIG_REASON_MAX];
	u32 mine[MIG_NR_FEATURES], missing = 0;
	u64 free_bytes = mm_free_pages() * PAGE_SIZE;
	int ret;

	/* The configuration as a one-section snapshot: the restore's parser. */
	ret = snap_writer_init(&dst.w, &snap_page_alloc);
	if (!ret) {
		dst.writer_open = true;
		snap_section_begin(&dst.w, SNAP_SEC_CONFIG, 0, SNAP_CONFIG_NAME);
		snap_put_bytes(&dst.w, payload, len);
		snap_section_end(&dst.w);
		dst.writer_open = false;
		ret = snap_writer_finish(&dst.w, &one);
	}
	if (!ret)
		ret = snap_verify(&one, NULL, 0);
	if (!ret)
		ret = snap_load_config(&one, &cfg);
	if (ret) {
		snap_free(&one);
		give_up(true, "its configuration section is malformed");
		return false;
	}
	strlcpy(dst.name, cfg.name, sizeof(dst.name));
	if (vm_find(cfg.name)) {
		snap_free(&one);
		give_up(true, ": a VM of that name exists on this host");
		return false;
	}
	if (cfg.mem_size + MEM_MARGIN > free_bytes) {
		snap_free(&one);
		give_up(true, ": not enough memory here: %lu MiB asked, %lu MiB free",
			(unsigned long)(cfg.mem_size >> 20), (unsigned long)(free_bytes >> 20));
		return false;
	}
	config_init(&hc);
	if (!config_parse(&hc, cfg.line, strlen(cfg.line), NULL, NULL) && hc.nr_vms == 1) {
		const struct vm_config *vc = &hc.vms[0];

		if (!image_find(hv_boot_info(), vc->image) ||
		    (vc->initrd[0] && !image_find(hv_boot_info(), vc->initrd))) {
			snap_free(&one);
			give_up(true, ": its image '%s'%s%s is not on this host (a boot module or "
				      "PUT /images)", vc->image, vc->initrd[0] ? " or initrd " : "",
				vc->initrd);
			return false;
		}
	}
	err[0] = 0;
	dst.vm = vm_build_from_snapshot(&one, cfg.name, err, sizeof(err));
	snap_free(&one);
	if (!dst.vm) {
		give_up(true, ": it cannot be built here (a disk or a CPU it names is missing; this "
			      "host's log says which)");
		return false;
	}
	mig_vm_features(dst.vm, mine);
	if (mig_features_missing(dst.offer.features, mine, &missing) >= 0) {
		missing_features(mine, err, sizeof(err));
		give_up(true, ": it sees CPU features a VM on this host lacks: %s", err);
		return false;
	}
	/* The state sections will follow the configuration, as in a snapshot. */
	if (snap_writer_init(&dst.w, &snap_page_alloc)) {
		give_up(true, ": out of memory");
		return false;
	}
	dst.writer_open = true;
	snap_section_begin(&dst.w, SNAP_SEC_CONFIG, 0, SNAP_CONFIG_NAME);
	snap_put_bytes(&dst.w, payload, len);
	snap_section_end(&dst.w);
	return true;
}

/* ---- frames in ---- */

static void got_memory(void)
{
	struct mig_ram r;
	const u8 *pg;

	if (mig_ram_check(dst.rx.payload, dst.rx.len, dst.rx.instance, gmem_size(dst.vm), &r)) {
		mig_rx_fail(&dst.rx, "frame %u: a memory frame that does not fit the VM",
			    dst.rx.seq - 1);
		return;
	}
	pg = dst.rx.payload + MIG_MEM_HDR;
	for (u32 i = 0; i < r.npages; i++) {
		void *to;

		if (!(r.bitmap[i / 8] & (1u << (i % 8))))
			continue;
		to = gmem_map(dst.vm, r.gpa + (u64)i * PAGE_SIZE, PAGE_SIZE, true);
		if (to)
			memcpy(to, pg, PAGE_SIZE);
		pg += PAGE_SIZE;
	}
	dst.pages += r.present;
}

static void got_end(void)
{
	struct snapshot s = { 0 };
	char err[SNAP_ERR_MAX];
	const char *what = "config";
	u64 guest_tsc = 0, t0 = rdtsc(), started_us;
	int ret;

	dst.writer_open = false;
	ret = snap_writer_finish(&dst.w, &s);
	if (!ret)
		ret = snap_verify(&s, err, sizeof(err));
	else
		fmt_snprintf(err, sizeof(err), "out of memory");
	if (ret) {
		snap_free(&s);
		give_up(true, ": its state does not make a whole snapshot: %s", err);
		return;
	}
	ret = vm_state_load(&s, dst.vm, &guest_tsc, &what);
	snap_free(&s);
	if (ret) {
		give_up(true, ": section '%s' %s", what,
			ret == -ENOENT ? "is missing" : "cannot be loaded");
		return;
	}
	if (vm_find(dst.name)) {
		give_up(true, ": a VM of that name was made here meanwhile");
		return;
	}
	/* Its guest TSC goes on from the source's: the guest saw no time pass
	 * while its vCPUs were stopped (docs/lifecycle.md, pause). Its NIC
	 * joins this host's switch only now. */
	if (vm_state_start(dst.vm, guest_tsc)) {
		give_up(true, ": its MAC is another VM's on this host's switch now");
		return;
	}
	/* Switches still send its frames to the source: tell them (docs/migration.md). */
	vm_net_announce(dst.vm);
	vm_state_run(dst.vm);
	started_us = tsc_to_ns(rdtsc() - t0) / 1000;
	dst.vm = NULL; /* listed: no longer ours to free */
	if (test_no_done) {
		test_no_done = false;
		kprintf("migrate: vm %s: DONE not sent, the connection reset (test aid)\n", dst.name);
		mig_keys_wipe(&dst.keys);
		dst.state = D_IDLE;
		drop_conn(false);
		return;
	}
	/* DONE first: the source's downtime runs until it comes, and a line
	 * on the serial console costs some 20 us a character under QEMU. */
	send_answer(MIG_DONE, true, NULL, "running");
	kprintf("migrate: vm %s: arrived from %s and runs here; %lu pages in %lu ms; its state "
		"loaded and started in %lu us; CPU 0 spent %lu ms parsing and authenticating "
		"frames, %lu acting on them, %lu halted\n", dst.name, dst.peer,
		(unsigned long)dst.pages, (unsigned long)(netstack_now_ms() - dst.start_ms),
		(unsigned long)started_us, (unsigned long)tsc_to_ms(dst.tsc_feed),
		(unsigned long)tsc_to_ms(dst.tsc_apply),
		(unsigned long)(tsc_to_ms(this_cpu()->halted_tsc - dst.halted_at_start)));
	mig_keys_wipe(&dst.keys);
	dst.state = D_IDLE;
	drop_conn(true);
}

static void got_frame(void)
{
	struct mig_rx *rx = &dst.rx;
	u8 nonce[MIG_NONCE_LEN];

	switch (dst.state) {
	case D_OFFER:
		if (rx->type != MIG_OFFER || mig_offer_get(rx->payload, rx->len, &dst.offer)) {
			mig_rx_fail(rx, "frame 0 is not a well-formed offer");
			return;
		}
		memcpy(dst.keys.session, dst.offer.nonce, MIG_NONCE_LEN);
		dst.state = D_CONFIG;
		return;
	case D_CONFIG:
		if (rx->type != SNAP_SEC_CONFIG) {
			mig_rx_fail(rx, "frame 1 is not the VM's configuration");
			return;
		}
		if (!build_vm(rx->payload, rx->len))
			return;
		/* The answer under the source's nonce alone; everything after
		 * under both. */
		mig_nonce(nonce);
		send_answer(MIG_ANSWER, true, nonce, "accepted");
		memcpy(dst.keys.session + MIG_NONCE_LEN, nonce, MIG_NONCE_LEN);
		kprintf("migrate: vm %s: accepted from %s (%lu MiB, %u vCPUs)\n", dst.name,
			dst.peer, (unsigned long)(gmem_size(dst.vm) >> 20), dst.vm->nr_vcpus);
		dst.state = D_MEMORY;
		return;
	case D_MEMORY:
		if (rx->type == SNAP_SEC_MEMORY) {
			got_memory();
			return;
		}
		dst.state = D_STATE;
		/* fall through */
	case D_STATE:
		if (rx->type == SNAP_SEC_VCPU || rx->type == SNAP_SEC_DEVICE ||
		    rx->type == SNAP_SEC_VM) {
			snap_section_begin(&dst.w, rx->type, rx->instance, rx->name);
			snap_put_bytes(&dst.w, rx->payload, rx->len);
			if (snap_section_end(&dst.w))
				mig_rx_fail(rx, "frame %u: its section cannot be kept (out of memory "
						"or out of order)", rx->seq - 1);
			return;
		}
		if (rx->type == SNAP_SEC_END) {
			got_end();
			return;
		}
		mig_rx_fail(rx, "frame %u: a '%s' frame out of the protocol's order", rx->seq - 1,
			    rx->name);
		return;
	case D_IDLE:
		return;
	}
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	bool ours = pcb == dst.pcb && dst.state != D_IDLE;

	dst.aborted = false;
	if (!p) {
		if (ours)
			give_up(false, "%sthe source closed the connection mid-stream (after frame %u)",
				dst.name[0] ? ": " : "", dst.rx.seq);
		else if (pcb == dst.pcb)
			drop_conn(false);
		return dst.aborted ? ERR_ABRT : ERR_OK;
	}
	if (!ours) {
		pbuf_free(p);
		return ERR_OK;
	}
	dst.last_rx_ms = netstack_now_ms();
	bool frame_end = false;
	for (struct pbuf *q = p; q && dst.state != D_IDLE; q = q->next) {
		const u8 *d = q->payload;
		u64 left = q->len;

		while (left && dst.state != D_IDLE) {
			u64 used, t0 = rdtsc();
			enum mig_rx_result r = mig_rx_feed(&dst.rx, d, left, &used);
			u64 t1 = rdtsc();

			dst.tsc_feed += t1 - t0;
			d += used;
			left -= used;
			if (r == MIG_RX_FRAME) {
				got_frame();
				dst.tsc_apply += rdtsc() - t1;
				frame_end = true;
			}
			if (dst.rx.dead && dst.state != D_IDLE)
				give_up(true, "%s%s", dst.name[0] ? ": " : "", dst.rx.err);
		}
	}
	if (!dst.aborted) {
		tcp_recved(pcb, p->tot_len);
		/* A frame is in: acknowledged now, not at lwIP's delayed-ACK
		 * timer (250 ms), which the source's last frames before its
		 * stop would wait for (migrate_send.c, drained). One ACK more
		 * per 64 KiB frame. */
		if (frame_end && pcb == dst.pcb) {
			pcb->flags |= TF_ACK_NOW; /* lwIP's tcp_ack_now, private */
			tcp_output(pcb);
		}
	}
	pbuf_free(p);
	return dst.aborted ? ERR_ABRT : ERR_OK;
}

static void on_err(void *arg, err_t err)
{
	dst.pcb = NULL; /* lwIP freed it */
	if (dst.state != D_IDLE)
		give_up(false, "%sthe source went away mid-stream (after frame %u)",
			dst.name[0] ? ": " : "", dst.rx.seq);
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	char peer[IP4ADDR_STRLEN_MAX];

	if (err != ERR_OK || !pcb)
		return ERR_VAL;
	ipaddr_ntoa_r(&pcb->remote_ip, peer, sizeof(peer));
	if (dst.pcb || dst.state != D_IDLE) {
		kprintf("migrate: from %s: refused, a migration from %s is under way\n", peer,
			dst.peer);
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	memset(&dst.keys, 0, sizeof(dst.keys));
	strlcpy(dst.peer, peer, sizeof(dst.peer));
	kprintf("migrate: connection from %s\n", peer);
	dst.name[0] = 0;
	dst.seq = 0;
	dst.pages = 0;
	dst.pcb = pcb;
	dst.tsc_feed = dst.tsc_apply = 0;
	dst.halted_at_start = this_cpu()->halted_tsc;
	dst.start_ms = dst.last_rx_ms = netstack_now_ms();
	mig_keys_init(&dst.keys, mig_cfg.key, strlen(mig_cfg.key));
	mig_rx_init(&dst.rx, &dst.keys, MIG_LABEL_SOURCE, dst.buf, MIG_MAX_PAYLOAD);
	dst.state = D_OFFER;
	tcp_arg(pcb, NULL);
	tcp_err(pcb, on_err);
	tcp_recv(pcb, on_recv);
	tcp_nagle_disable(pcb);
	return ERR_OK;
}

int migrate_recv_listen(void)
{
	struct tcp_pcb *pcb, *l;

	dst.buf = (u8 *)(uintptr_t)page_alloc(BUF_PAGES, PAGE_SIZE);
	pcb = dst.buf ? tcp_new() : NULL;
	if (!pcb) {
		kprintf("migrate: no memory to listen: no incoming migration\n");
		return -ENOMEM;
	}
	if (tcp_bind(pcb, IP_ANY_TYPE, mig_cfg.port) != ERR_OK) {
		kprintf("migrate: cannot bind TCP port %u: no incoming migration\n", mig_cfg.port);
		tcp_abort(pcb);
		return -EBUSY;
	}
	l = tcp_listen_with_backlog(pcb, 1);
	if (!l) {
		tcp_abort(pcb);
		return -ENOMEM;
	}
	dst.listener = l;
	tcp_accept(l, on_accept);
	return 0;
}

void migrate_recv_poll(u64 now_ms)
{
	if (dst.state != D_IDLE && now_ms - dst.last_rx_ms > SILENCE_TIMEOUT_MS)
		give_up(false, "%sthe source sent nothing for %u s (after frame %u)",
			dst.name[0] ? ": " : "", SILENCE_TIMEOUT_MS / 1000, dst.rx.seq);
}
