/*
 * The hypercall ABI (docs/hypercalls.md): VMMCALL on AMD, VMCALL on Intel.
 * RAX holds the number, RBX, RCX, RDX, RSI the arguments; the result comes
 * back in RAX (negative errno on failure), with its high 32 bits also in RDX
 * so 16- and 32-bit guests read a 64-bit result as EDX:EAX. Only CPL 0 may
 * call: from CPL 1-3 every number returns HC_EPERM and does nothing.
 */
#ifndef HV_HYPERCALL_H
#define HV_HYPERCALL_H

#define HC_NOP 0           /* -> 0. The cheapest round trip, for benchmarks. */
#define HC_CONSOLE_WRITE 1 /* RBX = guest linear address, RCX = length (<= 4096) -> bytes written */
#define HC_YIELD 2         /* -> 0 once other vCPUs have had a turn */
#define HC_TIME_NS 3       /* -> nanoseconds since the VM was created */
#define HC_EXIT 4          /* RBX = exit code (an int); the VM ends, the call does not
			      return. A code that is no int -> HC_EINVAL */
#define HC_TIMER 5         /* RBX = delay in microseconds (0 cancels), RCX = vector -> 0.
			      A one-shot external interrupt on this vCPU. */
#define HC_VCPU_INFO 6     /* -> RAX = vCPU index, RBX = physical CPU, RCX = vCPU count */
#define HC_WATCHDOG 7      /* RBX = milliseconds of guest time (1..HC_WATCHDOG_MAX_MS; 0 turns
			      it off) before the VM counts as hung unless called again -> 0
			      (core/vm_watchdog.c) */
#define HC_WATCHDOG_MAX_MS 600000
#define HC_TEST_VSTATE 0x7e00 /* test only: the caller's whole vCPU state saved, wiped,
				 restored (one-vCPU VMs) -> 0 */

/*
 * Test-only (docs/hypercalls.md): numbers from 0x100 drive the hypervisor's
 * internals for the test guests (core/hypercall_test.c). Addresses are
 * guest-physical.
 */
#define HC_TEST_DIRTY_LOG_START 0x100 /* -> 0. Dirty logging on for this VM */
#define HC_TEST_DIRTY_LOG_STOP 0x101  /* -> 0 */
#define HC_TEST_DIRTY_HARVEST 0x102   /* RBX = gpa of a bitmap, RCX = its bits -> pages marked */
#define HC_TEST_WRITE_GPA 0x103       /* RBX = gpa, RCX = a u64 the hypervisor writes there -> 0 */

#define HC_EPERM (-1)  /* called from CPL > 0 */
#define HC_ENOSYS (-38)
#define HC_EFAULT (-14)
#define HC_EINVAL (-22)

#endif
