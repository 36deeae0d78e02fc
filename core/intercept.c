/*
 * Building a VM's intercept policy (include/hv/intercept.h). Plain bitmaps
 * in one layout of our own; the back ends translate (svm_maps.c, vmx_maps.c).
 */
#include "hv/intercept.h"
#include "arch/x86/emul/msr.h"
#include "hv/bus.h"
#include "hv/mm.h"
#include "hv/vm.h"
#include "lib/string.h"

const u32 intercept_msr_range_base[INTERCEPT_NR_MSR_RANGES] = { 0, 0xc0000000u, 0xc0010000u };

static void bit_set(u8 *map, unsigned bit)
{
	map[bit / 8] |= (u8)(1u << (bit % 8));
}

static void bit_clear(u8 *map, unsigned bit)
{
	map[bit / 8] &= (u8) ~(1u << (bit % 8));
}

static bool bit_test(const u8 *map, unsigned bit)
{
	return map[bit / 8] & (1u << (bit % 8));
}

void intercept_policy_init(struct intercept_policy *p)
{
	memset(p->io, 0xff, sizeof(p->io));
	memset(p->msr_read, 0xff, sizeof(p->msr_read));
	memset(p->msr_write, 0xff, sizeof(p->msr_write));
	p->exceptions = INTERCEPT_EXC_ALWAYS;
	p->invlpg = false;
}

bool intercept_msr_slot(u32 msr, unsigned *range, unsigned *index)
{
	for (unsigned r = 0; r < INTERCEPT_NR_MSR_RANGES; r++) {
		if (msr - intercept_msr_range_base[r] < INTERCEPT_MSR_RANGE_LEN) {
			*range = r;
			*index = msr - intercept_msr_range_base[r];
			return true;
		}
	}
	return false;
}

int intercept_pass_msr(struct intercept_policy *p, u32 msr, bool read, bool write)
{
	unsigned r, i;

	if (!intercept_msr_slot(msr, &r, &i))
		return -ERANGE;
	if (read)
		bit_clear(p->msr_read[r], i);
	if (write)
		bit_clear(p->msr_write[r], i);
	return 0;
}

void intercept_pass_ports(struct intercept_policy *p, u32 base, u32 len)
{
	for (u32 port = base; port - base < len && port < INTERCEPT_NR_PORTS; port++)
		bit_clear(p->io, port);
}

void intercept_claim_bus_ports(struct intercept_policy *p, const struct bus *pio)
{
	for (unsigned i = 0; i < pio->nr; i++) {
		const struct bus_range *r = &pio->ranges[i];

		for (u64 port = r->base; port - r->base < r->len && port < INTERCEPT_NR_PORTS; port++)
			bit_set(p->io, (unsigned)port);
	}
}

bool intercept_port(const struct intercept_policy *p, u16 port)
{
	return bit_test(p->io, port);
}

bool intercept_msr(const struct intercept_policy *p, u32 msr, bool write)
{
	unsigned r, i;

	if (!intercept_msr_slot(msr, &r, &i))
		return true;
	return bit_test(write ? p->msr_write[r] : p->msr_read[r], i);
}

void intercept_policy_build(struct intercept_policy *p, const struct bus *pio, u32 flags,
			    u32 exceptions)
{
	intercept_policy_init(p);
	for (unsigned i = 0; i < nr_msr_passthrough; i++)
		intercept_pass_msr(p, msr_passthrough[i], true, true);
	/* No port is passed to the machine: a port no device claims exits too,
	 * and reads all ones (core/exit_io.c), as on a bus where nothing answers. */
	intercept_claim_bus_ports(p, pio);
	p->exceptions |= exceptions;
	p->invlpg = flags & INTERCEPT_POLICY_INVLPG;
}

int vm_intercept_init(struct vm *vm)
{
	struct intercept_policy *p = kzalloc(sizeof(*p));

	if (!p)
		return -ENOMEM;
	/* Shadow paging (hv/shadow.h) must see every #PF and INVLPG. */
	intercept_policy_build(p, &vm->pio, vm->shadow ? INTERCEPT_POLICY_INVLPG : 0,
			       vm->shadow ? BIT(14) : 0);
	vm->intercepts = p;
	return 0;
}

void vm_intercept_free(struct vm *vm)
{
	kfree(vm->intercepts);
	vm->intercepts = NULL;
}
