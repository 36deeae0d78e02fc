/*
 * exitport (issue 15, item 4): the VM ends with the code it writes to port
 * 0xf4 when its configuration says exitport=on (QEMU's isa-debug-exit
 * convention, docs/config.md); without it the write goes nowhere and the
 * guest goes on to return 7.
 */
#include "guest.h"

int main(ulong arg)
{
	outl(0xf4, 42);
	return 7;
}
