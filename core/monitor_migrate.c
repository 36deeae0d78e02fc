/*
 * The monitor's live-migration commands (core/monitor_cmds.h,
 * docs/migration.md): start one, see how it goes, the test aids. They
 * return at once; the migration runs on in netstack_poll and says how it
 * ended on the console.
 */
#include "core/monitor_cmds.h"
#include "hv/console.h"
#include "hv/migrate.h"
#include "hv/vm_lifecycle.h"
#include "lib/string.h"

static int start(const struct monitor_args *a, u32 damage, bool wrong_key)
{
	struct vm *vm = vm_find(a->argv[1]);
	char err[MIGRATE_ERR_MAX];

	if (!vm) {
		kprintf("%s: no vm '%s'\n", a->argv[0], a->argv[1]);
		return -ENOENT;
	}
	if (migrate_start(vm, a->argv[2], damage, wrong_key, err, sizeof(err))) {
		kprintf("%s\n", err);
		return -EINVAL;
	}
	return 0;
}

int monitor_cmd_migrate(const struct monitor_args *a)
{
	return start(a, 0, false);
}

/* migrate-test VM TO wrongkey|FRAME: a migration meant to fail. */
int monitor_cmd_migrate_test(const struct monitor_args *a)
{
	const char *what = a->argv[3];
	u32 frame;

	if (!strcmp(what, "wrongkey"))
		return start(a, 0, true);
	frame = monitor_parse_id(what);
	if (frame < 2) {
		kprintf("migrate-test: '%s' is neither wrongkey nor a frame number from 2\n", what);
		return -EINVAL;
	}
	return start(a, frame, false);
}

/* migrate-test-recv nodone: the next VM to arrive here runs, but the
 * source hears nothing (the connection reset): the source keeps its copy
 * paused, in doubt (docs/migration.md, "Fencing"). */
int monitor_cmd_migrate_test_recv(const struct monitor_args *a)
{
	if (strcmp(a->argv[1], "nodone")) {
		kprintf("migrate-test-recv: '%s' is not nodone\n", a->argv[1]);
		return -EINVAL;
	}
	migrate_recv_test_no_done();
	kprintf("migrate-test-recv: the next VM to arrive runs without DONE sent\n");
	return 0;
}

int monitor_cmd_migration(const struct monitor_args *a)
{
	struct migrate_status st;

	if (migrate_status(a->argv[1], &st)) {
		kprintf("migration: none of vm '%s' on this host\n", a->argv[1]);
		return -ENOENT;
	}
	kprintf("migration of %s to %s: %s; %u rounds, %lu pages, %lu KiB, last round %lu KiB/s, "
		"%lu dirty; downtime %lu ms, %lu ms in all%s%s\n", st.vm, st.to, st.state, st.rounds,
		(unsigned long)st.pages_sent, (unsigned long)(st.bytes_sent >> 10),
		(unsigned long)st.rate_kib_s, (unsigned long)st.dirty_pages,
		(unsigned long)st.downtime_ms, (unsigned long)st.total_ms, st.error[0] ? ": " : "",
		st.error);
	return 0;
}
