/*
 * The console (core/vm_console.c) and the monitor (core/monitor.c) on the
 * host: who has the line, the escape key, each VM's output shown raw,
 * prefixed or held, typed input queued and pulled by the guest's UART
 * without loss, and the monitor's commands against a fake lifecycle.
 */
#include "unit.h"
#include "hv/cpu_features.h"
#include "hv/vm_console.h"
#include "hv/monitor.h"

#include <stdarg.h>
#include <string.h>
#include "hv/bus.h"
#include "hv/console.h"
#include "hv/mm.h"
#include "hv/vm.h"
#include "hv/vm_lifecycle.h"
#include "hv/migrate.h"
#include "devices/uart8250.h"
#include "lib/format.h"
#include "core/monitor_cmds.h"

/* ---- fakes: the console line, the heap, the VMs, the lifecycle ---- */

static char screen[65536];
static size_t screen_len;

static void screen_add(const char *s, size_t n)
{
	if (screen_len + n < sizeof(screen)) {
		memcpy(screen + screen_len, s, n);
		screen_len += n;
		screen[screen_len] = 0;
	}
}

void console_write(const char *s, size_t n) { screen_add(s, n); }
void console_write_raw(const char *s, size_t n) { screen_add(s, n); }
void kvprintf(const char *fmt, va_list ap)
{
	char buf[512];
	int n = fmt_vsnprintf(buf, sizeof(buf), fmt, ap);

	screen_add(buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}
void kprintf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
}
void *kzalloc(size_t size) { return calloc(1, size); }
void kfree(void *p) { free(p); }

u64 tsc_khz = 1000; /* 1 MHz: a millisecond is 1000 ticks */
u64 tsc_to_ms(u64 ticks) { return ticks / tsc_khz; } /* as arch/x86/time.c */
struct vm *vms[CONFIG_MAX_VMS];
unsigned nr_vms;

static struct vm *vm_a, *vm_b;
static struct vcpu *vcpus[3];
static int pauses;

struct vm *vm_find(const char *name)
{
	for (unsigned i = 0; i < nr_vms; i++)
		if (vms[i] && !strcmp(vms[i]->name, name))
			return vms[i];
	return NULL;
}

static int not_yet(const char *what, char *err, size_t n)
{
	fmt_snprintf(err, n, "%s: not implemented yet", what);
	return -ENOSYS;
}
int vm_pause(struct vm *vm, char *err, size_t n)
{
	pauses++;
	return 0;
}
int vm_resume(struct vm *vm, char *err, size_t n) { return not_yet("resume", err, n); }
/* The IOMMU commands (core/monitor_iommu.c) are not this test's. */
int monitor_cmd_iommu(const struct monitor_args *a) { return 0; }
int monitor_cmd_dma_test(const struct monitor_args *a) { return -ENODEV; }
int vm_power_button(struct vm *vm, char *err, size_t n) { return not_yet("stop", err, n); }
int vm_reset_now(struct vm *vm, char *err, size_t n) { return -EIO; } /* and no line */
int vm_destroy(struct vm *vm, char *err, size_t n) { return not_yet("destroy", err, n); }
static char created[256];
int vm_create_line(const char *line, char *err, size_t n)
{
	snprintf(created, sizeof(created), "%s", line);
	return not_yet("create", err, n);
}
int vm_snapshot(struct vm *vm, unsigned *id, char *err, size_t n)
{
	*id = 7;
	return 0;
}
static unsigned restored_id;
int vm_restore(unsigned id, const char *name, char *err, size_t n)
{
	restored_id = id;
	return not_yet("restore", err, n);
}
int vm_snapshot_drop(unsigned id, char *err, size_t n) { return not_yet("drop", err, n); }
/* Live migration (hv/migrate.h): the monitor's commands reach these. */
int migrate_start(struct vm *vm, const char *to, u32 damage_frame, bool wrong_key, char *err,
		  size_t n)
{
	return not_yet("migrate", err, n);
}
int migrate_status(const char *name, struct migrate_status *st) { return -ENOENT; }
void migrate_recv_test_no_done(void) {}
int vm_snapshot_damage(unsigned id, u64 off, char *err, size_t n)
{
	return not_yet("damage", err, n);
}
void vm_snapshot_list(void (*out)(void *ctx, unsigned id, const char *vm, u64 bytes), void *ctx)
{
}
/* This host as pools sees it: LAHF-LM (80000001h.ECX bit 0) and SSE4A (6) among the rest. */
void vm_host_features(struct cpu_featureset *out)
{
	*out = (struct cpu_featureset){ 0x00800f12, { 0x80202001, 0x078bfbff, 0, 0, 0, 0x41,
						      0x2fd3fbff } };
}
u64 mm_free_pages(void) { return 1234; }
u64 kheap_live_blocks(void) { return 56; }
u64 kheap_pages_carved(void) { return 9; }
void vm_net_report(void) { kprintf("net: no VM has a NIC\n"); }
u64 gmem_dirty_count(const struct vm *vm) { return 7; }
void vm_paging_report(const struct vm *vm) { (void)vm; } /* core/vm_paging.c: nested here */

