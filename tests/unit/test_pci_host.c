/*
 * PCI configuration mechanism 1: CONFIG_ADDRESS, the host bridge's header at
 * every access size and offset, absent devices, Linux's type 1 probe, BAR
 * sizing of a registered device, and the 0xcf9 pass-through.
 */
#include "unit.h"
#include "devices/pci_host.h"

#include <string.h>
#include "hv/bus.h"
#include "hv/mm.h"

void *kzalloc(size_t size)
{
	return calloc(1, size);
}

void kfree(void *p)
{
	free(p);
}

static struct bus pio;
static struct pci_host *host;

static void setup(void)
{
	memset(&pio, 0, sizeof(pio));
	host = pci_host_create();
	CHECK(host != NULL);
	CHECK_EQ(bus_register(&pio, PCI_HOST_BASE, PCI_HOST_NR_PORTS, "pci", &pci_host_ops, host), 0);
}

static u64 in(u16 port, u8 size)
{
	u64 v = 0xdeadbeefdeadULL;

	CHECK_EQ(bus_read(&pio, port, size, &v), 0);
	return v;
}

static void out(u16 port, u8 size, u64 v)
{
	CHECK_EQ(bus_write(&pio, port, size, v), 0);
}

static u32 cfg_addr(u32 bus, u32 dev, u32 fn, u32 reg)
{
	return PCI_ADDR_ENABLE | bus << 16 | dev << 11 | fn << 8 | (reg & 0xfc);
}

/* A config read of size bytes at reg, the way Linux's pci_conf1_read does it. */
static u32 cfg_read(u32 bus, u32 dev, u32 fn, u32 reg, u8 size)
{
	out(0xcf8, 4, cfg_addr(bus, dev, fn, reg));
	return (u32)in((u16)(0xcfc + (reg & 3)), size);
}

static void cfg_write(u32 bus, u32 dev, u32 fn, u32 reg, u8 size, u32 v)
{
	out(0xcf8, 4, cfg_addr(bus, dev, fn, reg));
	out((u16)(0xcfc + (reg & 3)), size, v);
}

TEST(config_address)
{
	setup();
	CHECK_EQ(in(0xcf8, 4), 0);
	out(0xcf8, 4, 0x80001234);
	CHECK_EQ(in(0xcf8, 4), 0x80001234);
	out(0xcf8, 4, 0xffffffff);
	CHECK_EQ(in(0xcf8, 4), 0x80fffffc); /* reserved and low bits read 0 */
	/* Byte and word accesses there are not CONFIG_ADDRESS. */
	out(0xcf8, 1, 0);
	out(0xcfa, 2, 0);
	out(0xcfb, 1, 0x01);
	CHECK_EQ(in(0xcf8, 4), 0x80fffffc);
	CHECK_EQ(in(0xcf8, 1), 0xff);
	CHECK_EQ(in(0xcfa, 2), 0xffff);
	CHECK_EQ(in(0xcf9, 1), 0xff); /* nothing at 0xcf9 yet */
	pci_host_destroy(host);
}

/* arch/x86/pci/direct.c pci_check_type1() and pci_sanity_check(). */
TEST(linux_type1_probe)
{
	setup();
	out(0xcfb, 1, 0x01);
	u32 tmp = (u32)in(0xcf8, 4);
	out(0xcf8, 4, 0x80000000);
	CHECK_EQ(in(0xcf8, 4), 0x80000000);
	CHECK_EQ(cfg_read(0, 0, 0, 0x0a, 2), 0x0600); /* PCI_CLASS_BRIDGE_HOST */
	out(0xcf8, 4, tmp);
	/* Type 2 must fail: bytes at 0xcf8 and 0xcfa do not read back 0. */
	out(0xcfb, 1, 0);
	out(0xcf8, 1, 0);
	out(0xcfa, 1, 0);
	CHECK(in(0xcf8, 1) != 0 || in(0xcfa, 1) != 0);
	pci_host_destroy(host);
}

