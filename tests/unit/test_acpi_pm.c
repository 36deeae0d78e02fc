/*
 * The ACPI PM registers: the PM timer against a fake clock, TMR_STS and the
 * SCI, the power button, S5 poweroff as ACPICA writes it, and the reset
 * register reached through the PCI host's port 0xcf9.
 */
#include "unit.h"
#include "devices/acpi_pm.h"
#include "devices/pci_host.h"

#include <string.h>
#include "hv/bus.h"
#include "hv/mm.h"

void *kzalloc(size_t size)
{
	return calloc(1, size);
}

void kfree(void *p)
{
	free(p);
}

#define NS 1000000000ULL

static u64 fake_now;
static int poweroffs, resets;
static bool sci;

static u64 clock_ns(void *ctx)
{
	CHECK(ctx == &fake_now);
	return fake_now;
}

static void poweroff(void *ctx)
{
	poweroffs++;
}

static struct acpi_pm *pm;
static struct pci_host *pci;
static bool reset_devices; /* the reset callback resets the PM and the PCI host */

static void reset(void *ctx)
{
	resets++;
	if (reset_devices) {
		pci_host_reset(pci);
		acpi_pm_reset(pm);
	}
}

static void sink_set(void *ctx, u32 gsi, bool level)
{
	CHECK_EQ(gsi, ACPI_SCI_IRQ);
	CHECK(level != sci);
	sci = level;
}

static const struct irq_sink sink = { .set = sink_set };
static const struct acpi_pm_ops ops = {
	.now_ns = clock_ns, .poweroff = poweroff, .reset = reset, .ctx = &fake_now
};

static struct bus pio;
static u64 t0;

static void setup(void)
{
	memset(&pio, 0, sizeof(pio));
	fake_now = t0 = 77 * NS;
	poweroffs = resets = 0;
	reset_devices = false;
	sci = false;
	pm = acpi_pm_create(&ops, &sink);
	pci = pci_host_create();
	CHECK(pm != NULL && pci != NULL);
	CHECK_EQ(bus_register(&pio, ACPI_PM_BASE, ACPI_PM_NR_PORTS, "acpi-pm", &acpi_pm_ops, pm), 0);
	CHECK_EQ(bus_register(&pio, PCI_HOST_BASE, PCI_HOST_NR_PORTS, "pci", &pci_host_ops, pci), 0);
	pci_host_set_cf9(pci, &acpi_pm_rcr_ops, pm);
}

static void teardown(void)
{
	acpi_pm_destroy(pm);
	pci_host_destroy(pci);
}

static u64 in(u16 port, u8 size)
{
	u64 v = 0xdeadbeefdeadULL;

	CHECK_EQ(bus_read(&pio, port, size, &v), 0);
	return v;
}

static void out(u16 port, u8 size, u64 v)
{
	CHECK_EQ(bus_write(&pio, port, size, v), 0);
}

#define TMR (ACPI_PM_BASE + ACPI_PM_TMR)
#define STS (ACPI_PM_BASE + ACPI_PM1_STS)
#define EN (ACPI_PM_BASE + ACPI_PM1_EN)
#define CNT (ACPI_PM_BASE + ACPI_PM1_CNT)

TEST(pm_timer)
{
	setup();
	CHECK_EQ(in(TMR, 4), 0);
	fake_now = t0 + NS;
	CHECK_EQ(in(TMR, 4), 3579545);
	fake_now = t0 + 1000; /* 1 us: 3.58 ticks */
	CHECK_EQ(in(TMR, 4), 3);
	fake_now = t0 + 280; /* one tick is 279.37 ns */
	CHECK_EQ(in(TMR, 4), 1);
	fake_now = t0 + 279;
	CHECK_EQ(in(TMR, 4), 0);
	/* 32 bits wide: 1200 s is 4295454000 ticks, past 2^32. */
	fake_now = t0 + 1200 * NS;
	CHECK_EQ(in(TMR, 4), 4295454000ULL - (1ULL << 32));
	/* Byte reads see the same counter. */
	CHECK_EQ(in(TMR, 1), (4295454000ULL - (1ULL << 32)) & 0xff);
	CHECK_EQ(in(TMR + 2, 2), (4295454000ULL - (1ULL << 32)) >> 16);
	/* Read-only. */
	out(TMR, 4, 0);
	CHECK_EQ(in(TMR, 4), 4295454000ULL - (1ULL << 32));
	teardown();
}

