/*
 * The management API's calls (docs/api.md): one table of method, path and
 * what the body is; each call checks its JSON body against a table of
 * fields and acts through the same functions as the monitor's commands
 * (include/hv/vm_lifecycle.h).
 */
#include "core/api_http.h"
#include "core/api_host.h"
#include "hv/cpu_features.h"
#include "hv/api.h"
#include "hv/config.h"
#include "hv/config_format.h"
#include "hv/console.h"
#include "hv/gmem.h"
#include "hv/hv.h"
#include "hv/image_store.h"
#include "hv/migrate.h"
#include "hv/mm.h"
#include "hv/platform.h"
#include "hv/vcpu.h"
#include "hv/version.h"
#include "hv/vm.h"
#include "hv/vm_console.h"
#include "hv/vm_disks.h"
#include "hv/vm_net.h"
#include "hv/vm_lifecycle.h"
#include "lib/format.h"
#include "lib/string.h"
#include "asm/cpu.h"

#define STOP_TIMEOUT_S 30     /* stop: the power button, then a hard stop after this */
#define STOP_TIMEOUT_MAX_S 3600
#define SPEC_LINE_MAX 1536    /* a vm= word made from a JSON spec */
#define MEM_MIB_MAX (1024 * 1024) /* the configuration's 1024G */

/* ---- helpers ---- */

/* errno of a lifecycle action to a status: most refusals are about the
 * state the VM is in. */
static u16 status_of(int ret)
{
	switch (ret) {
	case -ENOENT:
		return 404;
	case -EINVAL:
	case -EBUSY:
	case -EEXIST:
		return 409;
	case -ENOMEM:
	case -ENOSPC:
		return 507;
	default:
		return 500;
	}
}

/* The body's fields against the table (none: an empty body or {}). */
static bool fields(struct api_call *c, struct json_doc *d, struct json_field *f, unsigned nf)
{
	char err[API_ERR_MAX];

	if (json_parse(d, c->body, c->body_len, err, sizeof(err)) ||
	    json_fields(d, 0, f, nf, err, sizeof(err))) {
		api_error(c, 400, "%s", err);
		return false;
	}
	return true;
}

static bool no_fields(struct api_call *c)
{
	struct json_doc d;

	return fields(c, &d, NULL, 0);
}

/* The VM named in the path; NULL with 404. */
static struct vm *path_vm(struct api_call *c)
{
	struct vm *vm = vm_find(c->arg);

	if (!vm)
		api_error(c, 404, "no vm '%s'", c->arg);
	return vm;
}

static u64 cpu_ms(u64 tsc)
{
	return tsc_khz ? tsc / tsc_khz : 0;
}

/* {"name", "state", "vcpus", "mem_mib"}, open: the caller adds and closes. */
static void vm_summary(struct json_writer *w, const struct vm *vm)
{
	jw_obj(w);
	jw_kstr(w, "name", vm->name);
	jw_kstr(w, "state", vm_state_name(vm));
	jw_ku64(w, "vcpus", vm->nr_vcpus);
	jw_ku64(w, "mem_mib", vm->cfg.mem >> 20);
}

/* ---- the host ---- */

static void get_host(struct api_call *c)
{
	struct api_host_info h;
	char text[CPU_FEATURESET_TEXT_MAX];

	if (!no_fields(c))
		return;
	api_host_info(&h);
	jw_obj(c->out);
	jw_kstr(c->out, "version", UTSUWA_VERSION);
	jw_kstr(c->out, "backend", h.backend);
	jw_ku64(c->out, "cpus", h.cpus);
	jw_ku64(c->out, "free_mib", h.free_mib);
	jw_ku64(c->out, "uptime_s", h.uptime_s);
	jw_ku64(c->out, "vms", nr_vms);
	jw_ku64(c->out, "api_last_request_tsc", h.api_last_request_tsc);
	cpu_featureset_format(&h.cpu, text);
	jw_kstr(c->out, "cpu_features", text);
	jw_obj_end(c->out);
}

/* ---- CPU-feature pools (docs/migration.md) ---- */

static void pool_json(struct json_writer *w, const char *name, const struct cpu_featureset *set)
{
	char text[CPU_FEATURESET_TEXT_MAX];

	cpu_featureset_format(set, text);
	jw_obj(w);
	jw_kstr(w, "name", name);
	jw_kstr(w, "features", text);
	jw_obj_end(w);
}

static void get_pools(struct api_call *c)
{
	struct cpu_pool p;

	if (!no_fields(c))
		return;
	jw_obj(c->out);
	jw_key(c->out, "pools");
	jw_arr(c->out);
	for (unsigned i = 0; i < CPU_POOLS_MAX; i++)
		if (cpu_pool_at(i, &p))
			pool_json(c->out, p.name, &p.set);
	jw_arr_end(c->out);
	jw_obj_end(c->out);
}

