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
#include "fake_gmem.h"
#include "hv/loader.h"
#include "hv/intercept.h"
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
	if (write)
		fake_ctx.efer = *val;
	else
		*val = fake_ctx.efer;
	return 0;
}
/* Control registers as a back end loads them; set_cr_fails makes it refuse. */
static int set_cr_calls, flushes;
static bool set_cr_fails;
static int fake_set_cr(struct vcpu *v, unsigned cr, u64 val)
{
	set_cr_calls++;
	if (set_cr_fails)
		return -EINVAL;
	switch (cr) {
	case 0: fake_ctx.cr0 = val; return 0;
	case 2: fake_ctx.cr2 = val; return 0;
	case 3: fake_ctx.cr3 = val; return 0;
	case 4: fake_ctx.cr4 = val; return 0;
	}
	return -EINVAL;
}
static void fake_flush(struct vcpu *v) { flushes++; }
static int load_tr_calls;
static void fake_load_tr(struct vcpu *v, const struct seg *tr)
{
	load_tr_calls++;
	fake_ctx.tr = *tr;
}

static const struct vendor_ops fake_ops = {
	.name = "fake",
	.get_ctx = fake_get_ctx,
	.get_paging_ctx = fake_get_ctx,
	.inject_exception = fake_inject,
	.irq_offered = fake_irq_offered,
	.msr_state = fake_msr_state,
	.set_cr = fake_set_cr,
	.flush_guest_tlb = fake_flush,
	.load_tr = fake_load_tr,
};
const struct vendor_ops *vendor = &fake_ops;

/* Shadow paging links in (core/exit_shadow.c); no test here logs
 * dirty pages. */
bool shadow_gmem_writable(struct vm *vm, u64 gpa, bool write) { return true; }

static int vm_end_calls;
static enum vm_state vm_end_how;
void vm_end(struct vm *vm, enum vm_state how, int code)
{
	vm_end_calls++;
	vm_end_how = how;
	vm->state = how;
}
/* on_crash=reset and pause (core/vm_report.c): what the stop asked for. */
static int reset_requests, crash_pauses;
void vm_reset_request(struct vm *vm) { reset_requests++; vm->state = VM_RESETTING; }
void vm_crash_pause(struct vm *vm) { crash_pauses++; vm->state = VM_PAUSED; }
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
static struct intercept_policy intercepts;
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
	fake_gmem_attach(&vm, ram, 4 << 20);
	vm.cfg.mode = START_LONG64;
	vm.cfg.cpus = 1;
	vm.nr_vcpus = 1;
	vm.vcpus[0] = &vcpu;
	vm.clock.khz = tsc_khz; /* kvmclock's rate, as vm_clock_init sets it */
	cpuid_policy_build(&policy, host, 1, 1000);
	vm.cpuid = &policy;
	intercept_policy_init(&intercepts);
	vm.intercepts = &intercepts;
	vcpu.vm = &vm;
	CHECK_EQ(start_state_build(&vm, START_LONG64, &fake_ctx), 0);
	vcpu.regs.rip = 0x100000;
	vcpu.regs.rflags = RFLAGS_FIXED;
	vcpu.offered = -1;
	memcpy(ram + 0x100000, code, n);
	injected_vector = -1;
	vm_end_calls = 0;
	irq_in_hw = false;
	set_cr_calls = flushes = 0;
	set_cr_fails = false;
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