TEST(bridge_header_every_size)
{
	static const u8 expect[16] = { 0x86, 0x80, 0x37, 0x12, 0x06, 0x00, 0x80, 0x02,
				       0x02, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00 };

	setup();
	for (u32 reg = 0; reg < 16; reg++) {
		CHECK_EQ(cfg_read(0, 0, 0, reg, 1), expect[reg]);
		if (reg % 4 <= 2)
			CHECK_EQ(cfg_read(0, 0, 0, reg, 2), expect[reg] | expect[reg + 1] << 8);
		if (reg % 4 == 0)
			CHECK_EQ(cfg_read(0, 0, 0, reg, 4), expect[reg] | expect[reg + 1] << 8 |
							       expect[reg + 2] << 16 | (u32)expect[reg + 3] << 24);
	}
	CHECK_EQ(cfg_read(0, 0, 0, 0x00, 4), 0x12378086);
	CHECK_EQ(cfg_read(0, 0, 0, 0x08, 4), 0x06000002);
	/* A word at 0xcfd: bytes 1-2 of the dword. */
	out(0xcf8, 4, cfg_addr(0, 0, 0, 0));
	CHECK_EQ(in(0xcfd, 2), 0x3780);
	/* Everything else in the header and beyond reads 0: no BARs, no ROM, no capabilities. */
	for (u32 reg = 0x10; reg < 0x100; reg += 4)
		CHECK_EQ(cfg_read(0, 0, 0, reg, 4), 0);
	pci_host_destroy(host);
}

TEST(bridge_writable_bits)
{
	setup();
	/* IDs and class are read-only. */
	cfg_write(0, 0, 0, 0x00, 4, 0xffffffff);
	cfg_write(0, 0, 0, 0x08, 4, 0xffffffff);
	CHECK_EQ(cfg_read(0, 0, 0, 0x00, 4), 0x12378086);
	CHECK_EQ(cfg_read(0, 0, 0, 0x08, 4), 0x06000002);
	/* Command: I/O, memory, master, parity, SERR. */
	cfg_write(0, 0, 0, PCI_COMMAND, 2, 0xffff);
	CHECK_EQ(cfg_read(0, 0, 0, PCI_COMMAND, 2), 0x0147);
	cfg_write(0, 0, 0, PCI_COMMAND, 1, 0x00);
	CHECK_EQ(cfg_read(0, 0, 0, PCI_COMMAND, 2), 0x0100);
	/* Status: writing ones clears error bits; none are set; the rest are read-only. */
	cfg_write(0, 0, 0, PCI_STATUS, 2, 0xffff);
	CHECK_EQ(cfg_read(0, 0, 0, PCI_STATUS, 2), 0x0280);
	host->bridge.data[PCI_STATUS + 1] |= 0x20; /* as if it had seen a master abort */
	cfg_write(0, 0, 0, PCI_STATUS, 2, 0x0100);
	CHECK_EQ(cfg_read(0, 0, 0, PCI_STATUS, 2), 0x2280);
	cfg_write(0, 0, 0, PCI_STATUS, 2, 0x2000);
	CHECK_EQ(cfg_read(0, 0, 0, PCI_STATUS, 2), 0x0280);
	/* Latency timer bits 7-3; a dword write at 0x0c reaches it too. */
	cfg_write(0, 0, 0, PCI_LATENCY_TIMER, 1, 0xff);
	CHECK_EQ(cfg_read(0, 0, 0, PCI_LATENCY_TIMER, 1), 0xf8);
	cfg_write(0, 0, 0, 0x0c, 4, 0xffff4000);
	CHECK_EQ(cfg_read(0, 0, 0, 0x0c, 4), 0x00004000);
	/* BARs are absent: sizing reads 0. */
	cfg_write(0, 0, 0, PCI_BAR0, 4, 0xffffffff);
	CHECK_EQ(cfg_read(0, 0, 0, PCI_BAR0, 4), 0);
	pci_host_destroy(host);
}

