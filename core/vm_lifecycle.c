/* Pause, resume, destroy, create at run time, snapshot, restore (include/hv/vm_lifecycle.h). */
#include "hv/vm_lifecycle.h"
#include "hv/vm.h"
#include "lib/format.h"
#include "lib/string.h"

/* Until each action lands: say so, change nothing. */
static int not_yet(const char *what, char *err, size_t n)
{
	if (err)
		fmt_snprintf(err, n, "%s: not implemented yet", what);
	return -ENOSYS;
}

struct vm *vm_find(const char *name)
{
	for (unsigned i = 0; i < nr_vms; i++)
		if (vms[i] && !strcmp(vms[i]->name, name))
			return vms[i];
	return NULL;
}

int vm_pause(struct vm *vm, char *err, size_t n) { return not_yet("pause", err, n); }
int vm_resume(struct vm *vm, char *err, size_t n) { return not_yet("resume", err, n); }
int vm_power_button(struct vm *vm, char *err, size_t n) { return not_yet("stop", err, n); }
int vm_reset_now(struct vm *vm, char *err, size_t n) { return not_yet("reset", err, n); }
int vm_destroy(struct vm *vm, char *err, size_t n) { return not_yet("destroy", err, n); }
int vm_create_line(const char *line, char *err, size_t n) { return not_yet("create", err, n); }
int vm_snapshot(struct vm *vm, unsigned *id, char *err, size_t n) { return not_yet("snapshot", err, n); }
int vm_restore(unsigned id, const char *name, char *err, size_t n) { return not_yet("restore", err, n); }
int vm_snapshot_drop(unsigned id, char *err, size_t n) { return not_yet("drop", err, n); }
