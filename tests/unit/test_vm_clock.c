/* The guest clock (core/vm_clock.c): stop, start, set; monotonic; kvmclock
 * published again. Runs on the host's real TSC. */
#include "unit.h"
#include "hv/vm_clock.h"
#include "hv/vm.h"
#include "arch/x86/emul/msr.h"
#include "asm/cpu.h"

#include <string.h>

static int published[4];

void msr_kvmclock_publish(struct vcpu *v)
{
	published[v->id]++;
}

u64 tsc_khz = 2000000; /* this "host" calibrated 2 GHz */

static struct vm vm;
static struct vcpu vcpus[2];

static void setup(void)
{
	memset(&vm, 0, sizeof(vm));
	memset(published, 0, sizeof(published));
	for (unsigned i = 0; i < 2; i++) {
		vcpus[i].id = i;
		vcpus[i].vm = &vm;
		vm.vcpus[i] = &vcpus[i];
	}
	vm.nr_vcpus = 2;
	vm_clock_init(&vm);
}

TEST(starts_at_zero_and_runs)
{
	u64 a, b;

	setup();
	a = vm_guest_tsc(&vm);
	b = vm_guest_tsc(&vm);
	CHECK(a < (1ULL << 40)); /* near 0, not the host's TSC */
	CHECK(b >= a);
	CHECK_EQ(vm_guest_tsc_at(&vm, rdtsc() + 1000) - vm_guest_tsc_at(&vm, rdtsc()) >= 900, 1);
	a = vm_guest_tsc(&vm);
	b = rdtsc();
	CHECK(b + vm.clock.tsc_offset - a < 1000000); /* guest = host + offset */
}

TEST(stopped_clock_stands_still)
{
	u64 at, later;

	setup();
	vm_clock_stop(&vm);
	at = vm_guest_tsc(&vm);
	for (volatile int i = 0; i < 100000; i++)
		;
	later = vm_guest_tsc(&vm);
	CHECK_EQ(later, at);
	CHECK_EQ(vm_guest_tsc_at(&vm, 0), at); /* whatever the host TSC */
	CHECK_EQ(vm_guest_ns(&vm), at / 2);
	vm_clock_stop(&vm); /* again: nothing moves */
	CHECK_EQ(vm_guest_tsc(&vm), at);
	CHECK_EQ(published[0] + published[1], 0);
	vm_clock_start(&vm);
	CHECK(vm_guest_tsc(&vm) >= at);
	CHECK(vm_guest_tsc(&vm) - at < 100000000); /* continues, no jump over the pause */
	CHECK_EQ(published[0], 1);
	CHECK_EQ(published[1], 1);
	vm_clock_start(&vm); /* running already: nothing */
	CHECK_EQ(published[0], 1);
}

TEST(set_guest_tsc_continues_from_value)
{
	u64 t;

	setup();
	vm_set_guest_tsc(&vm, 5000000000000ULL);
	t = vm_guest_tsc(&vm);
	CHECK(t >= 5000000000000ULL && t < 5000000000000ULL + 100000000);
	CHECK_EQ(published[0], 1);
	CHECK_EQ(published[1], 1);
	/* While stopped: it stands at the value, and runs on from it. */
	vm_clock_stop(&vm);
	vm_set_guest_tsc(&vm, 7000000000000ULL);
	CHECK_EQ(vm_guest_tsc(&vm), 7000000000000ULL);
	CHECK_EQ(published[0], 1); /* not yet: the clock stands */
	vm_clock_start(&vm);
	t = vm_guest_tsc(&vm);
	CHECK(t >= 7000000000000ULL && t < 7000000000000ULL + 100000000);
	CHECK_EQ(published[0], 2);
	CHECK_EQ(published[1], 2);
}

/* Guest ns count at the VM's own rate: this host's at creation, another
 * host's once set (a restored or migrated VM keeps its first host's). */
TEST(guest_ns_at_the_vms_rate)
{
	setup();
	CHECK_EQ(vm.clock.khz, 2000000);
	vm_clock_stop(&vm);
	vm_set_guest_tsc(&vm, 6000000000ULL); /* 3 s at 2 GHz */
	CHECK_EQ(vm_guest_ns(&vm), 3000000000ULL);
	vm_clock_set_khz(&vm, 2000060); /* the source host's, 30 ppm apart */
	CHECK_EQ(vm.clock.khz, 2000060);
	CHECK(vm_guest_ns(&vm) < 3000000000ULL);
	CHECK(vm_guest_ns(&vm) >= 2999910000ULL); /* 3 s less 30 ppm, and rounding */
}

/* A rate other than the host's: the guest TSC counts at it from where it
 * was (software scaling); within the tolerance it is not scaled. */
TEST(scaled_rate)
{
	u64 h, g0, g1, g2, x;

	setup();
	vm_clock_set_khz(&vm, 2000100); /* 50 ppm: the same TSC, another calibration */
	CHECK(!vm.clock.scaled);
	vm_clock_set_khz(&vm, 1000000); /* half the host's */
	CHECK(vm.clock.scaled);
	h = rdtsc();
	g0 = vm_guest_tsc_at(&vm, h);
	g1 = vm_guest_tsc_at(&vm, h + 2000000000ULL); /* 1 s of host */
	CHECK(g1 - g0 >= 999999999ULL && g1 - g0 <= 1000000001ULL);
	/* A deadline's host TSC: not before the guest reaches it, at most a
	 * few ticks after. */
	x = g0 + 123456789;
	CHECK(vm_guest_tsc_at(&vm, vm_host_tsc_for(&vm, x)) >= x);
	CHECK(vm_guest_tsc_at(&vm, vm_host_tsc_for(&vm, x) - 4) < x);
	/* Stopped, it stands; started, it goes on from there at its rate. */
	vm_clock_stop(&vm);
	g2 = vm_guest_tsc(&vm);
	CHECK_EQ(vm_guest_tsc_at(&vm, h + 5000000000ULL), g2);
	vm_clock_start(&vm);
	h = rdtsc();
	g0 = vm_guest_tsc_at(&vm, h);
	CHECK(g0 >= g2 && g0 - g2 < 100000000);
	CHECK_EQ(vm_guest_tsc_at(&vm, h + 4000) - g0, 2000);
	/* Set to a value, it continues from it; back at the host's rate,
	 * unscaled, from where it stood. */
	vm_set_guest_tsc(&vm, 9000000000000ULL);
	g0 = vm_guest_tsc(&vm);
	CHECK(g0 >= 9000000000000ULL && g0 < 9000000000000ULL + 100000000);
	vm_clock_set_khz(&vm, 2000000);
	CHECK(!vm.clock.scaled);
	g1 = vm_guest_tsc(&vm);
	CHECK(g1 >= g0 && g1 - g0 < 100000000);
	/* Guest ns follow the guest's rate: 1 ms is 1,000,000 ticks at 1 GHz. */
	vm_clock_set_khz(&vm, 1000000);
	CHECK_EQ(vm_guest_tsc_of_ns(&vm, 1000000), 1000001);
}

int main(void)
{
	RUN(starts_at_zero_and_runs);
	RUN(stopped_clock_stands_still);
	RUN(set_guest_tsc_continues_from_value);
	RUN(guest_ns_at_the_vms_rate);
	RUN(scaled_rate);
	return unit_done();
}