TEST(on_crash_resets_or_pauses_instead_of_stopping)
{
	static const u8 code[] = { 0x90 };

	setup(code, sizeof(code));
	vm.cfg.on_crash = ON_CRASH_RESET;
	reset_requests = crash_pauses = 0;
	CHECK_EQ(run_exit(VMEXIT_SHUTDOWN), ACT_VM_STOP);
	CHECK_EQ(reset_requests, 1);
	CHECK_EQ(vm_end_calls, 0);
	setup(code, sizeof(code));
	vm.cfg.on_crash = ON_CRASH_PAUSE;
	CHECK_EQ(run_exit(VMEXIT_SHUTDOWN), ACT_VM_STOP);
	CHECK_EQ(crash_pauses, 1);
	CHECK_EQ(vm_end_calls, 0);
	/* Another vCPU's stop of the same VM, now paused, changes nothing. */
	CHECK_EQ(run_exit(VMEXIT_SHUTDOWN), ACT_VM_STOP);
	CHECK_EQ(crash_pauses, 1);
	vm.cfg.on_crash = ON_CRASH_STOP;
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
	struct vmexit e = { .reason = VMEXIT_CR_ACCESS, .cr = { 8, true, -1 } };

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
	e = (struct vmexit){ .reason = VMEXIT_CR_ACCESS, .insn_len = 4, .cr = { 8, true, GPR_RBX } };
	CHECK_EQ(exit_dispatch(&vcpu, &e), ACT_SKIP);
	CHECK_EQ(vlapic_cr8_read(vcpu.lapic), 9);
	/* Bits 63:4 are reserved. */
	vcpu.regs.rip = 0x100000;
	vcpu.regs.gpr[GPR_R9] = 0x10;
	e = (struct vmexit){ .reason = VMEXIT_CR_ACCESS, .cr = { 8, true, -1 } };
	CHECK_EQ(exit_dispatch(&vcpu, &e), ACT_RESUME);
	CHECK_EQ(injected_vector, EXC_GP);
	CHECK_EQ(vcpu.regs.rip, 0x100000);
	CHECK_EQ(vlapic_cr8_read(vcpu.lapic), 9);
	vlapic_destroy(vcpu.lapic);
	vcpu.lapic = NULL;

	setup(not_cr8, sizeof(not_cr8));
	vcpu.lapic = vlapic_create(&c);
	e = (struct vmexit){ .reason = VMEXIT_CR_ACCESS, .cr = { 8, true, -1 } };
	CHECK_EQ(exit_dispatch(&vcpu, &e), ACT_VM_STOP);
	vlapic_destroy(vcpu.lapic);
	vcpu.lapic = NULL;
}

static enum exit_action cr_exit(u8 cr, bool write, int gpr, u8 len)
{
	struct vmexit e = { .reason = VMEXIT_CR_ACCESS, .insn_len = len, .cr = { cr, write, gpr } };

	injected_vector = -1;
	return exit_dispatch(&vcpu, &e);
}

/* 32-bit protected mode without paging, LME and PAE set: the last step into
 * long mode is the guest's MOV to CR0 (SDM vol. 3, 10.8.5). */
static void setup_prot32(const u8 *code, size_t n)
{
	setup(code, n);
	fake_ctx.cr0 = CR0_PE | CR0_ET;
	fake_ctx.cr4 = CR4_PAE;
	fake_ctx.efer = EFER_LME;
	fake_ctx.cs.attr = SEG_ATTR_P | SEG_ATTR_DB | 0x9b;
	fake_ctx.cs.base = 0;
}

