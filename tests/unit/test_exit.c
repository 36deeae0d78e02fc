/*
 * The exit dispatcher and its handlers, fed synthetic exits: a fake back end
 * records what the handlers ask of it, a VM's RAM is a host buffer.
 */
#include "unit.h"
#include <stdarg.h>
#include <string.h>
#include "hv/console.h"
#include "hv/exit.h"
#include "hv/vcpu.h"
#include "hv/vendor.h"
#include "hv/vm.h"
#include "hv/loader.h"
#include "arch/x86/emul/cpuid.h"
#include "asm/cpu.h"
#include "devices/pvclock.h"
#include "devices/vlapic.h"

/* ---- the fake back end and the rest of the hypervisor ---- */
static struct guest_ctx fake_ctx;
static int injected_vector = -1;
static u32 injected_error;
static bool irq_in_hw;

static void fake_get_ctx(struct vcpu *v, struct guest_ctx *c) { *c = fake_ctx; }
static void fake_inject(struct vcpu *v, u8 vector, bool has_error, u32 error)
{
	injected_vector = vector;
	injected_error = error;
}
static bool fake_irq_offered(struct vcpu *v) { return irq_in_hw; }
static int fake_msr_state(struct vcpu *v, u32 msr, bool write, u64 *val)
{
	if (msr != MSR_EFER)
		return -ENOENT;
	if (!write)
		*val = fake_ctx.efer;
	return 0;
}

static const struct vendor_ops fake_ops = {
	.name = "fake",
	.get_ctx = fake_get_ctx,
	.get_paging_ctx = fake_get_ctx,
	.inject_exception = fake_inject,
	.irq_offered = fake_irq_offered,
	.msr_state = fake_msr_state,
};
const struct vendor_ops *vendor = &fake_ops;

static int vm_end_calls;
static enum vm_state vm_end_how;
void vm_end(struct vm *vm, enum vm_state how, int code)
{
	vm_end_calls++;
	vm_end_how = how;
	vm->state = how;
}
void kvprintf(const char *fmt, va_list ap) { (void)fmt; (void)ap; }
void kprintf(const char *fmt, ...) { (void)fmt; }
/* Handlers this test does not exercise. */
enum exit_action handle_hypercall(struct vcpu *v, struct vmexit *e) { return ACT_SKIP; }
enum exit_action handle_mem(struct vcpu *v, struct vmexit *e) { return ACT_SKIP; }
void sched_wake(struct vcpu *v) { (void)v; }
void *kzalloc(size_t n) { return calloc(1, n); }
u64 tsc_khz = 2000000;
u64 tsc_to_ns(u64 ticks) { return ticks / 2; } /* the guest clock (core/vm_clock.c) at 2 GHz */
void kfree(void *p) { free(p); }

/* ---- a VM in long mode, code at 0x100000 ---- */
static struct vm vm;
static struct vcpu vcpu;
static struct cpuid_policy policy;
static u8 *ram;

static struct cpuid_leaf host(u32 leaf, u32 sub)
{
	if (leaf == 0)
		return (struct cpuid_leaf){ 7, 1, 2, 3 };
	if (leaf == 0x80000000)
		return (struct cpuid_leaf){ 0x80000008, 0, 0, 0 };
	return (struct cpuid_leaf){ ~0u, ~0u, ~0u, ~0u };
}

static void setup(const u8 *code, size_t n)
{
	free(ram);
	ram = calloc(1, 4 << 20);
	memset(&vm, 0, sizeof(vm));
	memset(&vcpu, 0, sizeof(vcpu));
	vm.mem[0] = (struct vm_mem_region){ 0, 4 << 20, (u64)(uintptr_t)ram };
	vm.nr_mem = 1;
	vm.cfg.mode = START_LONG64;
	vm.cfg.cpus = 1;
	vm.nr_vcpus = 1;
	vm.vcpus[0] = &vcpu;
	cpuid_policy_build(&policy, host, 1, 1000);
	vm.cpuid = &policy;
	vcpu.vm = &vm;
	CHECK_EQ(start_state_build(&vm, START_LONG64, &fake_ctx), 0);
	vcpu.regs.rip = 0x100000;
	vcpu.regs.rflags = RFLAGS_FIXED;
	vcpu.offered = -1;
	memcpy(ram + 0x100000, code, n);
	injected_vector = -1;
	vm_end_calls = 0;
	irq_in_hw = false;
}

