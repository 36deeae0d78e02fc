/* HC_TEST_VSTATE (core/hc_vstate.c, docs/hypercalls.md): test only. */
#ifndef CORE_HC_VSTATE_H
#define CORE_HC_VSTATE_H

#include "hv/types.h"

struct vcpu;

/* The calling vCPU's whole state taken, the vCPU wiped to power-on, the
 * state put back, with the VM's clock stopped and set around it. 0, or a
 * negative errno (-EINVAL: the VM has more than one vCPU). */
s64 hc_vstate_roundtrip(struct vcpu *v);

#endif