TEST(cr0_write_checked_by_the_core_loaded_by_the_back_end)
{
	static const u8 mov_eax_cr0[] = { 0x0f, 0x22, 0xc0 };

	/* Decoded (AMD-V): entering long mode sets LMA; the upper half of RAX
	 * is not part of a 32-bit operand. */
	setup_prot32(mov_eax_cr0, sizeof(mov_eax_cr0));
	vcpu.regs.gpr[GPR_RAX] = 0xdead000000000000ULL | CR0_PG | CR0_PE | CR0_ET;
	CHECK_EQ(cr_exit(0, true, -1, 0), ACT_SKIP);
	CHECK_EQ(fake_ctx.cr0, CR0_PG | CR0_PE | CR0_ET);
	CHECK_EQ(fake_ctx.efer, EFER_LME | EFER_LMA);
	CHECK_EQ(vcpu.regs.rip, 0x100003); /* the dispatcher moved it, by the decoded length */
	CHECK_EQ(injected_vector, -1);

	/* PG without PE: #GP, nothing loaded, RIP kept. */
	setup_prot32(mov_eax_cr0, sizeof(mov_eax_cr0));
	vcpu.regs.gpr[GPR_RAX] = CR0_PG;
	CHECK_EQ(cr_exit(0, true, -1, 0), ACT_RESUME);
	CHECK_EQ(injected_vector, EXC_GP);
	CHECK_EQ(set_cr_calls, 0);
	CHECK_EQ(vcpu.regs.rip, 0x100000);
	/* NW without CD. */
	vcpu.regs.gpr[GPR_RAX] = CR0_PE | CR0_NW;
	CHECK_EQ(cr_exit(0, true, -1, 0), ACT_RESUME);
	CHECK_EQ(injected_vector, EXC_GP);
	/* Long mode needs PAE. */
	fake_ctx.cr4 = 0;
	vcpu.regs.gpr[GPR_RAX] = CR0_PE | CR0_PG;
	CHECK_EQ(cr_exit(0, true, -1, 0), ACT_RESUME);
	CHECK_EQ(injected_vector, EXC_GP);
	CHECK_EQ(fake_ctx.efer, EFER_LME);

	/* The back end cannot load it (VT-x: PDPTEs outside RAM): #GP, EFER as before. */
	setup_prot32(mov_eax_cr0, sizeof(mov_eax_cr0));
	set_cr_fails = true;
	vcpu.regs.gpr[GPR_RAX] = CR0_PG | CR0_PE;
	CHECK_EQ(cr_exit(0, true, -1, 0), ACT_RESUME);
	CHECK_EQ(injected_vector, EXC_GP);
	CHECK_EQ(fake_ctx.efer, EFER_LME);
	CHECK_EQ(vcpu.regs.rip, 0x100000);

	/* VT-x: register and length from the exit; 64-bit code may not turn
	 * paging off, but may flip WP. */
	setup(mov_eax_cr0, sizeof(mov_eax_cr0));
	u64 cr0 = fake_ctx.cr0;
	vcpu.regs.gpr[GPR_RBX] = cr0 & ~CR0_PG;
	CHECK_EQ(cr_exit(0, true, GPR_RBX, 3), ACT_RESUME);
	CHECK_EQ(injected_vector, EXC_GP);
	CHECK_EQ(fake_ctx.cr0, cr0);
	vcpu.regs.gpr[GPR_RBX] = cr0 ^ CR0_WP;
	CHECK_EQ(cr_exit(0, true, GPR_RBX, 3), ACT_SKIP);
	CHECK_EQ(fake_ctx.cr0, cr0 ^ CR0_WP);
	CHECK_EQ(vcpu.regs.rip, 0x100003);
	/* Bits 63:32 set in 64-bit mode: #GP. */
	vcpu.regs.gpr[GPR_RBX] = cr0 | BIT(32);
	CHECK_EQ(cr_exit(0, true, GPR_RBX, 3), ACT_RESUME);
	CHECK_EQ(injected_vector, EXC_GP);
}

