UNIT_TESTS += test_exit
test_exit_SRCS := tests/unit/test_exit.c core/exit.c core/exit_cpuid.c core/exit_msr.c \
	core/exit_io.c core/exit_misc.c core/vm_report.c loaders/start_state.c loaders/raw.c core/bus.c core/gmem_access.c \
	arch/x86/emul/cpuid.c core/cpu_features.c arch/x86/emul/msr.c arch/x86/emul/decode.c arch/x86/emul/fetch.c \
	arch/x86/emul/gwalk.c core/vcpu_irq.c devices/pic8259.c core/vm_clock.c core/exit_cr8.c core/exit_cr.c core/exit_dr.c \
	core/exit_invlpg.c core/exit_ltr.c core/exit_exception.c arch/x86/emul/cr.c core/intercept.c \
	arch/x86/emul/operand.c \
	core/exit_shadow.c arch/x86/mmu/shadow_fault.c \
	arch/x86/mmu/shadow_gwalk.c arch/x86/mmu/shadow_pt.c arch/x86/mmu/shadow_roots.c \
	devices/vlapic.c devices/pvclock.c lib/string.c lib/format.c
$(BUILD)/unit/test_exit: tests/unit/fake_gmem.h
