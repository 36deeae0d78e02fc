/*
 * Live migration, the sending side (docs/migration.md): one VM at a time,
 * pre-copy. On CPU 0 inside netstack_poll (lwIP's callbacks and
 * migrate_poll), like the management API, and never under a lock a guest
 * exit takes: the dirty log's lock is held only inside gmem_dirty_*; the
 * pages are copied and the frames sealed and written to lwIP outside it.
 *
 *   connect -> OFFER (nonce, CPU features) + CONFIG -> wait for ANSWER
 *   -> dirty logging on; round 1 sends every non-zero page, each later
 *      round the pages written meanwhile, while the VM runs
 *   -> when the rest fits the downtime target at the rate measured in the
 *      last round, or stops shrinking: pause (vCPUs quiesced, devices'
 *      requests finished), the last dirty pages, every vCPU, every device,
 *      the VM section (its guest TSC), END
 *   -> wait for DONE: the destination runs it; only then destroy it here.
 *
 * Any failure before the whole VM went out (the destination refuses or
 * goes away, a frame does not authenticate, a timeout, a cancel) stops
 * dirty logging, resumes the VM if this side paused it and drops the
 * connection: the VM runs on here as before. After END (confirming), the
 * destination may have started it: only its own "gave up" proves it did
 * not, and the VM is resumed then. Anything else (the connection lost, no
 * answer in time, a frame that does not authenticate) leaves it unknown,
 * and running it here as well could have two copies of one VM write one
 * disk: the VM stays paused here, "in doubt", until an operator resumes it
 * (it does not run there) or destroys it (it does). That is the fencing
 * (docs/migration.md).
 *
 * Pacing: at most two frames (16 pages, 64 KiB, each) are copied and sealed
 * per call, and written to lwIP as its send buffer takes it; the rest waits
 * for the peer's acknowledgements (on_sent) or the next poll, so CPU 0's
 * other work (the API, the console, lwIP's timers) goes on between.
 */
#include "core/migrate_int.h"
#include "core/vm_state_io.h"
#include "hv/vm_passthru.h"
#include "hv/console.h"
#include "hv/config_format.h"
#include "hv/device.h"
#include "hv/gmem.h"
#include "hv/mm.h"
#include "hv/netstack.h"
#include "hv/snapshot_vm.h"
#include "hv/vm.h"
#include "hv/vm_disks.h"
#include "hv/vm_console.h"
#include "hv/vm_lifecycle.h"
#include "hv/percpu.h"
#include "hv/platform.h"
#include "asm/percpu.h"
#include "asm/cpu.h"
#include "lib/format.h"
#include "lib/string.h"

#include <stdarg.h>

#include "lwip/ip_addr.h"
#include "lwip/tcp.h"

#define MAX_ROUNDS 30
#define CONNECT_TIMEOUT_MS 10000
#define ANSWER_TIMEOUT_MS 30000  /* the destination builds the VM before it answers */
#define STALL_TIMEOUT_MS 20000   /* nothing acknowledged for this long */
#define DONE_TIMEOUT_MS 30000
#define SCAN_PAGES_PER_FRAME 2048 /* zero pages looked at per call, at most */
#define FRAME_PAGES (MIG_FRAME_MAX + PAGE_SIZE - 1) / PAGE_SIZE
/* Pages in a memory frame this side sends (the stream allows up to
 * MIG_MEM_FRAME_PAGES). A frame is sealed whole before its first byte
 * goes out (its header carries the payload's CRC) and checked whole before
 * the destination uses it, and CPU 0 does nothing else meanwhile: 16 pages
 * take less to seal than lwIP's send buffer (lwipopts.h) takes to drain,
 * so the link stays busy, and the pages left at the stop go out in a
 * pipeline rather than store-and-forward (bench/README.md, "Live
 * migration"). */
#define SEND_FRAME_PAGES 16
#define HISTORY 4

enum src_state { S_IDLE, S_CONNECTING, S_OFFERED, S_COPYING, S_STOPPED, S_CONFIRMING };

static const char *const state_names[] = {
	[S_IDLE] = "idle", [S_CONNECTING] = "connecting", [S_OFFERED] = "offered",
	[S_COPYING] = "copying", [S_STOPPED] = "stopped", [S_CONFIRMING] = "confirming",
};

static struct {
	enum src_state state;
	struct vm *vm;
	bool self;             /* the lifecycle call under way is ours (migrate_busy) */
	bool paused;           /* we paused the VM */
	bool logging;          /* dirty logging is on */
	struct tcp_pcb *pcb;
	struct migrate_status *st;
	ip_addr_t ip;
	u16 port;