TEST(absent_devices_all_ones)
{
	setup();
	for (u32 dev = 1; dev < 32; dev += 7) {
		for (u32 reg = 0; reg < 8; reg++) {
			CHECK_EQ(cfg_read(0, dev, 0, reg, 1), 0xff);
			if (reg % 4 <= 2)
				CHECK_EQ(cfg_read(0, dev, 0, reg, 2), 0xffff);
			if (reg % 4 == 0)
				CHECK_EQ(cfg_read(0, dev, 0, reg, 4), 0xffffffff);
		}
	}
	/* Other functions of the bridge, other buses, the enable bit clear. */
	CHECK_EQ(cfg_read(0, 0, 1, 0, 4), 0xffffffff);
	CHECK_EQ(cfg_read(0, 0, 7, 0, 2), 0xffff);
	CHECK_EQ(cfg_read(1, 0, 0, 0, 4), 0xffffffff);
	CHECK_EQ(cfg_read(255, 31, 7, 0xfc, 1), 0xff);
	/* AMD's extended register number (bits 27-24): no alias of register 0. */
	out(0xcf8, 4, 0x81000000);
	CHECK_EQ(in(0xcf8, 4), 0x80000000);
	CHECK_EQ(in(0xcfc, 4), 0xffffffff);
	out(0xcf8, 4, 0x00000000);
	CHECK_EQ(in(0xcfc, 4), 0xffffffff);
	CHECK_EQ(in(0xcfe, 2), 0xffff);
	out(0xcfc, 4, 0); /* ignored */
	CHECK_EQ(cfg_read(0, 0, 0, 0, 4), 0x12378086);
	pci_host_destroy(host);
}

/* A device with a custom op that records what it is handed. */
static u8 seen_reg, seen_size;
static u32 seen_val;
static int writes;

static u32 rec_read(void *dev, u8 reg, u8 size)
{
	seen_reg = reg;
	seen_size = size;
	return 0xa5a5a5a5; /* more bits than asked: the host trims */
}

static void rec_write(void *dev, u8 reg, u8 size, u32 val)
{
	seen_reg = reg;
	seen_size = size;
	seen_val = val;
	writes++;
}

static const struct pci_dev_ops rec_ops = { .read = rec_read, .write = rec_write };
static const struct pci_dev_ops no_read_ops = { .write = rec_write };