static void put_pool(struct api_call *c)
{
	struct json_field f[] = {
		{ .name = "features", .types = BIT(JSON_STRING), .max = CPU_FEATURESET_TEXT_MAX - 1 },
	};
	char text[CPU_FEATURESET_TEXT_MAX];
	struct cpu_featureset set;
	struct json_doc d;

	if (!fields(c, &d, f, ARRAY_SIZE(f)))
		return;
	if (f[0].tok < 0) {
		api_error(c, 400, "field 'features' is missing");
		return;
	}
	json_string(&d, f[0].tok, text, sizeof(text));
	if (cpu_featureset_parse(text, strlen(text), &set)) {
		api_error(c, 400, "field 'features': not SIG:W0.W1.W2.W3.W4.W5.W6 in hex, as GET "
			  "/host's cpu_features");
		return;
	}
	if (cpu_pool_define(c->arg, &set)) {
		api_error(c, 507, "already %d pools, the most there can be", CPU_POOLS_MAX);
		return;
	}
	pool_json(c->out, c->arg, &set);
}

/* ---- reading VMs ---- */

static void get_vms(struct api_call *c)
{
	if (!no_fields(c))
		return;
	jw_arr(c->out);
	for (unsigned i = 0; i < CONFIG_MAX_VMS; i++) {
		if (!vms[i])
			continue;
		vm_summary(c->out, vms[i]);
		jw_obj_end(c->out);
	}
	jw_arr_end(c->out);
}

/* "io": each disk's requests and the NIC's frames (docs/api.md). */
static void vm_io(struct json_writer *w, struct vm *vm)
{
	struct vm_disk_io d[VM_MAX_DISKS];
	unsigned n = vm_disks_io(vm, d, VM_MAX_DISKS);
	struct vm_net_io net;

	jw_key(w, "io");
	jw_obj(w);
	jw_key(w, "disks");
	jw_arr(w);
	for (unsigned i = 0; i < n; i++) {
		jw_obj(w);
		jw_kstr(w, "disk", d[i].spec);
		jw_kbool(w, "ro", d[i].ro);
		jw_ku64(w, "reads", d[i].st.reads);
		jw_ku64(w, "read_bytes", d[i].st.read_bytes);
		jw_ku64(w, "writes", d[i].st.writes);
		jw_ku64(w, "write_bytes", d[i].st.write_bytes);
		jw_ku64(w, "flushes", d[i].st.flushes);
		jw_ku64(w, "errors", d[i].st.errors);
		jw_ku64(w, "unsupported", d[i].st.unsupported);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	jw_key(w, "net");
	if (vm_net_io(vm, &net)) {
		jw_obj(w);
		jw_ku64(w, "tx_frames", net.tx_frames);
		jw_ku64(w, "tx_bytes", net.tx_bytes);
		jw_ku64(w, "rx_frames", net.rx_frames);
		jw_ku64(w, "rx_bytes", net.rx_bytes);
		jw_ku64(w, "rx_dropped", net.rx_dropped);
		jw_ku64(w, "tx_refused", net.tx_refused);
		jw_obj_end(w);
	} else {
		jw_null(w);
	}
	jw_obj_end(w);
}

/* What the monitor's info shows (core/monitor.c), from the same counters. */
static void get_vm(struct api_call *c)
{
	struct json_writer *w = c->out;
	struct vcpu_stats sum;
	char line[SPEC_LINE_MAX];
	struct vm *vm;
	bool stopped;

	if (!no_fields(c) || !(vm = path_vm(c)))
		return;
	memset(&sum, 0, sizeof(sum));
	vm_summary(w, vm);
	if (config_format_vm(&vm->cfg, NULL, line, sizeof(line)))
		line[0] = 0;
	jw_kstr(w, "config", line);
	jw_key(w, "cpu_time_ms");
	jw_arr(w);
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		const struct vcpu_stats *s = &vm->vcpus[i]->stats;

		jw_u64(w, cpu_ms(s->run_tsc));
		for (unsigned r = 0; r < NR_VMEXIT_REASONS; r++)
			sum.exits[r] += s->exits[r];
		sum.irqs_injected += s->irqs_injected;
	}
	jw_arr_end(w);
	jw_key(w, "exits");
	jw_obj(w);
	for (unsigned r = 0; r < NR_VMEXIT_REASONS; r++)
		jw_ku64(w, vmexit_name(r), sum.exits[r]);
	jw_obj_end(w);
	jw_ku64(w, "irqs_injected", sum.irqs_injected);
	jw_ku64(w, "unassigned_accesses", vm->unassigned);
	jw_ku64(w, "dirty_pages", gmem_dirty_count(vm));
	jw_ku64(w, "resets", vm->resets);
	vm_io(w, vm);
	jw_key(w, "console");
	jw_obj(w);
	jw_ku64(w, "output_bytes", vm->console.total);
	jw_ku64(w, "input_dropped", vm->console.input_dropped);
	jw_obj_end(w);
	/* The host TSC as POST /vms/NAME/start took the request on, and at
	 * the first slice; the guest's TSC now (it stands
	 * while the clock does); the host TSC at which the running guest's TSC
	 * reads 0 (guest TSC = host TSC - it; 0 while the clock stands). */
	stopped = __atomic_load_n(&vm->clock.stopped, __ATOMIC_ACQUIRE);
	jw_ku64(w, "start_tsc", vm->start_tsc);
	jw_ku64(w, "first_entry_tsc", vm->first_entry_tsc);
	jw_ku64(w, "guest_tsc", api_vm_guest_tsc(vm));
	jw_ku64(w, "host_tsc_at_guest_tsc_0", stopped ? 0 : api_vm_host_tsc_at_guest_0(vm));
	jw_obj_end(w);
}

/* ---- creating a VM from a JSON spec ---- */