TEST(cr4_write_and_cr_reads)
{
	static const u8 code[] = { 0x0f, 0x20, 0xd8 }; /* mov %cr3, %rax */
	u64 cr4;

	setup(code, sizeof(code));
	cr4 = fake_ctx.cr4;
	/* VMXE: no VMX in a guest. */
	vcpu.regs.gpr[GPR_RCX] = cr4 | CR4_VMXE;
	CHECK_EQ(cr_exit(4, true, GPR_RCX, 3), ACT_RESUME);
	CHECK_EQ(injected_vector, EXC_GP);
	CHECK_EQ(fake_ctx.cr4, cr4);
	/* PAE off in long mode. */
	vcpu.regs.gpr[GPR_RCX] = cr4 & ~CR4_PAE;
	CHECK_EQ(cr_exit(4, true, GPR_RCX, 3), ACT_RESUME);
	CHECK_EQ(injected_vector, EXC_GP);
	/* SMEP on: loaded. */
	vcpu.regs.gpr[GPR_RCX] = cr4 | CR4_SMEP;
	CHECK_EQ(cr_exit(4, true, GPR_RCX, 3), ACT_SKIP);
	CHECK_EQ(fake_ctx.cr4, cr4 | CR4_SMEP);
	/* Features CPUID hides though the host has them (this host sets every
	 * bit): OSXSAVE without XSAVE, PKE without PKU, CET: #GP, nothing
	 * loaded. FSGSBASE is offered: loaded. */
	set_cr_calls = 0;
	vcpu.regs.gpr[GPR_RCX] = cr4 | CR4_OSXSAVE;
	CHECK_EQ(cr_exit(4, true, GPR_RCX, 3), ACT_RESUME);
	CHECK_EQ(injected_vector, EXC_GP);
	vcpu.regs.gpr[GPR_RCX] = cr4 | CR4_PKE;
	CHECK_EQ(cr_exit(4, true, GPR_RCX, 3), ACT_RESUME);
	CHECK_EQ(injected_vector, EXC_GP);
	vcpu.regs.gpr[GPR_RCX] = cr4 | BIT(23);
	CHECK_EQ(cr_exit(4, true, GPR_RCX, 3), ACT_RESUME);
	CHECK_EQ(injected_vector, EXC_GP);
	CHECK_EQ(set_cr_calls, 0);
	CHECK_EQ(fake_ctx.cr4, cr4 | CR4_SMEP);
	vcpu.regs.gpr[GPR_RCX] = cr4 | CR4_FSGSBASE;
	CHECK_EQ(cr_exit(4, true, GPR_RCX, 3), ACT_SKIP);
	CHECK_EQ(fake_ctx.cr4, cr4 | CR4_FSGSBASE);
	/* The back end lacks a bit (VT-x's fixed-1 CR4 bits): #GP. */
	set_cr_fails = true;
	vcpu.regs.gpr[GPR_RCX] = cr4 | CR4_SMAP;
	CHECK_EQ(cr_exit(4, true, GPR_RCX, 3), ACT_RESUME);
	CHECK_EQ(injected_vector, EXC_GP);
	set_cr_fails = false;

	/* MOV from CR3, decoded (the start state's page tables). */
	vcpu.regs.rip = 0x100000;
	CHECK(fake_ctx.cr3 != 0);
	vcpu.regs.gpr[GPR_RAX] = ~0ULL;
	CHECK_EQ(cr_exit(3, false, -1, 0), ACT_SKIP);
	CHECK_EQ(vcpu.regs.gpr[GPR_RAX], fake_ctx.cr3);
	CHECK_EQ(vcpu.regs.rip, 0x100003);
	/* The exit says "write", the bytes say "read": stop, not guess. */
	vcpu.regs.rip = 0x100000;
	CHECK_EQ(cr_exit(3, true, -1, 0), ACT_VM_STOP);
}

/* Faults are delivered with RF set in the pushed RFLAGS (SDM vol. 3,
 * 18.3.1.1): the hypervisor sets it before injecting; traps keep it. */
TEST(injected_faults_set_rf)
{
	static const u8 code[] = { 0x0f, 0x32 }; /* rdmsr */
	struct vmexit e = { .reason = VMEXIT_EXCEPTION };

	setup(code, sizeof(code));
	vcpu.regs.gpr[GPR_RCX] = 0xc0011234;
	CHECK_EQ(run_exit(VMEXIT_MSR_READ), ACT_RESUME);
	CHECK_EQ(injected_vector, EXC_GP);
	CHECK(vcpu.regs.rflags & RFLAGS_RF);
	vcpu.regs.rflags = RFLAGS_FIXED;
	CHECK_EQ(run_exit(VMEXIT_UD), ACT_RESUME);
	CHECK_EQ(injected_vector, EXC_UD);
	CHECK(vcpu.regs.rflags & RFLAGS_RF);
	/* A reflected #BP is a trap: RF untouched. */
	vcpu.regs.rflags = RFLAGS_FIXED;
	intercepts.exceptions |= BIT(3);
	e.exc = (typeof(e.exc)){ .vector = 3 };
	CHECK_EQ(exit_dispatch(&vcpu, &e), ACT_SKIP);
	CHECK_EQ(vcpu.regs.rflags & RFLAGS_RF, 0);
}

