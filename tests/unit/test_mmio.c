/* Host tests of MMIO instruction emulation (arch/x86/emul/mmio.c) against a fake device. */
#include "unit.h"
#include <string.h>
#include "arch/x86/emul/mmio.h"
#include "arch/x86/emul/decode.h"
#include "hv/bus.h"
#include "hv/vcpu.h"

#define DEV_BASE 0xfed00000ULL
#define DEV_LEN 64

/* A little-endian register file that records the last access. */
static struct fake_dev {
	u8 mem[DEV_LEN];
	unsigned reads, writes;
	u64 last_off;
	u8 last_size;
	bool fail;
} dev;

static int dev_read(void *d, u64 off, u8 size, u64 *val)
{
	struct fake_dev *f = d;

	f->reads++;
	f->last_off = off;
	f->last_size = size;
	if (f->fail)
		return -EIO;
	*val = 0;
	memcpy(val, f->mem + off, size);
	return 0;
}

static int dev_write(void *d, u64 off, u8 size, u64 val)
{
	struct fake_dev *f = d;

	f->writes++;
	f->last_off = off;
	f->last_size = size;
	if (f->fail)
		return -EIO;
	memcpy(f->mem + off, &val, size);
	return 0;
}

static const struct io_ops dev_ops = { .read = dev_read, .write = dev_write };

static struct bus bus;
static struct vcpu_regs regs;
static struct insn in;

static void reset(void)
{
	memset(&dev, 0, sizeof(dev));
	memset(&bus, 0, sizeof(bus));
	memset(&regs, 0, sizeof(regs));
	regs.rflags = RFLAGS_FIXED;
	bus_register(&bus, DEV_BASE, DEV_LEN, "fake", &dev_ops, &dev);
}

static u64 dev_get(unsigned off, unsigned size)
{
	u64 v = 0;

	memcpy(&v, dev.mem + off, size);
	return v;
}

static void dev_set(unsigned off, u64 v, unsigned size)
{
	memcpy(dev.mem + off, &v, size);
}

/* Decodes the bytes in mode and emulates them against the device at offset off. */
static int emul(enum cpu_mode mode, unsigned off, const u8 *b, size_t n)
{
	int r = insn_decode(&in, b, n, mode);

	if (r)
		return 1000 + r; /* not the emulator's */
	return emul_mmio(&regs, &in, DEV_BASE + off, &bus, mode);
}
#define EMUL(mode, off, ...) \
	emul(mode, off, (const u8[]){ __VA_ARGS__ }, sizeof((const u8[]){ __VA_ARGS__ }))

#define ARITH (RFLAGS_CF | RFLAGS_PF | BIT(4) | RFLAGS_ZF | RFLAGS_SF | RFLAGS_OF)
#define AF BIT(4)
#define FLAGS() (regs.rflags & ARITH)