u64 gmem_size(const struct vm *vm) { return vm->gmem.size; }
const char *vm_state_name(const struct vm *vm)
{
	static const char *const names[] = { "running", "ended", "stopped", "resetting", "paused" };

	return names[vm->state];
}

static void vm_out(void *ctx, const char *s, size_t n)
{
	vm_console_write(ctx, s, n);
}

static struct vm *make_vm(const char *name, unsigned cpus, u64 mem)
{
	struct vm *vm = calloc(1, sizeof(*vm));

	strcpy(vm->name, name);
	vm->state = VM_RUNNING;
	vm->gmem.size = mem;
	vm->nr_vcpus = cpus;
	for (unsigned i = 0; i < cpus; i++)
		vm->vcpus[i] = calloc(1, sizeof(struct vcpu));
	vm_console_init(vm);
	vm->uart = uart8250_create(vm_out, vm);
	vm->uart->rx_refill = vm_console_input_next;
	vm->uart->refill_ctx = vm;
	vms[nr_vms++] = vm;
	return vm;
}

/* A fresh world: two VMs, nothing attached, an empty screen. */
static void setup(void)
{
	for (unsigned i = 0; i < nr_vms; i++) {
		vm_console_forget(vms[i]);
		for (unsigned j = 0; j < vms[i]->nr_vcpus; j++)
			free(vms[i]->vcpus[j]);
		uart8250_destroy(vms[i]->uart);
		free(vms[i]);
	}
	nr_vms = 0;
	while (vm_console_monitor_getc() >= 0)
		;
	vm_console_take_events();
	vm_a = make_vm("web", 2, 64 << 20);
	vm_b = make_vm("lin", 1, 256 << 20);
	(void)vcpus;
	screen_len = 0;
	screen[0] = 0;
}

static void clear_screen(void)
{
	screen_len = 0;
	screen[0] = 0;
}

static void guest_writes(struct vm *vm, const char *s)
{
	while (*s)
		CHECK_EQ(uart8250_ops.write(vm->uart, UART_THR, 1, (u8)*s++), 0);
}

static void type(const char *s)
{
	while (*s)
		vm_console_input_byte((u8)*s++);
}

static bool shows(const char *s)
{
	return strstr(screen, s) != NULL;
}

static u8 guest_reads(struct vm *vm, unsigned reg)
{
	u64 v = 0;

	CHECK_EQ(uart8250_ops.read(vm->uart, reg, 1, &v), 0);
	return (u8)v;
}

/* Nothing attached: each VM's output line by line, prefixed, control
 * characters as '.', "\r\n" as one line end; partial lines wait. */
TEST(unattached_output_is_prefixed)
{
	setup();
	guest_writes(vm_a, "hello\r\nutsuwa-check: done\r\n# \x1b[6n");
	CHECK(!strcmp(screen, "[web] hello\n[web] utsuwa-check: done\n"));
	guest_writes(vm_a, "ls\r\n");
	CHECK(shows("[web] # .[6nls\n"));
	/* a partial line is shown at the VM's end */
	clear_screen();
	guest_writes(vm_b, "bye");
	CHECK_EQ(screen_len, 0);
	vm_console_flush(vm_b);
	CHECK(!strcmp(screen, "[lin] bye\n"));
	vm_console_flush(vm_b);
	CHECK(!strcmp(screen, "[lin] bye\n")); /* no empty line after it */
}

