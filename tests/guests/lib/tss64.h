/* The 64-bit TSS for long-mode test guests (SDM vol. 3, 8.7). */
#ifndef GUEST_TSS64_H
#define GUEST_TSS64_H

struct __attribute__((packed)) tss64 {
	u32 reserved0;
	u64 rsp[3];
	u64 reserved1;
	u64 ist[7];
	u64 reserved2;
	u16 reserved3;
	u16 iomap_base;
};
_Static_assert(sizeof(struct tss64) == 104, "64-bit TSS (SDM vol. 3, 8.7)");

#endif