TEST(mov_store)
{
	reset();
	regs.gpr[GPR_RCX] = 0x1122334455667788ULL;
	regs.gpr[GPR_RAX] = 0xaabbccddeeff1234ULL;
	CHECK_EQ(EMUL(MODE_LONG64, 8, 0x89, 0x08), 0); /* mov [rax], ecx */
	CHECK_EQ(dev.last_off, 8);
	CHECK_EQ(dev.last_size, 4);
	CHECK_EQ(dev_get(8, 8), 0x55667788);
	CHECK_EQ(EMUL(MODE_LONG64, 16, 0x48, 0x89, 0x08), 0); /* mov [rax], rcx */
	CHECK_EQ(dev_get(16, 8), 0x1122334455667788ULL);
	CHECK_EQ(EMUL(MODE_LONG64, 0, 0x66, 0x89, 0x08), 0); /* mov [rax], cx */
	CHECK_EQ(dev.last_size, 2);
	CHECK_EQ(dev_get(0, 8), 0x7788);
	CHECK_EQ(EMUL(MODE_LONG64, 4, 0x88, 0x20), 0); /* mov [rax], ah */
	CHECK_EQ(dev_get(4, 1), 0x12);
	regs.gpr[GPR_RSP] = 0x99;
	CHECK_EQ(EMUL(MODE_LONG64, 5, 0x40, 0x88, 0x20), 0); /* mov [rax], spl */
	CHECK_EQ(dev_get(5, 1), 0x99);
	regs.gpr[GPR_R12] = 0xabcd;
	CHECK_EQ(EMUL(MODE_LONG64, 6, 0x44, 0x88, 0x20), 0); /* mov [rax], r12b */
	CHECK_EQ(dev_get(6, 1), 0xcd);
	CHECK_EQ(EMUL(MODE_LONG64, 7, 0x88, 0x0f), 0); /* mov [rdi], cl */
	CHECK_EQ(dev_get(7, 1), 0x88);
	/* Immediates. */
	CHECK_EQ(EMUL(MODE_LONG64, 32, 0xc6, 0x00, 0xab), 0);
	CHECK_EQ(dev.last_size, 1);
	CHECK_EQ(dev_get(32, 1), 0xab);
	CHECK_EQ(EMUL(MODE_LONG64, 32, 0xc7, 0x00, 0x78, 0x56, 0x34, 0x12), 0);
	CHECK_EQ(dev_get(32, 8), 0x12345678);
	CHECK_EQ(EMUL(MODE_LONG64, 40, 0x48, 0xc7, 0x00, 0xfe, 0xff, 0xff, 0xff), 0);
	CHECK_EQ(dev.last_size, 8);
	CHECK_EQ(dev_get(40, 8), (u64)-2);
	CHECK_EQ(EMUL(MODE_REAL, 48, 0xc7, 0x07, 0x34, 0x12), 0); /* mov word [bx], 0x1234 */
	CHECK_EQ(dev.last_size, 2);
	CHECK_EQ(dev_get(48, 4), 0x1234);
	CHECK_EQ(EMUL(MODE_PROT32, 48, 0xa3, 0, 0, 0xd0, 0xfe), 0); /* mov [moffs], eax */
	CHECK_EQ(dev_get(48, 8), 0xeeff1234);
	CHECK_EQ(EMUL(MODE_PROT32, 52, 0xa2, 0, 0, 0xd0, 0xfe), 0); /* mov [moffs], al */
	CHECK_EQ(dev_get(52, 1), 0x34);
	CHECK_EQ(EMUL(MODE_LONG64, 56, 0x48, 0xa3, 0, 0, 0xd0, 0xfe, 0, 0, 0, 0), 0);
	CHECK_EQ(dev_get(56, 8), 0xaabbccddeeff1234ULL);
	CHECK_EQ(dev.reads, 0);
}

TEST(mov_load_and_register_writeback)
{
	reset();
	dev_set(0, 0x8877665544332211ULL, 8);
	regs.gpr[GPR_RCX] = 0xffffffffffffffffULL;
	CHECK_EQ(EMUL(MODE_LONG64, 0, 0x8b, 0x08), 0); /* mov ecx, [rax]: zero-extends */
	CHECK_EQ(regs.gpr[GPR_RCX], 0x44332211);
	CHECK_EQ(dev.last_size, 4);
	regs.gpr[GPR_RCX] = 0xffffffffffffffffULL;
	CHECK_EQ(EMUL(MODE_PROT32, 0, 0x8b, 0x08), 0); /* outside 64-bit mode: kept */
	CHECK_EQ(regs.gpr[GPR_RCX], 0xffffffff44332211ULL);
	regs.gpr[GPR_RCX] = 0xffffffffffffffffULL;
	CHECK_EQ(EMUL(MODE_LONG64, 0, 0x66, 0x8b, 0x08), 0); /* mov cx, [rax] */
	CHECK_EQ(regs.gpr[GPR_RCX], 0xffffffffffff2211ULL);
	CHECK_EQ(EMUL(MODE_LONG64, 0, 0x8a, 0x08), 0); /* mov cl, [rax] */
	CHECK_EQ(regs.gpr[GPR_RCX], 0xffffffffffff2211ULL);
	CHECK_EQ(EMUL(MODE_LONG64, 1, 0x8a, 0x28), 0); /* mov ch, [rax+1] */
	CHECK_EQ(regs.gpr[GPR_RCX], 0xffffffffffff2211ULL);
	CHECK_EQ(EMUL(MODE_LONG64, 2, 0x8a, 0x28), 0);
	CHECK_EQ(regs.gpr[GPR_RCX], 0xffffffffffff3311ULL);
	CHECK_EQ(EMUL(MODE_LONG64, 3, 0x40, 0x8a, 0x28), 0); /* mov bpl, [rax+3] */
	CHECK_EQ(regs.gpr[GPR_RBP], 0x44);
	CHECK_EQ(EMUL(MODE_LONG64, 0, 0x48, 0x8b, 0x08), 0);
	CHECK_EQ(regs.gpr[GPR_RCX], 0x8877665544332211ULL);
	CHECK_EQ(EMUL(MODE_LONG64, 0, 0x44, 0x8b, 0x00), 0); /* mov r8d, [rax] */
	CHECK_EQ(regs.gpr[GPR_R8], 0x44332211);
	regs.gpr[GPR_RAX] = 0xffffffffffffffffULL;
	CHECK_EQ(EMUL(MODE_LONG64, 0, 0xa1, 0, 0, 0xd0, 0xfe, 0, 0, 0, 0), 0); /* mov eax, [moffs] */
	CHECK_EQ(regs.gpr[GPR_RAX], 0x44332211);
	CHECK_EQ(EMUL(MODE_REAL, 4, 0xa0, 0x04, 0x00), 0); /* mov al, [4] */
	CHECK_EQ(regs.gpr[GPR_RAX], 0x44332255);
	CHECK_EQ(EMUL(MODE_PROT16, 0, 0xa1, 0x00, 0x00), 0); /* mov ax, [0] */
	CHECK_EQ(regs.gpr[GPR_RAX], 0x44332211);
	CHECK_EQ(dev.writes, 0);
}

