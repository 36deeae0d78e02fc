/* The hypervisor around the management API, faked (tests/unit/api_fakes.h). */
#include "api_fakes.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/api_host.h"
#include "hv/bootinfo.h"
#include "hv/console.h"
#include "hv/image_store.h"
#include "hv/migrate.h"
#include "hv/mm.h"
#include "hv/vm_console.h"
#include "hv/vm_disks.h"
#include "hv/vm_net.h"
#include "hv/vm_lifecycle.h"

struct vm *vms[CONFIG_MAX_VMS];
unsigned nr_vms;
u64 tsc_khz = 1000000;
struct fake_calls fake;
char fake_log[8192];
u64 fake_free_pages = 1 << 20; /* 4 GiB */
u64 fake_pages_live;

static struct boot_info bi;
static unsigned snapshots;

/* ---- the transport ---- */

static u32 io_send(void *ctx, const void *data, u32 len)
{
	struct fake_io *io = ctx;
	u32 k = io->full ? 0 : io->window ? (len < io->window ? len : io->window) : len;

	if (k > sizeof(io->sent) - io->len)
		k = sizeof(io->sent) - io->len;
	memcpy(io->sent + io->len, data, k);
	io->len += k;
	return k;
}

static void io_close(void *ctx)
{
	((struct fake_io *)ctx)->closed = true;
}

const struct api_io fake_api_io = { io_send, io_close };

/* ---- memory, log ---- */

void *kmalloc(size_t size) { return malloc(size); }
void *kzalloc(size_t size) { return calloc(1, size); }
void kfree(void *p) { free(p); }

u64 page_alloc(u64 npages, u64 align)
{
	void *p;

	if (npages > fake_free_pages)
		return 0;
	p = aligned_alloc(align, npages * PAGE_SIZE);
	if (p) {
		memset(p, 0, npages * PAGE_SIZE);
		fake_pages_live += npages;
	}
	return (u64)(uintptr_t)p;
}

void page_free(u64 pa, u64 npages)
{
	fake_pages_live -= npages;
	free((void *)(uintptr_t)pa);
}

u64 mm_free_pages(void) { return fake_free_pages; }

void kprintf(const char *fmt, ...)
{
	size_t n = strlen(fake_log);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(fake_log + n, sizeof(fake_log) - n, fmt, ap);
	va_end(ap);
}

/* ---- boot modules ---- */

const struct boot_info *hv_boot_info(void) { return &bi; }

void fake_module(const char *name, u64 size)
{
	struct boot_module *m = &bi.mods[bi.nr_mods++];
	static char data[1];

	m->start = (u64)(uintptr_t)data;
	m->end = m->start + size;
	snprintf(m->cmdline, sizeof(m->cmdline), "%s", name);
}

const struct boot_module *bootinfo_find_module(const struct boot_info *b, const char *name)
{
	for (unsigned i = 0; i < b->nr_mods; i++)
		if (!strcmp(b->mods[i].cmdline, name))
			return &b->mods[i];
	return NULL;
}

/* ---- VMs ---- */

struct vm *fake_vm(const char *name, enum vm_state state, unsigned vcpus, u64 mem_mib)
{
	struct vm *vm = calloc(1, sizeof(*vm));

	snprintf(vm->name, sizeof(vm->name), "%s", name);
	snprintf(vm->cfg.name, sizeof(vm->cfg.name), "%s", name);
	snprintf(vm->cfg.image, sizeof(vm->cfg.image), "kernel");
	vm->cfg.mem = mem_mib << 20;
	vm->cfg.cpus = vcpus;
	vm->cfg.load = 0x100000;
	vm->cfg.mode = START_LONG64;
	vm->state = state;
	vm->nr_vcpus = vcpus;
	for (unsigned i = 0; i < vcpus; i++) {
		vm->vcpus[i] = calloc(1, sizeof(struct vcpu));
		vm->vcpus[i]->stats.run_tsc = (i + 1) * 2000000ULL; /* 2 ms, 4 ms, ... */
		vm->vcpus[i]->stats.exits[VMEXIT_IO] = 10 * (i + 1);
	}
	for (unsigned i = 0; i < CONFIG_MAX_VMS; i++)
		if (!vms[i]) {
			vm->id = i;
			vms[i] = vm;
			nr_vms++;
			return vm;
		}
	abort();
}

static void free_vm(struct vm *vm)
{
	vms[vm->id] = NULL;
	nr_vms--;
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		free(vm->vcpus[i]);
	free(vm);
}

static void forget_image(void *ctx, const char *name, u64 bytes)
{
	char (*names)[IMAGE_NAME_MAX] = ctx;

	for (unsigned i = 0; i < IMAGE_STORE_SLOTS; i++)
		if (!names[i][0]) {
			snprintf(names[i], IMAGE_NAME_MAX, "%s", name);
			return;
		}
}