/* CPUID.1:EDX.APIC follows IA32_APIC_BASE.EN (SDM vol. 3, 11.4.3). */
TEST(cpuid_apic_bit_follows_apic_base)
{
	static const u8 code[] = { 0x0f, 0xa2 };
	struct vlapic_config c = { .id = 0, .bsp = true, .tsc_khz = 1000000,
				   .timer_khz = 1000000, .x2apic = true };
	u64 base;

	setup(code, sizeof(code));
	vcpu.lapic = vlapic_create(&c);
	CHECK(vcpu.lapic != NULL);
	vcpu.regs.gpr[GPR_RAX] = 1;
	CHECK_EQ(run_exit(VMEXIT_CPUID), ACT_SKIP);
	CHECK(vcpu.regs.gpr[GPR_RDX] & CPUID_1_EDX_APIC);
	base = vlapic_apic_base_read(vcpu.lapic);
	CHECK_EQ(vlapic_apic_base_write(vcpu.lapic, base & ~APIC_BASE_EN), 0);
	vcpu.regs.rip = 0x100000;
	vcpu.regs.gpr[GPR_RAX] = 1;
	CHECK_EQ(run_exit(VMEXIT_CPUID), ACT_SKIP);
	CHECK_EQ(vcpu.regs.gpr[GPR_RDX] & CPUID_1_EDX_APIC, 0);
	CHECK(vcpu.regs.gpr[GPR_RCX] & CPUID_1_ECX_X2APIC); /* unaffected */
	CHECK_EQ(vlapic_apic_base_write(vcpu.lapic, base), 0);
	vcpu.regs.rip = 0x100000;
	vcpu.regs.gpr[GPR_RAX] = 1;
	CHECK_EQ(run_exit(VMEXIT_CPUID), ACT_SKIP);
	CHECK(vcpu.regs.gpr[GPR_RDX] & CPUID_1_EDX_APIC);
	vlapic_destroy(vcpu.lapic);
	vcpu.lapic = NULL;
}

TEST(intercepted_exceptions_go_back_to_the_guest)
{
	static const u8 int3[] = { 0xcc };
	struct vmexit e = { .reason = VMEXIT_EXCEPTION };

	setup(int3, sizeof(int3));
	intercepts.exceptions |= BIT(14) | BIT(3);
	/* #PF: CR2 then the fault, its error code kept; RIP stays on the faulting instruction. */
	e.exc = (typeof(e.exc)){ .vector = 14, .has_error = true, .error = 6, .address = 0xdead000 };
	CHECK_EQ(exit_dispatch(&vcpu, &e), ACT_RESUME);
	CHECK_EQ(fake_ctx.cr2, 0xdead000);
	CHECK_EQ(injected_vector, 14);
	CHECK_EQ(injected_error, 6);
	CHECK_EQ(vcpu.regs.rip, 0x100000);
	/* #BP from INT3: a trap, the guest resumes after it. */
	e = (struct vmexit){ .reason = VMEXIT_EXCEPTION, .exc = { .vector = 3 } };
	CHECK_EQ(exit_dispatch(&vcpu, &e), ACT_SKIP);
	CHECK_EQ(injected_vector, 3);
	CHECK_EQ(vcpu.regs.rip, 0x100001);
	/* An exception the policy does not intercept cannot exit: the VM stops. */
	e = (struct vmexit){ .reason = VMEXIT_EXCEPTION, .exc = { .vector = 13 } };
	CHECK_EQ(exit_dispatch(&vcpu, &e), ACT_VM_STOP);
	CHECK_EQ(vm_end_how, VM_STOPPED);
}

/* LTR (core/exit_ltr.c): the SDM's checks, each a fault with RIP and TR
 * kept; a good 64-bit TSS marked busy and loaded, RIP past the instruction. */
