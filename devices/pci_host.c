/* PCI configuration mechanism 1 and the host bridge (devices/pci_host.h). */
#include "devices/pci_host.h"

#include "hv/mm.h"
#include "lib/string.h"

static u64 all_ones(u8 size)
{
	return size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
}

/* ---- a generic configuration space ---- */

static void put_ro(struct pci_config *cfg, u8 reg, u8 size, u32 v)
{
	for (unsigned i = 0; i < size; i++)
		cfg->data[reg + i] = (u8)(v >> (i * 8));
}

void pci_config_init(struct pci_config *cfg, u16 vendor, u16 device, u32 class_code, u8 revision)
{
	memset(cfg, 0, sizeof(*cfg));
	put_ro(cfg, PCI_VENDOR_ID, 2, vendor);
	put_ro(cfg, PCI_DEVICE_ID, 2, device);
	put_ro(cfg, PCI_REVISION_ID, 1, revision);
	put_ro(cfg, PCI_CLASS_PROG, 3, class_code);
}

u32 pci_config_read(const struct pci_config *cfg, u8 reg, u8 size)
{
	u32 v = 0;

	for (unsigned i = 0; i < size && reg + i < PCI_CFG_SIZE; i++)
		v |= (u32)cfg->data[reg + i] << (i * 8);
	return v;
}

void pci_config_write(struct pci_config *cfg, u8 reg, u8 size, u32 val)
{
	for (unsigned i = 0; i < size && reg + i < PCI_CFG_SIZE; i++) {
		unsigned r = reg + i;
		u8 b = (u8)(val >> (i * 8));

		cfg->data[r] = (u8)((cfg->data[r] & ~cfg->wmask[r]) | (b & cfg->wmask[r]));
		cfg->data[r] &= (u8)~(b & cfg->w1c[r]);
	}
}

static void put_mask(u8 *mask, unsigned reg, u32 m)
{
	for (unsigned i = 0; i < 4; i++)
		mask[reg + i] = (u8)(m >> (i * 8));
}

int pci_config_set_bar(struct pci_config *cfg, unsigned bar, u64 size, u32 flags)
{
	bool io = flags & PCI_BAR_IO, mem64 = flags & PCI_BAR_MEM64;
	unsigned reg = PCI_BAR0 + 4 * bar;

	if (bar >= PCI_NR_BARS || (mem64 && bar + 1 >= PCI_NR_BARS) || size & (size - 1) ||
	    (io && (flags != PCI_BAR_IO || size < 4 || size > 0x10000)) || (!io && size < 16))
		return -EINVAL;
	put_ro(cfg, (u8)reg, 4, flags);
	put_mask(cfg->wmask, reg, (u32)~(size - 1) & (io ? 0xfffcu : ~0xfu));
	if (mem64) {
		put_ro(cfg, (u8)(reg + 4), 4, 0);
		put_mask(cfg->wmask, reg + 4, (u32)(~(size - 1) >> 32));
	}
	return 0;
}

u64 pci_config_bar(const struct pci_config *cfg, unsigned bar)
{
	u32 lo;

	if (bar >= PCI_NR_BARS)
		return 0;
	lo = pci_config_read(cfg, (u8)(PCI_BAR0 + 4 * bar), 4);
	if (lo & PCI_BAR_IO)
		return lo & ~3u;
	if ((lo & PCI_BAR_MEM64) && bar + 1 < PCI_NR_BARS)
		return (lo & ~0xfu) | (u64)pci_config_read(cfg, (u8)(PCI_BAR0 + 4 * bar + 4), 4) << 32;
	return lo & ~0xfu;
}

static u32 config_dev_read(void *dev, u8 reg, u8 size)
{
	return pci_config_read(dev, reg, size);
}

static void config_dev_write(void *dev, u8 reg, u8 size, u32 val)
{
	pci_config_write(dev, reg, size, val);
}

const struct pci_dev_ops pci_config_ops = {
	.read = config_dev_read,
	.write = config_dev_write,
};

/* ---- the host ---- */

static const struct pci_host_slot *find_slot(const struct pci_host *host, u8 devfn)
{
	for (unsigned i = 0; i < host->nr_slots; i++)
		if (host->slots[i].devfn == devfn)
			return &host->slots[i];
	return NULL;
}

/* The device CONFIG_ADDRESS selects, or NULL (a master abort). */
static const struct pci_host_slot *selected(const struct pci_host *host)
{
	u32 a = host->address;

	if (!(a & PCI_ADDR_ENABLE) || PCI_ADDR_BUS(a) != 0 || host->address_ext)
		return NULL;
	return find_slot(host, (u8)PCI_ADDR_DEVFN(a));
}