TEST(registration_and_bar_sizing)
{
	struct pci_config dev;
	u8 rec;

	setup();
	pci_config_init(&dev, 0x1af4, 0x1000, 0x020000, 0);
	CHECK_EQ(pci_config_set_bar(&dev, 0, 0x1000, 0), 0);
	CHECK_EQ(pci_config_set_bar(&dev, 1, 0x20, PCI_BAR_IO), 0);
	CHECK_EQ(pci_config_set_bar(&dev, 2, 0x100000, PCI_BAR_MEM64 | PCI_BAR_PREFETCH), 0);
	/* No slot for a 64-bit BAR's high half. */
	CHECK_EQ(pci_config_set_bar(&dev, 5, 0x1000, PCI_BAR_MEM64), -EINVAL);
	CHECK_EQ(pci_config_set_bar(&dev, 4, 0x3000, 0), -EINVAL);             /* not a power of two */
	CHECK_EQ(pci_config_set_bar(&dev, 4, 8, 0), -EINVAL);                  /* memory: at least 16 */
	CHECK_EQ(pci_config_set_bar(&dev, 4, 2, PCI_BAR_IO), -EINVAL);
	CHECK_EQ(pci_config_set_bar(&dev, 6, 16, 0), -EINVAL);
	CHECK_EQ(pci_host_add(host, PCI_DEVFN(3, 0), &pci_config_ops, &dev), 0);
	CHECK_EQ(pci_host_add(host, PCI_DEVFN(3, 0), &pci_config_ops, &dev), -EEXIST);
	CHECK_EQ(pci_host_add(host, 0, &pci_config_ops, &dev), -EEXIST); /* the bridge */
	CHECK_EQ(pci_host_add(host, PCI_DEVFN(4, 0), &no_read_ops, &rec), -EINVAL);

	CHECK_EQ(cfg_read(0, 3, 0, 0, 4), 0x10001af4);
	CHECK_EQ(cfg_read(0, 3, 0, 0x08, 4), 0x02000000);
	/* Sizing: all ones in, ~(size-1) and the type bits out. */
	for (u32 bar = 0; bar < 6; bar++)
		cfg_write(0, 3, 0, PCI_BAR0 + 4 * bar, 4, 0xffffffff);
	CHECK_EQ(cfg_read(0, 3, 0, 0x10, 4), 0xfffff000);
	CHECK_EQ(cfg_read(0, 3, 0, 0x14, 4), 0x0000ffe1);
	CHECK_EQ(cfg_read(0, 3, 0, 0x18, 4), 0xfff0000c);
	CHECK_EQ(cfg_read(0, 3, 0, 0x1c, 4), 0xffffffff);
	CHECK_EQ(cfg_read(0, 3, 0, 0x20, 4), 0);
	/* Then an address. */
	cfg_write(0, 3, 0, 0x10, 4, 0xfebf1234);
	cfg_write(0, 3, 0, 0x14, 4, 0xc040);
	cfg_write(0, 3, 0, 0x18, 4, 0x00200000);
	cfg_write(0, 3, 0, 0x1c, 4, 0x00000008);
	CHECK_EQ(cfg_read(0, 3, 0, 0x10, 4), 0xfebf1000);
	CHECK_EQ(pci_config_bar(&dev, 0), 0xfebf1000);
	CHECK_EQ(pci_config_bar(&dev, 1), 0xc040);
	CHECK_EQ(pci_config_bar(&dev, 2), 0x800200000ULL);
	/* A word write to the high half of BAR 0. */
	cfg_write(0, 3, 0, 0x12, 2, 0xfec0);
	CHECK_EQ(pci_config_bar(&dev, 0), 0xfec01000);

	/* Custom ops see the register and size, unaligned within the dword. */
	CHECK_EQ(pci_host_add(host, PCI_DEVFN(5, 2), &rec_ops, &rec), 0);
	CHECK_EQ(cfg_read(0, 5, 2, 0x41, 2), 0xa5a5);
	CHECK_EQ(seen_reg, 0x41);
	CHECK_EQ(seen_size, 2);
	cfg_write(0, 5, 2, 0x43, 1, 0x77);
	CHECK_EQ(seen_reg, 0x43);
	CHECK_EQ(seen_size, 1);
	CHECK_EQ(seen_val, 0x77);
	CHECK_EQ(writes, 1);
	pci_host_destroy(host);
}

TEST(slots_fill_up)
{
	struct pci_config dev;

	setup();
	pci_config_init(&dev, 0x1234, 0x5678, 0xff0000, 1);
	for (unsigned i = 1; i < PCI_HOST_MAX_DEVS; i++)
		CHECK_EQ(pci_host_add(host, (u8)(i * 8), &pci_config_ops, &dev), 0);
	CHECK_EQ(pci_host_add(host, 1, &pci_config_ops, &dev), -ENOSPC);
	CHECK_EQ(cfg_read(0, 31, 0, 0, 4), 0x56781234);
	pci_host_destroy(host);
}

static int cf9_writes;
static u8 cf9_val;

static int cf9_read(void *dev, u64 offset, u8 size, u64 *val)
{
	CHECK_EQ(offset, 0);
	*val = cf9_val;
	return 0;
}

static int cf9_write(void *dev, u64 offset, u8 size, u64 val)
{
	CHECK_EQ(offset, 0);
	CHECK_EQ(size, 1);
	cf9_val = (u8)val;
	cf9_writes++;
	return 0;
}

static const struct io_ops cf9_ops = { .read = cf9_read, .write = cf9_write };

TEST(cf9_pass_through)
{
	setup();
	pci_host_set_cf9(host, &cf9_ops, NULL);
	out(0xcf8, 4, 0x80000000);
	out(0xcf9, 1, 0x06);
	CHECK_EQ(cf9_writes, 1);
	CHECK_EQ(cf9_val, 0x06);
	CHECK_EQ(in(0xcf9, 1), 0x06);
	CHECK_EQ(in(0xcf8, 4), 0x80000000); /* CONFIG_ADDRESS untouched */
	out(0xcf8, 4, 0x80000004);          /* and a dword write does not reach 0xcf9 */
	CHECK_EQ(cf9_writes, 1);
	pci_host_destroy(host);
}

