/* Routing of interrupt messages to the vLAPICs of one VM (see apic_bus.h). */
#include "devices/apic_bus.h"

#include "hv/mm.h"

_Static_assert(VM_MAX_VCPUS <= 64, "apic_bus_match returns a u64 bitmap");

#define MSI_ADDR_BASE 0xfee00000ULL
#define MSI_ADDR_MASK 0xfff00000ULL
#define MSI_ADDR_DEST_SHIFT 12
#define MSI_ADDR_DEST_LOGICAL (1u << 2)
#define MSI_DATA_LEVEL_ASSERT (1u << 14)
#define MSI_DATA_TRIGGER_LEVEL (1u << 15)

int apic_bus_attach(struct apic_bus *bus, struct vlapic *lapic)
{
	u32 i = vlapic_index(lapic);

	if (i >= VM_MAX_VCPUS)
		return -EINVAL;
	if (bus->lapic[i])
		return -EEXIST;
	bus->lapic[i] = lapic;
	if (i >= bus->n)
		bus->n = i + 1;
	return 0;
}

static bool match_physical(const struct vlapic_dest *t, const struct apic_msg *m)
{
	if (m->x2apic)
		return m->dest == X2APIC_BROADCAST || m->dest == t->id;
	return m->dest == APIC_BROADCAST || m->dest == t->id;
}

static bool match_logical(const struct vlapic_dest *t, const struct apic_msg *m)
{
	u32 d = m->dest;

	if (m->x2apic ? d == X2APIC_BROADCAST : d == APIC_BROADCAST)
		return true;
	if (t->mode == VLAPIC_X2APIC)
		return (d >> 16) == (t->ldr >> 16) && (d & t->ldr & 0xffff);
	d &= 0xff; /* an x2APIC message to an xAPIC: the SDM does not say; use its low byte */
	if (!t->cluster)
		return d & t->ldr;
	return (d >> 4) == (t->ldr >> 4) && (d & t->ldr & 0xf);
}

u64 apic_bus_match(struct apic_bus *bus, const struct apic_msg *m)
{
	u64 set = 0;

	for (unsigned i = 0; i < bus->n; i++) {
		struct vlapic_dest t;
		bool hit;

		if (!bus->lapic[i])
			continue;
		vlapic_dest_info(bus->lapic[i], &t);
		if (t.mode == VLAPIC_DISABLED)
			continue;
		switch (m->shorthand) {
		case APIC_SHORTHAND_SELF:
			hit = (int)i == m->src;
			break;
		case APIC_SHORTHAND_ALL:
			hit = true;
			break;
		case APIC_SHORTHAND_ALL_BUT_SELF:
			hit = (int)i != m->src;
			break;
		default:
			hit = m->logical ? match_logical(&t, m) : match_physical(&t, m);
			break;
		}
		if (hit)
			set |= 1ULL << i;
	}
	return set;
}

/* Lowest PPR among the software-enabled targets; ties go round robin. */
static int pick_lowest(struct apic_bus *bus, u64 set)
{
	u32 start = __atomic_load_n(&bus->rr_next, __ATOMIC_RELAXED);
	int best = -1;
	u8 best_ppr = 0;

	for (unsigned k = 0; k < bus->n; k++) {
		unsigned i = (start + k) % bus->n;
		struct vlapic_dest t;

		if (!(set & (1ULL << i)))
			continue;
		vlapic_dest_info(bus->lapic[i], &t);
		if (!t.sw_enabled)
			continue;
		if (best < 0 || t.ppr < best_ppr) {
			best = (int)i;
			best_ppr = t.ppr;
		}
	}
	if (best >= 0)
		__atomic_store_n(&bus->rr_next, (u32)best + 1, __ATOMIC_RELAXED);
	return best;
}

unsigned apic_bus_deliver(struct apic_bus *bus, const struct apic_msg *m)
{
	u64 set = apic_bus_match(bus, m);
	unsigned accepted = 0;

	if (m->delivery == APIC_DELIVERY_LOWEST && set) {
		int i = pick_lowest(bus, set);

		set = i >= 0 ? 1ULL << i : 0;
	}
	for (unsigned i = 0; set; i++, set >>= 1)
		if ((set & 1) && vlapic_deliver(bus->lapic[i], m))
			accepted++;
	return accepted;
}

int apic_msi_to_msg(u64 addr, u32 data, struct apic_msg *m)
{
	if ((addr & MSI_ADDR_MASK) != MSI_ADDR_BASE)
		return -EINVAL;
	*m = (struct apic_msg){
		.dest = (u32)(addr >> MSI_ADDR_DEST_SHIFT) & 0xff,
		.vector = (u8)data,
		.delivery = (data >> 8) & 7,
		.shorthand = APIC_SHORTHAND_NONE,
		.logical = addr & MSI_ADDR_DEST_LOGICAL,
		.level = data & MSI_DATA_TRIGGER_LEVEL,
		.assert = data & MSI_DATA_LEVEL_ASSERT,
		.x2apic = false,
		.src = APIC_MSG_NO_SOURCE,
	};
	return 0;
}

struct apic_bus *apic_bus_create(void)
{
	return kzalloc(sizeof(struct apic_bus));
}

void apic_bus_destroy(struct apic_bus *bus)
{
	kfree(bus);
}