/* Attached: raw, byte for byte, at once; the line it was on replayed. */
TEST(attached_output_is_raw)
{
	setup();
	guest_writes(vm_b, "boot\r\nutsuwa-guest:/# ");
	CHECK(!strcmp(screen, "[lin] boot\n"));
	clear_screen();
	CHECK_EQ(vm_console_attach(vm_b), 0);
	CHECK(vm_console_attached() == vm_b);
	CHECK(!strcmp(screen, "utsuwa-guest:/# ")); /* the prompt it is on */
	clear_screen();
	guest_writes(vm_b, "\x1b[6n\x1b[1;31mred\x1b[0m\r\n");
	CHECK(!strcmp(screen, "\x1b[6n\x1b[1;31mred\x1b[0m\r\n"));
	/* another VM's output is held meanwhile ... */
	clear_screen();
	guest_writes(vm_a, "while attached\r\npartial");
	CHECK_EQ(screen_len, 0);
	/* ... and shown prefixed when the monitor has the line again */
	type("\x1d");
	CHECK(vm_console_attached() == NULL);
	monitor_service();
	CHECK(shows("utsuwa: console: the monitor"));
	CHECK(shows("back to vm lin"));
	CHECK(shows("[web] while attached\n"));
	CHECK(!shows("partial"));
	CHECK(shows("utsuwa> "));
	/* an attached VM that ends gives the line back */
	CHECK_EQ(vm_console_attach(vm_b), 0);
	vm_b->state = VM_ENDED;
	vm_console_flush(vm_b);
	CHECK(vm_console_attached() == NULL);
	CHECK(vm_console_attach(vm_b) == -EINVAL);
	type("\x1d"); /* nowhere to go back to */
	CHECK(vm_console_attached() == NULL);
	clear_screen();
	monitor_service();
	CHECK(shows("no VM to go back to"));
}

/* More output than the ring holds while held: the loss is said. */
TEST(held_output_beyond_the_ring)
{
	char big[VM_CONSOLE_RING + 200];

	setup();
	CHECK_EQ(vm_console_attach(vm_b), 0);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	guest_writes(vm_a, big);
	guest_writes(vm_a, "\n");
	clear_screen();
	type("\x1d");
	monitor_service();
	CHECK(shows("[web] (200 bytes of output were not kept)\n"));
	CHECK(shows("[web] xxxxxxxx"));
}

/* The escape key switches both ways; input goes where the line is. */
TEST(escape_key_switches)
{
	setup();
	CHECK_EQ(vm_console_attach(vm_a), 0);
	type("ab");
	CHECK_EQ(byteq_count(&vm_a->console.input), 2);
	type("\x1d" "cd");
	CHECK(vm_console_attached() == NULL);
	CHECK_EQ(byteq_count(&vm_a->console.input), 2);
	CHECK_EQ(vm_console_monitor_getc(), 'c');
	CHECK_EQ(vm_console_monitor_getc(), 'd');
	CHECK_EQ(vm_console_monitor_getc(), -1);
	type("\x1d" "e");
	CHECK(vm_console_attached() == vm_a);
	CHECK_EQ(byteq_count(&vm_a->console.input), 3);
	clear_screen();
	monitor_service();
	CHECK(shows("utsuwa: console: vm web (Ctrl-] for the monitor)"));
	CHECK(!shows("utsuwa> "));
}

/* A 4 KiB paste while the guest reads slowly: every byte arrives, in order,
 * none lost, no overrun; beyond the queue, bytes are counted as dropped. */
TEST(paste_arrives_whole)
{
	u8 got[VM_CONSOLE_INPUT];
	unsigned n = 0;

	setup();
	CHECK_EQ(vm_console_attach(vm_b), 0);
	CHECK_EQ(uart8250_ops.write(vm_b->uart, UART_FCR, 1, UART_FCR_ENABLE), 0);
	/* the tick: bytes arrive 16 at a time, the guest reads 5 a round */
	for (unsigned sent = 0; sent < VM_CONSOLE_INPUT || n < VM_CONSOLE_INPUT;) {
		for (unsigned k = 0; k < 16 && sent < VM_CONSOLE_INPUT; k++, sent++)
			vm_console_input_byte((u8)('!' + sent % 90));
		uart8250_rx_refill(vm_b->uart);
		for (unsigned k = 0; k < 5 && (guest_reads(vm_b, UART_LSR) & UART_LSR_DR); k++) {
			got[n++] = guest_reads(vm_b, UART_RBR);
			CHECK(!(guest_reads(vm_b, UART_LSR) & UART_LSR_OE));
		}
	}
	CHECK_EQ(n, VM_CONSOLE_INPUT);
	for (unsigned i = 0; i < n; i++)
		if (got[i] != (u8)('!' + i % 90)) {
			CHECK_EQ(got[i], (u8)('!' + i % 90));
			break;
		}
	CHECK_EQ(vm_b->console.input_dropped, 0);
	/* a queue full (the guest does not read): the rest is counted */
	for (unsigned i = 0; i < VM_CONSOLE_INPUT + 16 + 10; i++)
		vm_console_input_byte('q');
	uart8250_rx_refill(vm_b->uart);
	CHECK_EQ(vm_b->console.input_dropped, 10 + 16);
	CHECK_EQ(byteq_count(&vm_b->console.input), VM_CONSOLE_INPUT - 16);
}