/* A reboot: CONFIG_ADDRESS and the bridge's header as created; the devices
 * registered, their own registers and the 0xcf9 hookup stay. */
TEST(reset)
{
	struct pci_config dev;

	setup();
	pci_host_set_cf9(host, &cf9_ops, NULL);
	cf9_writes = 0;
	pci_config_init(&dev, 0x1af4, 0x1000, 0x020000, 0);
	CHECK_EQ(pci_config_set_bar(&dev, 0, 0x1000, 0), 0);
	CHECK_EQ(pci_host_add(host, PCI_DEVFN(3, 0), &pci_config_ops, &dev), 0);
	cfg_write(0, 3, 0, PCI_BAR0, 4, 0xfebf1000);
	cfg_write(0, 0, 0, PCI_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_SERR);
	cfg_write(0, 0, 0, PCI_LATENCY_TIMER, 1, 0x40);
	host->bridge.data[PCI_STATUS + 1] |= 0x20; /* as if it had seen a master abort */
	out(0xcf8, 4, 0x81001804); /* an extended register number, the enable bit */
	CHECK(host->address_ext);

	pci_host_reset(host);
	CHECK_EQ(in(0xcf8, 4), 0);
	CHECK(!host->address_ext);
	CHECK_EQ(in(0xcfc, 4), 0xffffffff); /* disabled: nothing selected */
	CHECK_EQ(cfg_read(0, 0, 0, 0x00, 4), 0x12378086);
	CHECK_EQ(cfg_read(0, 0, 0, PCI_COMMAND, 4), 0x02800006);
	CHECK_EQ(cfg_read(0, 0, 0, 0x08, 4), 0x06000002);
	CHECK_EQ(cfg_read(0, 0, 0, 0x0c, 4), 0);
	cfg_write(0, 0, 0, PCI_COMMAND, 2, 0xffff); /* the write masks came back too */
	CHECK_EQ(cfg_read(0, 0, 0, PCI_COMMAND, 2), 0x0147);
	/* The device is still at 3.0, its BAR as programmed (its own reset, not this). */
	CHECK_EQ(cfg_read(0, 3, 0, 0x00, 4), 0x10001af4);
	CHECK_EQ(cfg_read(0, 3, 0, PCI_BAR0, 4), 0xfebf1000);
	CHECK_EQ(pci_host_add(host, PCI_DEVFN(3, 0), &pci_config_ops, &dev), -EEXIST);
	out(0xcf9, 1, 0x02);
	CHECK_EQ(cf9_writes, 1);
	CHECK_EQ(in(0xcf9, 1), 0x02);
	pci_host_destroy(host);
}

/* A write to 0xcf9 may reset the host it went through: no lock is held. */
static int cf9_write_resets(void *dev, u64 offset, u8 size, u64 val)
{
	pci_host_reset(dev);
	cf9_writes++;
	return 0;
}

static const struct io_ops cf9_reset_ops = { .write = cf9_write_resets };

TEST(cf9_write_may_reset_the_host)
{
	setup();
	cf9_writes = 0;
	pci_host_set_cf9(host, &cf9_reset_ops, host);
	out(0xcf8, 4, 0x80000000);
	out(0xcf9, 1, 0x06);
	CHECK_EQ(cf9_writes, 1);
	CHECK_EQ(in(0xcf8, 4), 0);
	CHECK_EQ(in(0xcf9, 1), 0xff); /* no read op */
	pci_host_destroy(host);
}

int main(void)
{
	RUN(config_address);
	RUN(linux_type1_probe);
	RUN(bridge_header_every_size);
	RUN(bridge_writable_bits);
	RUN(absent_devices_all_ones);
	RUN(registration_and_bar_sizing);
	RUN(slots_fill_up);
	RUN(cf9_pass_through);
	RUN(reset);
	RUN(cf9_write_may_reset_the_host);
	return unit_done();
}