void fake_reset(void)
{
	char names[IMAGE_STORE_SLOTS][IMAGE_NAME_MAX] = { { 0 } };
	char err[160];

	for (unsigned i = 0; i < CONFIG_MAX_VMS; i++)
		if (vms[i])
			free_vm(vms[i]);
	image_store_list(forget_image, names);
	for (unsigned i = 0; i < IMAGE_STORE_SLOTS; i++)
		if (names[i][0])
			image_store_delete(names[i], err, sizeof(err));
	memset(&fake, 0, sizeof(fake));
	fake_log[0] = 0;
	bi.nr_mods = 0;
	fake_free_pages = 1 << 20;
	snapshots = 0;
}

void fake_console_output(struct vm *vm, const char *s)
{
	struct vm_console *c = &vm->console;

	for (; *s; s++) {
		c->ring[c->total++ % VM_CONSOLE_RING] = *s;
		if (*s == '\n')
			c->line_start = c->total;
	}
}

struct vm *vm_find(const char *name)
{
	for (unsigned i = 0; i < CONFIG_MAX_VMS; i++)
		if (vms[i] && !strcmp(vms[i]->name, name))
			return vms[i];
	return NULL;
}

const char *vm_state_name(const struct vm *vm)
{
	static const char *const n[] = { "running", "ended", "stopped", "resetting", "paused" };

	return n[vm->state];
}

int vm_err(char *err, size_t n, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		va_start(ap, fmt);
		vsnprintf(err, n, fmt, ap);
		va_end(ap);
	}
	return ret;
}

int vm_pause(struct vm *vm, char *err, size_t n)
{
	fake.pause++;
	if (vm->state != VM_RUNNING)
		return vm_err(err, n, -EINVAL, "pause: vm %s is %s, not running", vm->name,
			      vm_state_name(vm));
	vm->state = VM_PAUSED;
	return 0;
}

int vm_resume(struct vm *vm, char *err, size_t n)
{
	fake.resume++;
	if (vm->state != VM_PAUSED)
		return vm_err(err, n, -EINVAL, "resume: vm %s is %s, not paused", vm->name,
			      vm_state_name(vm));
	vm->state = VM_RUNNING;
	return 0;
}

int vm_power_button(struct vm *vm, char *err, size_t n)
{
	fake.power++;
	if (vm->state != VM_RUNNING)
		return vm_err(err, n, -EINVAL, "stop: vm %s is %s, not running", vm->name,
			      vm_state_name(vm));
	return 0;
}

int vm_reset_now(struct vm *vm, char *err, size_t n)
{
	fake.reset++;
	if (vm->state != VM_RUNNING)
		return vm_err(err, n, -EINVAL, "reset: vm %s is %s, not running", vm->name,
			      vm_state_name(vm));
	return 0;
}

int vm_destroy(struct vm *vm, char *err, size_t n)
{
	fake.destroy++;
	free_vm(vm);
	return 0;
}

void vm_end(struct vm *vm, enum vm_state how, int code)
{
	fake.end++;
	if (vm->state == VM_RUNNING)
		vm->state = how;
}

void vm_console_forget(struct vm *vm)
{
}

static void report(void *ctx, const char *msg)
{
	char *err = ctx;

	if (!err[0])
		snprintf(err, 160, "%s", msg);
}

static int create(const char *line, bool start, char *err, size_t n)
{
	static struct hv_config cfg;
	char first[160] = "";
	struct vm *vm;

	fake.create++;
	snprintf(fake.last_line, sizeof(fake.last_line), "%s", line);
	config_init(&cfg);
	if (config_parse(&cfg, line, strlen(line), report, first) || cfg.nr_vms != 1)
		return vm_err(err, n, -EINVAL, "%s", first[0] ? first : "create: not one VM");
	fake.last_cfg = cfg.vms[0];
	if (vm_find(cfg.vms[0].name))
		return vm_err(err, n, -EEXIST, "create: a VM named '%s' exists already",
			      cfg.vms[0].name);
	vm = fake_vm(cfg.vms[0].name, start ? VM_RUNNING : VM_PAUSED, cfg.vms[0].cpus,
		     cfg.vms[0].mem >> 20);
	vm->cfg = cfg.vms[0];
	return 0;
}

int vm_create_line(const char *line, char *err, size_t n) { return create(line, true, err, n); }
int vm_create_paused(const char *line, char *err, size_t n) { return create(line, false, err, n); }

int vm_snapshot(struct vm *vm, unsigned *id, char *err, size_t n)
{
	fake.snapshot++;
	if (vm->state != VM_RUNNING && vm->state != VM_PAUSED)
		return vm_err(err, n, -EINVAL, "snapshot: vm %s is %s, not running or paused",
			      vm->name, vm_state_name(vm));
	*id = ++snapshots;
	return 0;
}