enum { S_NAME, S_IMAGE, S_INITRD, S_CMDLINE, S_MEM, S_CPUS, S_DISKS, S_NET, S_START, S_CPU, NR_S };

static bool vm_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (!n || n >= VM_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
			return false;
	return true;
}

/* Appends to the vm= word; false when it would not fit. */
static bool add(char *line, size_t cap, const char *fmt, ...) __printf(3, 4);

static bool add(char *line, size_t cap, const char *fmt, ...)
{
	size_t len = strlen(line);
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = fmt_vsnprintf(line + len, cap - len, fmt, ap);
	va_end(ap);
	return (size_t)n < cap - len;
}

/* An image's name from the spec: checked, and found among the boot modules
 * and stored images. */
static bool spec_image(struct api_call *c, const struct json_doc *d, int t, const char *field,
		       char *out)
{
	json_string(d, t, out, VM_IMAGE_MAX);
	if (!image_name_valid(out)) {
		api_error(c, 400, "field '%s': an image name is 1-%d characters of A-Z a-z 0-9 . _ + -",
			  field, VM_IMAGE_MAX - 1);
		return false;
	}
	if (!image_find(hv_boot_info(), out)) {
		api_error(c, 400, "field '%s': no boot module or stored image '%s'", field, out);
		return false;
	}
	return true;
}

/* "disks": [{"source": "module:NAME" | "gpt:NAME", "ro": bool}, ...] */
static bool spec_disks(struct api_call *c, const struct json_doc *d, int t, char *line, size_t cap)
{
	char err[API_ERR_MAX];
	unsigned n = json_count(d, t);
	int e = json_first(d, t);

	if (n > VM_MAX_DISKS) {
		api_error(c, 400, "field 'disks': more than %d disks", VM_MAX_DISKS);
		return false;
	}
	for (unsigned i = 0; i < n; i++, e = json_next(d, e)) {
		struct json_field f[] = {
			{ .name = "source", .types = BIT(JSON_STRING), .max = VM_IMAGE_MAX - 1 },
			{ .name = "ro", .types = BIT(JSON_BOOL) },
		};
		char src[VM_IMAGE_MAX], name[VM_IMAGE_MAX];
		bool gpt;

		if (json_fields(d, e, f, ARRAY_SIZE(f), err, sizeof(err))) {
			api_error(c, 400, "field 'disks' [%u]: %s", i, err);
			return false;
		}
		if (f[0].tok < 0) {
			api_error(c, 400, "field 'disks' [%u]: field 'source' is missing", i);
			return false;
		}
		json_string(d, f[0].tok, src, sizeof(src));
		gpt = !strncmp(src, "gpt:", 4);
		if (!gpt && strncmp(src, "module:", 7)) {
			api_error(c, 400, "field 'disks' [%u]: 'source' is module:NAME or gpt:NAME", i);
			return false;
		}
		strlcpy(name, src + (gpt ? 4 : 7), sizeof(name));
		if (!image_name_valid(name)) {
			api_error(c, 400, "field 'disks' [%u]: 'source': NAME is 1-%d characters of A-Z "
				  "a-z 0-9 . _ + -", i, VM_IMAGE_MAX - 8);
			return false;
		}
		if (!gpt && !image_find(hv_boot_info(), name)) {
			api_error(c, 400, "field 'disks' [%u]: no boot module or stored image '%s'", i,
				  name);
			return false;
		}
		if (!add(line, cap, ",disk=%s%s", src,
			 f[1].tok >= 0 && json_bool(d, f[1].tok) ? ",ro" : ""))
			return false;
	}
	return true;
}

/* "net": true | false | {"mac": "xx:xx:xx:xx:xx:xx"} */
static bool spec_net(struct api_call *c, const struct json_doc *d, int t, char *line, size_t cap)
{
	struct json_field f[] = { { .name = "mac", .types = BIT(JSON_STRING), .max = 17 } };
	char err[API_ERR_MAX], mac[18];

	if (json_type_of(d, t) == JSON_BOOL)
		return !json_bool(d, t) || add(line, cap, ",net");
	if (json_fields(d, t, f, ARRAY_SIZE(f), err, sizeof(err))) {
		api_error(c, 400, "field 'net': %s", err);
		return false;
	}
	if (f[0].tok < 0)
		return add(line, cap, ",net");
	json_string(d, f[0].tok, mac, sizeof(mac));
	for (unsigned i = 0; i < 17; i++) {
		char ch = mac[i];
		bool hex = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
			   (ch >= 'A' && ch <= 'F');

		if (i % 3 == 2 ? ch != ':' : !hex) {
			api_error(c, 400, "field 'net': 'mac' is not xx:xx:xx:xx:xx:xx");
			return false;
		}
	}
	return add(line, cap, ",net=mac=%s", mac);
}

/*
 * The vm= word of a spec. Every value is checked against a character set
 * that holds none of the word's separators (',', '=', '#', '"', white
 * space), except cmdline, which goes last in double quotes (it takes the
 * rest of the word) and may not hold a '"': so no value can add a field.
 */