TEST(movzx_movsx)
{
	reset();
	dev_set(0, 0x8180, 2);
	regs.gpr[GPR_RCX] = ~0ULL;
	CHECK_EQ(EMUL(MODE_LONG64, 0, 0x0f, 0xb6, 0x08), 0); /* movzx ecx, byte [rax] */
	CHECK_EQ(dev.last_size, 1);
	CHECK_EQ(regs.gpr[GPR_RCX], 0x80);
	CHECK_EQ(EMUL(MODE_LONG64, 0, 0x0f, 0xbe, 0x08), 0); /* movsx ecx, byte [rax] */
	CHECK_EQ(regs.gpr[GPR_RCX], 0xffffff80);
	CHECK_EQ(EMUL(MODE_LONG64, 0, 0x48, 0x0f, 0xbf, 0x08), 0); /* movsx rcx, word [rax] */
	CHECK_EQ(dev.last_size, 2);
	CHECK_EQ(regs.gpr[GPR_RCX], 0xffffffffffff8180ULL);
	CHECK_EQ(EMUL(MODE_LONG64, 0, 0x48, 0x0f, 0xb7, 0x08), 0); /* movzx rcx, word [rax] */
	CHECK_EQ(regs.gpr[GPR_RCX], 0x8180);
	regs.gpr[GPR_RCX] = 0x1234567812345678ULL;
	CHECK_EQ(EMUL(MODE_LONG64, 0, 0x66, 0x0f, 0xbe, 0x08), 0); /* movsx cx, byte [rax] */
	CHECK_EQ(regs.gpr[GPR_RCX], 0x123456781234ff80ULL);
	CHECK_EQ(EMUL(MODE_REAL, 1, 0x0f, 0xb6, 0x07), 0); /* movzx ax, byte [bx] */
	CHECK_EQ(regs.gpr[GPR_RAX], 0x81);
}

TEST(stos)
{
	reset();
	regs.gpr[GPR_RAX] = 0x1122334455667788ULL;
	regs.gpr[GPR_RDI] = 0x1000;
	CHECK_EQ(EMUL(MODE_LONG64, 0, 0xab), 0); /* stosd */
	CHECK_EQ(dev_get(0, 8), 0x55667788);
	CHECK_EQ(regs.gpr[GPR_RDI], 0x1004);
	CHECK_EQ(EMUL(MODE_LONG64, 8, 0x48, 0xab), 0); /* stosq */
	CHECK_EQ(dev_get(8, 8), 0x1122334455667788ULL);
	CHECK_EQ(regs.gpr[GPR_RDI], 0x100c);
	regs.rflags |= RFLAGS_DF;
	CHECK_EQ(EMUL(MODE_LONG64, 16, 0xaa), 0); /* stosb, backwards */
	CHECK_EQ(dev_get(16, 1), 0x88);
	CHECK_EQ(regs.gpr[GPR_RDI], 0x100b);
	regs.rflags &= ~RFLAGS_DF;
	/* Address size: 32-bit RDI in 64-bit mode zero-extends; 16-bit DI wraps alone. */
	regs.gpr[GPR_RDI] = 0x1fffffffeULL;
	CHECK_EQ(EMUL(MODE_LONG64, 20, 0x67, 0xab), 0);
	CHECK_EQ(regs.gpr[GPR_RDI], 0x2);
	regs.gpr[GPR_RDI] = 0x5555fffe;
	CHECK_EQ(EMUL(MODE_REAL, 24, 0xab), 0); /* stosw */
	CHECK_EQ(dev.last_size, 2);
	CHECK_EQ(regs.gpr[GPR_RDI], 0x55550000);
	CHECK_EQ(EMUL(MODE_LONG64, 0, 0xf3, 0xab), -ENOTSUP); /* rep stos */
	CHECK_EQ(regs.gpr[GPR_RDI], 0x55550000);
}

