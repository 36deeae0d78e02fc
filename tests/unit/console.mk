UNIT_TESTS += test_console
test_console_SRCS := tests/unit/test_console.c core/vm_console.c core/monitor.c core/monitor_cmds.c core/vmexit_names.c \
	core/monitor_disks.c core/monitor_migrate.c core/monitor_pools.c core/cpu_features.c core/cpu_pool.c core/blockdev.c \
	devices/uart8250.c lib/format.c lib/string.c