static bool spec_line(struct api_call *c, struct json_doc *d, char *line, size_t cap, bool *start,
		      char name[VM_NAME_MAX])
{
	struct json_field f[NR_S] = {
		[S_NAME] = { .name = "name", .types = BIT(JSON_STRING), .max = VM_NAME_MAX - 1 },
		[S_IMAGE] = { .name = "image", .types = BIT(JSON_STRING), .max = VM_IMAGE_MAX - 1 },
		[S_INITRD] = { .name = "initrd", .types = BIT(JSON_STRING), .max = VM_IMAGE_MAX - 1 },
		[S_CMDLINE] = { .name = "cmdline", .types = BIT(JSON_STRING), .max = VM_CMDLINE_MAX - 1 },
		[S_MEM] = { .name = "mem_mib", .types = BIT(JSON_UINT), .max = MEM_MIB_MAX },
		[S_CPUS] = { .name = "cpus", .types = BIT(JSON_UINT), .max = VM_MAX_VCPUS },
		[S_DISKS] = { .name = "disks", .types = BIT(JSON_ARRAY) },
		[S_NET] = { .name = "net", .types = BIT(JSON_BOOL) | BIT(JSON_OBJECT) },
		[S_START] = { .name = "start", .types = BIT(JSON_BOOL) },
		[S_CPU] = { .name = "cpu", .types = BIT(JSON_STRING), .max = 5 + CPU_POOL_NAME_MAX },
	};
	char image[VM_IMAGE_MAX], cmdline[VM_CMDLINE_MAX];
	u64 mem = 16, cpus = 1;

	if (!fields(c, d, f, NR_S))
		return false;
	for (unsigned i = S_NAME; i <= S_IMAGE; i++)
		if (f[i].tok < 0) {
			api_error(c, 400, "field '%s' is missing", f[i].name);
			return false;
		}
	json_string(d, f[S_NAME].tok, name, VM_NAME_MAX);
	if (!vm_name_ok(name)) {
		api_error(c, 400, "field 'name': a vm name is 1-%d characters of A-Z a-z 0-9 _ -",
			  VM_NAME_MAX - 1);
		return false;
	}
	if (f[S_MEM].tok >= 0)
		mem = json_uint(d, f[S_MEM].tok);
	if (mem < 2 || mem % 2) {
		api_error(c, 400, "field 'mem_mib': %lu is not an even number of MiB from 2", mem);
		return false;
	}
	if (f[S_CPUS].tok >= 0)
		cpus = json_uint(d, f[S_CPUS].tok);
	if (!cpus) {
		api_error(c, 400, "field 'cpus': a VM has 1 to %d vCPUs", VM_MAX_VCPUS);
		return false;
	}
	if (!spec_image(c, d, f[S_IMAGE].tok, "image", image))
		return false;
	line[0] = 0;
	add(line, cap, "vm=%s,image=%s,mem=%luM,cpus=%lu", name, image, mem, cpus);
	if (f[S_INITRD].tok >= 0) {
		if (!spec_image(c, d, f[S_INITRD].tok, "initrd", image))
			return false;
		add(line, cap, ",initrd=%s", image);
	}
	if ((f[S_DISKS].tok >= 0 && !spec_disks(c, d, f[S_DISKS].tok, line, cap)) ||
	    (f[S_NET].tok >= 0 && !spec_net(c, d, f[S_NET].tok, line, cap))) {
		if (c->status == 200)
			api_error(c, 400, "the spec does not fit in a configuration word");
		return false;
	}
	if (f[S_CPU].tok >= 0) {
		char cpu[6 + CPU_POOL_NAME_MAX];

		json_string(d, f[S_CPU].tok, cpu, sizeof(cpu));
		if (strcmp(cpu, "host") &&
		    (strncmp(cpu, "pool:", 5) || !cpu_pool_name_ok(cpu + 5, strlen(cpu + 5)))) {
			api_error(c, 400, "field 'cpu': not host or pool:NAME (NAME: 1-%d characters of "
				  "A-Z a-z 0-9 _ -)", CPU_POOL_NAME_MAX - 1);
			return false;
		}
		if (strcmp(cpu, "host") && !add(line, cap, ",cpu=%s", cpu)) {
			api_error(c, 400, "the spec does not fit in a configuration word");
			return false;
		}
	}
	if (f[S_CMDLINE].tok >= 0) {
		json_string(d, f[S_CMDLINE].tok, cmdline, sizeof(cmdline));
		if (strchr(cmdline, '"')) {
			api_error(c, 400, "field 'cmdline': a double quote is not allowed");
			return false;
		}
		if (cmdline[0] && !add(line, cap, ",cmdline=\"%s\"", cmdline)) {
			api_error(c, 400, "the spec does not fit in a configuration word");
			return false;
		}
	}
	*start = f[S_START].tok < 0 || json_bool(d, f[S_START].tok);
	if (mem > mm_free_pages() / (SZ_2M / PAGE_SIZE) * 2) {
		api_error(c, 507, "field 'mem_mib': %lu MiB asked, %lu MiB free", mem,
			  (unsigned long)(mm_free_pages() * PAGE_SIZE >> 20));
		return false;
	}
	return true;
}