	struct mig_keys keys;
	u8 nonce[MIG_NONCE_LEN];
	u32 seq;
	u32 damage;            /* test aid: the frame to damage (0: none) */
	struct mig_rx rx;
	u8 rx_buf[512];

	u8 *frame;             /* FRAME_PAGES pages: the frame being sent */
	u64 frame_len, frame_sent;

	u64 *todo;             /* pages still to send this round */
	bool skip_zero;        /* a first full pass: the destination's RAM is zeroed */
	u64 nbits;
	u64 cursor;            /* next page to look at */
	u64 round_bytes, round_start_ms;
	/* Where CPU 0's time went this round (host TSC ticks): looking at
	 * pages and copying them into frames (round 1 looks at zero pages and
	 * leaves them out), sealing frames (CRC-32 and HMAC-SHA-256), handing
	 * them to lwIP (tcp_write's copy, tcp_output down to the NIC). */
	u64 tsc_copy, tsc_seal, tsc_write;
	u64 halted_at_start;   /* CPU 0's halted_tsc when the round began */
	u64 prev_dirty;
	bool draining;         /* the copy is over: stop once the link is empty */
	u64 drain_start_ms;

	struct snapshot state_snap; /* vCPUs, devices, the VM section */
	struct snap_cursor sc;
	bool sc_started, end_sent;

	u64 start_ms, pause_ms, last_progress_ms, deadline_ms;
	u64 stopped_ms, end_ms; /* the downtime's parts: state taken, END written */
} src;

static struct migrate_status history[HISTORY];
static unsigned history_next;

/* ---- status ---- */

int migrate_status(const char *name, struct migrate_status *st)
{
	/* The newest record of that VM. */
	for (unsigned i = 0; i < HISTORY; i++) {
		const struct migrate_status *h = &history[(history_next + HISTORY - 1 - i) % HISTORY];

		if (h->vm[0] && !strcmp(h->vm, name)) {
			*st = *h;
			return 0;
		}
	}
	return -ENOENT;
}

bool migrate_busy(const struct vm *vm)
{
	return src.state != S_IDLE && src.vm == vm && !src.self;
}

static void set_state(enum src_state s)
{
	src.state = s;
	if (src.st)
		src.st->state = state_names[s];
}

/* ---- ending ---- */

static void release(void)
{
	if (src.pcb) {
		mig_tcp_drop(src.pcb);
		src.pcb = NULL;
	}
	if (src.frame)
		page_free((u64)(uintptr_t)src.frame, FRAME_PAGES);
	if (src.todo)
		kfree(src.todo);
	snap_free(&src.state_snap);
	mig_keys_wipe(&src.keys);
	src.frame = NULL;
	src.todo = NULL;
	src.vm = NULL;
	src.state = S_IDLE;
}

/*
 * The migration ends without DONE, st->error saying why. doubt: the whole
 * VM went out and the destination did not say it gave up, so it may run
 * there: the VM stays paused here. Else it carries on here.
 */
static void end_failed(bool doubt)
{
	struct migrate_status *st = src.st;

	src.self = true;
	if (src.logging)
		gmem_dirty_log_stop(src.vm);
	if (!doubt && src.paused && src.vm->state == VM_PAUSED)
		vm_resume(src.vm, NULL, 0);
	src.self = false;
	src.logging = src.paused = false;
	st->state = doubt ? "in doubt" : "failed";
	st->total_ms = netstack_now_ms() - src.start_ms;
	if (doubt)
		kprintf("migrate: vm %s to %s: %s after the whole VM went there: it may run there; "
			"it stays paused here: resume it here only if it does not run there, else "
			"destroy it\n", st->vm, st->to, st->error);
	else
		kprintf("migrate: vm %s to %s: %s; the VM stays here (%s)\n", st->vm, st->to,
			st->error, vm_state_name(src.vm));
	release();
}

/* Anything that goes wrong before the destination said it runs: the VM
 * carries on here, or once the whole VM went out, stays paused in doubt. */
static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
	va_list ap;

	if (src.state == S_IDLE)
		return;
	va_start(ap, fmt);
	fmt_vsnprintf(src.st->error, sizeof(src.st->error), fmt, ap);
	va_end(ap);
	end_failed(src.state == S_CONFIRMING);
}

/* The destination said it gave up, and so freed what it had: whenever it
 * says so, the VM carries on here. */
