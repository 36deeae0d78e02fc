/*
 * The monitor's commands and its line editor (include/hv/monitor.h,
 * docs/console.md). One table names every command with its arguments and a
 * line of help; `help` prints the table. Actions on a VM go through
 * include/hv/vm_lifecycle.h, whose one-line error the monitor prints as is.
 */
#include "hv/monitor.h"
#include "hv/console.h"
#include "hv/platform.h"
#include "hv/vcpu.h"
#include "hv/vm.h"
#include "hv/vm_paging.h"
#include "hv/vm_console.h"
#include "hv/vm_lifecycle.h"
#include "hv/gmem.h"
#include "core/monitor_cmds.h"
#include "lib/format.h"
#include "lib/string.h"

#define MONITOR_LINE_MAX 512 /* a create line with a Linux command line fits */
#define MONITOR_PROMPT "utsuwa> "


struct monitor_cmd {
	const char *name;
	const char *usage; /* its arguments, for help and for a wrong count */
	unsigned nargs;    /* arguments after the name */
	const char *help;
	int (*run)(const struct monitor_args *a);
};

static const struct monitor_cmd *find_cmd(const char *name);

/* ---- what a VM is doing ---- */

static u64 vm_mem_bytes(const struct vm *vm)
{
	return gmem_size(vm);
}

/* The sums over the VM's vCPUs. */
static void vm_stats(const struct vm *vm, struct vcpu_stats *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		const struct vcpu_stats *s = &vm->vcpus[i]->stats;

		for (unsigned r = 0; r < NR_VMEXIT_REASONS; r++)
			sum->exits[r] += s->exits[r];
		sum->irqs_injected += s->irqs_injected;
		sum->nmis_injected += s->nmis_injected;
		sum->hlt_in_shadow += s->hlt_in_shadow;
		sum->run_tsc += s->run_tsc;
	}
}

static u64 exits_total(const struct vcpu_stats *s)
{
	u64 n = 0;

	for (unsigned r = 0; r < NR_VMEXIT_REASONS; r++)
		n += s->exits[r];
	return n;
}

/* Pages marked in the VM's dirty bitmap now (include/hv/gmem.h): what a
 * harvest would return. */
static bool vm_dirty_pages(const struct vm *vm, u64 *n)
{
	*n = gmem_dirty_count(vm);
	return true;
}

/* ---- the commands ---- */

static struct vm *vm_arg(const char *name)
{
	struct vm *vm = vm_find(name);

	if (!vm)
		kprintf("monitor: no vm '%s' (list shows them)\n", name);
	return vm;
}

static int cmd_help(const struct monitor_args *a);

static int cmd_list(const struct monitor_args *a)
{
	(void)a;
	kprintf("%-16s %-9s %5s %8s %12s %12s\n", "NAME", "STATE", "VCPUS", "MEMORY", "CPU-TIME",
		"EXITS");
	for (unsigned i = 0; i < CONFIG_MAX_VMS; i++) {
		const struct vm *vm = vms[i];
		struct vcpu_stats s;
		u64 ms;

		if (!vm)
			continue;
		vm_stats(vm, &s);
		ms = tsc_to_ms(s.run_tsc);
		kprintf("%-16s %-9s %5u %7luM %7lu.%03lus %12lu\n", vm->name,
			vm_state_name(vm), vm->nr_vcpus, (unsigned long)(vm_mem_bytes(vm) >> 20),
			(unsigned long)(ms / 1000), (unsigned long)(ms % 1000),
			(unsigned long)exits_total(&s));
	}
	return 0;
}

static int cmd_info(const struct monitor_args *a)
{
	struct vm *vm = vm_arg(a->argv[1]);
	struct vcpu_stats s;
	u64 dirty, ms;

	if (!vm)
		return -ENOENT;
	vm_stats(vm, &s);
	ms = tsc_to_ms(s.run_tsc);
	kprintf("vm %s: %s, %u vCPU%s, %luM, cpu time %lu.%03lus\n", vm->name,
		vm_state_name(vm), vm->nr_vcpus, vm->nr_vcpus == 1 ? "" : "s",
		(unsigned long)(vm_mem_bytes(vm) >> 20), (unsigned long)(ms / 1000),
		(unsigned long)(ms % 1000));
	kprintf("exits: %lu\n", (unsigned long)exits_total(&s));
	for (unsigned r = 0; r < NR_VMEXIT_REASONS; r++)
		if (s.exits[r])
			kprintf("  %-16s %12lu\n", vmexit_name(r), (unsigned long)s.exits[r]);
	kprintf("interrupts injected: %lu\n", (unsigned long)s.irqs_injected);
	if (s.nmis_injected)
		kprintf("NMIs injected: %lu\n", (unsigned long)s.nmis_injected);
	if (s.hlt_in_shadow)
		kprintf("HLTs completed after STI: %lu\n", (unsigned long)s.hlt_in_shadow);
	vm_paging_report(vm);
	kprintf("accesses to nothing: %lu\n", (unsigned long)vm->unassigned);
	if (vm_dirty_pages(vm, &dirty))
		kprintf("dirty pages: %lu\n", (unsigned long)dirty);
	else
		kprintf("dirty pages: n/a\n");
	kprintf("console input: %u queued, %lu dropped\n", byteq_count(&vm->console.input),
		(unsigned long)vm->console.input_dropped);
	return 0;
}

