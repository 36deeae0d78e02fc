/* The one exit path (core/exit.c): every back end's exits end up here. */
#ifndef HV_EXIT_H
#define HV_EXIT_H

#include "hv/types.h"
#include "hv/vmexit.h"

struct vcpu;
struct vm;

/* Runs the handler for e->reason and, if it asks, moves RIP past the
 * trapped instruction (decoding it when the CPU gave no length). */
enum exit_action exit_dispatch(struct vcpu *v, struct vmexit *e);

/* Prints why the VM is stopped and a register dump of v, then ends the VM.
 * Returns ACT_VM_STOP for the handler to return. */
enum exit_action vm_stop_report(struct vcpu *v, const char *fmt, ...) __printf(2, 3);
/* The registers of a vCPU that is off its CPU, as a stop report prints them. */
void vm_report_vcpu(struct vcpu *v);

/* Injects an exception into the guest as the CPU would raise it at RIP:
 * for a fault, with RFLAGS.RF set in the frame it pushes. */
void vcpu_inject_exception(struct vcpu *v, u8 vector, bool has_error, u32 error);
/* Injects a fault into the guest: returns ACT_RESUME. */
enum exit_action vcpu_fault(struct vcpu *v, u8 vector, bool has_error, u32 error);

#define EXC_DB 1
#define EXC_UD 6
#define EXC_DF 8
#define EXC_NP 11
#define EXC_GP 13
#define EXC_PF 14

#endif
