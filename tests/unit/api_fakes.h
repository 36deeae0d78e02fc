/*
 * The hypervisor around the management API, faked for its host tests and
 * its fuzzer (tests/unit/api_fakes.c): VMs are plain structs in vms[], the
 * lifecycle actions change their state and count calls, creation parses
 * the vm= word with the real core/config.c, memory is malloc's.
 */
#ifndef API_FAKES_H
#define API_FAKES_H

#include "hv/api.h"
#include "hv/config.h"
#include "hv/vm.h"

/* A transport: what the connection sent, and whether it closed. */
struct fake_io {
	char sent[1 << 16];
	u32 len;
	u32 window;   /* bytes send takes per call; 0: all */
	bool full;    /* send takes nothing */
	bool closed;
};

extern const struct api_io fake_api_io;

struct fake_calls {
	unsigned pause, resume, power, reset, destroy, create, snapshot, restore, end, drop,
		console_in;
	char last_line[2048];   /* what vm_create_line got */
	struct vm_config last_cfg; /* ... as config_parse read it */
	char console_in_buf[256];
	u32 console_in_len;
};
extern struct fake_calls fake;
extern char fake_log[8192]; /* every kprintf line, appended */
extern u64 fake_free_pages;
extern u64 fake_pages_live;

/* Forgets every VM, image, call count and log line. */
void fake_reset(void);
struct vm *fake_vm(const char *name, enum vm_state state, unsigned vcpus, u64 mem_mib);
/* A boot module called name (of size bytes). */
void fake_module(const char *name, u64 size);
/* Console output of the VM the tap reads. */
void fake_console_output(struct vm *vm, const char *s);

#endif
