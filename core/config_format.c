/* A VM's configuration back as a word (include/hv/config_format.h). */
#include "hv/config_format.h"
#include "lib/format.h"
#include "lib/string.h"

struct out {
	char *buf;
	size_t n, len;
	bool full;
};

static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = fmt_vsnprintf(o->buf + o->len, o->n - o->len, fmt, ap);
	va_end(ap);
	if (k < 0 || (size_t)k >= o->n - o->len)
		o->full = true;
	else
		o->len += (size_t)k;
}

/* The pin list as config.c reads it: CPU numbers joined by '+'. */
static void put_pin(struct out *o, u64 pin)
{
	bool first = true;

	put(o, ",pin=");
	for (unsigned cpu = 0; cpu < 64; cpu++)
		if (pin & BIT(cpu)) {
			put(o, first ? "%u" : "+%u", cpu);
			first = false;
		}
}

int config_format_vm(const struct vm_config *c, const char *name, char *buf, size_t n)
{
	static const char *const modes[] = { [START_REAL16] = "real", [START_PROT32] = "prot",
					     [START_LONG64] = "long" };
	struct out o = { buf, n, 0, n == 0 };

	if (n)
		buf[0] = 0;
	put(&o, "vm=%s,image=%s,mode=%s,mem=%luM,cpus=%u", name ? name : c->name, c->image,
	    modes[c->mode], c->mem >> 20, c->cpus);
	if (c->initrd[0])
		put(&o, ",initrd=%s", c->initrd);
	if (c->pin)
		put_pin(&o, c->pin);
	if (c->load)
		put(&o, ",load=0x%lx", c->load);
	if (c->arg_set)
		put(&o, ",arg=%u", c->arg);
	for (u32 i = 0; i < c->nr_disks; i++)
		put(&o, ",disk=%s%s", c->disks[i].spec, c->disks[i].ro ? ",ro" : "");
	/* The MAC in use, derived or not: a VM restored under another name
	 * keeps the address its guest already knows. */
	if (c->net)
		put(&o, ",net=mac=%02x:%02x:%02x:%02x:%02x:%02x", c->mac[0], c->mac[1], c->mac[2],
		    c->mac[3], c->mac[4], c->mac[5]);
	for (u32 i = 0; i < c->nr_pci; i++)
		put(&o, ",pci=%02x:%02x.%u", c->pci[i].bus, c->pci[i].dev, c->pci[i].fn);
	if (c->exitport)
		put(&o, ",exitport=on");
	if (c->cpu_pool[0])
		put(&o, ",cpu=pool:%s", c->cpu_pool);
	if (c->paging != PAGING_AUTO)
		put(&o, ",paging=%s", c->paging == PAGING_SHADOW ? "shadow" : "nested");
	if (c->tsc_khz)
		put(&o, ",tsc_khz=%u", c->tsc_khz);
	if (c->on_crash != ON_CRASH_STOP)
		put(&o, ",on_crash=%s", c->on_crash == ON_CRASH_RESET ? "reset" : "pause");
	if (c->expect_set && c->expect_stop)
		put(&o, ",expect=stop");
	else if (c->expect_set)
		put(&o, ",expect=%d", c->expect_code);
	/* Last, quoted: spaces are part of it (config_parse's quoting). */
	if (c->cmdline[0])
		put(&o, ",cmdline=\"%s\"", c->cmdline);
	return o.full ? -ENOSPC : 0;
}