static void gave_up(const char *why)
{
	if (src.state == S_IDLE)
		return;
	fmt_snprintf(src.st->error, sizeof(src.st->error), "the destination gave up: %s", why);
	end_failed(false);
}

int migrate_cancel(const char *name, char *err, size_t n)
{
	if (src.state == S_IDLE || strcmp(src.st->vm, name))
		return vm_err(err, n, -ENOENT, "migrate: no migration of vm '%s' under way", name);
	if (src.state == S_CONFIRMING)
		return vm_err(err, n, -EBUSY, "migrate: vm '%s' went to %s whole and may run there: "
			      "too late to cancel; its answer decides", name, src.st->to);
	fail("cancelled");
	src.st->state = "cancelled";
	return 0;
}

/* DONE said it runs there: the VM here is no more. */
static void finish(void)
{
	struct migrate_status *st = src.st;
	u64 now = netstack_now_ms();
	char name[VM_NAME_MAX];

	st->downtime_ms = now - src.pause_ms;
	st->total_ms = now - src.start_ms;
	st->state = "done";
	strlcpy(name, src.vm->name, sizeof(name));
	src.self = true;
	vm_console_forget(src.vm);
	if (vm_destroy(src.vm, NULL, 0))
		kprintf("migrate: vm %s: runs on %s now, but could not be destroyed here\n", name,
			st->to);
	src.self = false;
	src.paused = false;
	kprintf("migrate: vm %s: runs on %s now; %u rounds, %lu pages, %lu KiB in %lu ms, "
		"downtime %lu ms (%lu pausing and taking its state, %lu sending the rest, %lu "
		"until the destination said it runs)\n", name, st->to, st->rounds,
		(unsigned long)st->pages_sent, (unsigned long)(st->bytes_sent >> 10),
		(unsigned long)st->total_ms, (unsigned long)st->downtime_ms,
		(unsigned long)(src.stopped_ms - src.pause_ms),
		(unsigned long)(src.end_ms - src.stopped_ms), (unsigned long)(now - src.end_ms));
	release();
}

/* ---- frames out ---- */

static void seal(u32 type, u32 instance, const char *name, u64 len)
{
	u32 seq = src.seq++;
	u64 t0 = rdtsc();

	src.frame_len = mig_seal(&src.keys, MIG_LABEL_SOURCE, src.frame, type, instance, seq, name,
				 len);
	src.frame_sent = 0;
	src.tsc_seal += rdtsc() - t0;
	if (src.damage && seq == src.damage && len) {
		src.frame[MIG_HDR_LEN + len - 1] ^= 0x5a;
		kprintf("migrate: vm %s: frame %u damaged on purpose (test aid)\n", src.st->vm, seq);
	}
}

static bool page_zero(const u8 *p)
{
	const u64 *q = (const u64 *)p;

	for (size_t i = 0; i < PAGE_SIZE / 8; i++)
		if (q[i])
			return false;
	return true;
}

static bool todo_test(u64 pfn)
{
	return src.todo[pfn / 64] & (1ULL << (pfn % 64));
}

/*
 * The next memory frame of this round: up to SEND_FRAME_PAGES pages of
 * one 2 MiB piece from the todo bitmap. Round 1 leaves out pages of zeros
 * (the destination's RAM starts zeroed); later rounds send what was
 * written, zeros or not. false: the round is done (or only zero pages were
 * looked at this call: come back).
 */
static bool memory_frame(bool *round_done)
{
	u8 *payload = src.frame + MIG_HDR_LEN;
	u8 bm[SNAP_MEM_PIECE_PAGES / 8] = { 0 };
	u64 mem = gmem_size(src.vm), piece = ~0ULL, scanned = 0, t0 = rdtsc();
	u32 taken = 0;

	*round_done = false;
	while (src.cursor < src.nbits && taken < SEND_FRAME_PAGES &&
	       scanned < SCAN_PAGES_PER_FRAME) {
		u64 pfn = src.cursor;
		const u8 *p;

		if (!(src.todo[pfn / 64] >> (pfn % 64))) { /* the rest of the word is clear */
			src.cursor = ALIGN_DOWN(pfn, 64) + 64;
			continue;
		}
		if (!todo_test(pfn)) {
			src.cursor++;
			continue;
		}
		if (piece != ~0ULL && pfn / SNAP_MEM_PIECE_PAGES != piece)
			break; /* a frame holds pages of one piece */
		scanned++;
		p = gmem_map(src.vm, pfn * PAGE_SIZE, PAGE_SIZE, false);
		src.cursor++;
		if (!p || (src.skip_zero && page_zero(p)))
			continue;
		piece = pfn / SNAP_MEM_PIECE_PAGES;
		bm[(pfn % SNAP_MEM_PIECE_PAGES) / 8] |= (u8)(1u << (pfn % 8));
		memcpy(payload + MIG_MEM_HDR + (u64)taken * PAGE_SIZE, p, PAGE_SIZE);
		taken++;
	}
	src.tsc_copy += rdtsc() - t0;
	if (src.cursor >= src.nbits && !taken)
		*round_done = true;
	if (!taken)
		return false;
	mig_ram_put_hdr(payload, piece * SZ_2M,
			(u32)MIN((u64)SNAP_MEM_PIECE_PAGES,
				 gmem_layout_ram_after(gmem_layout_of(mem), piece * SZ_2M) /
					 PAGE_SIZE),
			bm);
	seal(SNAP_SEC_MEMORY, (u32)piece, SNAP_MEMORY_NAME, MIG_MEM_HDR + (u64)taken * PAGE_SIZE);
	src.st->pages_sent += taken;
	return true;
}

