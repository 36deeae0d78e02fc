UNIT_TESTS += test_shadow
test_shadow_SRCS := tests/unit/test_shadow.c arch/x86/mmu/shadow_gwalk.c arch/x86/mmu/shadow_pt.c arch/x86/mmu/shadow_roots.c \
	arch/x86/mmu/shadow_tlb.c core/tlb_tag.c \
	arch/x86/mmu/shadow_fault.c core/gmem_access.c lib/string.c
$(BUILD)/unit/test_shadow: include/hv/shadow.h arch/x86/pt_walk.h tests/unit/fake_gmem.h \
	tests/unit/shadow_check.h