/* A lifecycle action failed: its own line says why (it names the action). */
static void say_failed(const char *what, const char *err, int ret)
{
	if (err[0])
		kprintf("%s\n", err);
	else
		kprintf("%s: failed (error %d)\n", what, ret);
}

/* The lifecycle actions that take one VM and say nothing on success but a
 * line naming what happened. */
typedef int (*vm_action_fn)(struct vm *vm, char *err, size_t n);

static int vm_action(const struct monitor_args *a, vm_action_fn fn, const char *done)
{
	struct vm *vm = vm_arg(a->argv[1]);
	char err[160] = "";
	int ret;

	if (!vm)
		return -ENOENT;
	ret = fn(vm, err, sizeof(err));
	if (ret)
		say_failed(a->argv[0], err, ret);
	else
		kprintf("vm %s: %s\n", a->argv[1], done);
	return ret;
}

static int cmd_pause(const struct monitor_args *a)
{
	return vm_action(a, vm_pause, "paused");
}

static int cmd_resume(const struct monitor_args *a)
{
	return vm_action(a, vm_resume, "resumed");
}

static int cmd_reset(const struct monitor_args *a)
{
	return vm_action(a, vm_reset_now, "reset");
}

static int cmd_stop(const struct monitor_args *a)
{
	return vm_action(a, vm_power_button, "power button pressed");
}

static int destroy_forgetting(struct vm *vm, char *err, size_t n)
{
	/* First, so the escape key cannot reach a VM being freed. */
	vm_console_forget(vm);
	return vm_destroy(vm, err, n);
}

static int cmd_destroy(const struct monitor_args *a)
{
	return vm_action(a, destroy_forgetting, "destroyed");
}

static int cmd_create(const struct monitor_args *a)
{
	char err[160] = "";
	int ret = vm_create_line(a->rest, err, sizeof(err));

	if (ret)
		say_failed("create", err, ret);
	else
		kprintf("created\n");
	return ret;
}

static int cmd_snapshot(const struct monitor_args *a)
{
	struct vm *vm = vm_arg(a->argv[1]);
	char err[160] = "";
	unsigned id = 0;
	int ret;

	if (!vm)
		return -ENOENT;
	ret = vm_snapshot(vm, &id, err, sizeof(err));
	if (ret)
		say_failed("snapshot", err, ret);
	else
		kprintf("vm %s: snapshot %u\n", vm->name, id);
	return ret;
}

static int cmd_restore(const struct monitor_args *a)
{
	unsigned id = monitor_parse_id(a->argv[1]);
	char err[160] = "";
	int ret;

	if (!id) {
		kprintf("restore: '%s' is not a snapshot number (snapshot prints one)\n", a->argv[1]);
		return -EINVAL;
	}
	if (vm_find(a->argv[2])) {
		kprintf("restore: the name '%s' is taken\n", a->argv[2]);
		return -EEXIST;
	}
	ret = vm_restore(id, a->argv[2], err, sizeof(err));
	if (ret)
		say_failed("restore", err, ret);
	else
		kprintf("vm %s: restored from snapshot %u\n", a->argv[2], id);
	return ret;
}

static int cmd_console(const struct monitor_args *a)
{
	struct vm *vm = vm_arg(a->argv[1]);

	if (!vm)
		return -ENOENT;
	if (vm->state != VM_RUNNING) {
		kprintf("console: vm %s is %s\n", vm->name, vm_state_name(vm));
		return -EINVAL;
	}
	kprintf("utsuwa: console: vm %s (Ctrl-] for the monitor)\n", vm->name);
	return vm_console_attach(vm);
}