/* Pause, take the last dirty set and the VM's state. */
static bool stop_vm(void)
{
	struct snap_writer w;
	const char *disk = NULL;
	u64 flush_ms;
	int err;

	src.pause_ms = netstack_now_ms();
	src.self = true;
	err = vm_pause(src.vm, NULL, 0);
	src.self = false;
	if (err) {
		fail("the VM could not be paused (%s)", vm_state_name(src.vm));
		return false;
	}
	src.paused = true;
	/* Devices finish their requests in flight (their writes to guest
	 * memory are marked) before the last harvest. */
	vm_devices_quiesce(src.vm);
	/* Disks on shared storage: all the VM wrote is on the disk before the
	 * destination can read it (docs/migration.md). */
	flush_ms = netstack_now_ms();
	err = vm_disks_flush(src.vm, &disk);
	if (err) {
		fail("disk '%s' could not be flushed (error %d)", disk, err);
		return false;
	}
	flush_ms = netstack_now_ms() - flush_ms;
	if (src.vm->cfg.nr_disks)
		kprintf("migrate: vm %s: paused; its disks flushed in %lu ms\n", src.st->vm,
			(unsigned long)flush_ms);
	if (src.logging) {
		/* The last harvest joins the round's, whose pages are unsent:
		 * end_round harvested them just before deciding to stop. */
		u64 words = ALIGN_UP(src.nbits, 64) / 64;
		u64 *last = kzalloc(words * 8);

		if (!last) {
			fail("out of memory for the last dirty bitmap");
			return false;
		}
		src.st->dirty_pages = gmem_dirty_harvest(src.vm, last, src.nbits);
		for (u64 w = 0; w < words; w++)
			src.todo[w] |= last[w];
		kfree(last);
		gmem_dirty_log_stop(src.vm);
		src.logging = false;
		src.skip_zero = false; /* a page written to zeros must go too */
	}
	src.cursor = 0;
	err = snap_writer_init(&w, &snap_page_alloc);
	if (!err)
		err = vm_state_save(&w, src.vm);
	if (err) {
		snap_writer_abort(&w);
		fail("the VM's state could not be saved (error %d)", err);
		return false;
	}
	err = snap_writer_finish(&w, &src.state_snap);
	if (err) {
		fail("the VM's state could not be saved (error %d)", err);
		return false;
	}
	src.stopped_ms = netstack_now_ms();
	set_state(S_STOPPED);
	return true;
}

