/*
 * pinned: a VM pinned to one physical CPU must always run there. Over about
 * 300 ms it asks HC_VCPU_INFO which CPU it is on, between yields and busy
 * stretches long enough for the scheduler to preempt it.
 *
 * arg = the physical CPU it must see every time. Exit 0 when it always did.
 */
#include "guest.h"

int main(ulong arg)
{
	u32 calls = 0, wrong = 0, first_wrong = 0;
	u64 end = hc_time_ns() + 300000000ull;
	struct vcpu_info vi;

	while (hc_time_ns() < end) {
		hc_vcpu_info(&vi);
		calls++;
		if (vi.pcpu != arg && !wrong++)
			first_wrong = vi.pcpu;
		if (calls & 1)
			hc_yield();
		else
			for (volatile u32 i = 0; i < 20000; i++)
				;
	}
	check(calls > 10 && wrong == 0, "pinned_cpu",
	      "%u of %u HC_VCPU_INFO calls on another CPU than %lu (first: CPU %u)", wrong, calls,
	      arg, first_wrong);
	printf("pinned: %u calls, all expected on CPU %lu\n", calls, arg);
	return (int)failures;
}