static void post_vms(struct api_call *c)
{
	char line[SPEC_LINE_MAX], err[API_ERR_MAX] = "", name[VM_NAME_MAX];
	struct json_doc d;
	struct vm *vm;
	bool start;
	int ret;

	if (!spec_line(c, &d, line, sizeof(line), &start, name))
		return;
	ret = start ? vm_create_line(line, err, sizeof(err))
		    : vm_create_paused(line, err, sizeof(err));
	if (ret) {
		api_error(c, ret == -EEXIST ? 409 : 400, "%s", err[0] ? err : "create: failed");
		return;
	}
	vm = vm_find(name);
	if (!vm) {
		api_error(c, 500, "create: vm %s is not there", name);
		return;
	}
	c->status = 201;
	vm_summary(c->out, vm);
	jw_kstr(c->out, "config", line);
	jw_obj_end(c->out);
}

/* ---- acting on a VM ---- */

/* stop: the power button now, a hard stop if the VM still runs after its
 * timeout. Kept here, not on the connection: the client may leave. The
 * deadline is set on the clock of api_poll, at its first look. */
struct pending_stop {
	struct vm *vm; /* with its name: a VM of that name made later is another one */
	char name[VM_NAME_MAX];
	u64 timeout_ms;
	u64 deadline_ms; /* 0: not yet seen by api_routes_poll */
};

static struct pending_stop stops[CONFIG_MAX_VMS];

static void stop_forget(const struct vm *vm)
{
	for (unsigned i = 0; i < ARRAY_SIZE(stops); i++)
		if (stops[i].vm == vm)
			stops[i].vm = NULL;
}

void api_routes_poll(u64 now_ms)
{
	for (unsigned i = 0; i < ARRAY_SIZE(stops); i++) {
		struct pending_stop *p = &stops[i];
		struct vm *vm = p->vm;

		if (!vm)
			continue;
		if (vm_find(p->name) != vm || vm->state != VM_RUNNING) {
			p->vm = NULL; /* gone, or powered off (or paused, reset) in time */
			continue;
		}
		if (!p->deadline_ms) {
			p->deadline_ms = now_ms + p->timeout_ms;
			continue;
		}
		if (now_ms < p->deadline_ms)
			continue;
		p->vm = NULL;
		kprintf("api: vm %s: still running %lu s after its power button; stopped\n",
			vm->name, (unsigned long)(p->timeout_ms / 1000));
		vm_end(vm, VM_STOPPED, 0);
	}
}

static void acted(struct api_call *c, const struct vm *vm)
{
	jw_obj(c->out);
	jw_kstr(c->out, "name", vm->name);
	jw_kstr(c->out, "state", vm_state_name(vm));
	jw_obj_end(c->out);
}

/* The lifecycle actions that take the VM and nothing else. */
static void act(struct api_call *c, int (*fn)(struct vm *vm, char *err, size_t n))
{
	char err[API_ERR_MAX] = "";
	struct vm *vm;
	int ret;

	if (!no_fields(c) || !(vm = path_vm(c)))
		return;
	ret = fn(vm, err, sizeof(err));
	if (ret)
		api_error(c, status_of(ret), "%s", err[0] ? err : "failed");
	else
		acted(c, vm);
}

/* start: a VM created with "start": false waits paused before its first
 * instruction; start runs it (as resume does any paused VM). */
static int start_vm(struct vm *vm, char *err, size_t n)
{
	/* The host TSC as the route takes the request on (make bench-api). */
	u64 tsc = rdtsc();

	if (vm->state != VM_PAUSED)
		return vm_err(err, n, -EINVAL, "start: vm %s is %s, not waiting to start (paused)",
			      vm->name, vm_state_name(vm));
	vm->start_tsc = tsc;
	return vm_resume(vm, err, n);
}

static void post_start(struct api_call *c) { act(c, start_vm); }
static void post_pause(struct api_call *c) { act(c, vm_pause); }
static void post_resume(struct api_call *c) { act(c, vm_resume); }
static void post_reset(struct api_call *c) { act(c, vm_reset_now); }

static void post_stop(struct api_call *c)
{
	struct json_field f[] = {
		{ .name = "timeout_s", .types = BIT(JSON_UINT), .max = STOP_TIMEOUT_MAX_S },
	};
	char err[API_ERR_MAX] = "";
	struct pending_stop *p = NULL;
	struct json_doc d;
	u64 timeout = STOP_TIMEOUT_S;
	struct vm *vm;
	int ret;

	if (!fields(c, &d, f, ARRAY_SIZE(f)) || !(vm = path_vm(c)))
		return;
	if (f[0].tok >= 0)
		timeout = json_uint(&d, f[0].tok);
	ret = vm_power_button(vm, err, sizeof(err));
	if (ret) {
		api_error(c, status_of(ret), "%s", err);
		return;
	}
	stop_forget(vm);
	for (unsigned i = 0; i < ARRAY_SIZE(stops) && !p; i++)
		if (!stops[i].vm)
			p = &stops[i];
	if (p) { /* one per VM at most, and there are as many as VMs */
		p->vm = vm;
		strlcpy(p->name, vm->name, sizeof(p->name));
		p->timeout_ms = timeout * 1000;
		p->deadline_ms = 0;
	}
	c->status = 202;
	jw_obj(c->out);
	jw_kstr(c->out, "name", vm->name);
	jw_kstr(c->out, "state", vm_state_name(vm));
	jw_ku64(c->out, "timeout_s", timeout);
	jw_obj_end(c->out);
}