TEST(add_sub_flags)
{
	reset();
	/* add [rax], ecx: 0xffffffff + 1 = 0 with CF ZF PF AF. */
	dev_set(0, 0xffffffff, 4);
	regs.gpr[GPR_RCX] = 1;
	regs.rflags |= RFLAGS_SF | RFLAGS_OF | RFLAGS_IF;
	CHECK_EQ(EMUL(MODE_LONG64, 0, 0x01, 0x08), 0);
	CHECK_EQ(dev_get(0, 4), 0);
	CHECK_EQ(FLAGS(), RFLAGS_CF | RFLAGS_ZF | RFLAGS_PF | AF);
	CHECK(regs.rflags & RFLAGS_IF); /* other flags untouched */
	CHECK_EQ(regs.gpr[GPR_RCX], 1);
	/* add byte [rax], 1: 0x7f + 1 = 0x80 overflows. */
	dev_set(4, 0x7f, 1);
	CHECK_EQ(EMUL(MODE_LONG64, 4, 0x80, 0x00, 0x01), 0);
	CHECK_EQ(dev_get(4, 1), 0x80);
	CHECK_EQ(FLAGS(), RFLAGS_OF | RFLAGS_SF | AF);
	CHECK_EQ(dev.last_size, 1);
	/* add ecx, [rax]: the register is the destination. */
	dev_set(8, 0x10, 4);
	regs.gpr[GPR_RCX] = 0xffffffff00000003ULL;
	CHECK_EQ(EMUL(MODE_LONG64, 8, 0x03, 0x08), 0);
	CHECK_EQ(regs.gpr[GPR_RCX], 0x13); /* 32-bit result zero-extends */
	CHECK_EQ(dev_get(8, 4), 0x10);
	CHECK_EQ(FLAGS(), 0);
	/* sub [rax], ecx: 0 - 1 borrows. */
	dev_set(12, 0, 4);
	regs.gpr[GPR_RCX] = 1;
	CHECK_EQ(EMUL(MODE_LONG64, 12, 0x29, 0x08), 0);
	CHECK_EQ(dev_get(12, 4), 0xffffffff);
	CHECK_EQ(FLAGS(), RFLAGS_CF | RFLAGS_SF | RFLAGS_PF | AF);
	/* sub qword [rax], -1 (83 /5 ib, sign-extended): 0x8000000000000000 + 1. */
	dev_set(16, 0x8000000000000000ULL, 8);
	CHECK_EQ(EMUL(MODE_LONG64, 16, 0x48, 0x83, 0x28, 0xff), 0);
	CHECK_EQ(dev_get(16, 8), 0x8000000000000001ULL);
	CHECK_EQ(FLAGS(), RFLAGS_CF | RFLAGS_SF | AF);
	/* sub dword [rax], 1: 0x80000000 - 1 overflows. */
	dev_set(24, 0x80000000, 4);
	CHECK_EQ(EMUL(MODE_PROT32, 24, 0x83, 0x28, 0x01), 0);
	CHECK_EQ(dev_get(24, 4), 0x7fffffff);
	CHECK_EQ(FLAGS(), RFLAGS_OF | RFLAGS_PF | AF);
	/* 16-bit: sub word [bx], 0x1234 (81 /5 iw). */
	dev_set(28, 0x1234, 2);
	CHECK_EQ(EMUL(MODE_REAL, 28, 0x81, 0x2f, 0x34, 0x12), 0);
	CHECK_EQ(dev_get(28, 2), 0);
	CHECK_EQ(dev.last_size, 2);
	CHECK_EQ(FLAGS(), RFLAGS_ZF | RFLAGS_PF);
	/* sub ch, [rax]: a high-byte register destination. */
	dev_set(32, 0x01, 1);
	regs.gpr[GPR_RCX] = 0x1000;
	CHECK_EQ(EMUL(MODE_LONG64, 32, 0x2a, 0x28), 0);
	CHECK_EQ(regs.gpr[GPR_RCX], 0x0f00);
	CHECK_EQ(FLAGS(), RFLAGS_PF | AF);
}