static enum exit_action run_exit(enum vmexit_reason reason)
{
	struct vmexit e = { .reason = reason };

	return exit_dispatch(&vcpu, &e);
}

TEST(cpuid_fills_registers_and_skips_by_decoding)
{
	static const u8 code[] = { 0x0f, 0xa2 };

	setup(code, sizeof(code));
	vcpu.regs.gpr[GPR_RAX] = 0xffffffff40000000ULL; /* upper half ignored */
	vcpu.regs.gpr[GPR_RBX] = ~0ULL;
	CHECK_EQ(run_exit(VMEXIT_CPUID), ACT_SKIP);
	CHECK_EQ(vcpu.regs.gpr[GPR_RBX], UTSUWA_SIG_EBX); /* zero-extended */
	CHECK_EQ(vcpu.regs.gpr[GPR_RAX], 0x40000010);
	CHECK_EQ(vcpu.regs.rip, 0x100002);
	/* The second exit at the same page goes through the cache's fast path. */
	vcpu.regs.rip = 0x100000;
	CHECK_EQ(run_exit(VMEXIT_CPUID), ACT_SKIP);
	CHECK_EQ(vcpu.regs.rip, 0x100002);
}

TEST(prefixed_instruction_is_decoded_not_guessed)
{
	static const u8 code[] = { 0x66, 0x2e, 0x0f, 0xa2 }; /* CPUID with two prefixes */

	setup(code, sizeof(code));
	CHECK_EQ(run_exit(VMEXIT_CPUID), ACT_SKIP); /* fills the cache */
	vcpu.regs.rip = 0x100000;
	CHECK_EQ(run_exit(VMEXIT_CPUID), ACT_SKIP); /* cache hit, bytes do not match the plain form */
	CHECK_EQ(vcpu.regs.rip, 0x100004);
}

TEST(unknown_msr_injects_gp_and_keeps_rip)
{
	static const u8 code[] = { 0x0f, 0x32 };

	setup(code, sizeof(code));
	vcpu.regs.gpr[GPR_RCX] = 0xc0011234;
	CHECK_EQ(run_exit(VMEXIT_MSR_READ), ACT_RESUME);
	CHECK_EQ(injected_vector, EXC_GP);
	CHECK_EQ(injected_error, 0);
	CHECK_EQ(vcpu.regs.rip, 0x100000);
	/* EFER reads through the back end, split into EDX:EAX */
	vcpu.regs.gpr[GPR_RCX] = MSR_EFER;
	vcpu.regs.gpr[GPR_RDX] = ~0ULL;
	CHECK_EQ(run_exit(VMEXIT_MSR_READ), ACT_SKIP);
	CHECK_EQ(vcpu.regs.gpr[GPR_RAX], EFER_LME | EFER_LMA);
	CHECK_EQ(vcpu.regs.gpr[GPR_RDX], 0);
	CHECK_EQ(vcpu.regs.rip, 0x100002);
}

/* WRMSR at 0x100000 (setup put it there). */
static enum exit_action guest_wrmsr(u32 msr, u64 val)
{
	vcpu.regs.rip = 0x100000;
	injected_vector = -1;
	vcpu.regs.gpr[GPR_RCX] = msr;
	vcpu.regs.gpr[GPR_RAX] = (u32)val;
	vcpu.regs.gpr[GPR_RDX] = val >> 32;
	return run_exit(VMEXIT_MSR_WRITE);
}