int vm_restore(unsigned id, const char *name, char *err, size_t n)
{
	fake.restore++;
	if (id > snapshots)
		return vm_err(err, n, -ENOENT, "restore: no snapshot %u", id);
	fake_vm(name, VM_RUNNING, 1, 16);
	return 0;
}

int vm_snapshot_drop(unsigned id, char *err, size_t n)
{
	fake.drop++;
	if (id > snapshots)
		return vm_err(err, n, -ENOENT, "drop: no snapshot %u", id);
	return 0;
}

void vm_snapshot_list(void (*out)(void *ctx, unsigned id, const char *vm, u64 bytes), void *ctx)
{
	for (unsigned i = 1; i <= snapshots; i++)
		out(ctx, i, "web", 1 << 20);
}

u64 gmem_dirty_count(const struct vm *vm) { return 7; }

/* Counters that tell the fields apart: disk i's are 10*i + 1 ... 7. */
unsigned vm_disks_io(struct vm *vm, struct vm_disk_io *out, unsigned max)
{
	unsigned n = vm->cfg.nr_disks < max ? vm->cfg.nr_disks : max;

	for (unsigned i = 0; i < n; i++) {
		u64 b = 10 * i;

		out[i] = (struct vm_disk_io){ vm->cfg.disks[i].spec, vm->cfg.disks[i].ro,
					      { b + 1, b + 2, b + 3, b + 4, b + 5, b + 6, b + 7 } };
	}
	return n;
}

bool vm_net_io(struct vm *vm, struct vm_net_io *out)
{
	if (!vm->cfg.net)
		return false;
	*out = (struct vm_net_io){ 1, 2, 3, 4, 5, 6 };
	return true;
}

/* ---- core/api_host.h ---- */

void api_host_info(struct api_host_info *h)
{
	h->backend = "svm";
	h->cpus = 4;
	h->free_mib = fake_free_pages * PAGE_SIZE >> 20;
	h->uptime_s = 42;
	h->api_last_request_tsc = 1234;
	h->cpu = (struct cpu_featureset){ 0x00000f61, { 0x80202001, 0x078bfbff, 0, 0, 0, 0x1,
							0x20100800 } };
}

u64 api_vm_guest_tsc(const struct vm *vm) { return 5678; }
u64 api_vm_host_tsc_at_guest_0(const struct vm *vm) { return (u64)0 - vm->clock.tsc_offset; }

u64 api_console_start(struct vm *vm)
{
	return vm->console.line_start;
}

u32 api_console_read(struct vm *vm, u64 *cursor, char *buf, u32 n, u64 *lost)
{
	u32 k = 0;

	for (; k < n && *cursor < vm->console.total; k++, (*cursor)++)
		buf[k] = vm->console.ring[*cursor % VM_CONSOLE_RING];
	return k;
}

u32 api_console_write(struct vm *vm, const u8 *s, u32 n)
{
	u32 k = 0;

	fake.console_in++;
	for (; k < n && fake.console_in_len < sizeof(fake.console_in_buf); k++)
		fake.console_in_buf[fake.console_in_len++] = (char)s[k];
	return k;
}

/* ---- live migration (hv/migrate.h): one record, as the real one keeps ---- */

static struct migrate_status fake_mig;
static bool fake_mig_on;

int migrate_start(struct vm *vm, const char *to, u32 damage_frame, bool wrong_key, char *err,
		  size_t n)
{
	const char *colon = strchr(to, ':');

	if (!strchr(to, '.') || (colon && strchr(colon + 1, ':')))
		return vm_err(err, n, -EINVAL, "migrate: '%s' is not IP or IP:PORT", to);
	if (fake_mig_on)
		return vm_err(err, n, -EBUSY, "migrate: vm %s is being migrated; one at a time",
			      fake_mig.vm);
	memset(&fake_mig, 0, sizeof(fake_mig));
	strncpy(fake_mig.vm, vm->name, sizeof(fake_mig.vm) - 1);
	strncpy(fake_mig.to, to, sizeof(fake_mig.to) - 1);
	fake_mig.state = "connecting";
	fake_mig.rounds = damage_frame + (wrong_key ? 1000 : 0); /* lets a test see the fields */
	fake_mig_on = true;
	return 0;
}

int migrate_cancel(const char *name, char *err, size_t n)
{
	if (!fake_mig_on || strcmp(fake_mig.vm, name))
		return vm_err(err, n, -ENOENT, "migrate: no migration of vm '%s' under way", name);
	fake_mig_on = false;
	fake_mig.state = "cancelled";
	return 0;
}

int migrate_status(const char *name, struct migrate_status *st)
{
	if (!fake_mig.vm[0] || strcmp(fake_mig.vm, name))
		return -ENOENT;
	*st = fake_mig;
	return 0;
}

bool migrate_busy(const struct vm *vm)
{
	return fake_mig_on && !strcmp(fake_mig.vm, vm->name);
}
