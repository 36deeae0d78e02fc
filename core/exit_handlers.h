/* The exit handlers core/exit.c dispatches to, one file per kind. */
#ifndef CORE_EXIT_HANDLERS_H
#define CORE_EXIT_HANDLERS_H

#include "hv/vmexit.h"

struct vcpu;

typedef enum exit_action (*exit_handler_fn)(struct vcpu *v, struct vmexit *e);

enum exit_action handle_nothing(struct vcpu *v, struct vmexit *e);
enum exit_action handle_cpuid(struct vcpu *v, struct vmexit *e);       /* exit_cpuid.c */
enum exit_action handle_rdtsc(struct vcpu *v, struct vmexit *e);
enum exit_action handle_msr_read(struct vcpu *v, struct vmexit *e);    /* exit_msr.c */
enum exit_action handle_msr_write(struct vcpu *v, struct vmexit *e);
enum exit_action handle_io(struct vcpu *v, struct vmexit *e);          /* exit_io.c */
enum exit_action handle_hlt(struct vcpu *v, struct vmexit *e);         /* exit_misc.c */
enum exit_action handle_hypercall(struct vcpu *v, struct vmexit *e);   /* hypercall.c */
/* The test-only hypercalls (0x100 and up, docs/hypercalls.md); HC_ENOSYS for
 * any other number (core/hypercall_test.c). */
s64 hypercall_test(struct vcpu *v, u64 nr, u64 arg1, u64 arg2);
enum exit_action handle_mem(struct vcpu *v, struct vmexit *e);         /* exit_mem.c */
enum exit_action handle_shutdown(struct vcpu *v, struct vmexit *e);    /* exit_misc.c */
enum exit_action handle_xsetbv(struct vcpu *v, struct vmexit *e);
enum exit_action handle_invd(struct vcpu *v, struct vmexit *e);
enum exit_action handle_cr_access(struct vcpu *v, struct vmexit *e);  /* exit_cr.c */
enum exit_action handle_dr_access(struct vcpu *v, struct vmexit *e);  /* exit_dr.c */
enum exit_action handle_invlpg(struct vcpu *v, struct vmexit *e);     /* exit_invlpg.c */
enum exit_action handle_ltr(struct vcpu *v, struct vmexit *e);        /* exit_ltr.c */
/* exit_mem_split.c: an MMIO operand that may run over its page's end; *done
 * false when it does not (handle_mem goes on). */
struct guest_ctx;
struct insn;
enum exit_action handle_mem_split(struct vcpu *v, struct vmexit *e, const struct guest_ctx *ctx,
				  const struct insn *in, bool *done);
enum exit_action handle_exception(struct vcpu *v, struct vmexit *e);  /* exit_exception.c */
enum exit_action handle_shadow_pf(struct vcpu *v, struct vmexit *e);  /* exit_shadow.c */
enum exit_action handle_ud(struct vcpu *v, struct vmexit *e);
enum exit_action handle_machine_check(struct vcpu *v, struct vmexit *e);
enum exit_action handle_entry_fail(struct vcpu *v, struct vmexit *e);
enum exit_action handle_unexpected(struct vcpu *v, struct vmexit *e);

/* CR8 is the local APIC's TPR (exit_cr8.c): a MOV to CR8 of val, and what
 * a MOV from CR8 reads. */
enum exit_action cr8_write(struct vcpu *v, u64 val);
u64 cr8_read(struct vcpu *v);

#endif