/* ---- the monitor ---- */

TEST(monitor_help_lists_every_command)
{
	static const char *const names[] = { "help", "list", "info VM", "console VM",
		"pause VM", "resume VM", "reset VM", "stop VM", "destroy VM", "create CONFIG",
		"snapshot VM", "restore SNAPSHOT NAME" };

	setup();
	CHECK_EQ(monitor_run("help"), 0);
	for (unsigned i = 0; i < ARRAY_SIZE(names); i++) {
		char want[64];

		snprintf(want, sizeof(want), "  %s ", names[i]);
		CHECK(shows(want));
	}
}

TEST(monitor_list)
{
	setup();
	vm_a->vcpus[0]->stats.exits[VMEXIT_IO] = 100;
	vm_a->vcpus[1]->stats.exits[VMEXIT_HLT] = 23;
	vm_a->vcpus[1]->stats.run_tsc = 12345678; /* 12.345 s at 1 MHz */
	vm_b->state = VM_STOPPED;
	CHECK_EQ(monitor_run("  list  "), 0);
	CHECK(shows("NAME             STATE     VCPUS   MEMORY     CPU-TIME        EXITS\n"));
	CHECK(shows("web              running       2      64M      12.345s          123\n"));
	CHECK(shows("lin              stopped       1     256M       0.000s            0\n"));
}

TEST(monitor_info)
{
	setup();
	vm_b->vcpus[0]->stats.exits[VMEXIT_CPUID] = 5;
	vm_b->vcpus[0]->stats.exits[VMEXIT_IO] = 9;
	vm_b->vcpus[0]->stats.irqs_injected = 42;
	CHECK_EQ(monitor_run("info lin"), 0);
	CHECK(shows("vm lin: running, 1 vCPU, 256M"));
	CHECK(shows("exits: 14\n"));
	CHECK(shows("  cpuid                       5\n"));
	CHECK(shows("  io                          9\n"));
	CHECK(!shows("  hlt "));
	CHECK(shows("interrupts injected: 42\n"));
	CHECK(shows("dirty pages: 7\n"));
}

/* One clear line for every mistake, and the lifecycle's own line. */
TEST(monitor_errors_are_one_line)
{
	static const struct {
		const char *cmd, *line;
		int ret;
	} cases[] = {
		{ "frobnicate", "monitor: unknown command 'frobnicate' (help lists them)\n", -EINVAL },
		{ "info", "usage: info VM\n", -EINVAL },
		{ "info web lin", "usage: info VM\n", -EINVAL },
		{ "pause nosuch", "monitor: no vm 'nosuch' (list shows them)\n", -ENOENT },
		{ "resume web", "resume: not implemented yet\n", -ENOSYS },
		{ "stop web", "stop: not implemented yet\n", -ENOSYS },
		{ "reset web", "reset: failed (error -5)\n", -EIO },
		{ "destroy web", "destroy: not implemented yet\n", -ENOSYS },
		{ "restore x y", "restore: 'x' is not a snapshot number (snapshot prints one)\n",
		  -EINVAL },
		{ "restore 0 y", "restore: '0' is not a snapshot number (snapshot prints one)\n",
		  -EINVAL },
		{ "restore 3 web", "restore: the name 'web' is taken\n", -EEXIST },
		{ "restore 3 new", "restore: not implemented yet\n", -ENOSYS },
		{ "create", "usage: create CONFIG\n", -EINVAL },
		{ "list a b c d e", "usage: list \n", -EINVAL },
	};

	setup();
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		clear_screen();
		CHECK_EQ(monitor_run(cases[i].cmd), cases[i].ret);
		if (strcmp(screen, cases[i].line))
			fprintf(stderr, "'%s' printed '%s'\n", cases[i].cmd, screen);
		CHECK(!strcmp(screen, cases[i].line));
	}
	CHECK_EQ(restored_id, 3);
	clear_screen();
	CHECK_EQ(monitor_run(""), 0);
	CHECK_EQ(screen_len, 0);
}