TEST(tmr_sts_and_sci)
{
	setup();
	CHECK_EQ(in(CNT, 2), ACPI_PM1_SCI_EN); /* ACPI mode from the start */
	out(CNT, 2, 0);
	CHECK_EQ(in(CNT, 2), ACPI_PM1_SCI_EN); /* and it stays */
	CHECK_EQ(acpi_pm_next_event_ns(pm), ACPI_PM_NO_EVENT);
	out(EN, 2, ACPI_PM1_TMR_EN);
	CHECK_EQ(in(EN, 2), ACPI_PM1_TMR_EN);
	/* Bit 31 first changes at 2^31 ticks: 599.9 s. */
	u64 next = acpi_pm_next_event_ns(pm);
	CHECK_EQ(next, t0 + (2147483648ULL * NS + 3579545 - 1) / 3579545);
	acpi_pm_update(pm, next - 1);
	CHECK(!sci);
	CHECK_EQ(in(STS, 2) & ACPI_PM1_TMR_STS, 0);
	acpi_pm_update(pm, next);
	CHECK(sci);
	CHECK_EQ(in(STS, 2), ACPI_PM1_TMR_STS);
	CHECK_EQ(acpi_pm_next_event_ns(pm), ACPI_PM_NO_EVENT);
	out(STS, 2, ACPI_PM1_TMR_STS); /* write 1 to clear */
	CHECK(!sci);
	CHECK_EQ(in(STS, 2), 0);
	/* The next change, at the 32-bit wrap. */
	CHECK_EQ(acpi_pm_next_event_ns(pm), t0 + (4294967296ULL * NS + 3579545 - 1) / 3579545);
	/* Status without the enable: no SCI. */
	out(EN, 2, 0);
	fake_now = t0 + 1300 * NS;
	CHECK_EQ(in(STS, 2), ACPI_PM1_TMR_STS);
	CHECK(!sci);
	out(EN, 2, 0xffff);
	CHECK_EQ(in(EN, 2), ACPI_PM1_EN_MASK);
	CHECK(sci);
	out(STS, 2, 0xffff);
	CHECK(!sci);
	teardown();
}

TEST(power_button)
{
	setup();
	acpi_pm_power_button(pm);
	CHECK_EQ(in(STS, 2), ACPI_PM1_PWRBTN_STS);
	CHECK(!sci);
	out(EN, 2, ACPI_PM1_PWRBTN_EN);
	CHECK(sci);
	out(STS + 1, 1, ACPI_PM1_PWRBTN_STS >> 8); /* a byte write clears it too */
	CHECK(!sci);
	CHECK_EQ(in(STS, 2), 0);
	teardown();
}

/* ACPICA's acpi_hw_legacy_sleep(): clear WAK_STS, write SLP_TYP, then SLP_TYP|SLP_EN. */
TEST(s5_poweroff)
{
	u16 cnt;

	setup();
	out(STS, 2, ACPI_PM1_WAK_STS);
	cnt = (u16)in(CNT, 2);
	cnt &= ~(ACPI_PM1_SLP_TYP_MASK | ACPI_PM1_SLP_EN);
	cnt |= ACPI_PM_SLP_TYP_S5 << ACPI_PM1_SLP_TYP_SHIFT;
	out(CNT, 2, cnt);
	CHECK_EQ(poweroffs, 0);
	CHECK_EQ(in(CNT, 2), ACPI_PM1_SCI_EN | 5 << 10);
	out(CNT, 2, cnt | ACPI_PM1_SLP_EN);
	CHECK_EQ(poweroffs, 1);
	CHECK_EQ(in(CNT, 2), ACPI_PM1_SCI_EN | 5 << 10); /* SLP_EN reads 0 */
	CHECK_EQ(resets, 0);
	/* The high byte alone does it too. */
	out(CNT + 1, 1, (5 << 2) | 0x20);
	CHECK_EQ(poweroffs, 2);
	/* Other sleep types do nothing. */
	out(CNT, 2, 0 << 10 | ACPI_PM1_SLP_EN);
	out(CNT, 2, 1 << 10 | ACPI_PM1_SLP_EN);
	out(CNT, 2, 3 << 10 | ACPI_PM1_SLP_EN);
	CHECK_EQ(poweroffs, 2);
	teardown();
}

