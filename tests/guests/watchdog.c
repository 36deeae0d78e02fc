/*
 * watchdog: the guest's watchdog (HC_WATCHDOG, docs/hypercalls.md).
 *
 * arg=0 (on_crash=reset, expect=0): boot 1 checks that a period above the
 * limit is refused, that renewing in time keeps the VM running and that 0
 * turns it off; then arms it for 200 ms, marks a CMOS RAM byte (a reset
 * keeps it) and spins with interrupts off. The hypervisor must report the
 * VM hung and reset it. Boot 2 finds the mark and checks that the reset
 * turned the watchdog off: it lives 500 ms without renewing, then exits 0.
 *
 * arg=1 (the default on_crash=stop, expect=stop): arms it for 100 ms and
 * spins with interrupts off; the hypervisor must stop the VM.
 */
#include "guest.h"

#define CMOS_MARK 0x52 /* general-purpose CMOS RAM (reset.c 0x50, triplefault.c 0x51) */
#define BOOT1_DONE 0xd0

static s64 watchdog(ulong ms)
{
	return hypercall(HC_WATCHDOG, ms, 0, 0, 0, NULL);
}

static void wait_ms(u64 ms)
{
	for (u64 end = hc_time_ns() + ms * 1000000ull; hc_time_ns() < end;)
		cpu_relax();
}

static __noreturn void hang(void)
{
	__asm__ volatile("cli");
	for (;;)
		cpu_relax();
}

int main(ulong arg)
{
	if (arg == 1) {
		check_eq("watchdog: armed for 100 ms", (u64)watchdog(100), 0);
		printf("watchdog: spinning with interrupts off; the hypervisor should stop this VM\n");
		hang();
	}
	if (cmos_read(CMOS_MARK) == BOOT1_DONE) {
		cmos_write(CMOS_MARK, 0);
		wait_ms(500);
		printf("watchdog: boot 2, 500 ms without renewing after the reset\n");
		return failures ? 1 : 0;
	}
	check_eq("watchdog: above the limit refused (-22)", (u64)watchdog(HC_WATCHDOG_MAX_MS + 1),
		 (u64)HC_EINVAL);
	check_eq("watchdog: the limit itself taken", (u64)watchdog(HC_WATCHDOG_MAX_MS), 0);
	check_eq("watchdog: armed for 200 ms", (u64)watchdog(200), 0);
	for (int i = 0; i < 20; i++) { /* 1 s, renewed every 50 ms */
		wait_ms(50);
		expect(watchdog(200) == 0, "watchdog: renewed", "renewal %d refused", i);
	}
	check(true, "watchdog: renewed in time for 1 s, still running", "-");
	check_eq("watchdog: 0 turns it off", (u64)watchdog(0), 0);
	wait_ms(500);
	check(true, "watchdog: off, 500 ms without renewing, still running", "-");
	if (failures)
		return 1;
	check_eq("watchdog: armed for 200 ms, then a hang", (u64)watchdog(200), 0);
	cmos_write(CMOS_MARK, BOOT1_DONE);
	printf("watchdog: boot 1 spinning with interrupts off; the hypervisor should reset this VM\n");
	hang();
}
