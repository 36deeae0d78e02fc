/*
 * libFuzzer target: the management API's HTTP side, token check, JSON and
 * routes (core/api_*.c, core/image_store.c) over the faked hypervisor of
 * the host tests (tests/unit/api_fakes.c): one connection fed an input
 * split into steps. Each step is a byte saying what to do, then data:
 *   op & 3 == 0: feed the next (op >> 2) + 1 bytes as they are
 *   op & 3 == 1: time passes, (op >> 2) * 250 ms, then api_conn_poll and
 *                api_routes_poll
 *   op & 3 == 2: the transport's window: full (0), or (op >> 2) bytes a send
 *   op & 3 == 3: feed everything that is left
 * A crash, a sanitizer's report or a leak fails, and so do an upload's
 * pages not given back once the connection is gone. Built and run by
 * `make fuzz` (mk/fuzz_api.mk).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "api_fakes.h"
#include "core/api_http.h"
#include "hv/image_store.h"

#define TOKEN "fuzz-token-0123456789"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool once;
	struct fake_io *io = calloc(1, sizeof(*io));
	struct api_conn *c;
	u64 now = 1000;
	size_t i = 0;

	if (!once) {
		api_set_token(TOKEN);
		once = true;
	}
	fake_reset();
	fake_module("kernel", 4096);
	fake_vm("web", VM_RUNNING, 2, 64);
	image_store_set_max(1 << 16);
	c = api_conn_new(&fake_api_io, io, now);
	while (i < size && !io->closed) {
		u8 op = data[i++];
		size_t n = (size_t)(op >> 2) + 1;

		io->len = 0; /* the answers are not kept */
		switch (op & 3) {
		case 0:
		case 3:
			if ((op & 3) == 3 || n > size - i)
				n = size - i;
			api_conn_input(c, data + i, (u32)n, now);
			i += n;
			break;
		case 1:
			now += (u64)(op >> 2) * 250;
			api_conn_poll(c, now);
			api_routes_poll(now);
			break;
		case 2:
			io->full = !(op >> 2);
			io->window = op >> 2;
			api_conn_sent(c, 0, now);
			break;
		}
	}
	api_conn_free(c);
	free(io);
	fake_reset();
	if (fake_pages_live)
		abort(); /* an upload's pages were not given back */
	return 0;
}
