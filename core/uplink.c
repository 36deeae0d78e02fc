/*
 * The uplink: the machine's NIC as a port of the virtual switch
 * (drivers/nic.h, include/hv/vswitch.h). Frames VMs send to a MAC not on
 * the switch (or flood) go out of the NIC; frames the NIC receives go in,
 * learned, forwarded or flooded like any port's.
 *
 * When receiving is safe: the NIC's interrupt arrives on CPU 0 whenever its
 * interrupts are on: right after a VM exit (arch/x86/svm/svm_run.S,
 * vmx_take_host_irq), while halted, or while the monitor runs a command.
 * Delivering into a VM takes that VM's device locks; exit handlers hold
 * such locks only with interrupts off, but the monitor holds some with
 * interrupts on (creating, destroying and snapshotting VMs). So during a
 * monitor command the interrupt only marks the NIC pending, and the CPU
 * loop polls it as soon as the command is over (uplink_poll_deferred).
 */
#include "hv/uplink.h"
#include "drivers/nic.h"
#include "hv/console.h"
#include "hv/percpu.h"
#include "asm/percpu.h"
#include "asm/cpu.h"
#include "lib/string.h"

/* Frames per poll_rx call, and calls per interrupt before the rest waits
 * for the CPU loop: one NIC cannot keep CPU 0 from its vCPUs for long. */
#define RX_BUDGET 64
#define RX_ROUNDS 8

static struct nic *uplink;

static bool uplink_deliver(struct vswitch_port *p, const void *frame, u32 len)
{
	struct nic *n = p->ctx;

	if (n->xmit(n, frame, len))
		return true;
	__atomic_fetch_add(&n->tx_full, 1, __ATOMIC_RELAXED);
	return false;
}

void nic_register(struct nic *n)
{
	const u8 *m = n->mac;
	int err;

	if (uplink) {
		kprintf("%s: not used: %s is the uplink (one for now)\n", n->name, uplink->name);
		return;
	}
	n->port.name = "uplink";
	n->port.fixed_mac = false; /* it carries the frames of every station behind it */
	n->port.deliver = uplink_deliver;
	n->port.ctx = n;
	err = vswitch_port_add(vswitch_global(), &n->port);
	if (err) {
		kprintf("%s: cannot join the switch (%d): not used\n", n->name, err);
		return;
	}
	__atomic_store_n(&uplink, n, __ATOMIC_RELEASE);
	kprintf("uplink: %s (MAC %02x:%02x:%02x:%02x:%02x:%02x) is port %d of the switch\n",
		n->name, m[0], m[1], m[2], m[3], m[4], m[5], n->port.index);
	/* Frames may have come before the port was there. */
	nic_rx_interrupt(n);
}

void nic_rx(struct nic *n, const void *frame, u32 len)
{
	n->rx_frames++;
	vswitch_send(&n->port, frame, len);
}

/* Polls n until it is empty or the rounds are used up (then it stays
 * pending for the CPU loop). Interrupts off; one poller at a time. */
static void poll(struct nic *n)
{
	if (__atomic_exchange_n(&n->polling, 1, __ATOMIC_ACQUIRE))
		return; /* the poller that holds it will see rx_pending */
	for (unsigned round = 0; round < RX_ROUNDS; round++) {
		__atomic_store_n(&n->rx_pending, 0, __ATOMIC_RELAXED);
		if (n->poll_rx(n, RX_BUDGET) < RX_BUDGET)
			break;
		__atomic_store_n(&n->rx_pending, 1, __ATOMIC_RELAXED);
	}
	__atomic_store_n(&n->polling, 0, __ATOMIC_RELEASE);
}

void nic_rx_interrupt(struct nic *n)
{
	u64 flags;

	if (n != __atomic_load_n(&uplink, __ATOMIC_ACQUIRE))
		return; /* not the uplink: its frames go nowhere */
	if (this_cpu()->in_monitor) {
		__atomic_store_n(&n->rx_pending, 1, __ATOMIC_RELEASE);
		return;
	}
	flags = irq_save();
	poll(n);
	irq_restore(flags);
}

/* CPU 0's tick: a card without interrupts is looked at as if it had sent one. */
void uplink_tick(void)
{
	struct nic *n = __atomic_load_n(&uplink, __ATOMIC_ACQUIRE);

	if (n && n->tick)
		n->tick(n);
}

void uplink_poll_deferred(void)
{
	struct nic *n = __atomic_load_n(&uplink, __ATOMIC_ACQUIRE);

	if (n && __atomic_load_n(&n->rx_pending, __ATOMIC_ACQUIRE))
		nic_rx_interrupt(n);
}

void uplink_init(void)
{
	virtio_net_pci_probe();
	e1000e_pci_probe();
	if (!uplink)
		kprintf("uplink: none (no NIC utsuwa drives): VMs reach only each other\n");
}

bool uplink_mac(u8 mac[6])
{
	struct nic *n = __atomic_load_n(&uplink, __ATOMIC_ACQUIRE);

	if (n)
		memcpy(mac, n->mac, 6);
	return n;
}

void uplink_report(void)
{
	struct nic *n = __atomic_load_n(&uplink, __ATOMIC_ACQUIRE);

	if (n)
		kprintf("uplink: %s: %lu frames received, %lu not sent (transmit ring full)\n",
			n->name, (unsigned long)n->rx_frames,
			(unsigned long)__atomic_load_n(&n->tx_full, __ATOMIC_RELAXED));
}
