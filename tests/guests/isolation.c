/*
 * isolation: touches guest-physical memory just past its RAM, which the
 * hypervisor must answer by stopping this VM alone (configure it with
 * expect=stop). It first checks the last bytes of its RAM are its own.
 *
 * arg = the VM's RAM size in bytes (0: 16 MiB). Exit 1 if it survives.
 */
#include "guest.h"

int main(ulong arg)
{
	ulong ram = arg ? arg : 16ul << 20;
	volatile u32 *last = (volatile u32 *)(ram - 4), *past = (volatile u32 *)ram;
	u32 v;

	*last = 0x1501a7ed;
	check_eq("isolation_last_word", *last, 0x1501a7ed);
	printf("isolation: reading %#lx, just past RAM; the hypervisor should stop this VM\n",
	       ram);
	v = *past;
	*past = ~v;
	printf("FAIL isolation: read %#x past RAM and wrote it, still running\n", v);
	return 1;
}
