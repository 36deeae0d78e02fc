/*
 * A VM's NIC (net= in its configuration, docs/config.md): one virtio-net PCI
 * function at slot 8 of bus 0 (after the four disk slots, core/vm_disks.c),
 * its BAR after the disks' in the PCI MMIO window, as firmware would place
 * it, and its port on the machine's switch. A VM without net= has no such
 * device and no port, so its exits pay nothing.
 */
#include "hv/vm_net.h"
#include "hv/config.h"
#include "hv/console.h"
#include "hv/device.h"
#include "hv/mm.h"
#include "hv/netstack.h"
#include "hv/platform.h"
#include "hv/snapshot.h"
#include "hv/uplink.h"
#include "hv/vm.h"
#include "hv/vswitch.h"
#include "asm/cpu.h"
#include "devices/pci_host.h"
#include "devices/virtio_net.h"
#include "devices/virtio_pci.h"
#include "lib/string.h"

#define NET_SLOT 8
#define NET_BAR_BASE (0xc0000000ULL + VM_MAX_DISKS * VPCI_BAR_SIZE)

static struct vswitch the_switch;
static u32 switch_ready; /* 0 none, 1 being made, 2 made */

static u64 host_tsc(void)
{
	return rdtsc();
}

/* Made when the first VM with a NIC is, once tsc_khz is known (the aging
 * time is in host TSC ticks). */
struct vswitch *vswitch_global(void)
{
	u32 none = 0;

	if (__atomic_load_n(&switch_ready, __ATOMIC_ACQUIRE) == 2)
		return &the_switch;
	if (__atomic_compare_exchange_n(&switch_ready, &none, 1, false, __ATOMIC_ACQ_REL,
					__ATOMIC_ACQUIRE)) {
		vswitch_init(&the_switch, host_tsc, (u64)VSWITCH_AGE_S * tsc_khz * 1000);
		__atomic_store_n(&switch_ready, 2, __ATOMIC_RELEASE);
	}
	while (__atomic_load_n(&switch_ready, __ATOMIC_ACQUIRE) != 2)
		__builtin_ia32_pause();
	return &the_switch;
}

static void net_failed(const struct vm *vm, int err)
{
	const u8 *m = vm->cfg.mac;

	kprintf("utsuwa: vm '%s': net: %s (MAC %02x:%02x:%02x:%02x:%02x:%02x)\n", vm->name,
		err == -EEXIST ? "another VM on the switch has this MAC" :
		err == -ENOSPC ? "the switch has no free port" : "no room for its PCI device",
		m[0], m[1], m[2], m[3], m[4], m[5]);
}

/* A VM built for a saved state joins the switch in vm_net_join, when it is
 * about to run: an incoming migration's would otherwise own its MAC here
 * during the whole pre-copy, and this switch would take the frames the VM
 * still sends and receives on the source for a port nobody reads. */
static void *net_create(struct vm *vm)
{
	struct virtio_net *n;
	int err;

	n = virtio_net_create(vm, vm->pci, PCI_DEVFN(NET_SLOT, 0), NET_BAR_BASE, "virtio-net0",
			      vm->cfg.mac, vswitch_global(), &err);
	if (n && !vm->awaiting_state)
		err = virtio_net_join(n);
	if (err) {
		if (n)
			virtio_net_destroy(n);
		n = NULL;
	}
	if (!n)
		net_failed(vm, err);
	return n;
}

static void net_reset(void *dev)
{
	virtio_net_reset(dev);
}

static void net_tick(void *dev, u64 now_ns)
{
	virtio_net_tick(dev, now_ns);
}

static void net_quiesce(void *dev)
{
	virtio_net_quiesce(dev);
}

static void net_destroy(void *dev)
{
	virtio_net_destroy(dev);
}

/* docs/snapshot.md, "virtio-net": a version, then the transport. The MAC is
 * in the saved configuration line; the switch's table is not saved (it
 * learns again). */
#define NET_SNAP_VERSION 1

static int net_save(const void *dev, struct snap_writer *w)
{
	int err;

	snap_put_u16(w, NET_SNAP_VERSION);
	err = virtio_net_save(dev, w);
	return err ? err : snap_writer_error(w);
}

static int net_load(void *dev, struct snap_cursor *c)
{
	int err;

	if (snap_get_u16(c) != NET_SNAP_VERSION)
		return -EINVAL;
	err = virtio_net_load(dev, c);
	return err ? err : snap_cursor_done(c) ? 0 : -EINVAL;
}