TEST(kvmclock_msrs_fill_guest_memory_or_fault)
{
	struct pvclock_vcpu_time_info t;
	struct pvclock_wall_clock w;
	static const u8 code[] = { 0x0f, 0x30 };

	setup(code, sizeof(code));
	/* The per-vCPU structure at 0x300000, enabled: filled for 2 GHz. */
	CHECK_EQ(guest_wrmsr(MSR_KVM_SYSTEM_TIME_NEW, 0x300001), ACT_SKIP);
	memcpy(&t, ram + 0x300000, sizeof(t));
	CHECK_EQ(t.version, 2);
	CHECK_EQ(t.flags, PVCLOCK_TSC_STABLE_BIT);
	CHECK_EQ(pvclock_read_ns(&t, 2000000000ULL), 1000000000ULL);
	CHECK_EQ(vcpu.msrs.kvm_system_time, 0x300001);
	/* Wall clock: the VM's creation time. */
	vm.created_unix = 1795321414ULL;
	CHECK_EQ(guest_wrmsr(MSR_KVM_WALL_CLOCK_NEW, 0x301000), ACT_SKIP);
	memcpy(&w, ram + 0x301000, sizeof(w));
	CHECK_EQ(w.sec, 1795321414u);
	CHECK_EQ(w.version, 2);
	/* Disabled: nothing written, the value kept. */
	memset(ram + 0x300000, 0, sizeof(t));
	CHECK_EQ(guest_wrmsr(MSR_KVM_SYSTEM_TIME_NEW, 0x300000), ACT_SKIP);
	CHECK_EQ(ram[0x300000], 0);
	CHECK_EQ(vcpu.msrs.kvm_system_time, 0x300000);
	/* Outside guest RAM, or misaligned: #GP, RIP kept. */
	CHECK_EQ(guest_wrmsr(MSR_KVM_SYSTEM_TIME_NEW, (4 << 20) - 16 + 1), ACT_RESUME);
	CHECK_EQ(injected_vector, EXC_GP);
	CHECK_EQ(vcpu.regs.rip, 0x100000);
	CHECK_EQ(guest_wrmsr(MSR_KVM_SYSTEM_TIME_NEW, 0x300003), ACT_RESUME);
	CHECK_EQ(injected_vector, EXC_GP);
	CHECK_EQ(guest_wrmsr(MSR_KVM_WALL_CLOCK_NEW, 0x40000000), ACT_RESUME);
	CHECK_EQ(injected_vector, EXC_GP);
}

TEST(port_in_sizes_and_unclaimed_ports)
{
	static const u8 code[] = { 0xec };
	struct vmexit e = { .reason = VMEXIT_IO, .insn_len = 1 };

	setup(code, sizeof(code));
	vcpu.regs.gpr[GPR_RAX] = 0x1122334455667788ULL;
	e.io = (typeof(e.io)){ .port = 0x80, .size = 1, .in = true };
	CHECK_EQ(exit_dispatch(&vcpu, &e), ACT_SKIP);
	CHECK_EQ(vcpu.regs.gpr[GPR_RAX], 0x11223344556677ffULL); /* AL only */
	e.io.size = 2;
	CHECK_EQ(exit_dispatch(&vcpu, &e), ACT_SKIP);
	CHECK_EQ(vcpu.regs.gpr[GPR_RAX], 0x112233445566ffffULL);
	e.io.size = 4;
	CHECK_EQ(exit_dispatch(&vcpu, &e), ACT_SKIP);
	CHECK_EQ(vcpu.regs.gpr[GPR_RAX], 0xffffffffULL); /* EAX zero-extends */
	CHECK_EQ(vcpu.regs.rip, 0x100003);
}

TEST(hlt_sleeps_wakes_or_stops)
{
	static const u8 code[] = { 0xf4 };

	setup(code, sizeof(code));
	vcpu.regs.rflags = RFLAGS_FIXED | RFLAGS_IF;
	CHECK_EQ(run_exit(VMEXIT_HLT), ACT_HALT);
	CHECK_EQ(vcpu.regs.rip, 0x100001);
	irq_in_hw = true; /* an interrupt is already waiting in the hardware: no sleep */
	vcpu.offered = 0x40;
	vcpu.regs.rip = 0x100000;
	CHECK_EQ(run_exit(VMEXIT_HLT), ACT_SKIP);
	vcpu.offered = -1;
	vcpu.regs.rflags = RFLAGS_FIXED; /* IF clear, the only vCPU: the VM is dead */
	vcpu.regs.rip = 0x100000;
	CHECK_EQ(run_exit(VMEXIT_HLT), ACT_VM_STOP);
	CHECK_EQ(vm_end_calls, 1);
	CHECK_EQ(vm_end_how, VM_STOPPED);
}

