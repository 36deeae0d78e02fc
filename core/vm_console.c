/*
 * The console shared by the monitor and the VMs (include/hv/vm_console.h,
 * docs/console.md): who has it, each VM's output ring and prefixed lines,
 * each VM's input queue, and the routing of typed bytes.
 *
 * Two pointers say who has the line: `attached` (NULL: the monitor) and
 * `last` (where the escape key goes back to). CPU 0's tick reads and
 * switches them; the monitor, a boot's console= and a VM's end switch them
 * too, always with one atomic operation, so no lock is shared with the tick.
 */
#include "hv/vm_console.h"
#include "hv/console.h"
#include "hv/vm.h"
#include "lib/string.h"

static struct vm *attached;
static struct vm *last;
static unsigned events; /* CONSOLE_EV_*, for the monitor */

/* What is typed while the monitor has the console: CPU 0's tick produces,
 * the monitor on CPU 0's scheduler loop consumes. */
static u8 monitor_buf[1024];
static struct byteq monitor_input = { monitor_buf, sizeof(monitor_buf), 0, 0 };

static struct vm *load_ptr(struct vm **p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

/* p from old to new, if it still is old. */
static bool swap_ptr(struct vm **p, struct vm *old, struct vm *new)
{
	return __atomic_compare_exchange_n(p, &old, new, false, __ATOMIC_ACQ_REL,
					   __ATOMIC_ACQUIRE);
}

static void post(unsigned ev)
{
	__atomic_or_fetch(&events, ev, __ATOMIC_RELEASE);
}

void vm_console_init(struct vm *vm)
{
	struct vm_console *c = &vm->console;

	memset(c, 0, sizeof(*c));
	byteq_init(&c->input, c->input_buf, VM_CONSOLE_INPUT);
}

/* ---- output ---- */

static bool prompt_open; /* the monitor's prompt ends the screen's last line */

void vm_console_prompt_shown(void)
{
	__atomic_store_n(&prompt_open, true, __ATOMIC_RELEASE);
}

void vm_console_prompt_closed(void)
{
	__atomic_store_n(&prompt_open, false, __ATOMIC_RELEASE);
}

void vm_console_message_starts(void)
{
	if (__atomic_exchange_n(&prompt_open, false, __ATOMIC_ACQ_REL)) {
		console_write("\n", 1);
		post(CONSOLE_EV_OUTPUT);
	}
}

static void emit_line(struct vm *vm)
{
	struct vm_console *c = &vm->console;

	kprintf("[%s] %.*s\n", vm->name, (int)c->line_len, c->line);
	c->line_len = 0;
}

/* Shows, "[name] line" by line, what the VM wrote since `shown`. Control
 * characters would garble the host log: they show as '.' ('\r' not at all,
 * so "\r\n" ends one line). Under c->lock. */
static void show_lines(struct vm *vm)
{
	struct vm_console *c = &vm->console;

	if (c->total - c->shown > VM_CONSOLE_RING) {
		kprintf("[%s] (%lu bytes of output were not kept)\n", vm->name,
			(unsigned long)(c->total - c->shown - VM_CONSOLE_RING));
		c->shown = c->total - VM_CONSOLE_RING;
		c->line_len = 0;
	}
	while (c->shown < c->total) {
		char ch = c->ring[c->shown++ % VM_CONSOLE_RING];

		if (ch == '\n') {
			emit_line(vm);
		} else if (ch != '\r') {
			c->line[c->line_len++] = (ch >= 0x20 && ch < 0x7f) || ch == '\t' ? ch : '.';
			if (c->line_len == sizeof(c->line))
				emit_line(vm);
		}
	}
}

void vm_console_write(struct vm *vm, const char *s, size_t n)
{
	struct vm_console *c = &vm->console;
	struct vm *owner;

	spin_lock(&c->lock);
	for (size_t i = 0; i < n; i++) {
		c->ring[c->total++ % VM_CONSOLE_RING] = s[i];
		if (s[i] == '\n')
			c->line_start = c->total;
	}
	owner = load_ptr(&attached);
	if (owner == vm) {
		console_write_raw(s, n);
		c->shown = c->total;
		c->line_len = 0;
	} else if (!owner) {
		show_lines(vm);
	} /* else held in the ring until the monitor has the line again */
	spin_unlock(&c->lock);
}

void vm_console_flush(struct vm *vm)
{
	struct vm_console *c = &vm->console;

	spin_lock(&c->lock);
	if (swap_ptr(&attached, vm, NULL)) {
		post(CONSOLE_EV_DETACHED);
		console_write_raw("\r\n", 2); /* the host's messages start on a line of their own */
	} else if (!load_ptr(&attached)) {
		show_lines(vm);
		if (c->line_len)
			emit_line(vm);
	}
	spin_unlock(&c->lock);
}

void vm_console_forget(struct vm *vm)
{
	if (swap_ptr(&attached, vm, NULL))
		post(CONSOLE_EV_DETACHED);
	swap_ptr(&last, vm, NULL);
}

void vm_console_show_held(void)
{
	for (unsigned i = 0; i < CONFIG_MAX_VMS; i++) {
		struct vm *vm = vms[i];

		if (!vm)
			continue;
		spin_lock(&vm->console.lock);
		if (!load_ptr(&attached))
			show_lines(vm);
		spin_unlock(&vm->console.lock);
	}
}

struct vm *vm_console_attached(void)
{
	return load_ptr(&attached);
}

struct vm *vm_console_last(void)
{
	return load_ptr(&last);
}

int vm_console_attach(struct vm *vm)
{
	struct vm_console *c;
	u64 from;

	if (!vm || vm->state != VM_RUNNING)
		return -EINVAL;
	vm_console_prompt_closed(); /* the VM's own output follows, raw */
	c = &vm->console;
	spin_lock(&c->lock);
	__atomic_store_n(&attached, vm, __ATOMIC_RELEASE);
	__atomic_store_n(&last, vm, __ATOMIC_RELEASE);
	/* The line the guest is on (a shell's prompt), as it wrote it. */
	from = c->line_start;
	if (c->total - from > VM_CONSOLE_RING)
		from = c->total - VM_CONSOLE_RING;
	for (; from < c->total; from++)
		console_write_raw(&c->ring[from % VM_CONSOLE_RING], 1);
	c->shown = c->total;
	c->line_len = 0;
	spin_unlock(&c->lock);
	return 0;
}

/* ---- input ---- */

int vm_console_input_next(void *vm)
{
	return byteq_pop(&((struct vm *)vm)->console.input);
}

size_t vm_console_input_push(struct vm *vm, const u8 *s, size_t n)
{
	struct vm_console *c = &vm->console;
	size_t i;

	for (i = 0; i < n && byteq_push(&c->input, s[i]); i++)
		;
	c->input_dropped += n - i;
	return i;
}

void vm_console_input_byte(u8 ch)
{
	struct vm *vm = load_ptr(&attached);

	if (ch == VM_CONSOLE_ESCAPE) {
		if (vm) {
			if (swap_ptr(&attached, vm, NULL)) {
				__atomic_store_n(&last, vm, __ATOMIC_RELEASE);
				post(CONSOLE_EV_DETACHED);
			}
			return;
		}
		vm = load_ptr(&last);
		if (vm && vm->state == VM_RUNNING && swap_ptr(&attached, NULL, vm))
			post(CONSOLE_EV_ATTACHED);
		else
			post(CONSOLE_EV_NO_VM);
		return;
	}
	if (vm)
		vm_console_input_push(vm, &ch, 1);
	else
		byteq_push(&monitor_input, ch); /* a full line of 1 KiB: the rest is lost */
}

int vm_console_monitor_getc(void)
{
	return byteq_pop(&monitor_input);
}

bool vm_console_monitor_pending(void)
{
	/* Bytes left in the monitor's queue while a VM has the line wait for
	 * the monitor (or are dropped by it): they must not keep CPU 0 busy. */
	return __atomic_load_n(&events, __ATOMIC_ACQUIRE) ||
	       (!load_ptr(&attached) && byteq_count(&monitor_input));
}

unsigned vm_console_take_events(void)
{
	return __atomic_exchange_n(&events, 0, __ATOMIC_ACQ_REL);
}