static const struct device_ops net_dev = {
	.save = net_save,
	.load = net_load,
	.name = "virtio-net",
	.create = net_create,
	.reset = net_reset,
	.tick = net_tick,
	.quiesce = net_quiesce,
	.destroy = net_destroy,
};

int vm_net_init(struct vm *vm)
{
	const struct device_ops *const table[] = { &net_dev };

	if (!vm->cfg.net)
		return 0;
	return vm_devices_create(vm, table, 1);
}

int vm_net_join(struct vm *vm)
{
	struct vm_device *dev = vm_device_find(vm, net_dev.name);
	int err = dev ? virtio_net_join(dev->dev) : 0;

	if (err)
		net_failed(vm, err);
	return err;
}

void vm_net_announce(struct vm *vm)
{
	struct vm_device *dev = vm_device_find(vm, net_dev.name);

	if (dev)
		virtio_net_announce(dev->dev);
}

bool vm_net_io(struct vm *vm, struct vm_net_io *out)
{
	struct vm_device *dev = vm_device_find(vm, net_dev.name);
	struct vswitch_counters c;
	struct virtio_net_stats st;

	if (!dev || !dev->dev)
		return false;
	/* The switch counts from its side: what the port sent in is what the
	 * guest transmitted. The port's counters live as long as the device. */
	vswitch_port_counters(virtio_net_port(dev->dev), &c);
	virtio_net_stats(dev->dev, &st);
	out->tx_frames = c.rx_frames;
	out->tx_bytes = c.rx_bytes;
	out->rx_frames = c.tx_frames;
	out->rx_bytes = c.tx_bytes;
	out->rx_dropped = c.drops;
	out->tx_refused = c.spoofs + c.bad + st.tx_bad;
	return true;
}

/* The MACs learned (stations behind the uplink, and VMs' MACs seen from
 * another port after a migration), at most a screenful. */
static void report_learned(struct vswitch *sw)
{
	static struct vswitch_entry seen[24]; /* the monitor runs on CPU 0 only */
	unsigned n = vswitch_learned(sw, seen, ARRAY_SIZE(seen));

	char name[VM_NAME_MAX];

	for (unsigned i = 0; i < n; i++) {
		const u8 *m = seen[i].mac;

		/* Under the lock: the port (and its name) may leave meanwhile. */
		spin_lock(&sw->lock);
		strlcpy(name, sw->ports[seen[i].port] ? sw->ports[seen[i].port]->name : "gone",
			sizeof(name));
		spin_unlock(&sw->lock);
		kprintf("learned %02x:%02x:%02x:%02x:%02x:%02x on port %d (%s)\n", m[0], m[1], m[2],
			m[3], m[4], m[5], seen[i].port, name);
	}
}

void vm_net_report(void)
{
	struct vswitch *sw = &the_switch;
	struct {
		char name[VM_NAME_MAX];
		u8 mac[ETH_ALEN];
		bool fixed, host;
		struct vswitch_counters c;
	} row;

	if (__atomic_load_n(&switch_ready, __ATOMIC_ACQUIRE) != 2) {
		kprintf("net: no VM has a NIC\n");
		return;
	}
	kprintf("switch: %lu frames, %lu flooded\n", (unsigned long)sw->frames,
		(unsigned long)sw->floods);
	for (int i = 0; i < VSWITCH_MAX_PORTS; i++) {
		bool here = false;

		/* A copy under the lock: the port may leave while we print. */
		spin_lock(&sw->lock);
		if (sw->ports[i]) {
			struct vswitch_port *p = sw->ports[i];

			here = true;
			strlcpy(row.name, p->name, sizeof(row.name));
			memcpy(row.mac, p->mac, ETH_ALEN);
			row.fixed = p->fixed_mac;
			row.host = p == netstack_port();
			vswitch_port_counters(p, &row.c);
		}
		spin_unlock(&sw->lock);
		if (!here)
			continue;
		if (row.fixed)
			kprintf("port %d: %s%s mac %02x:%02x:%02x:%02x:%02x:%02x", i,
				row.host ? "" : "vm ", row.name, row.mac[0], row.mac[1], row.mac[2],
				row.mac[3], row.mac[4], row.mac[5]);
		else
			kprintf("port %d: %s", i, row.name);
		kprintf(" in %lu out %lu drops %lu spoofs %lu bad %lu\n",
			(unsigned long)row.c.rx_frames, (unsigned long)row.c.tx_frames,
			(unsigned long)row.c.drops, (unsigned long)row.c.spoofs,
			(unsigned long)row.c.bad);
	}
	report_learned(sw);
	uplink_report();
	netstack_report();
}