TEST(monitor_actions)
{
	setup();
	pauses = 0;
	CHECK_EQ(monitor_run("pause web"), 0);
	CHECK_EQ(pauses, 1);
	CHECK(shows("vm web: paused\n"));
	CHECK_EQ(monitor_run("snapshot lin"), 0);
	CHECK(shows("vm lin: snapshot 7\n"));
	CHECK_EQ(monitor_run("create vm=x,image=a.bin,cmdline=\"console=ttyS0 quiet\""), -ENOSYS);
	CHECK(!strcmp(created, "vm=x,image=a.bin,cmdline=\"console=ttyS0 quiet\""));
	CHECK(shows("create: not implemented yet\n"));
	clear_screen();
	CHECK_EQ(monitor_run("console lin"), 0);
	CHECK(vm_console_attached() == vm_b);
	CHECK(shows("utsuwa: console: vm lin (Ctrl-] for the monitor)\n"));
	vm_a->state = VM_ENDED;
	type("\x1d");
	clear_screen();
	CHECK_EQ(monitor_run("console web"), -EINVAL);
	CHECK(!strcmp(screen, "console: vm web is ended\n"));
}

/* Typed lines: echo, backspace, cursor keys ignored, "\r\n" one end. */
TEST(monitor_line_editing)
{
	setup();
	type("lisx\x7ft\x1b[A\r\n");
	monitor_service();
	CHECK(shows("lisx\b \bt\n"));
	CHECK(shows("NAME "));
	CHECK(!shows("unknown"));
	CHECK(shows("utsuwa> "));
	clear_screen();
	type("junk\x03" "console web\rls\r");
	monitor_service();
	CHECK(shows("junk^C\nutsuwa> console web\n"));
	CHECK(vm_console_attached() == vm_a);
	CHECK(!shows("unknown"));
	/* the type-ahead is dropped, and CPU 0 is not kept busy by it */
	CHECK(!vm_console_monitor_pending());
	CHECK_EQ(vm_console_monitor_getc(), -1);
	CHECK_EQ(byteq_count(&vm_a->console.input), 0);
}

TEST(boot_attach)
{
	setup();
	monitor_boot_attach("");
	CHECK(vm_console_attached() == NULL);
	CHECK_EQ(screen_len, 0);
	monitor_boot_attach("nosuch");
	CHECK(vm_console_attached() == NULL);
	CHECK(shows("option 'console': no vm 'nosuch' is running"));
	monitor_boot_attach("lin");
	CHECK(vm_console_attached() == vm_b);
}

/* CPU-feature pools: the host's set, a pool defined, what it hides. */
TEST(monitor_pools)
{
	setup();
	CHECK_EQ(monitor_run("pools"), 0);
	CHECK(shows("host: 00800f12:80202001.78bfbff.0.0.0.41.2fd3fbff\n"));
	clear_screen();
	CHECK_EQ(monitor_run("pool mig 00000f61:80202001.78bfbff.0.0.0.40.2fd3fbff"), 0);
	CHECK(shows("pool mig: 00000f61:80202001.78bfbff.0.0.0.40.2fd3fbff\n"));
	CHECK(shows("  hides CPUID.80000001h.0:ECX LAHF-LM\n"));
	clear_screen();
	CHECK_EQ(monitor_run("pools"), 0);
	CHECK(shows("pool mig: 00000f61:"));
	clear_screen();
	CHECK_EQ(monitor_run("pool mig 00000f61:1.2.3"), -EINVAL);
	CHECK(!strcmp(screen, "pool: '00000f61:1.2.3' is not SIG:W0.W1.W2.W3.W4.W5.W6 (hex, as "
			      "pools shows)\n"));
	clear_screen();
	CHECK_EQ(monitor_run("pool a/b 0:0.0.0.0.0.0.0"), -EINVAL);
	CHECK(shows("pool: 'a/b' is not a name"));
}

int main(void)
{
	RUN(unattached_output_is_prefixed);
	RUN(attached_output_is_raw);
	RUN(held_output_beyond_the_ring);
	RUN(escape_key_switches);
	RUN(paste_arrives_whole);
	RUN(monitor_help_lists_every_command);
	RUN(monitor_list);
	RUN(monitor_info);
	RUN(monitor_errors_are_one_line);
	RUN(monitor_actions);
	RUN(monitor_line_editing);
	RUN(boot_attach);
	RUN(monitor_pools);
	return unit_done();
}