TEST(ltr_checks_then_loads_tr)
{
	/* ltr %ax; ltr (%rbx) */
	static const u8 code[] = { 0x0f, 0x00, 0xd8, 0x0f, 0x00, 0x1b };
	const u64 gdt = 0x200000;
	u64 *d = (u64 *)(void *)0;
	static const struct {
		u16 sel;
		u8 vector;
		u32 error;
	} bad[] = {
		{ 0x0000, EXC_GP, 0 },    /* null: QEMU's TCG loads it, a CPU faults */
		{ 0x0003, EXC_GP, 0 },    /* null with an RPL */
		{ 0x000c, EXC_GP, 0x0c }, /* the LDT */
		{ 0x0080, EXC_GP, 0x80 }, /* beyond the GDT's limit */
		{ 0x0078, EXC_GP, 0x78 }, /* its upper half beyond the limit (16 bytes in IA-32e) */
		{ 0x0010, EXC_GP, 0x10 }, /* a data segment */
		{ 0x0020, EXC_GP, 0x20 }, /* a 16-bit TSS: not in IA-32e mode */
		{ 0x0050, EXC_GP, 0x50 }, /* upper type field not 0 */
		{ 0x0030, EXC_NP, 0x30 }, /* not present */
	};

	setup(code, sizeof(code));
	d = (u64 *)(ram + gdt);
	d[2] = 0x00cf93000000ffffull;                  /* 0x10: data */
	d[4] = 0x0000810000000067ull;                  /* 0x20: 16-bit TSS, available */
	d[6] = 0x0000090000000067ull;                  /* 0x30: 64-bit TSS, not present */
	d[8] = 0x78008956789a0067ull;                  /* 0x40: base bits 31:0 0x7856789a */
	d[9] = 0x12;                                   /* base bits 63:32 */
	d[10] = 0x0000890000000067ull;                 /* 0x50: present, but upper type 1 */
	d[11] = 0x100ull << 32;
	d[15] = 0x0000890000000067ull;                 /* 0x78: its upper half past the limit */
	fake_ctx.gdtr.base = gdt;
	fake_ctx.gdtr.limit = 0x7f;
	fake_ctx.tr = (struct seg){ 0x18, 0x8b, 0x67, 0 };
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		vcpu.regs.gpr[GPR_RAX] = bad[i].sel;
		injected_vector = -1;
		CHECK_EQ(run_exit(VMEXIT_LTR), ACT_RESUME);
		CHECK_EQ(injected_vector, bad[i].vector);
		CHECK_EQ(injected_error, bad[i].error);
		CHECK_EQ(vcpu.regs.rip, 0x100000);
	}
	CHECK_EQ(load_tr_calls, 0);
	CHECK_EQ(fake_ctx.tr.sel, 0x18);
	vcpu.regs.gpr[GPR_RAX] = 0x40;
	/* A good one: busy in the GDT, TR from it. */
	injected_vector = -1;
	CHECK_EQ(run_exit(VMEXIT_LTR), ACT_SKIP);
	CHECK_EQ(injected_vector, -1);
	CHECK_EQ(load_tr_calls, 1);
	CHECK_EQ(fake_ctx.tr.sel, 0x40);
	CHECK_EQ(fake_ctx.tr.base, 0x127856789aull);
	CHECK_EQ(fake_ctx.tr.limit, 0x67);
	CHECK_EQ(fake_ctx.tr.attr, 0x8b);
	CHECK_EQ(d[8], 0x78008b56789a0067ull);
	CHECK_EQ(vcpu.regs.rip, 0x100003);
	/* From memory: the same selector, busy now, is no available TSS. */
	*(u16 *)(ram + 0x300000) = 0x40;
	vcpu.regs.gpr[GPR_RBX] = 0x300000;
	CHECK_EQ(run_exit(VMEXIT_LTR), ACT_RESUME);
	CHECK_EQ(injected_vector, EXC_GP);
	CHECK_EQ(injected_error, 0x40);
	CHECK_EQ(vcpu.regs.rip, 0x100003);
	CHECK_EQ(load_tr_calls, 1);
}