TEST(cmp_sets_flags_only)
{
	reset();
	dev_set(0, 5, 4);
	regs.gpr[GPR_RCX] = 7;
	CHECK_EQ(EMUL(MODE_LONG64, 0, 0x39, 0x08), 0); /* cmp [rax], ecx: 5 - 7 */
	CHECK_EQ(FLAGS(), RFLAGS_CF | RFLAGS_SF | AF);
	CHECK_EQ(EMUL(MODE_LONG64, 0, 0x3b, 0x08), 0); /* cmp ecx, [rax]: 7 - 5 */
	CHECK_EQ(FLAGS(), 0);
	CHECK_EQ(regs.gpr[GPR_RCX], 7);
	CHECK_EQ(EMUL(MODE_LONG64, 0, 0x83, 0x38, 0x05), 0); /* cmp dword [rax], 5 */
	CHECK_EQ(FLAGS(), RFLAGS_ZF | RFLAGS_PF);
	CHECK_EQ(EMUL(MODE_LONG64, 0, 0x80, 0x38, 0x80), 0); /* cmp byte [rax], 0x80: 5 - 0x80 */
	CHECK_EQ(FLAGS(), RFLAGS_CF | RFLAGS_OF | RFLAGS_SF);
	CHECK_EQ(dev.writes, 0);
	CHECK_EQ(dev_get(0, 4), 5);
}

TEST(logic_ops)
{
	reset();
	regs.rflags |= RFLAGS_CF | RFLAGS_OF;
	dev_set(0, 0xf0f0f0f0, 4);
	regs.gpr[GPR_RCX] = 0x0ff00ff0;
	CHECK_EQ(EMUL(MODE_LONG64, 0, 0x21, 0x08), 0); /* and [rax], ecx */
	CHECK_EQ(dev_get(0, 4), 0x00f000f0);
	CHECK_EQ(FLAGS(), RFLAGS_PF); /* CF, OF cleared; 0xf0 has four ones */
	CHECK_EQ(EMUL(MODE_LONG64, 0, 0x09, 0x08), 0); /* or [rax], ecx */
	CHECK_EQ(dev_get(0, 4), 0x0ff00ff0);
	CHECK_EQ(FLAGS(), RFLAGS_PF);
	CHECK_EQ(EMUL(MODE_LONG64, 0, 0x31, 0x08), 0); /* xor [rax], ecx */
	CHECK_EQ(dev_get(0, 4), 0);
	CHECK_EQ(FLAGS(), RFLAGS_ZF | RFLAGS_PF);
	dev_set(0, 0x12345601, 4);
	CHECK_EQ(EMUL(MODE_LONG64, 0, 0x83, 0x20, 0xf1), 0); /* and dword [rax], -15 */
	CHECK_EQ(dev_get(0, 4), 0x12345601);
	CHECK_EQ(FLAGS(), 0); /* 0x01: odd parity */
	CHECK_EQ(EMUL(MODE_LONG64, 0, 0x81, 0x30, 0x01, 0, 0, 0x80), 0); /* xor dword [rax], 0x80000001 */
	CHECK_EQ(dev_get(0, 4), 0x92345600);
	CHECK_EQ(FLAGS(), RFLAGS_SF | RFLAGS_PF);
	CHECK_EQ(EMUL(MODE_LONG64, 0, 0x80, 0x08, 0x03), 0); /* or byte [rax], 3 */
	CHECK_EQ(dev_get(0, 4), 0x92345603);
	CHECK_EQ(FLAGS(), RFLAGS_PF);
	regs.gpr[GPR_RDX] = 0xff00;
	CHECK_EQ(EMUL(MODE_LONG64, 0, 0x0a, 0x30), 0); /* or dh, [rax] */
	CHECK_EQ(regs.gpr[GPR_RDX], 0xff00);
	CHECK_EQ(FLAGS(), RFLAGS_SF | RFLAGS_PF);
	CHECK_EQ(EMUL(MODE_LONG64, 0, 0x32, 0x30), 0); /* xor dh, [rax] */
	CHECK_EQ(regs.gpr[GPR_RDX], 0xfc00);
	CHECK_EQ(EMUL(MODE_LONG64, 0, 0xf0, 0x21, 0x10), 0); /* lock and [rax], edx */
	CHECK_EQ(dev_get(0, 4), 0x5400);
	/* Parity looks at the low byte only. */
	dev_set(8, 0x100, 4);
	regs.gpr[GPR_RCX] = 0x100;
	CHECK_EQ(EMUL(MODE_LONG64, 8, 0x21, 0x08), 0);
	CHECK_EQ(FLAGS(), RFLAGS_PF);
}

