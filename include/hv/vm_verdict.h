/*
 * The test harness's verdicts (core/vm_verdict.c): whether each VM ended as
 * its configuration's `expect=` said. Test-only: the matrix runner reads
 * these lines; in a run that is not a test (exit=halt, `make run`) nothing
 * here prints, and no product decision depends on it.
 */
#ifndef HV_VM_VERDICT_H
#define HV_VM_VERDICT_H

#include "hv/types.h"

struct vm;

/* The harness's mode: exit=qemu or exit=bochs. */
void vm_verdict_enable(bool on);
/* The VM has just ended: say whether as expected. */
void vm_verdict(const struct vm *vm);
/* The VM is going away (destroy): it no longer counts. */
void vm_verdict_forget(const struct vm *vm);
/* Every VM has ended: print the summary line the runner checks; true when
 * all were as expected. */
bool vm_verdict_summary(void);

#endif