/* The round is over: harvest and decide whether to stop the VM. */
static bool end_round(void)
{
	struct migrate_status *st = src.st;
	u64 now = netstack_now_ms(), ms = MAX(now - src.round_start_ms, 1ULL);
	u64 dirty, rate = src.round_bytes * 1000 / ms; /* bytes a second */
	u64 est_ms;

	dirty = gmem_dirty_harvest(src.vm, src.todo, src.nbits);
	st->dirty_pages = dirty;
	st->rate_kib_s = rate >> 10;
	est_ms = rate ? dirty * (PAGE_SIZE + 32) * 1000 / rate : ~0ULL;
	kprintf("migrate: vm %s: round %u: %lu KiB in %lu ms (%lu KiB/s); %lu pages written "
		"meanwhile, about %lu ms to send; CPU 0 spent %lu ms copying pages, %lu sealing, "
		"%lu in lwIP's output, %lu halted\n", st->vm, st->rounds,
		(unsigned long)(src.round_bytes >> 10), (unsigned long)ms,
		(unsigned long)st->rate_kib_s, (unsigned long)dirty, (unsigned long)est_ms,
		(unsigned long)tsc_to_ms(src.tsc_copy),
		(unsigned long)tsc_to_ms(src.tsc_seal),
		(unsigned long)tsc_to_ms(src.tsc_write),
		(unsigned long)(tsc_to_ms(this_cpu()->halted_tsc - src.halted_at_start)));
	src.tsc_copy = src.tsc_seal = src.tsc_write = 0;
	src.halted_at_start = this_cpu()->halted_tsc;
	/* The rest fits the target; but after a round much longer than
	 * sending the rest takes (round 1 of a quiet guest: seconds), one
	 * more round, as short as that, usually leaves a smaller rest: what
	 * the guest writes in it rather than in the whole long round (a quiet
	 * Linux guest: 100 pages after 7 s, 40 after 50 ms; bench/README.md,
	 * "Live migration"). A round that does not shrink the rest ends the
	 * copy as before. */
	bool fits = est_ms <= mig_cfg.downtime_ms, one_more = fits && est_ms * 4 < ms;

	if ((fits && !one_more) || st->rounds >= MAX_ROUNDS ||
	    (st->rounds >= 2 && dirty >= src.prev_dirty)) {
		src.draining = true;
		src.drain_start_ms = now;
		return true;
	}
	src.prev_dirty = dirty;
	st->rounds++;
	src.cursor = 0;
	src.round_bytes = 0;
	src.round_start_ms = now;
	return true;
}

/* After the last pages: each section of the state snapshot, then END. */
static bool state_frame(void)
{
	int err = src.sc_started ? snap_next(&src.sc) : snap_first(&src.state_snap, &src.sc);
	u64 len;

	src.sc_started = true;
	if (err) {
		seal(SNAP_SEC_END, 0, "end", 0);
		src.end_sent = true;
		return true;
	}
	len = src.sc.end - src.sc.start;
	if (len > MIG_MAX_PAYLOAD) {
		fail("section '%s' is %lu KiB, more than a frame carries (%lu KiB): a RAM disk that "
		     "large cannot migrate yet", src.sc.name, (unsigned long)(len >> 10),
		     (unsigned long)(MIG_MAX_PAYLOAD >> 10));
		return false;
	}
	snap_read_at(&src.state_snap, src.sc.start, src.frame + MIG_HDR_LEN, len);
	seal(src.sc.type, src.sc.instance, src.sc.name, len);
	return true;
}

/*
 * The copy is over (end_round): the VM stops once lwIP holds nothing unacked,
 * or after DRAIN_MAX_MS. The last round's frames, up to a window of them (128
 * segments, about 180 KiB: 14 ms at 13 MiB/s, and the destination's checking
 * them), would otherwise be ahead of the rest in the queue while the VM
 * stands; the VM runs while they go instead, and what it writes meanwhile
 * joins the rest (stop_vm's harvest).
 */
#define DRAIN_MAX_MS 500

static bool link_empty(void)
{
	return !src.pcb->unsent && !src.pcb->unacked;
}

static bool drained(void)
{
	return link_empty() || netstack_now_ms() - src.drain_start_ms >= DRAIN_MAX_MS;
}

/* Builds the next frame; false when there is none now. */
static bool next_frame(void)
{
	bool done;

	if (src.state == S_COPYING) {
		if (src.vm->state != VM_RUNNING) {
			fail("the VM left the running state (%s) during the copy",
			     vm_state_name(src.vm));
			return false;
		}
		if (src.draining) {
			if (!drained())
				return false;
			src.draining = false;
			kprintf("migrate: vm %s: the link %s in %lu ms; stopping the VM\n", src.st->vm,
				link_empty() ? "emptied" : "did not empty",
				(unsigned long)(netstack_now_ms() - src.drain_start_ms));
			return stop_vm(); /* then on at once: no ACK is coming to call again */
		}
		if (memory_frame(&done))
			return true;
		if (done && !end_round())
			return false;
		return src.state == S_COPYING || src.state == S_STOPPED ? src.frame_sent < src.frame_len
									 : false;
	}
	if (src.state == S_STOPPED) {
		if (src.cursor < src.nbits && memory_frame(&done))
			return true;
		if (src.cursor < src.nbits)
			return true; /* zero pages skipped: only in round 1, not here */
		if (src.end_sent)
			return false;
		return state_frame();
	}
	return false;
}

