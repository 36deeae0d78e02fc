UNIT_TESTS += test_vcpu_state
test_vcpu_state_SRCS := tests/unit/test_vcpu_state.c core/vcpu_state_check.c
$(BUILD)/unit/test_vcpu_state: devices/vlapic_state.h