TEST(bad_exits_stop_the_vm_or_fault_the_guest)
{
	static const u8 code[] = { 0x0f, 0x01, 0xd8 }; /* VMRUN */

	setup(code, sizeof(code));
	CHECK_EQ(run_exit(VMEXIT_UD), ACT_RESUME);
	CHECK_EQ(injected_vector, EXC_UD);
	CHECK_EQ(run_exit(VMEXIT_SHUTDOWN), ACT_VM_STOP);
	setup(code, sizeof(code));
	CHECK_EQ(run_exit(VMEXIT_UNHANDLED), ACT_VM_STOP);
	CHECK_EQ(vm_end_how, VM_STOPPED);
	/* An instruction in memory the guest's page tables do not map. */
	setup(code, sizeof(code));
	vcpu.regs.rip = 0x7fff00000000ULL;
	CHECK_EQ(run_exit(VMEXIT_CPUID), ACT_VM_STOP);
}

/* MOV to CR8 reaches the local APIC's TPR: from the register the back end
 * names (VT-x) or, with none named (AMD-V without decode assists), the one
 * the decoder finds; reserved bits are #GP; another instruction stops the VM. */
TEST(cr8_write_sets_the_apic_tpr)
{
	static const u8 mov_cr8_r9[] = { 0x45, 0x0f, 0x22, 0xc1 }; /* mov %r9, %cr8 */
	static const u8 not_cr8[] = { 0x0f, 0x22, 0xd8 };           /* mov %rax, %cr3 */
	struct vlapic_config c = { .id = 0, .bsp = true, .tsc_khz = 1000000,
				   .timer_khz = 1000000 };
	struct vmexit e = { .reason = VMEXIT_CR8_WRITE, .cr8.gpr = -1 };

	setup(mov_cr8_r9, sizeof(mov_cr8_r9));
	vcpu.lapic = vlapic_create(&c);
	CHECK(vcpu.lapic != NULL);
	vcpu.regs.gpr[GPR_R9] = 5;
	CHECK_EQ(exit_dispatch(&vcpu, &e), ACT_SKIP);
	CHECK_EQ(vlapic_cr8_read(vcpu.lapic), 5);
	CHECK_EQ(vcpu.regs.rip, 0x100004);
	CHECK(vcpu.irq_work);
	/* The register named by the back end; its length from the CPU. */
	vcpu.regs.rip = 0x100000;
	vcpu.regs.gpr[GPR_RBX] = 9;
	e = (struct vmexit){ .reason = VMEXIT_CR8_WRITE, .insn_len = 4, .cr8.gpr = GPR_RBX };
	CHECK_EQ(exit_dispatch(&vcpu, &e), ACT_SKIP);
	CHECK_EQ(vlapic_cr8_read(vcpu.lapic), 9);
	/* Bits 63:4 are reserved. */
	vcpu.regs.rip = 0x100000;
	vcpu.regs.gpr[GPR_R9] = 0x10;
	e = (struct vmexit){ .reason = VMEXIT_CR8_WRITE, .cr8.gpr = -1 };
	CHECK_EQ(exit_dispatch(&vcpu, &e), ACT_RESUME);
	CHECK_EQ(injected_vector, EXC_GP);
	CHECK_EQ(vcpu.regs.rip, 0x100000);
	CHECK_EQ(vlapic_cr8_read(vcpu.lapic), 9);
	vlapic_destroy(vcpu.lapic);
	vcpu.lapic = NULL;

	setup(not_cr8, sizeof(not_cr8));
	vcpu.lapic = vlapic_create(&c);
	e = (struct vmexit){ .reason = VMEXIT_CR8_WRITE, .cr8.gpr = -1 };
	CHECK_EQ(exit_dispatch(&vcpu, &e), ACT_VM_STOP);
	vlapic_destroy(vcpu.lapic);
	vcpu.lapic = NULL;
}

int main(void)
{
	RUN(cpuid_fills_registers_and_skips_by_decoding);
	RUN(prefixed_instruction_is_decoded_not_guessed);
	RUN(unknown_msr_injects_gp_and_keeps_rip);
	RUN(kvmclock_msrs_fill_guest_memory_or_fault);
	RUN(port_in_sizes_and_unclaimed_ports);
	RUN(hlt_sleeps_wakes_or_stops);
	RUN(bad_exits_stop_the_vm_or_fault_the_guest);
	RUN(cr8_write_sets_the_apic_tpr);
	return unit_done();
}