static void post_destroy(struct api_call *c)
{
	char err[API_ERR_MAX] = "", name[VM_NAME_MAX];
	struct vm *vm;
	int ret;

	if (!no_fields(c) || !(vm = path_vm(c)))
		return;
	strlcpy(name, vm->name, sizeof(name));
	stop_forget(vm);
	vm_console_forget(vm); /* first, as the monitor does: no escape key reaches it */
	ret = vm_destroy(vm, err, sizeof(err));
	if (ret) {
		api_error(c, status_of(ret), "%s", err);
		return;
	}
	jw_obj(c->out);
	jw_kstr(c->out, "name", name);
	jw_kstr(c->out, "state", "destroyed");
	jw_obj_end(c->out);
}

static void post_snapshot(struct api_call *c)
{
	char err[API_ERR_MAX] = "";
	unsigned id = 0;
	struct vm *vm;
	int ret;

	if (!no_fields(c) || !(vm = path_vm(c)))
		return;
	ret = vm_snapshot(vm, &id, err, sizeof(err));
	if (ret) {
		api_error(c, status_of(ret), "%s", err);
		return;
	}
	c->status = 201;
	jw_obj(c->out);
	jw_ku64(c->out, "id", id);
	jw_kstr(c->out, "vm", vm->name);
	jw_obj_end(c->out);
}

#define SNAPSHOT_FOUND 0x80000000u

static void find_snapshot(void *ctx, unsigned id, const char *vm, u64 bytes)
{
	unsigned *want = ctx;

	if (id == *want)
		*want |= SNAPSHOT_FOUND;
}

static void post_restore(struct api_call *c)
{
	struct json_field f[] = {
		{ .name = "snapshot", .types = BIT(JSON_UINT), .max = 100000000 },
		{ .name = "name", .types = BIT(JSON_STRING), .max = VM_NAME_MAX - 1 },
	};
	char err[API_ERR_MAX] = "", name[VM_NAME_MAX];
	struct json_doc d;
	struct vm *vm;
	unsigned id;
	int ret;

	if (!fields(c, &d, f, ARRAY_SIZE(f)))
		return;
	for (unsigned i = 0; i < ARRAY_SIZE(f); i++)
		if (f[i].tok < 0) {
			api_error(c, 400, "field '%s' is missing", f[i].name);
			return;
		}
	id = (unsigned)json_uint(&d, f[0].tok);
	json_string(&d, f[1].tok, name, sizeof(name));
	if (!id) {
		api_error(c, 400, "field 'snapshot': snapshots are numbered from 1");
		return;
	}
	if (!vm_name_ok(name)) {
		api_error(c, 400, "field 'name': a vm name is 1-%d characters of A-Z a-z 0-9 _ -",
			  VM_NAME_MAX - 1);
		return;
	}
	if (vm_find(name)) {
		api_error(c, 409, "restore: the name '%s' is taken", name);
		return;
	}
	vm_snapshot_list(find_snapshot, &id);
	if (!(id & SNAPSHOT_FOUND)) {
		api_error(c, 404, "restore: no snapshot %u", id);
		return;
	}
	id &= ~SNAPSHOT_FOUND;
	ret = vm_restore(id, name, err, sizeof(err));
	if (ret) {
		/* A damaged snapshot, a section missing, an image gone: the request's. */
		api_error(c, ret == -EEXIST ? 409 : ret == -ENOMEM ? 507 : 400, "%s",
			  err[0] ? err : "restore: failed");
		return;
	}
	vm = vm_find(name);
	if (!vm) {
		api_error(c, 500, "restore: vm %s is not there", name);
		return;
	}
	c->status = 201;
	acted(c, vm);
}

static void get_console(struct api_call *c)
{
	struct vm *vm;

	if (!no_fields(c) || !(vm = path_vm(c)))
		return;
	if (!c->upgrade) {
		api_error(c, 426, "the console needs Connection: Upgrade and Upgrade: "
				 "utsuwa-console");
		return;
	}
	if (vm->state != VM_RUNNING && vm->state != VM_PAUSED) {
		api_error(c, 409, "console: vm %s is %s", vm->name, vm_state_name(vm));
		return;
	}
	c->status = 101;
	c->console = vm;
}

/* ---- images ---- */

static int put_image_begin(struct api_call *c)
{
	char err[API_ERR_MAX];
	int slot;

	if (!c->content_length) {
		api_error(c, 400, "image '%s': the body is empty", c->arg);
		return -EINVAL;
	}
	slot = image_store_begin(c->arg, c->content_length, err, sizeof(err));
	if (slot < 0) {
		api_error(c, slot == -E2BIG ? 413 : slot == -EINVAL ? 400 : status_of(slot), "%s",
			  err);
		return slot;
	}
	c->upload = slot;
	return 0;
}

static void put_image(struct api_call *c)
{
	image_store_commit(c->upload);
	kprintf("api: image %s: %lu bytes stored\n", c->arg, (unsigned long)c->content_length);
	c->status = 201;
	jw_obj(c->out);
	jw_kstr(c->out, "name", c->arg);
	jw_ku64(c->out, "bytes", c->content_length);
	jw_obj_end(c->out);
}

static void list_image(void *ctx, const char *name, u64 bytes)
{
	struct json_writer *w = ctx;

	jw_obj(w);
	jw_kstr(w, "name", name);
	jw_ku64(w, "bytes", bytes);
	jw_obj_end(w);
}

static void get_images(struct api_call *c)
{
	if (!no_fields(c))
		return;
	jw_arr(c->out);
	image_store_list(list_image, c->out);
	jw_arr_end(c->out);
}