static int pci_host_read(void *dev, u64 offset, u8 size, u64 *val)
{
	struct pci_host *host = dev;
	const struct pci_host_slot *slot;
	int ret = 0;

	*val = all_ones(size);
	if (offset >= PCI_HOST_NR_PORTS || size > 4)
		return 0;
	spin_lock(&host->lock);
	if (offset == PCI_HOST_CONFIG_ADDRESS && size == 4) {
		*val = host->address;
	} else if (offset == PCI_HOST_CF9 && size == 1) {
		if (host->cf9_ops && host->cf9_ops->read)
			ret = host->cf9_ops->read(host->cf9_dev, 0, 1, val);
		if (ret)
			*val = 0xff;
	} else if (offset >= PCI_HOST_CONFIG_DATA) {
		slot = selected(host);
		if (slot)
			*val = slot->ops->read(slot->dev,
					       (u8)(PCI_ADDR_REG(host->address) + offset - PCI_HOST_CONFIG_DATA),
					       size) & all_ones(size);
	}
	spin_unlock(&host->lock);
	return 0;
}

/* Outside the lock: a reset request may reset (and lock) this host itself. */
static void cf9_write(struct pci_host *host, u8 val)
{
	const struct io_ops *ops;
	void *dev;

	spin_lock(&host->lock);
	ops = host->cf9_ops;
	dev = host->cf9_dev;
	spin_unlock(&host->lock);
	if (ops && ops->write)
		ops->write(dev, 0, 1, val);
}

static int pci_host_write(void *dev, u64 offset, u8 size, u64 val)
{
	struct pci_host *host = dev;
	const struct pci_host_slot *slot;

	if (offset >= PCI_HOST_NR_PORTS || size > 4)
		return 0;
	if (offset == PCI_HOST_CF9 && size == 1) {
		cf9_write(host, (u8)val);
		return 0;
	}
	spin_lock(&host->lock);
	if (offset == PCI_HOST_CONFIG_ADDRESS && size == 4) {
		host->address = (u32)val & PCI_ADDR_MASK;
		host->address_ext = (val & ~PCI_ADDR_MASK & ~3u) != 0;
	} else if (offset >= PCI_HOST_CONFIG_DATA) {
		slot = selected(host);
		if (slot && slot->ops->write)
			slot->ops->write(slot->dev,
					 (u8)(PCI_ADDR_REG(host->address) + offset - PCI_HOST_CONFIG_DATA),
					 size, (u32)val);
	}
	spin_unlock(&host->lock);
	return 0;
}

const struct io_ops pci_host_ops = {
	.read = pci_host_read,
	.write = pci_host_write,
};

/* The 82441FX PMC's header (82441FX data sheet, PCI configuration registers). */
static void bridge_init(struct pci_config *b)
{
	pci_config_init(b, PCI_HOST_BRIDGE_VENDOR, PCI_HOST_BRIDGE_DEVICE, PCI_HOST_BRIDGE_CLASS,
			PCI_HOST_BRIDGE_REVISION);
	put_ro(b, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	put_mask(b->wmask, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
					       PCI_COMMAND_PARITY | PCI_COMMAND_SERR);
	put_ro(b, PCI_STATUS, 2, 0x0280); /* DEVSEL medium, fast back-to-back capable */
	b->w1c[PCI_STATUS] = PCI_STATUS_W1C & 0xff;
	b->w1c[PCI_STATUS + 1] = PCI_STATUS_W1C >> 8;
	b->wmask[PCI_LATENCY_TIMER] = 0xf8; /* MLT: bits 7-3 */
}

struct pci_host *pci_host_create(void)
{
	struct pci_host *host = kzalloc(sizeof(*host));

	if (!host)
		return NULL;
	bridge_init(&host->bridge);
	host->slots[0] = (struct pci_host_slot){ 0, &pci_config_ops, &host->bridge };
	host->nr_slots = 1;
	return host;
}

void pci_host_destroy(struct pci_host *host)
{
	kfree(host);
}

void pci_host_reset(struct pci_host *host)
{
	spin_lock(&host->lock);
	host->address = 0;
	host->address_ext = false;
	bridge_init(&host->bridge);
	spin_unlock(&host->lock);
}

int pci_host_add(struct pci_host *host, u8 devfn, const struct pci_dev_ops *ops, void *dev)
{
	int ret = 0;

	if (!ops || !ops->read)
		return -EINVAL;
	spin_lock(&host->lock);
	if (find_slot(host, devfn))
		ret = -EEXIST;
	else if (host->nr_slots == PCI_HOST_MAX_DEVS)
		ret = -ENOSPC;
	else
		host->slots[host->nr_slots++] = (struct pci_host_slot){ devfn, ops, dev };
	spin_unlock(&host->lock);
	return ret;
}

void pci_host_set_cf9(struct pci_host *host, const struct io_ops *ops, void *dev)
{
	spin_lock(&host->lock);
	host->cf9_ops = ops;
	host->cf9_dev = dev;
	spin_unlock(&host->lock);
}

void pci_config_put(struct pci_config *cfg, unsigned reg, unsigned size, u32 v)
{
	for (unsigned i = 0; i < size; i++)
		cfg->data[reg + i] = (u8)(v >> (8 * i));
}

void pci_config_put_wmask(struct pci_config *cfg, unsigned reg, unsigned size, u32 m)
{
	for (unsigned i = 0; i < size; i++)
		cfg->wmask[reg + i] = (u8)(m >> (8 * i));
}