TEST(reset_register_via_cf9)
{
	setup();
	CHECK_EQ(in(0xcf9, 1), 0);
	out(0xcf9, 1, ACPI_RCR_SYS_RST);
	CHECK_EQ(resets, 0);
	CHECK_EQ(in(0xcf9, 1), ACPI_RCR_SYS_RST);
	out(0xcf9, 1, ACPI_RESET_VALUE); /* the FADT's RESET_VALUE */
	CHECK_EQ(resets, 1);
	CHECK_EQ(in(0xcf9, 1), ACPI_RCR_SYS_RST); /* RST_CPU reads back 0 */
	CHECK_EQ(poweroffs, 0);
	/* CONFIG_ADDRESS dword accesses do not reach it. */
	out(0xcf8, 4, 0xffffffff);
	CHECK_EQ(resets, 1);
	teardown();
}

TEST(reserved_bytes)
{
	setup();
	CHECK_EQ(in(ACPI_PM_BASE + 6, 2), 0);
	out(ACPI_PM_BASE + 6, 2, 0xffff);
	CHECK_EQ(in(ACPI_PM_BASE + 6, 2), 0);
	CHECK(acpi_pm_create(&(struct acpi_pm_ops){ 0 }, NULL) == NULL);
	teardown();
}

/* A reboot: PM1 status, enable and the reset register clear, PM1_CNT as
 * created, the SCI falls; the PM timer counts on. */
TEST(reset)
{
	setup();
	out(EN, 2, ACPI_PM1_PWRBTN_EN | ACPI_PM1_TMR_EN);
	acpi_pm_power_button(pm);
	CHECK(sci);
	out(CNT, 2, ACPI_PM1_BM_RLD | 3 << 10); /* SLP_TYP 3, no SLP_EN */
	out(0xcf9, 1, ACPI_RCR_SYS_RST);
	/* Past bit 31's first change, not yet looked at. */
	fake_now = t0 + 700 * NS;

	acpi_pm_reset(pm);
	CHECK(!sci);
	CHECK_EQ(in(STS, 2), 0); /* the carry before the reset is not reported */
	CHECK_EQ(in(EN, 2), 0);
	CHECK_EQ(in(CNT, 2), ACPI_PM1_SCI_EN);
	CHECK_EQ(in(0xcf9, 1), 0);
	CHECK_EQ(in(TMR, 4), 700 * 3579545ULL); /* the timer did not restart */
	CHECK_EQ(acpi_pm_next_event_ns(pm), ACPI_PM_NO_EVENT);
	CHECK_EQ(resets, 0);
	CHECK_EQ(poweroffs, 0);

	/* The same SCI line; the timer's next carry is at the 32-bit wrap. */
	out(EN, 2, ACPI_PM1_TMR_EN);
	CHECK(!sci);
	CHECK_EQ(acpi_pm_next_event_ns(pm), t0 + (4294967296ULL * NS + 3579545 - 1) / 3579545);
	acpi_pm_power_button(pm);
	out(EN, 2, ACPI_PM1_PWRBTN_EN);
	CHECK(sci);
	teardown();
}

/* The owner's reset callback may reset the devices at once: a write to 0xcf9
 * holds no lock of the PCI host's or the PM's while it runs. */
TEST(reset_from_the_reset_register)
{
	setup();
	reset_devices = true;
	out(0xcf8, 4, 0x80000000);
	out(EN, 2, ACPI_PM1_PWRBTN_EN);
	acpi_pm_power_button(pm);
	CHECK(sci);
	out(0xcf9, 1, ACPI_RESET_VALUE);
	CHECK_EQ(resets, 1);
	CHECK(!sci);
	CHECK_EQ(in(0xcf8, 4), 0);
	CHECK_EQ(in(0xcf9, 1), 0);
	CHECK_EQ(in(EN, 2), 0);
	teardown();
}

int main(void)
{
	RUN(pm_timer);
	RUN(tmr_sts_and_sci);
	RUN(power_button);
	RUN(s5_poweroff);
	RUN(reset_register_via_cf9);
	RUN(reserved_bytes);
	RUN(reset);
	RUN(reset_from_the_reset_register);
	return unit_done();
}