static void delete_image(struct api_call *c)
{
	char err[API_ERR_MAX];
	int ret;

	if (!no_fields(c))
		return;
	ret = image_store_delete(c->arg, err, sizeof(err));
	if (ret) {
		api_error(c, status_of(ret), "%s", err);
		return;
	}
	jw_obj(c->out);
	jw_kstr(c->out, "name", c->arg);
	jw_kbool(c->out, "deleted", true);
	jw_obj_end(c->out);
}

/* ---- snapshots ---- */

static void list_snapshot(void *ctx, unsigned id, const char *vm, u64 bytes)
{
	struct json_writer *w = ctx;

	jw_obj(w);
	jw_ku64(w, "id", id);
	jw_kstr(w, "vm", vm);
	jw_ku64(w, "bytes", bytes);
	jw_obj_end(w);
}

static void get_snapshots(struct api_call *c)
{
	if (!no_fields(c))
		return;
	jw_arr(c->out);
	vm_snapshot_list(list_snapshot, c->out);
	jw_arr_end(c->out);
}

static void delete_snapshot(struct api_call *c)
{
	char err[API_ERR_MAX] = "";
	unsigned id = 0;
	int ret;

	if (!no_fields(c))
		return;
	for (const char *s = c->arg; *s; s++)
		id = id * 10 + (unsigned)(*s - '0');
	ret = vm_snapshot_drop(id, err, sizeof(err));
	if (ret) {
		api_error(c, status_of(ret), "%s", err);
		return;
	}
	jw_obj(c->out);
	jw_ku64(c->out, "id", id);
	jw_kbool(c->out, "deleted", true);
	jw_obj_end(c->out);
}

/* ---- live migration (docs/migration.md) ---- */

static void migration_json(struct json_writer *w, const struct migrate_status *st)
{
	jw_obj(w);
	jw_kstr(w, "name", st->vm);
	jw_kstr(w, "to", st->to);
	jw_kstr(w, "state", st->state);
	jw_ku64(w, "rounds", st->rounds);
	jw_ku64(w, "pages_sent", st->pages_sent);
	jw_ku64(w, "bytes_sent", st->bytes_sent);
	jw_ku64(w, "dirty_pages", st->dirty_pages);
	jw_ku64(w, "rate_kib_s", st->rate_kib_s);
	jw_ku64(w, "downtime_ms", st->downtime_ms);
	jw_ku64(w, "total_ms", st->total_ms);
	jw_kstr(w, "error", st->error);
	jw_obj_end(w);
}

static void post_migrate(struct api_call *c)
{
	struct json_field f[] = {
		{ .name = "to", .types = BIT(JSON_STRING), .max = 21 },
		{ .name = "damage_frame", .types = BIT(JSON_UINT), .max = 0xffffffffu },
		{ .name = "wrong_key", .types = BIT(JSON_BOOL) },
	};
	char err[API_ERR_MAX] = "", to[24];
	struct migrate_status st;
	struct json_doc d;
	struct vm *vm;
	u32 damage = 0;
	int ret;

	if (!fields(c, &d, f, ARRAY_SIZE(f)) || !(vm = path_vm(c)))
		return;
	if (f[0].tok < 0) {
		api_error(c, 400, "field 'to': required (\"IP:PORT\")");
		return;
	}
	json_string(&d, f[0].tok, to, sizeof(to));
	if (f[1].tok >= 0)
		damage = (u32)json_uint(&d, f[1].tok);
	ret = migrate_start(vm, to, damage, f[2].tok >= 0 && json_bool(&d, f[2].tok), err,
			    sizeof(err));
	if (ret) {
		api_error(c, ret == -ENOTSUP ? 409 : status_of(ret), "%s", err);
		return;
	}
	c->status = 202;
	if (migrate_status(c->arg, &st) == 0)
		migration_json(c->out, &st);
	else
		acted(c, vm);
}

static void get_migrate(struct api_call *c)
{
	struct migrate_status st;

	if (!no_fields(c))
		return;
	if (migrate_status(c->arg, &st)) {
		api_error(c, 404, "no migration of vm '%s' on this host", c->arg);
		return;
	}
	migration_json(c->out, &st);
}

static void delete_migrate(struct api_call *c)
{
	char err[API_ERR_MAX] = "";
	struct migrate_status st;

	if (!no_fields(c))
		return;
	if (migrate_cancel(c->arg, err, sizeof(err))) {
		api_error(c, 404, "%s", err);
		return;
	}
	migrate_status(c->arg, &st);
	migration_json(c->out, &st);
}

/* ---- the table ---- */