static const struct monitor_cmd commands[] = {
	{ "help", "", 0, "this list", cmd_help },
	{ "list", "", 0, "every VM: name, state, vCPUs, memory, CPU time, exits", cmd_list },
	{ "info", "VM", 1, "exits by reason, interrupts injected, dirty pages", cmd_info },
	{ "console", "VM", 1, "give the console to the VM (Ctrl-] comes back)", cmd_console },
	{ "pause", "VM", 1, "stop the VM's vCPUs where they are", cmd_pause },
	{ "resume", "VM", 1, "run a paused VM again", cmd_resume },
	{ "reset", "VM", 1, "restart the VM as a reset button would", cmd_reset },
	{ "stop", "VM", 1, "press the VM's ACPI power button", cmd_stop },
	{ "destroy", "VM", 1, "end the VM and free everything it holds", cmd_destroy },
	{ "create", "CONFIG", 0, "start a VM from a vm=... word (docs/config.md)", cmd_create },
	{ "snapshot", "VM", 1, "copy the VM's whole state into memory; prints its number",
	  cmd_snapshot },
	{ "restore", "SNAPSHOT NAME", 2, "start a new VM from a snapshot", cmd_restore },
	{ "snapshots", "", 0, "the snapshots kept: number, whose, size", monitor_cmd_snapshots },
	{ "drop", "SNAPSHOT", 1, "forget a snapshot, freeing its memory", monitor_cmd_drop },
	{ "damage", "SNAPSHOT OFFSET", 2, "test aid: flip one byte of a snapshot",
	  monitor_cmd_damage },
	{ "mem", "", 0, "the hypervisor's free memory and heap blocks in use", monitor_cmd_mem },
	{ "disks", "", 0, "disks and partitions: name, size, read-only, the VM using it",
	  monitor_cmd_disks },
	{ "net", "", 0, "the switch: frames, and per port frames, drops, spoofs", monitor_cmd_net },
	{ "migrate", "VM IP:PORT", 2, "move the VM live to another utsuwa host",
	  monitor_cmd_migrate },
	{ "migrate-test", "VM IP:PORT wrongkey|FRAME", 3,
	  "test aid: a migration under another key, or with one frame damaged",
	  monitor_cmd_migrate_test },
	{ "migrate-test-recv", "nodone", 1,
	  "test aid: the next VM to arrive runs, the source is not told (it stays in doubt)",
	  monitor_cmd_migrate_test_recv },
	{ "migration", "VM", 1, "how the VM's last migration went", monitor_cmd_migration },
	{ "pools", "", 0, "the CPU features a VM here sees, and the CPU-feature pools",
	  monitor_cmd_pools },
	{ "pool", "NAME SET", 2, "define a CPU-feature pool (cpu=pool:NAME)", monitor_cmd_pool },
	{ "iommu", "", 0, "the IOMMU: functions blocked, in the host domain, in VMs; faults",
	  monitor_cmd_iommu },
	{ "dma-test", "DISK", 1, "test aid: the disk reads into memory no IOMMU domain maps",
	  monitor_cmd_dma_test },
};

static int cmd_help(const struct monitor_args *a)
{
	(void)a;
	for (unsigned i = 0; i < ARRAY_SIZE(commands); i++) {
		char head[32];

		fmt_snprintf(head, sizeof(head), "%s %s", commands[i].name, commands[i].usage);
		kprintf("  %-22s %s\n", head, commands[i].help);
	}
	kprintf("  Ctrl-] switches between the monitor and the last VM's console\n");
	return 0;
}