TEST(invlpg_flushes_and_finds_its_address)
{
	/* invlpg 0x10(%rbx,%rcx,4); invlpg %fs:(%rax); swapgs */
	static const u8 code[] = { 0x0f, 0x01, 0x7c, 0x8b, 0x10, 0x64, 0x0f, 0x01, 0x38,
				   0x0f, 0x01, 0xf8 };
	struct vmexit e = { .reason = VMEXIT_INVLPG, .insn_len = 5, .invlpg = { 0x5000, true } };

	setup(code, sizeof(code));
	/* VT-x: the address and length from the exit. */
	CHECK_EQ(exit_dispatch(&vcpu, &e), ACT_SKIP);
	CHECK_EQ(flushes, 1);
	CHECK_EQ(vcpu.regs.rip, 0x100005);
	/* AMD-V without decode assists: decoded, base + index * 4 + 0x10. */
	vcpu.regs.rip = 0x100000;
	vcpu.regs.gpr[GPR_RBX] = 0x7000;
	vcpu.regs.gpr[GPR_RCX] = 0x100;
	e = (struct vmexit){ .reason = VMEXIT_INVLPG };
	CHECK_EQ(exit_dispatch(&vcpu, &e), ACT_SKIP);
	CHECK_EQ(e.invlpg.addr, 0x7410);
	CHECK_EQ(flushes, 2);
	CHECK_EQ(vcpu.regs.rip, 0x100005);
	/* An FS override adds FS.base, even in 64-bit mode. */
	fake_ctx.fs.base = 0x40000000;
	vcpu.regs.gpr[GPR_RAX] = 0x1234;
	e = (struct vmexit){ .reason = VMEXIT_INVLPG };
	CHECK_EQ(exit_dispatch(&vcpu, &e), ACT_SKIP);
	CHECK_EQ(e.invlpg.addr, 0x40001234);
	CHECK_EQ(vcpu.regs.rip, 0x100009);
	/* VT-x's INVPCID: a type above 3 is #GP, RIP kept; else a flush. */
	vcpu.regs.rip = 0x100000;
	vcpu.regs.gpr[GPR_RDX] = 4;
	e = (struct vmexit){ .reason = VMEXIT_INVLPG, .insn_len = 5,
			     .invlpg = { .invpcid = true, .type_gpr = GPR_RDX } };
	CHECK_EQ(exit_dispatch(&vcpu, &e), ACT_RESUME);
	CHECK_EQ(injected_vector, EXC_GP);
	CHECK_EQ(flushes, 3);
	CHECK_EQ(vcpu.regs.rip, 0x100000);
	vcpu.regs.gpr[GPR_RDX] = 2;
	CHECK_EQ(exit_dispatch(&vcpu, &e), ACT_SKIP);
	CHECK_EQ(flushes, 4);
	CHECK_EQ(vcpu.regs.rip, 0x100005);
	/* Not INVLPG at RIP: stop. */
	vcpu.regs.rip = 0x100009;
	e = (struct vmexit){ .reason = VMEXIT_INVLPG };
	CHECK_EQ(exit_dispatch(&vcpu, &e), ACT_VM_STOP);
	CHECK_EQ(flushes, 4);
}

int main(void)
{
	RUN(cpuid_fills_registers_and_skips_by_decoding);
	RUN(on_crash_resets_or_pauses_instead_of_stopping);
	RUN(prefixed_instruction_is_decoded_not_guessed);
	RUN(unknown_msr_injects_gp_and_keeps_rip);
	RUN(kvmclock_msrs_fill_guest_memory_or_fault);
	RUN(port_in_sizes_and_unclaimed_ports);
	RUN(hlt_sleeps_wakes_or_stops);
	RUN(bad_exits_stop_the_vm_or_fault_the_guest);
	RUN(cr8_write_sets_the_apic_tpr);
	RUN(cr0_write_checked_by_the_core_loaded_by_the_back_end);
	RUN(cr4_write_and_cr_reads);
	RUN(injected_faults_set_rf);
	RUN(cpuid_apic_bit_follows_apic_base);
	RUN(intercepted_exceptions_go_back_to_the_guest);
	RUN(invlpg_flushes_and_finds_its_address);
	RUN(ltr_checks_then_loads_tr);
	return unit_done();
}
