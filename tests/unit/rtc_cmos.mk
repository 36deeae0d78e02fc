UNIT_TESTS += test_rtc_cmos
test_rtc_cmos_SRCS := tests/unit/test_rtc_cmos.c devices/rtc_cmos.c core/bus.c
$(BUILD)/unit/test_rtc_cmos: devices/rtc_cmos.h