/* Writes what lwIP takes; builds frames while it takes them. */
static void pump(void)
{
	for (int built = 0; src.state == S_COPYING || src.state == S_STOPPED;) {
		if (src.frame_sent < src.frame_len) {
			u64 t0 = rdtsc();
			u32 n = mig_tcp_write(src.pcb, src.frame + src.frame_sent,
					      src.frame_len - src.frame_sent);

			src.tsc_write += rdtsc() - t0;
			if (!n)
				break;
			src.frame_sent += n;
			src.round_bytes += n;
			src.st->bytes_sent += n;
			continue;
		}
		if (src.end_sent) {
			src.end_ms = netstack_now_ms();
			set_state(S_CONFIRMING);
			src.deadline_ms = netstack_now_ms() + DONE_TIMEOUT_MS;
			break;
		}
		if (built++ == 2)
			break; /* enough for one call: the rest on the next */
		if (!next_frame())
			break;
	}
	if (src.pcb) {
		u64 t0 = rdtsc();

		tcp_output(src.pcb);
		src.tsc_write += rdtsc() - t0;
	}
}

/* ---- frames in ---- */

static void got_answer(void)
{
	struct mig_answer a;

	if (src.rx.type != MIG_ANSWER || mig_answer_get(src.rx.payload, src.rx.len, &a)) {
		fail("the destination's first frame is not a well-formed answer");
		return;
	}
	if (!a.ok) {
		fail("the destination refused: %s", a.text);
		return;
	}
	/* From here every frame in both directions carries both nonces. */
	memcpy(src.keys.session + MIG_NONCE_LEN, a.nonce, MIG_NONCE_LEN);
	memset(src.todo, 0xff, ALIGN_UP(src.nbits, 64) / 8);
	if (src.nbits % 64)
		src.todo[src.nbits / 64] = (1ULL << (src.nbits % 64)) - 1;
	/* Not the PCI hole: no RAM there (8 words of bits per 2 MiB chunk). */
	for (u64 c = 0; c < src.vm->gmem.nr_chunks; c++)
		if (!src.vm->gmem.chunks[c])
			memset(&src.todo[c * 8], 0, 8 * sizeof(u64));
	src.cursor = 0;
	src.skip_zero = true;
	src.st->rounds = 1;
	src.round_start_ms = netstack_now_ms();
	src.round_bytes = 0;
	src.tsc_copy = src.tsc_seal = src.tsc_write = 0;
	src.halted_at_start = this_cpu()->halted_tsc;
	if (!mig_cfg.precopy) {
		/* migrate_precopy=0: stop first, then copy everything once. */
		kprintf("migrate: vm %s: %s accepted it; copying %lu MiB with the VM stopped "
			"(migrate_precopy=0)\n", src.st->vm, src.st->to,
			(unsigned long)(gmem_size(src.vm) >> 20));
		if (stop_vm())
			pump();
		return;
	}
	if (gmem_dirty_log_start(src.vm)) {
		fail("dirty logging could not start (out of memory)");
		return;
	}
	src.logging = true;
	kprintf("migrate: vm %s: %s accepted it; copying %lu MiB while it runs\n", src.st->vm,
		src.st->to, (unsigned long)(gmem_size(src.vm) >> 20));
	set_state(S_COPYING);
	pump();
}

static void got_done(void)
{
	struct mig_answer a;

	if (src.rx.type != MIG_DONE || mig_answer_get(src.rx.payload, src.rx.len, &a)) {
		fail("the destination sent a stray frame");
		return;
	}
	/* The destination may give up at any point, and says why. */
	if (!a.ok) {
		gave_up(a.text);
		return;
	}
	if (src.state != S_CONFIRMING) {
		fail("the destination confirmed before the end of the stream");
		return;
	}
	finish();
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	if (!p) {
		fail("the destination closed the connection");
		return ERR_ABRT;
	}
	if (src.state == S_IDLE || pcb != src.pcb) {
		pbuf_free(p);
		return ERR_OK;
	}
	for (struct pbuf *q = p; q && src.state != S_IDLE; q = q->next) {
		const u8 *d = q->payload;
		u64 left = q->len;

		while (left && src.state != S_IDLE) {
			u64 used;
			enum mig_rx_result r = mig_rx_feed(&src.rx, d, left, &used);

			d += used;
			left -= used;
			if (r == MIG_RX_ERROR)
				fail("from the destination: %s", src.rx.err);
			else if (r == MIG_RX_FRAME && src.state == S_OFFERED)
				got_answer();
			else if (r == MIG_RX_FRAME)
				got_done();
		}
	}
	if (src.state != S_IDLE)
		tcp_recved(pcb, p->tot_len);
	pbuf_free(p);
	return src.state == S_IDLE ? ERR_ABRT : ERR_OK;
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	if (src.state == S_IDLE || pcb != src.pcb)
		return ERR_OK;
	src.last_progress_ms = netstack_now_ms();
	pump();
	return src.state == S_IDLE ? ERR_ABRT : ERR_OK;
}