static const struct monitor_cmd *find_cmd(const char *name)
{
	for (unsigned i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

int monitor_run(const char *line)
{
	char buf[MONITOR_LINE_MAX];
	struct monitor_args a = { 0 };
	const struct monitor_cmd *cmd;
	size_t len = strnlen(line, sizeof(buf));
	char *p = buf;

	if (len == sizeof(buf)) {
		kprintf("monitor: the line is longer than %u characters\n", MONITOR_LINE_MAX - 1);
		return -E2BIG;
	}
	memcpy(buf, line, len + 1);
	/* Words split at blanks; `rest` keeps create's line whole. */
	while (*p) {
		while (is_blank(*p))
			p++;
		if (!*p)
			break;
		if (a.argc == 1)
			a.rest = line + (p - buf);
		if (a.argc == MONITOR_MAX_ARGS) {
			a.argc++; /* too many: counted, not kept */
			break;
		}
		a.argv[a.argc++] = p;
		while (*p && !is_blank(*p))
			p++;
		if (*p)
			*p++ = 0;
	}
	if (!a.argc)
		return 0;
	cmd = find_cmd(a.argv[0]);
	if (!cmd) {
		kprintf("monitor: unknown command '%s' (help lists them)\n", a.argv[0]);
		return -EINVAL;
	}
	if (cmd->run == cmd_create) {
		if (a.argc < 2) {
			kprintf("usage: create %s\n", cmd->usage);
			return -EINVAL;
		}
	} else if (a.argc - 1 != cmd->nargs) {
		kprintf("usage: %s %s\n", cmd->name, cmd->usage);
		return -EINVAL;
	}
	return cmd->run(&a);
}

/* ---- the line editor, on CPU 0 only ---- */

static char line[MONITOR_LINE_MAX];
static size_t line_len;
static bool after_cr;   /* a '\n' right after '\r' ends nothing more */
static int esc_state;   /* inside a terminal escape sequence: 1 after ESC, 2 after ESC [ */

static void prompt(void)
{
	console_write(MONITOR_PROMPT, sizeof(MONITOR_PROMPT) - 1);
	vm_console_prompt_shown();
}

/* A VM's output came under the prompt: draw it again, with what was typed. */
static void prompt_again(void)
{
	console_write(MONITOR_PROMPT, sizeof(MONITOR_PROMPT) - 1);
	console_write(line, line_len);
	vm_console_prompt_shown();
}

static void edit(char c)
{
	bool cr = after_cr;

	after_cr = false;
	if (esc_state) {
		/* Cursor keys and the like: ESC [ parameters final (0x40-0x7e). */
		if (esc_state == 1 && c == '[')
			esc_state = 2;
		else if (esc_state == 1 || (c >= 0x40 && c <= 0x7e))
			esc_state = 0;
		return;
	}
	switch (c) {
	case '\r':
	case '\n':
		if (c == '\n' && cr)
			return;
		after_cr = c == '\r';
		vm_console_prompt_closed();
		console_write("\n", 1);
		line[line_len] = 0;
		line_len = 0;
		monitor_run(line);
		if (!vm_console_attached())
			prompt();
		return;
	case 0x7f: /* DEL, what a terminal's backspace key sends */
	case '\b':
		if (line_len) {
			line_len--;
			console_write("\b \b", 3);
		}
		return;
	case 0x03: /* Ctrl-C */
		line_len = 0;
		console_write("^C\n", 3);
		prompt();
		return;
	case 0x1b:
		esc_state = 1;
		return;
	}
	if ((u8)c < 0x20 || (u8)c >= 0x7f || line_len == sizeof(line) - 1)
		return; /* other control bytes, and a full line, are not taken */
	line[line_len++] = c;
	console_write(&c, 1);
}

static void show_switches(void)
{
	unsigned ev = vm_console_take_events();
	struct vm *vm = vm_console_attached();

	if (!ev)
		return;
	if (ev == CONSOLE_EV_OUTPUT) {
		if (!vm)
			prompt_again();
		return;
	}
	if (vm && (ev & CONSOLE_EV_ATTACHED)) {
		kprintf("\nutsuwa: console: vm %s (Ctrl-] for the monitor)\n", vm->name);
		vm_console_attach(vm); /* shows the line it is on */
		return;
	}
	if (vm)
		return;
	if (ev & CONSOLE_EV_DETACHED) {
		struct vm *back = vm_console_last();

		if (back)
			kprintf("\nutsuwa: console: the monitor (help lists commands; Ctrl-] goes "
				"back to vm %s)\n", back->name);
		else
			kprintf("\nutsuwa: console: the monitor (help lists commands)\n");
		vm_console_show_held();
	}
	if (ev & CONSOLE_EV_NO_VM)
		kprintf("\nutsuwa: console: no VM to go back to (console VM gives one the console)\n");
	line_len = 0;
	esc_state = 0;
	prompt();
}

void monitor_service(void)
{
	int c;

	if (!vm_console_monitor_pending())
		return;
	show_switches();
	while (!vm_console_attached() && (c = vm_console_monitor_getc()) >= 0) {
		edit((char)c);
		show_switches(); /* a command may have switched */
	}
	/* Typed after `console VM` but before the VM had the line: not meant
	 * for the monitor, and not passed to the VM either (docs/console.md). */
	if (vm_console_attached())
		while (vm_console_monitor_getc() >= 0)
			;
}

void monitor_boot_attach(const char *name)
{
	struct vm *vm;

	if (!name[0])
		return;
	vm = vm_find(name);
	if (!vm || vm_console_attach(vm)) {
		kprintf("config: option 'console': no vm '%s' is running; the console starts in "
			"the monitor\n", name);
		return;
	}
	kprintf("utsuwa: console: vm %s; Ctrl-] switches to the monitor\n", name);
}