static const struct api_route routes[] = {
	{ API_GET, "/host", ARG_NONE, BODY_JSON, NULL, get_host },
	{ API_GET, "/vms", ARG_NONE, BODY_JSON, NULL, get_vms },
	{ API_POST, "/vms", ARG_NONE, BODY_JSON, NULL, post_vms },
	{ API_POST, "/vms/restore", ARG_NONE, BODY_JSON, NULL, post_restore },
	{ API_GET, "/vms/*", ARG_VM, BODY_JSON, NULL, get_vm },
	{ API_POST, "/vms/*/start", ARG_VM, BODY_JSON, NULL, post_start },
	{ API_POST, "/vms/*/pause", ARG_VM, BODY_JSON, NULL, post_pause },
	{ API_POST, "/vms/*/resume", ARG_VM, BODY_JSON, NULL, post_resume },
	{ API_POST, "/vms/*/reset", ARG_VM, BODY_JSON, NULL, post_reset },
	{ API_POST, "/vms/*/stop", ARG_VM, BODY_JSON, NULL, post_stop },
	{ API_POST, "/vms/*/destroy", ARG_VM, BODY_JSON, NULL, post_destroy },
	{ API_POST, "/vms/*/snapshot", ARG_VM, BODY_JSON, NULL, post_snapshot },
	{ API_GET, "/vms/*/console", ARG_VM, BODY_JSON, NULL, get_console },
	{ API_POST, "/vms/*/migrate", ARG_VM, BODY_JSON, NULL, post_migrate },
	{ API_GET, "/vms/*/migrate", ARG_VM, BODY_JSON, NULL, get_migrate },
	{ API_DELETE, "/vms/*/migrate", ARG_VM, BODY_JSON, NULL, delete_migrate },
	{ API_GET, "/images", ARG_NONE, BODY_JSON, NULL, get_images },
	{ API_PUT, "/images/*", ARG_IMAGE, BODY_IMAGE, put_image_begin, put_image },
	{ API_DELETE, "/images/*", ARG_IMAGE, BODY_JSON, NULL, delete_image },
	{ API_GET, "/snapshots", ARG_NONE, BODY_JSON, NULL, get_snapshots },
	{ API_GET, "/pools", ARG_NONE, BODY_JSON, NULL, get_pools },
	{ API_PUT, "/pools/*", ARG_POOL, BODY_JSON, NULL, put_pool },
	{ API_DELETE, "/snapshots/*", ARG_SNAPSHOT, BODY_JSON, NULL, delete_snapshot },
};

/* Does path match the pattern? Its '*' segment into arg (cut at arg_cap). */
static bool match(const char *pat, const char *path, char *arg, size_t arg_cap)
{
	while (*pat && *path) {
		if (*pat == '*') {
			size_t n = 0;

			while (path[n] && path[n] != '/')
				n++;
			if (!n)
				return false;
			memcpy(arg, path, MIN(n, arg_cap - 1)); /* cut: arg_ok refuses it */
			arg[MIN(n, arg_cap - 1)] = 0;
			pat++;
			path += n;
			continue;
		}
		if (*pat++ != *path++)
			return false;
	}
	return !*pat && !*path;
}

/* The NAME in a path: a VM's, an image's, a snapshot's number. */
static bool arg_ok(enum api_arg kind, const char *arg, size_t len, struct api_call *c)
{
	switch (kind) {
	case ARG_VM:
		if (len < VM_NAME_MAX && vm_name_ok(arg))
			return true;
		api_error(c, 400, "the vm name in the path is not 1-%d characters of A-Z a-z 0-9 _ -",
			  VM_NAME_MAX - 1);
		return false;
	case ARG_IMAGE:
		if (len < VM_IMAGE_MAX && image_name_valid(arg))
			return true;
		api_error(c, 400, "the image name in the path is not 1-%d characters of A-Z a-z "
			  "0-9 . _ + -", VM_IMAGE_MAX - 1);
		return false;
	case ARG_SNAPSHOT:
		if (len && len <= 8 && arg[0] != '0') {
			size_t i = 0;

			while (arg[i] >= '0' && arg[i] <= '9')
				i++;
			if (i == len)
				return true;
		}
		api_error(c, 400, "the snapshot in the path is not a number from 1");
		return false;
	case ARG_POOL:
		if (cpu_pool_name_ok(arg, len))
			return true;
		api_error(c, 400, "the pool name in the path is not 1-%d characters of A-Z a-z 0-9 _ -",
			  CPU_POOL_NAME_MAX - 1);
		return false;
	case ARG_NONE:
		break;
	}
	return true;
}

const struct api_route *api_route_find(enum api_method m, const char *path, char *arg,
				       size_t arg_cap, struct api_call *c)
{
	static const char *const names[NR_API_METHODS] = {
		[API_GET] = "GET", [API_PUT] = "PUT", [API_POST] = "POST", [API_DELETE] = "DELETE",
	};
	static char allow[32];
	const struct api_route *found = NULL;
	unsigned methods = 0;
	size_t len = 0;

	for (unsigned i = 0; i < ARRAY_SIZE(routes); i++) {
		char a[VM_IMAGE_MAX + 1] = "";

		if (!match(routes[i].path, path, a, sizeof(a)))
			continue;
		methods |= BIT(routes[i].method);
		if (routes[i].method == m && !found) {
			found = &routes[i];
			len = strnlen(a, sizeof(a));
			strlcpy(arg, a, arg_cap);
		}
	}
	if (found)
		return arg_ok(found->arg, arg, len, c) ? found : NULL;
	if (!methods) {
		api_error(c, 404, "no such call (docs/api.md lists them)");
		return NULL;
	}
	allow[0] = 0;
	for (unsigned i = 0; i < NR_API_METHODS; i++)
		if (methods & BIT(i))
			add(allow, sizeof(allow), "%s%s", allow[0] ? ", " : "", names[i]);
	c->allow = allow;
	api_error(c, 405, "the path takes %s", allow);
	return NULL;
}