static void on_err(void *arg, err_t err)
{
	if (src.state == S_IDLE)
		return;
	src.pcb = NULL; /* lwIP freed it */
	fail(err == ERR_RST ? "the destination reset the connection"
			    : "the connection to the destination failed (error %d)", (int)err);
}

/* Offer (under a session of zeros) and configuration (under the source's
 * nonce alone): before the destination's nonce. */
static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
	static struct snap_vm_config cfg;
	struct mig_offer o = { .downtime_ms = mig_cfg.downtime_ms };
	struct snap_writer w;
	struct snapshot one = { 0 };
	struct snap_cursor c;
	u64 len;
	int ret;

	if (src.state != S_CONNECTING || pcb != src.pcb)
		return ERR_OK;
	memcpy(o.nonce, src.nonce, MIG_NONCE_LEN);
	mig_vm_features(src.vm, o.features);
	len = mig_offer_put(src.frame + MIG_HDR_LEN, &o);
	seal(MIG_OFFER, 0, "offer", len); /* under a session of zeros: it carries our nonce */
	memcpy(src.keys.session, src.nonce, MIG_NONCE_LEN);
	if (mig_tcp_write(pcb, src.frame, src.frame_len) != src.frame_len) {
		fail("the offer did not fit lwIP's send buffer");
		return ERR_ABRT;
	}
	/* The configuration section, as a snapshot writes it. */
	memset(&cfg, 0, sizeof(cfg));
	strlcpy(cfg.name, src.vm->name, sizeof(cfg.name));
	cfg.mem_size = gmem_size(src.vm);
	cfg.nr_vcpus = src.vm->nr_vcpus;
	ret = config_format_vm(&src.vm->cfg, NULL, cfg.line, sizeof(cfg.line));
	if (!ret)
		ret = snap_writer_init(&w, &snap_page_alloc);
	if (!ret) {
		ret = snap_save_config(&w, &cfg);
		if (ret)
			snap_writer_abort(&w);
		else
			ret = snap_writer_finish(&w, &one);
	}
	if (!ret)
		ret = snap_first(&one, &c);
	if (ret) {
		snap_free(&one);
		fail("the VM's configuration could not be written (error %d)", ret);
		return ERR_ABRT;
	}
	len = c.end - c.start;
	snap_read_at(&one, c.start, src.frame + MIG_HDR_LEN, len);
	seal(c.type, c.instance, c.name, len);
	snap_free(&one);
	if (mig_tcp_write(pcb, src.frame, src.frame_len) != src.frame_len) {
		fail("the configuration did not fit lwIP's send buffer");
		return ERR_ABRT;
	}
	src.frame_len = src.frame_sent = 0;
	tcp_output(pcb);
	set_state(S_OFFERED);
	src.deadline_ms = netstack_now_ms() + ANSWER_TIMEOUT_MS;
	return ERR_OK;
}

/* ---- starting ---- */

static int parse_to(const char *to, ip_addr_t *ip, u16 *port, char *err, size_t n)
{
	char host[IP4ADDR_STRLEN_MAX];
	const char *colon = strchr(to, ':');
	size_t hl = colon ? (size_t)(colon - to) : strlen(to);
	u64 p = 0;

	if (hl == 0 || hl >= sizeof(host))
		return vm_err(err, n, -EINVAL, "migrate: '%s' is not IP or IP:PORT", to);
	memcpy(host, to, hl);
	host[hl] = 0;
	if (!ipaddr_aton(host, ip) || !IP_IS_V4(ip))
		return vm_err(err, n, -EINVAL, "migrate: '%s' is not an IPv4 address", host);
	if (!colon) {
		*port = MIGRATE_PORT_DEFAULT;
		return 0;
	}
	for (const char *c = colon + 1; *c; c++) {
		if (*c < '0' || *c > '9' || p > 65535)
			return vm_err(err, n, -EINVAL, "migrate: '%s' is not a port", colon + 1);
		p = p * 10 + (u64)(*c - '0');
	}
	if (p < 1 || p > 65535)
		return vm_err(err, n, -EINVAL, "migrate: '%s' is not a port", colon + 1);
	*port = (u16)p;
	return 0;
}