TEST(test_and_xchg)
{
	reset();
	dev_set(0, 0x80000001, 4);
	regs.gpr[GPR_RCX] = 0x80000000;
	CHECK_EQ(EMUL(MODE_LONG64, 0, 0x85, 0x08), 0); /* test [rax], ecx */
	CHECK_EQ(FLAGS(), RFLAGS_SF | RFLAGS_PF);
	CHECK_EQ(EMUL(MODE_LONG64, 0, 0xf7, 0x00, 0x02, 0, 0, 0), 0); /* test dword [rax], 2 */
	CHECK_EQ(FLAGS(), RFLAGS_ZF | RFLAGS_PF);
	CHECK_EQ(EMUL(MODE_LONG64, 0, 0xf6, 0x00, 0x01), 0); /* test byte [rax], 1 */
	CHECK_EQ(FLAGS(), 0);
	CHECK_EQ(dev.last_size, 1);
	CHECK_EQ(EMUL(MODE_LONG64, 0, 0x84, 0x20), 0); /* test [rax], ah */
	CHECK_EQ(FLAGS(), RFLAGS_ZF | RFLAGS_PF);
	CHECK_EQ(dev.writes, 0);
	/* xchg [rax], ecx */
	CHECK_EQ(EMUL(MODE_LONG64, 0, 0x87, 0x08), 0);
	CHECK_EQ(regs.gpr[GPR_RCX], 0x80000001);
	CHECK_EQ(dev_get(0, 4), 0x80000000);
	regs.gpr[GPR_RBX] = 0x1234;
	CHECK_EQ(EMUL(MODE_LONG64, 0, 0x86, 0x3b), 0); /* xchg [rbx], bh */
	CHECK_EQ(regs.gpr[GPR_RBX], 0x0034);
	CHECK_EQ(dev_get(0, 4), 0x80000012);
	CHECK_EQ(EMUL(MODE_PROT32, 0, 0x66, 0x87, 0x08), 0); /* xchg [eax], cx */
	CHECK_EQ(regs.gpr[GPR_RCX], 0x80000012);
	CHECK_EQ(dev_get(0, 4), 0x80000001);
}

TEST(errors)
{
	reset();
	/* Nothing there, or the access runs past the device. */
	CHECK_EQ(EMUL(MODE_LONG64, DEV_LEN, 0x89, 0x08), -ENOENT);
	CHECK_EQ(EMUL(MODE_LONG64, DEV_LEN - 2, 0x89, 0x08), -ENOENT);
	CHECK_EQ(EMUL(MODE_LONG64, DEV_LEN - 2, 0x8b, 0x08), -ENOENT);
	CHECK_EQ(EMUL(MODE_LONG64, DEV_LEN - 2, 0x01, 0x08), -ENOENT);
	CHECK_EQ(dev.reads + dev.writes, 0);
	/* Not emulated here. */
	CHECK_EQ(EMUL(MODE_LONG64, 0, 0x0f, 0xa2), -ENOTSUP);
	CHECK_EQ(EMUL(MODE_LONG64, 0, 0x11, 0x08), -ENOTSUP); /* adc */
	CHECK_EQ(EMUL(MODE_LONG64, 0, 0xa5), -ENOTSUP);       /* movs */
	CHECK_EQ(EMUL(MODE_LONG64, 0, 0x89, 0xc8), -ENOTSUP); /* register form */
	/* A device that fails: reads as all ones, writes are dropped. */
	dev.fail = true;
	regs.gpr[GPR_RCX] = 0;
	CHECK_EQ(EMUL(MODE_LONG64, 0, 0x8b, 0x08), 0);
	CHECK_EQ(regs.gpr[GPR_RCX], 0xffffffff);
	CHECK_EQ(EMUL(MODE_LONG64, 0, 0x0f, 0xb7, 0x08), 0);
	CHECK_EQ(regs.gpr[GPR_RCX], 0xffff);
	CHECK_EQ(EMUL(MODE_LONG64, 0, 0x89, 0x08), 0);
}

int main(void)
{
	RUN(mov_store);
	RUN(mov_load_and_register_writeback);
	RUN(movzx_movsx);
	RUN(stos);
	RUN(add_sub_flags);
	RUN(cmp_sets_flags_only);
	RUN(logic_ops);
	RUN(test_and_xchg);
	RUN(errors);
	return unit_done();
}
