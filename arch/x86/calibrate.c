/*
 * Calibrating the TSC and the local APIC timer against the PIT (Intel 8254
 * data sheet: mode 0, "interrupt on terminal count"). Channel 2 is the one
 * whose gate software controls and whose output it can read, through port
 * 0x61 (bit 0: gate, bit 1: speaker data, bit 5: channel 2 output).
 */
#include "arch/x86/time.h"
#include "arch/x86/lapic.h"
#include "hv/console.h"
#include "hv/platform.h"
#include "asm/cpu.h"
#include "asm/io.h"

#define PIT_HZ 1193182ULL
#define PIT_CH2 0x42
#define PIT_CMD 0x43
#define PIT_CMD_CH2_LOHI_MODE0 0xb0 /* channel 2, lobyte/hibyte, mode 0, binary */
#define PORT_B 0x61
#define PORT_B_GATE2 0x01
#define PORT_B_SPEAKER 0x02
#define PORT_B_OUT2 0x20

#define CAL_MS 10
#define CAL_LATCH (PIT_HZ * CAL_MS / 1000) /* 11931 PIT ticks: 9.9995 ms */
#define CAL_TRIES 3
/* Port reads take about a microsecond on hardware: this is seconds, not 10 ms. */
#define CAL_SPIN_MAX 5000000u

struct sample {
	u64 tsc;
	u32 apic;
};

/* One window of CAL_LATCH PIT ticks; false when the PIT output never rose. */
static bool pit_window(struct sample *s)
{
	u8 b = inb(PORT_B);
	u64 t0;
	u32 a0, i;

	outb(PORT_B, (b & ~PORT_B_SPEAKER) | PORT_B_GATE2);
	outb(PIT_CMD, PIT_CMD_CH2_LOHI_MODE0);
	apic_timer_oneshot(0xffffffffu, true);
	outb(PIT_CH2, CAL_LATCH & 0xff);
	outb(PIT_CH2, CAL_LATCH >> 8); /* counting starts with this write */
	t0 = rdtsc();
	a0 = apic_timer_current();
	for (i = 0; !(inb(PORT_B) & PORT_B_OUT2); i++)
		if (i == CAL_SPIN_MAX)
			break;
	s->tsc = rdtsc() - t0;
	s->apic = a0 - apic_timer_current();
	apic_timer_stop();
	outb(PORT_B, b);
	return i < CAL_SPIN_MAX;
}

/* Without a PIT: the base frequency from CPUID 0x16 (MHz), when there is one. */
static u64 cpuid_tsc_khz(void)
{
	if (cpuid(0).eax >= 0x16)
		return (u64)(cpuid(0x16).eax & 0xffff) * 1000;
	return 0;
}

static u64 apic_hz_against_tsc(void)
{
	u32 a0;

	apic_timer_oneshot(0xffffffffu, true);
	a0 = apic_timer_current();
	udelay(CAL_MS * 1000);
	a0 -= apic_timer_current();
	apic_timer_stop();
	return (u64)a0 * (1000 / CAL_MS);
}

int time_calibrate(void)
{
	struct sample best = { .tsc = ~0ULL }, s;
	u64 khz;

	for (int i = 0; i < CAL_TRIES; i++) {
		if (!pit_window(&s))
			goto no_pit;
		/* Interruptions (SMIs, a busy host) only lengthen a window: keep the shortest. */
		if (s.tsc < best.tsc)
			best = s;
	}
	time_set_tsc_khz(best.tsc * PIT_HZ / (CAL_LATCH * 1000));
	apic_timer_hz = (u64)best.apic * PIT_HZ / CAL_LATCH;
	return 0;

no_pit:
	khz = cpuid_tsc_khz();
	kprintf("time: the PIT's channel 2 does not count; %s\n",
		khz ? "using CPUID leaf 0x16" : "guessing a 1 GHz TSC");
	time_set_tsc_khz(khz ? khz : 1000000);
	apic_timer_hz = apic_hz_against_tsc();
	return -ENODEV;
}