int migrate_start(struct vm *vm, const char *to, u32 damage_frame, bool wrong_key, char *err,
		  size_t n)
{
	struct migrate_status *st;
	int ret;

	if (vm_has_passthru(vm))
		return vm_err(err, n, -ENOTSUP, "migrate: vm %s has a PCI function passed through "
			      "(pci=): the device cannot move with it", vm->name);
	if (!mig_cfg.keyed)
		return vm_err(err, n, -ENOTSUP, "migrate: this host has no migrate_key=");
	if (src.state != S_IDLE)
		return vm_err(err, n, -EBUSY, "migrate: vm %s is being migrated; one at a time",
			      src.vm->name);
	if (vm->state != VM_RUNNING)
		return vm_err(err, n, -EINVAL, "migrate: vm %s is %s, not running", vm->name,
			      vm_state_name(vm));
	memset(&src, 0, sizeof(src));
	ret = parse_to(to, &src.ip, &src.port, err, n);
	if (ret)
		return ret;
	src.damage = damage_frame;
	src.nbits = gmem_end(vm) / PAGE_SIZE; /* by guest-physical page, the hole's too */
	src.frame = (u8 *)(uintptr_t)page_alloc(FRAME_PAGES, PAGE_SIZE);
	src.todo = kzalloc(ALIGN_UP(src.nbits, 64) / 8);
	src.pcb = tcp_new();
	if (!src.frame || !src.todo || !src.pcb) {
		if (src.pcb)
			tcp_abort(src.pcb);
		src.pcb = NULL;
		src.state = S_CONNECTING; /* for release() */
		release();
		return vm_err(err, n, -ENOMEM, "migrate: not enough memory to start");
	}
	st = &history[history_next++ % HISTORY];
	memset(st, 0, sizeof(*st));
	strlcpy(st->vm, vm->name, sizeof(st->vm));
	ipaddr_ntoa_r(&src.ip, st->to, sizeof(st->to));
	fmt_snprintf(st->to + strlen(st->to), sizeof(st->to) - strlen(st->to), ":%u", src.port);
	src.st = st;
	src.vm = vm;
	src.start_ms = src.last_progress_ms = netstack_now_ms();
	src.deadline_ms = src.start_ms + CONNECT_TIMEOUT_MS;
	{
		char key[sizeof(mig_cfg.key)];
		size_t kl = strlen(mig_cfg.key);

		memcpy(key, mig_cfg.key, kl + 1);
		if (wrong_key)
			key[kl - 1] ^= 1;
		mig_keys_init(&src.keys, key, kl);
		memset(key, 0, sizeof(key));
	}
	mig_nonce(src.nonce);
	mig_rx_init(&src.rx, &src.keys, MIG_LABEL_DEST, src.rx_buf, sizeof(src.rx_buf));
	set_state(S_CONNECTING);
	tcp_arg(src.pcb, NULL);
	tcp_err(src.pcb, on_err);
	tcp_recv(src.pcb, on_recv);
	tcp_sent(src.pcb, on_sent);
	tcp_nagle_disable(src.pcb);
	if (tcp_connect(src.pcb, &src.ip, src.port, on_connected) != ERR_OK) {
		fail("lwIP could not start the connection");
		return vm_err(err, n, -EIO, "migrate: cannot connect to %s", st->to);
	}
	kprintf("migrate: vm %s: to %s (downtime target %u ms)\n", vm->name, st->to,
		mig_cfg.downtime_ms);
	return 0;
}

void migrate_send_poll(u64 now_ms)
{
	switch (src.state) {
	case S_IDLE:
		return;
	case S_CONNECTING:
		if (now_ms > src.deadline_ms)
			fail("no connection to the destination in %u s", CONNECT_TIMEOUT_MS / 1000);
		return;
	case S_OFFERED:
		if (now_ms > src.deadline_ms)
			fail("the destination did not answer in %u s", ANSWER_TIMEOUT_MS / 1000);
		return;
	case S_CONFIRMING:
		if (now_ms > src.deadline_ms)
			fail("the destination did not confirm in %u s", DONE_TIMEOUT_MS / 1000);
		return;
	case S_COPYING:
	case S_STOPPED:
		if (now_ms - src.last_progress_ms > STALL_TIMEOUT_MS) {
			fail("nothing acknowledged for %u s: the destination is gone?",
			     STALL_TIMEOUT_MS / 1000);
			return;
		}
		pump();
		return;
	}
}
