/*
 * What the management API needs of the machine (core/api_host.h), and its
 * start at boot: the token, made from RDRAND and the TSC when the
 * configuration gives none, and the pass of CPU 0's loop (api_poll).
 */
#include "core/api_host.h"
#include "core/api_auth.h"
#include "core/api_http.h"
#include "hv/api.h"
#include "hv/api_tcp.h"
#include "hv/console.h"
#include "hv/hv.h"
#include "hv/image_store.h"
#include "hv/mm.h"
#include "hv/platform.h"
#include "hv/vendor.h"
#include "hv/vm.h"
#include "hv/vm_clock.h"
#include "hv/vm_console.h"
#include "devices/uart8250.h"
#include "asm/cpu.h"

#define CPUID_1_ECX_RDRAND BIT(30)

u64 api_vm_guest_tsc(const struct vm *vm)
{
	return vm_guest_tsc(vm);
}

u64 api_vm_host_tsc_at_guest_0(const struct vm *vm)
{
	return vm_host_tsc_for(vm, 0);
}

void api_host_info(struct api_host_info *h)
{
	h->cpus = 0;
	for (u64 m = hv_cpus_ready(); m; m &= m - 1) /* no libgcc for a popcount */
		h->cpus++;
	h->backend = vendor ? vendor->name : "none";
	h->free_mib = mm_free_pages() * PAGE_SIZE >> 20;
	h->uptime_s = tsc_to_ns(rdtsc()) / 1000000000ULL;
	h->api_last_request_tsc = api_tcp_last_request_tsc();
	vm_host_features(&h->cpu);
}

u64 api_console_start(struct vm *vm)
{
	struct vm_console *c = &vm->console;
	u64 from;

	spin_lock(&c->lock);
	from = c->line_start;
	if (c->total - from > VM_CONSOLE_RING)
		from = c->total - VM_CONSOLE_RING;
	spin_unlock(&c->lock);
	return from;
}

u32 api_console_read(struct vm *vm, u64 *cursor, char *buf, u32 n, u64 *lost)
{
	struct vm_console *c = &vm->console;
	u32 k = 0;

	/* The ring is read, never its `shown`: the serial console's view of
	 * the VM is as if no one else were reading. */
	spin_lock(&c->lock);
	if (c->total - *cursor > VM_CONSOLE_RING) {
		*lost += c->total - VM_CONSOLE_RING - *cursor;
		*cursor = c->total - VM_CONSOLE_RING;
	}
	for (; k < n && *cursor < c->total; k++, (*cursor)++)
		buf[k] = c->ring[*cursor % VM_CONSOLE_RING];
	spin_unlock(&c->lock);
	return k;
}

/* Tops the VM's UART up from its input queue. CPU 0's tick does it only for
 * the VM attached to the serial console: without this, what an API console
 * sends to another VM waits in the queue, and the guest, whose UART never
 * says data is ready, never reads it. With interrupts off (the tick, the
 * other consumer under the UART's lock, runs on this CPU too). */
static void console_refill(struct vm *vm)
{
	if (vm->uart && byteq_count(&vm->console.input))
		uart8250_rx_refill(vm->uart);
}

u32 api_console_write(struct vm *vm, const u8 *s, u32 n)
{
	/* One producer at a time: CPU 0's tick pushes what the serial line
	 * types with interrupts off; so do we. */
	u64 f = irq_save();
	u32 k = (u32)vm_console_input_push(vm, s, n);

	console_refill(vm);
	irq_restore(f);
	return k;
}

/* 64 bits from RDRAND if the CPU has it (up to 10 tries, as Intel's DRNG
 * guide advises), mixed with the TSC either way. */
u64 api_entropy(void)
{
	u64 r = 0, tsc = rdtsc();

	if (cpuid(1).ecx & CPUID_1_ECX_RDRAND) {
		for (int i = 0; i < 10; i++) {
			u8 ok;

			__asm__ volatile("rdrand %0; setc %1" : "=r"(r), "=qm"(ok));
			if (ok)
				break;
		}
	}
	/* MurmurHash3's finalizer spreads the TSC's low bits over the word. */
	tsc ^= tsc >> 33;
	tsc *= 0xff51afd7ed558ccdULL;
	tsc ^= tsc >> 33;
	return r ^ tsc;
}

void api_init(const char *token, u64 image_max)
{
	char made[API_TOKEN_MADE_LEN + 1];
	u64 seed[2];

	if (image_max)
		image_store_set_max(image_max);
	if (token[0]) {
		api_set_token(token);
		kprintf("api: the bearer token is the configuration's (api_token=)\n");
		return;
	}
	seed[0] = api_entropy();
	seed[1] = api_entropy();
	api_token_make(seed, made);
	api_set_token(made);
	/* Printed once, here; never again in any log. */
	kprintf("api: bearer token %s (made at boot; api_token= sets one)\n", made);
}

void api_poll(u64 now_ms)
{
	api_routes_poll(now_ms);
	/* A refill that found the UART's lock held (its vCPU was in it) is
	 * tried again here; once the guest reads, the UART pulls the rest. */
	for (unsigned i = 0; i < CONFIG_MAX_VMS; i++) {
		struct vm *vm = vms[i];

		if (vm) {
			u64 f = irq_save();

			console_refill(vm);
			irq_restore(f);
		}
	}
}
