/* Host tests of the instruction decoder (arch/x86/emul/decode.c). */
#include "unit.h"
#include <string.h>
#include "arch/x86/emul/decode.h"

static struct insn in;

/*
 * Decodes the given bytes, which must be exactly one instruction, in mode:
 * with 15 bytes available (filler after them) it must take them all, and
 * with any shorter prefix of them, in a buffer of just that size so ASan sees
 * a read past it, it must say -EFAULT. Leaves the full decode in `in`.
 */
static int dec_exact(int line, enum cpu_mode mode, const u8 *b, size_t n)
{
	u8 *buf = malloc(INSN_MAX_LEN);
	struct insn t;
	int r, ok = 1;

	memset(buf, 0xcc, INSN_MAX_LEN);
	memcpy(buf, b, n);
	r = insn_decode(&in, buf, INSN_MAX_LEN, mode);
	if (r != 0 || in.len != n) {
		fprintf(stderr, "line %d: mode %d: returned %d, len %u, want 0 and %zu\n", line, mode,
			r, in.len, n);
		ok = 0;
	}
	for (size_t k = 0; ok && k < n; k++) {
		u8 *part = malloc(k ? k : 1);

		memcpy(part, b, k);
		r = insn_decode(&t, part, k, mode);
		if (r != -EFAULT) {
			fprintf(stderr, "line %d: mode %d: %zu of %zu bytes: %d, want -EFAULT\n", line,
				mode, k, n, r);
			ok = 0;
		}
		free(part);
	}
	free(buf);
	return ok;
}

/* The result of decoding bytes followed by filler, 15 bytes available. */
static int dec_ret(enum cpu_mode mode, const u8 *b, size_t n)
{
	u8 buf[32];

	memset(buf, 0xcc, sizeof(buf));
	memcpy(buf, b, n);
	return insn_decode(&in, buf, INSN_MAX_LEN, mode);
}

#define B(...) ((const u8[]){ __VA_ARGS__ }), sizeof((const u8[]){ __VA_ARGS__ })
#define DEC(mode, ...) dec_exact(__LINE__, mode, B(__VA_ARGS__))
#define DEC_RET(mode, ...) dec_ret(mode, B(__VA_ARGS__))

static const enum cpu_mode all_modes[] = { MODE_REAL, MODE_PROT16, MODE_PROT32, MODE_LONG64 };
#define FOR_EACH_MODE(m) for (unsigned _i = 0; _i < 4 && ((m) = all_modes[_i], 1); _i++)

TEST(system_instructions_in_every_mode)
{
	enum cpu_mode m;

	FOR_EACH_MODE(m) {
		CHECK(DEC(m, 0x0f, 0xa2));
		CHECK_EQ(in.kind, INSN_CPUID);
		CHECK_EQ(in.map, INSN_MAP_0F);
		CHECK_EQ(in.opcode, 0xa2);
		CHECK(!in.has_modrm);
		CHECK(DEC(m, 0x0f, 0x32));
		CHECK_EQ(in.kind, INSN_RDMSR);
		CHECK(DEC(m, 0x0f, 0x30));
		CHECK_EQ(in.kind, INSN_WRMSR);
		CHECK(DEC(m, 0xf4));
		CHECK_EQ(in.kind, INSN_HLT);
		CHECK(DEC(m, 0x0f, 0x01, 0xd9));
		CHECK_EQ(in.kind, INSN_VMMCALL);
		CHECK(DEC(m, 0x0f, 0x01, 0xc1));
		CHECK_EQ(in.kind, INSN_VMCALL);
		CHECK(DEC(m, 0x0f, 0x01, 0xd1));
		CHECK_EQ(in.kind, INSN_XSETBV);
		CHECK(DEC(m, 0x0f, 0x01, 0xd8)); /* VMRUN: same group, not emulated */
		CHECK_EQ(in.kind, INSN_OTHER);
		CHECK(DEC(m, 0x0f, 0x01, 0x10)); /* LGDT [..]: a memory form of group 7 */
		CHECK_EQ(in.kind, INSN_OTHER);
		/* Prefixes count in the length. */
		CHECK(DEC(m, 0x66, 0x0f, 0xa2));
		CHECK_EQ(in.kind, INSN_CPUID);
		CHECK_EQ(in.prefixes, INSN_PFX_OPSIZE);
		CHECK(DEC(m, 0x2e, 0xf4));
		CHECK_EQ(in.kind, INSN_HLT);
		CHECK_EQ(in.seg, INSN_SEG_CS);
	}
	CHECK(DEC(MODE_LONG64, 0x48, 0x0f, 0xa2)); /* a REX changes nothing */
	CHECK_EQ(in.kind, INSN_CPUID);
	CHECK_EQ(in.rex, 0x48);
}

TEST(port_io_in_every_mode)
{
	enum cpu_mode m;

	FOR_EACH_MODE(m) {
		unsigned dflt = m == MODE_REAL || m == MODE_PROT16 ? 2 : 4;

		CHECK(DEC(m, 0xe4, 0x60));
		CHECK_EQ(in.kind, INSN_IN);
		CHECK_EQ(in.data_size, 1);
		CHECK_EQ(in.imm, 0x60);
		CHECK_EQ(in.imm_size, 1);
		CHECK(DEC(m, 0xe5, 0x80)); /* the port is unsigned */
		CHECK_EQ(in.kind, INSN_IN);
		CHECK_EQ(in.imm, 0x80);
		CHECK_EQ(in.data_size, dflt);
		CHECK(DEC(m, 0x66, 0xe5, 0x80));
		CHECK_EQ(in.data_size, 6 - dflt);
		CHECK(DEC(m, 0xe6, 0xf4));
		CHECK_EQ(in.kind, INSN_OUT);
		CHECK_EQ(in.imm, 0xf4);
		CHECK_EQ(in.data_size, 1);
		CHECK(DEC(m, 0xe7, 0x70));
		CHECK_EQ(in.kind, INSN_OUT);
		CHECK_EQ(in.data_size, dflt);
		CHECK(DEC(m, 0xec));
		CHECK_EQ(in.kind, INSN_IN);
		CHECK_EQ(in.data_size, 1);
		CHECK_EQ(in.imm_size, 0);
		CHECK(DEC(m, 0xed));
		CHECK_EQ(in.data_size, dflt);
		CHECK(DEC(m, 0x66, 0xed));
		CHECK_EQ(in.data_size, 6 - dflt);
		CHECK(DEC(m, 0xee));
		CHECK_EQ(in.kind, INSN_OUT);
		CHECK_EQ(in.data_size, 1);
		CHECK(DEC(m, 0xef));
		CHECK_EQ(in.kind, INSN_OUT);
		CHECK(DEC(m, 0x6c));
		CHECK_EQ(in.kind, INSN_INS);
		CHECK_EQ(in.data_size, 1);
		CHECK(DEC(m, 0xf3, 0x6d));
		CHECK_EQ(in.kind, INSN_INS);
		CHECK_EQ(in.prefixes, INSN_PFX_REP);
		CHECK_EQ(in.data_size, dflt);
		CHECK(DEC(m, 0x6e));
		CHECK_EQ(in.kind, INSN_OUTS);
		CHECK_EQ(in.data_size, 1);
		CHECK(DEC(m, 0xf3, 0x66, 0x6f));
		CHECK_EQ(in.kind, INSN_OUTS);
		CHECK_EQ(in.data_size, 6 - dflt);
		CHECK(DEC(m, 0x26, 0x6e)); /* OUTS with a source segment override */
		CHECK_EQ(in.seg, INSN_SEG_ES);
	}
	CHECK(DEC(MODE_LONG64, 0x48, 0xed)); /* REX.W: still a dword */
	CHECK_EQ(in.data_size, 4);
	CHECK(DEC(MODE_LONG64, 0x48, 0x6f));
	CHECK_EQ(in.data_size, 4);
	CHECK(DEC(MODE_LONG64, 0x67, 0xf3, 0x6c)); /* 32-bit addressing: ECX, EDI */
	CHECK_EQ(in.addr_size, 4);
}

TEST(operand_and_address_sizes)
{
	static const struct {
		enum cpu_mode mode;
		u8 pfx;
		u8 op, addr;
	} cases[] = {
		{ MODE_REAL, 0, 2, 2 },     { MODE_REAL, 0x66, 4, 2 },   { MODE_REAL, 0x67, 2, 4 },
		{ MODE_PROT16, 0, 2, 2 },   { MODE_PROT16, 0x66, 4, 2 }, { MODE_PROT16, 0x67, 2, 4 },
		{ MODE_PROT32, 0, 4, 4 },   { MODE_PROT32, 0x66, 2, 4 }, { MODE_PROT32, 0x67, 4, 2 },
		{ MODE_LONG64, 0, 4, 8 },   { MODE_LONG64, 0x66, 2, 8 }, { MODE_LONG64, 0x67, 4, 4 },
		{ MODE_LONG64, 0x48, 8, 8 },
	};

	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		u8 b[2] = { cases[i].pfx, 0x99 }; /* CWD/CDQ/CQO */
		const u8 *p = cases[i].pfx ? b : b + 1;
		size_t n = cases[i].pfx ? 2 : 1;

		CHECK(dec_exact(__LINE__, cases[i].mode, p, n));
		CHECK_EQ(in.op_size, cases[i].op);
		CHECK_EQ(in.addr_size, cases[i].addr);
	}
	/* REX.W beats 66; a REX before a legacy prefix is ignored; the last REX counts. */
	CHECK(DEC(MODE_LONG64, 0x66, 0x48, 0x89, 0x08));
	CHECK_EQ(in.op_size, 8);
	CHECK(DEC(MODE_LONG64, 0x48, 0x66, 0x89, 0x08));
	CHECK_EQ(in.op_size, 2);
	CHECK_EQ(in.rex, 0);
	CHECK(DEC(MODE_LONG64, 0x4c, 0x41, 0x89, 0x08));
	CHECK_EQ(in.rex, 0x41);
	CHECK_EQ(in.reg, 1);
	CHECK_EQ(in.base, 8);
	/* 64-bit default operand size: PUSH/POP, near branches. */
	CHECK(DEC(MODE_LONG64, 0x50));
	CHECK_EQ(in.op_size, 8);
	CHECK(DEC(MODE_LONG64, 0x66, 0x50));
	CHECK_EQ(in.op_size, 2);
	CHECK(DEC(MODE_LONG64, 0x41, 0x5f));
	CHECK_EQ(in.op_size, 8);
	CHECK(DEC(MODE_LONG64, 0x68, 1, 2, 3, 4));
	CHECK_EQ(in.op_size, 8);
	CHECK_EQ(in.imm, 0x04030201);
	CHECK(DEC(MODE_LONG64, 0x66, 0x68, 1, 2));
	CHECK_EQ(in.op_size, 2);
	CHECK(DEC(MODE_LONG64, 0x6a, 0xff));
	CHECK_EQ(in.imm, ~0ULL);
	CHECK(DEC(MODE_LONG64, 0xff, 0x30)); /* PUSH [rax] */
	CHECK_EQ(in.op_size, 8);
	CHECK(DEC(MODE_LONG64, 0xff, 0x00)); /* INC dword [rax] */
	CHECK_EQ(in.op_size, 4);
	CHECK(DEC(MODE_LONG64, 0xff, 0xd0)); /* CALL rax */
	CHECK_EQ(in.op_size, 8);
	CHECK(DEC(MODE_LONG64, 0x8f, 0x00)); /* POP [rax] */
	CHECK_EQ(in.op_size, 8);
	CHECK(DEC(MODE_LONG64, 0xe8, 0, 0, 0, 0));
	CHECK_EQ(in.op_size, 8);
	CHECK(DEC(MODE_LONG64, 0x66, 0xe8, 0, 0, 0, 0)); /* rel32 all the same (Intel) */
	CHECK(DEC(MODE_LONG64, 0x0f, 0x84, 0xfe, 0xff, 0xff, 0xff));
	CHECK_EQ(in.imm, (u64)-2);
	CHECK(DEC(MODE_LONG64, 0x0f, 0xa0)); /* PUSH FS */
	CHECK_EQ(in.op_size, 8);
	/* 40-4F are INC/DEC outside 64-bit mode. */
	CHECK(DEC(MODE_PROT32, 0x48));
	CHECK_EQ(in.kind, INSN_OTHER);
	CHECK_EQ(in.rex, 0);
	CHECK(DEC(MODE_REAL, 0x41));
}

TEST(immediates_by_mode)
{
	/* MOV r, imm: Iv is 16, 32 or (REX.W) 64 bits. */
	CHECK(DEC(MODE_REAL, 0xb8, 0x34, 0x12));
	CHECK_EQ(in.imm, 0x1234);
	CHECK(DEC(MODE_REAL, 0x66, 0xb8, 1, 2, 3, 4));
	CHECK(DEC(MODE_PROT32, 0xb8, 1, 2, 3, 4));
	CHECK(DEC(MODE_PROT32, 0x66, 0xb8, 1, 2));
	CHECK(DEC(MODE_LONG64, 0xb8, 1, 2, 3, 4));
	CHECK(DEC(MODE_LONG64, 0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 0x88));
	CHECK_EQ(in.imm, 0x8807060504030201ULL);
	CHECK_EQ(in.imm_size, 8);
	CHECK(DEC(MODE_LONG64, 0xb0, 0x12));
	/* Branches, RET n, ENTER, INT n, far pointers. */
	CHECK(DEC(MODE_REAL, 0xe8, 0x00, 0x80));
	CHECK_EQ(in.imm, (u64)-32768);
	CHECK(DEC(MODE_REAL, 0x66, 0xe9, 1, 2, 3, 4));
	CHECK(DEC(MODE_PROT16, 0x0f, 0x85, 1, 2));
	CHECK(DEC(MODE_PROT32, 0x0f, 0x85, 1, 2, 3, 4));
	CHECK(DEC(MODE_PROT32, 0xeb, 0xfe));
	CHECK(DEC(MODE_PROT32, 0xc2, 0x08, 0x80));
	CHECK_EQ(in.imm, 0x8008); /* unsigned */
	CHECK(DEC(MODE_PROT32, 0xc8, 0x10, 0x00, 0x01));
	CHECK_EQ(in.imm, 0x010010);
	CHECK(DEC(MODE_PROT32, 0xcd, 0x80));
	CHECK_EQ(in.imm, 0x80);
	CHECK(DEC(MODE_PROT32, 0x9a, 0x78, 0x56, 0x34, 0x12, 0x08, 0x00));
	CHECK_EQ(in.imm, 0x000812345678ULL);
	CHECK(DEC(MODE_REAL, 0xea, 0x5b, 0xe0, 0x00, 0xf0));
	CHECK_EQ(in.imm, 0xf000e05b);
	CHECK(DEC(MODE_PROT32, 0x66, 0xea, 1, 2, 3, 4));
	CHECK(DEC(MODE_PROT32, 0x69, 0xc0, 1, 2, 3, 4)); /* IMUL Gv,Ev,Iz */
	CHECK(DEC(MODE_PROT32, 0x6b, 0xc0, 0x01));
	CHECK(DEC(MODE_PROT32, 0xc1, 0xe0, 0x04)); /* SHL eax, 4 */
	CHECK(DEC(MODE_PROT32, 0xa9, 1, 2, 3, 4));
	CHECK(DEC(MODE_PROT16, 0xa9, 1, 2));
	CHECK(DEC(MODE_PROT32, 0xd4, 0x0a)); /* AAM */
}

TEST(mov_to_memory_forms)
{
	/* mov [rax], ecx */
	CHECK(DEC(MODE_LONG64, 0x89, 0x08));
	CHECK_EQ(in.kind, INSN_MOV_STORE);
	CHECK(in.has_modrm);
	CHECK_EQ(in.mod, 0);
	CHECK_EQ(in.reg, 1);
	CHECK_EQ(in.base, 0);
	CHECK_EQ(in.index, INSN_NO_REG);
	CHECK_EQ(in.data_size, 4);
	CHECK(DEC(MODE_LONG64, 0x48, 0x89, 0x08));
	CHECK_EQ(in.data_size, 8);
	CHECK(DEC(MODE_LONG64, 0x66, 0x89, 0x08));
	CHECK_EQ(in.data_size, 2);
	CHECK(DEC(MODE_LONG64, 0x4c, 0x89, 0x08)); /* REX.R: r9 */
	CHECK_EQ(in.reg, 9);
	CHECK(DEC(MODE_LONG64, 0x41, 0x89, 0x08)); /* REX.B: [r8] */
	CHECK_EQ(in.base, 8);
	CHECK(DEC(MODE_LONG64, 0x88, 0x20)); /* mov [rax], ah */
	CHECK_EQ(in.kind, INSN_MOV_STORE);
	CHECK_EQ(in.reg, 4);
	CHECK_EQ(in.rex, 0);
	CHECK_EQ(in.data_size, 1);
	CHECK(DEC(MODE_LONG64, 0x40, 0x88, 0x20)); /* mov [rax], spl */
	CHECK_EQ(in.rex, 0x40);
	/* Immediate stores. */
	CHECK(DEC(MODE_LONG64, 0xc6, 0x00, 0xab));
	CHECK_EQ(in.kind, INSN_MOV_STORE);
	CHECK_EQ(in.imm_size, 1);
	CHECK_EQ(in.data_size, 1);
	CHECK(DEC(MODE_LONG64, 0xc7, 0x00, 0x78, 0x56, 0x34, 0x12));
	CHECK_EQ(in.imm, 0x12345678);
	CHECK_EQ(in.data_size, 4);
	CHECK(DEC(MODE_LONG64, 0x48, 0xc7, 0x00, 0xff, 0xff, 0xff, 0xff));
	CHECK_EQ(in.imm, ~0ULL);
	CHECK_EQ(in.data_size, 8);
	CHECK(DEC(MODE_LONG64, 0x66, 0xc7, 0x00, 0x34, 0x12));
	CHECK_EQ(in.imm, 0x1234);
	CHECK(DEC(MODE_REAL, 0xc7, 0x07, 0x34, 0x12)); /* mov word [bx], 0x1234 */
	CHECK_EQ(in.kind, INSN_MOV_STORE);
	CHECK_EQ(in.base, 3);
	CHECK(DEC(MODE_REAL, 0x66, 0xc7, 0x07, 1, 2, 3, 4));
	CHECK_EQ(in.data_size, 4);
	/* Loads, MOVZX, MOVSX. */
	CHECK(DEC(MODE_LONG64, 0x8b, 0x08));
	CHECK_EQ(in.kind, INSN_MOV_LOAD);
	CHECK(DEC(MODE_LONG64, 0x8a, 0x08));
	CHECK_EQ(in.kind, INSN_MOV_LOAD);
	CHECK_EQ(in.data_size, 1);
	CHECK(DEC(MODE_LONG64, 0x0f, 0xb6, 0x08));
	CHECK_EQ(in.kind, INSN_MOVZX);
	CHECK_EQ(in.data_size, 1);
	CHECK_EQ(in.op_size, 4);
	CHECK(DEC(MODE_LONG64, 0x48, 0x0f, 0xb7, 0x08));
	CHECK_EQ(in.kind, INSN_MOVZX);
	CHECK_EQ(in.data_size, 2);
	CHECK_EQ(in.op_size, 8);
	CHECK(DEC(MODE_PROT32, 0x66, 0x0f, 0xbe, 0x08));
	CHECK_EQ(in.kind, INSN_MOVSX);
	CHECK_EQ(in.data_size, 1);
	CHECK_EQ(in.op_size, 2);
	CHECK(DEC(MODE_REAL, 0x0f, 0xbf, 0x07));
	CHECK_EQ(in.kind, INSN_MOVSX);
	CHECK_EQ(in.data_size, 2);
	/* The register forms are not memory accesses. */
	CHECK(DEC(MODE_LONG64, 0x89, 0xc8));
	CHECK_EQ(in.kind, INSN_OTHER);
	CHECK_EQ(in.mod, 3);
	CHECK_EQ(in.rm, 0);
	CHECK(DEC(MODE_LONG64, 0x45, 0x89, 0xc8)); /* mov r8d, r9d */
	CHECK_EQ(in.rm, 8);
	CHECK_EQ(in.reg, 9);
	CHECK(DEC(MODE_LONG64, 0x0f, 0xb6, 0xc1));
	CHECK_EQ(in.kind, INSN_OTHER);
	CHECK(DEC(MODE_LONG64, 0xc7, 0xc0, 1, 2, 3, 4));
	CHECK_EQ(in.kind, INSN_OTHER);
}

TEST(moffs_and_stos)
{
	CHECK(DEC(MODE_LONG64, 0xa1, 0, 0, 0xe0, 0xfe, 0, 0, 0, 0));
	CHECK_EQ(in.kind, INSN_MOV_MOFFS);
	CHECK_EQ(in.imm, 0xfee00000);
	CHECK_EQ(in.imm_size, 8);
	CHECK_EQ(in.data_size, 4);
	CHECK(DEC(MODE_LONG64, 0x48, 0xa3, 0, 0, 0, 0, 0, 0, 0, 0x80));
	CHECK_EQ(in.data_size, 8);
	CHECK_EQ(in.imm, 0x8000000000000000ULL);
	CHECK(DEC(MODE_LONG64, 0x67, 0xa0, 0, 0, 0xe0, 0xfe));
	CHECK_EQ(in.imm_size, 4);
	CHECK_EQ(in.data_size, 1);
	CHECK(DEC(MODE_PROT32, 0xa2, 0, 0, 0, 0x80));
	CHECK_EQ(in.imm, 0x80000000); /* zero-extended */
	CHECK(DEC(MODE_PROT32, 0x67, 0xa3, 0x00, 0x80));
	CHECK_EQ(in.imm, 0x8000);
	CHECK(DEC(MODE_REAL, 0xa1, 0x00, 0x80));
	CHECK_EQ(in.data_size, 2);
	CHECK(DEC(MODE_REAL, 0x64, 0x67, 0x66, 0xa1, 1, 2, 3, 4));
	CHECK_EQ(in.data_size, 4);
	CHECK_EQ(in.seg, INSN_SEG_FS);
	CHECK(DEC(MODE_PROT16, 0xa0, 0x10, 0x00));

	CHECK(DEC(MODE_LONG64, 0xaa));
	CHECK_EQ(in.kind, INSN_STOS);
	CHECK_EQ(in.data_size, 1);
	CHECK(DEC(MODE_LONG64, 0xab));
	CHECK_EQ(in.data_size, 4);
	CHECK(DEC(MODE_LONG64, 0x48, 0xab));
	CHECK_EQ(in.data_size, 8);
	CHECK(DEC(MODE_LONG64, 0xf3, 0x48, 0xab));
	CHECK_EQ(in.prefixes, INSN_PFX_REP);
	CHECK(DEC(MODE_REAL, 0xab));
	CHECK_EQ(in.data_size, 2);
	CHECK_EQ(in.addr_size, 2);
	CHECK(DEC(MODE_PROT32, 0x66, 0xab));
	CHECK_EQ(in.data_size, 2);
}

TEST(alu_with_memory)
{
	static const struct {
		u8 op;
		enum insn_kind kind;
	} blocks[] = {
		{ 0x00, INSN_ADD }, { 0x08, INSN_OR },  { 0x10, INSN_OTHER }, { 0x18, INSN_OTHER },
		{ 0x20, INSN_AND }, { 0x28, INSN_SUB }, { 0x30, INSN_XOR },   { 0x38, INSN_CMP },
	};
	enum cpu_mode m;

	for (unsigned i = 0; i < ARRAY_SIZE(blocks); i++) {
		for (unsigned f = 0; f < 4; f++) { /* Eb,Gb Ev,Gv Gb,Eb Gv,Ev */
			u8 b[] = { (u8)(blocks[i].op + f), 0x08 };

			CHECK(dec_exact(__LINE__, MODE_LONG64, b, 2));
			CHECK_EQ(in.kind, blocks[i].kind);
			CHECK_EQ(in.data_size, f & 1 ? 4 : 1);
			b[1] = 0xc8; /* register form */
			CHECK(dec_exact(__LINE__, MODE_LONG64, b, 2));
			CHECK_EQ(in.kind, INSN_OTHER);
		}
		u8 ai[] = { (u8)(blocks[i].op + 4), 0x01 }; /* AL, Ib */
		CHECK(dec_exact(__LINE__, MODE_LONG64, ai, 2));
		CHECK_EQ(in.kind, INSN_OTHER);
		u8 az[] = { (u8)(blocks[i].op + 5), 1, 2, 3, 4 }; /* eAX, Iz */
		CHECK(dec_exact(__LINE__, MODE_LONG64, az, 5));
		/* Group 1 with the same operation in ModRM.reg. */
		u8 g[] = { 0x83, (u8)(blocks[i].op | 0x00), 0xf0 };
		CHECK(dec_exact(__LINE__, MODE_LONG64, g, 3));
		CHECK_EQ(in.kind, blocks[i].kind);
		CHECK_EQ(in.imm, (u64)-16);
	}
	FOR_EACH_MODE(m) {
		CHECK(DEC(m, 0x80, 0x08, 0x12)); /* or byte [..], 0x12 */
		CHECK_EQ(in.kind, INSN_OR);
		CHECK_EQ(in.data_size, 1);
		CHECK_EQ(in.imm, 0x12);
		CHECK(DEC(m, 0x80, 0x20, 0xf0)); /* and byte [..], 0xf0 */
		CHECK_EQ(in.kind, INSN_AND);
		CHECK_EQ(in.imm, (u64)-16);
		if (m == MODE_REAL || m == MODE_PROT16)
			CHECK(DEC(m, 0x81, 0x30, 0x34, 0x92));
		else
			CHECK(DEC(m, 0x66, 0x81, 0x30, 0x34, 0x92));
		CHECK_EQ(in.kind, INSN_XOR);
		CHECK_EQ(in.imm, (u64)(s16)0x9234);
		CHECK(DEC(m, 0x3b, 0x07)); /* cmp r, [..] */
		CHECK_EQ(in.kind, INSN_CMP);
		CHECK(DEC(m, 0xf0, 0x01, 0x07)); /* lock add */
		CHECK_EQ(in.kind, INSN_ADD);
		CHECK_EQ(in.prefixes, INSN_PFX_LOCK);
	}
	CHECK(DEC(MODE_PROT32, 0x81, 0x28, 1, 2, 3, 4));
	CHECK_EQ(in.kind, INSN_SUB);
	CHECK_EQ(in.imm, 0x04030201);
	CHECK(DEC(MODE_LONG64, 0x48, 0x81, 0x00, 0, 0, 0, 0x80));
	CHECK_EQ(in.imm, 0xffffffff80000000ULL);
	CHECK(DEC(MODE_PROT32, 0x82, 0x00, 0x01)); /* 82: an alias of 80 outside 64-bit mode */
	CHECK_EQ(in.kind, INSN_ADD);
	CHECK(DEC(MODE_LONG64, 0x80, 0x10, 0x01)); /* ADC */
	CHECK_EQ(in.kind, INSN_OTHER);
	CHECK(DEC(MODE_LONG64, 0x80, 0xc0, 0x01)); /* add al, 1 */
	CHECK_EQ(in.kind, INSN_OTHER);
}

TEST(test_and_xchg)
{
	enum cpu_mode m;

	FOR_EACH_MODE(m) {
		CHECK(DEC(m, 0x84, 0x07));
		CHECK_EQ(in.kind, INSN_TEST_MEM);
		CHECK_EQ(in.data_size, 1);
		CHECK(DEC(m, 0x85, 0x07));
		CHECK_EQ(in.kind, INSN_TEST_MEM);
		CHECK(DEC(m, 0xf6, 0x07, 0x80));
		CHECK_EQ(in.kind, INSN_TEST_MEM);
		CHECK_EQ(in.imm_size, 1);
		CHECK(DEC(m, 0xf6, 0x0f, 0x80)); /* /1: an alias of /0 */
		CHECK_EQ(in.kind, INSN_TEST_MEM);
		CHECK(DEC(m, 0x86, 0x07));
		CHECK_EQ(in.kind, INSN_XCHG_MEM);
		CHECK_EQ(in.data_size, 1);
		CHECK(DEC(m, 0x87, 0x07));
		CHECK_EQ(in.kind, INSN_XCHG_MEM);
		CHECK(DEC(m, 0xf0, 0x87, 0x07));
		CHECK_EQ(in.kind, INSN_XCHG_MEM);
	}
	CHECK(DEC(MODE_PROT32, 0xf7, 0x00, 1, 2, 3, 4));
	CHECK_EQ(in.kind, INSN_TEST_MEM);
	CHECK_EQ(in.imm, 0x04030201);
	CHECK(DEC(MODE_PROT16, 0xf7, 0x07, 1, 2));
	CHECK_EQ(in.imm_size, 2);
	CHECK(DEC(MODE_LONG64, 0x48, 0xf7, 0x00, 0xff, 0xff, 0xff, 0xff));
	CHECK_EQ(in.imm, ~0ULL);
	/* NOT, NEG, MUL... of group 3 have no immediate. */
	CHECK(DEC(MODE_LONG64, 0xf6, 0x10));
	CHECK_EQ(in.kind, INSN_OTHER);
	CHECK(DEC(MODE_LONG64, 0xf7, 0x18));
	CHECK(DEC(MODE_LONG64, 0xf7, 0xf1));
	CHECK(DEC(MODE_LONG64, 0xf6, 0xc0, 0x01)); /* test al, 1 */
	CHECK_EQ(in.kind, INSN_OTHER);
	CHECK(DEC(MODE_LONG64, 0x87, 0xc8)); /* xchg eax, ecx */
	CHECK_EQ(in.kind, INSN_OTHER);
}

TEST(modrm_sib_displacement_32_64)
{
	enum cpu_mode m;

	CHECK(DEC(MODE_LONG64, 0x89, 0x48, 0x10)); /* [rax+0x10] */
	CHECK_EQ(in.disp, 0x10);
	CHECK_EQ(in.disp_size, 1);
	CHECK(DEC(MODE_LONG64, 0x89, 0x48, 0xf0)); /* [rax-0x10] */
	CHECK_EQ(in.disp, -16);
	CHECK(DEC(MODE_LONG64, 0x89, 0x88, 0x00, 0x10, 0x00, 0x00)); /* [rax+0x1000] */
	CHECK_EQ(in.disp, 0x1000);
	CHECK_EQ(in.disp_size, 4);
	CHECK(DEC(MODE_LONG64, 0x89, 0x04, 0x24)); /* [rsp] */
	CHECK(in.has_sib);
	CHECK_EQ(in.base, 4);
	CHECK_EQ(in.index, INSN_NO_REG);
	CHECK(DEC(MODE_LONG64, 0x89, 0x04, 0x88)); /* [rax+rcx*4] */
	CHECK_EQ(in.base, 0);
	CHECK_EQ(in.index, 1);
	CHECK_EQ(in.scale, 4);
	CHECK(DEC(MODE_LONG64, 0x89, 0x44, 0xc8, 0x08)); /* [rax+rcx*8+8] */
	CHECK_EQ(in.scale, 8);
	CHECK_EQ(in.disp, 8);
	CHECK(DEC(MODE_LONG64, 0x89, 0x04, 0x8d, 0x00, 0x10, 0x00, 0x00)); /* [rcx*4+0x1000] */
	CHECK_EQ(in.base, INSN_NO_REG);
	CHECK_EQ(in.index, 1);
	CHECK_EQ(in.disp, 0x1000);
	CHECK(DEC(MODE_LONG64, 0x89, 0x04, 0x25, 0x00, 0x00, 0xe0, 0xfe)); /* [abs disp32] */
	CHECK_EQ(in.base, INSN_NO_REG);
	CHECK_EQ(in.index, INSN_NO_REG);
	CHECK(!in.rip_rel);
	CHECK_EQ(in.disp, (s32)0xfee00000);
	CHECK(DEC(MODE_LONG64, 0x42, 0x89, 0x04, 0x20)); /* REX.X: [rax+r12] */
	CHECK_EQ(in.index, 12);
	CHECK(DEC(MODE_LONG64, 0x43, 0x89, 0x04, 0x2c)); /* [r12+r13] */
	CHECK_EQ(in.base, 12);
	CHECK_EQ(in.index, 13);
	CHECK(DEC(MODE_LONG64, 0x41, 0x89, 0x45, 0x00)); /* [r13+0]: disp8 needed */
	CHECK_EQ(in.base, 13);
	CHECK_EQ(in.disp_size, 1);
	CHECK(DEC(MODE_LONG64, 0x41, 0x89, 0x04, 0x25, 1, 2, 3, 4)); /* REX.B: still no base */
	CHECK_EQ(in.base, INSN_NO_REG);
	CHECK(DEC(MODE_LONG64, 0x41, 0x89, 0x04, 0x24)); /* [r12] */
	CHECK_EQ(in.base, 12);
	CHECK(DEC(MODE_LONG64, 0x89, 0x44, 0x25, 0x08)); /* [rbp+8] via SIB, mod 1 */
	CHECK_EQ(in.base, 5);
	/* RIP-relative in 64-bit mode, absolute elsewhere. */
	CHECK(DEC(MODE_LONG64, 0x89, 0x05, 0x00, 0x10, 0x00, 0x00));
	CHECK(in.rip_rel);
	CHECK_EQ(in.base, INSN_NO_REG);
	CHECK_EQ(in.disp, 0x1000);
	CHECK(DEC(MODE_LONG64, 0x67, 0x89, 0x05, 0x00, 0x10, 0x00, 0x00));
	CHECK(in.rip_rel);
	CHECK_EQ(in.addr_size, 4);
	CHECK(DEC(MODE_LONG64, 0xc7, 0x05, 1, 0, 0, 0, 2, 0, 0, 0)); /* disp32 and imm32 */
	CHECK(in.rip_rel);
	CHECK_EQ(in.disp, 1);
	CHECK_EQ(in.imm, 2);
	CHECK(DEC(MODE_PROT32, 0x89, 0x05, 0x00, 0x00, 0xe0, 0xfe));
	CHECK(!in.rip_rel);
	CHECK_EQ(in.base, INSN_NO_REG);
	/* The same bytes in every mode: disp16 with 16-bit addressing, disp32 else. */
	FOR_EACH_MODE(m) {
		bool a16 = m == MODE_REAL || m == MODE_PROT16;

		CHECK(a16 ? DEC(m, 0x89, 0x87, 0x34, 0x12) : DEC(m, 0x89, 0x87, 0x34, 0x12, 0, 0));
		CHECK_EQ(in.kind, INSN_MOV_STORE);
		CHECK_EQ(in.disp, 0x1234);
		CHECK_EQ(in.base, a16 ? 3 : 7); /* [bx+disp16] or [edi+disp32] */
	}
	/* 67 switches between the two. */
	CHECK(DEC(MODE_REAL, 0x67, 0x89, 0x04, 0x24));
	CHECK(in.has_sib);
	CHECK_EQ(in.addr_size, 4);
	CHECK(DEC(MODE_PROT32, 0x67, 0x89, 0x07));
	CHECK(!in.has_sib);
	CHECK_EQ(in.base, 3);
	CHECK_EQ(in.addr_size, 2);
}

TEST(modrm_16bit_addressing)
{
	static const struct {
		u8 rm, base, index;
	} forms[] = {
		{ 0, 3, 6 }, { 1, 3, 7 }, { 2, 5, 6 }, { 3, 5, 7 },
		{ 4, 6, INSN_NO_REG }, { 5, 7, INSN_NO_REG }, { 7, 3, INSN_NO_REG },
	};

	for (unsigned i = 0; i < ARRAY_SIZE(forms); i++) {
		u8 b0[] = { 0x8b, forms[i].rm };
		u8 b1[] = { 0x8b, (u8)(0x40 | forms[i].rm), 0xfe };
		u8 b2[] = { 0x8b, (u8)(0x80 | forms[i].rm), 0x34, 0x12 };

		CHECK(dec_exact(__LINE__, MODE_REAL, b0, 2));
		CHECK_EQ(in.base, forms[i].base);
		CHECK_EQ(in.index, forms[i].index);
		CHECK_EQ(in.disp_size, 0);
		CHECK(dec_exact(__LINE__, MODE_PROT16, b1, 3));
		CHECK_EQ(in.base, forms[i].base);
		CHECK_EQ(in.disp, -2);
		CHECK(dec_exact(__LINE__, MODE_REAL, b2, 4));
		CHECK_EQ(in.index, forms[i].index);
		CHECK_EQ(in.disp, 0x1234);
		CHECK_EQ(in.disp_size, 2);
	}
	CHECK(DEC(MODE_REAL, 0x8b, 0x06, 0x34, 0x12)); /* [disp16] */
	CHECK_EQ(in.base, INSN_NO_REG);
	CHECK_EQ(in.index, INSN_NO_REG);
	CHECK_EQ(in.disp, 0x1234);
	CHECK(DEC(MODE_REAL, 0x8b, 0x46, 0x02)); /* [bp+2] */
	CHECK_EQ(in.base, 5);
	CHECK(DEC(MODE_REAL, 0x26, 0x89, 0x07)); /* mov es:[bx], ax */
	CHECK_EQ(in.seg, INSN_SEG_ES);
	CHECK(DEC(MODE_REAL, 0x3e, 0x36, 0x89, 0x07)); /* the last override wins */
	CHECK_EQ(in.seg, INSN_SEG_SS);
}

TEST(segment_overrides)
{
	static const struct {
		u8 pfx;
		enum insn_seg seg;
	} segs[] = {
		{ 0x26, INSN_SEG_ES }, { 0x2e, INSN_SEG_CS }, { 0x36, INSN_SEG_SS },
		{ 0x3e, INSN_SEG_DS }, { 0x64, INSN_SEG_FS }, { 0x65, INSN_SEG_GS },
	};
	enum cpu_mode m;

	FOR_EACH_MODE(m) {
		for (unsigned i = 0; i < ARRAY_SIZE(segs); i++) {
			u8 b[] = { segs[i].pfx, 0x89, 0x07 };

			CHECK(dec_exact(__LINE__, m, b, 3));
			CHECK_EQ(in.seg, segs[i].seg);
			CHECK_EQ(in.kind, INSN_MOV_STORE);
		}
	}
	CHECK(DEC(MODE_LONG64, 0x65, 0x48, 0x8b, 0x04, 0x25, 0x28, 0, 0, 0)); /* mov rax, gs:0x28 */
	CHECK_EQ(in.seg, INSN_SEG_GS);
	CHECK_EQ(in.kind, INSN_MOV_LOAD);
	CHECK_EQ(in.disp, 0x28);
}

TEST(two_byte_and_escape_maps)
{
	CHECK(DEC(MODE_LONG64, 0x0f, 0x20, 0xc0)); /* mov rax, cr0 */
	CHECK_EQ(in.mod, 3);
	CHECK(DEC(MODE_LONG64, 0x0f, 0x22, 0x05)); /* mod ignored: no disp32 */
	CHECK_EQ(in.mod, 3);
	CHECK_EQ(in.rm, 5);
	CHECK(DEC(MODE_LONG64, 0x0f, 0x20, 0x04)); /* ... and no SIB */
	CHECK(DEC(MODE_LONG64, 0x44, 0x0f, 0x20, 0xc0)); /* mov rax, cr8 */
	CHECK_EQ(in.reg, 8);
	CHECK(DEC(MODE_PROT32, 0xf0, 0x0f, 0x20, 0xc0)); /* AMD: mov eax, cr8 */
	CHECK(DEC(MODE_LONG64, 0x0f, 0x0b));             /* UD2 */
	CHECK(DEC(MODE_LONG64, 0x0f, 0x05));             /* SYSCALL */
	CHECK(DEC(MODE_LONG64, 0x0f, 0x31));             /* RDTSC */
	CHECK(DEC(MODE_LONG64, 0x0f, 0x1f, 0x44, 0x00, 0x00));
	CHECK(DEC(MODE_LONG64, 0x66, 0x0f, 0x1f, 0x84, 0x00, 0, 0, 0, 0));
	CHECK(DEC(MODE_LONG64, 0x0f, 0x18, 0x08)); /* PREFETCHT0 */
	CHECK(DEC(MODE_LONG64, 0x0f, 0xba, 0x20, 0x05)); /* bt dword [rax], 5 */
	CHECK(DEC(MODE_LONG64, 0xf0, 0x0f, 0xb1, 0x0a)); /* lock cmpxchg [rdx], ecx */
	CHECK(DEC(MODE_LONG64, 0xf0, 0x48, 0x0f, 0xc7, 0x0f)); /* lock cmpxchg16b [rdi] */
	CHECK(DEC(MODE_LONG64, 0x66, 0x0f, 0x70, 0xc1, 0x1b)); /* pshufd */
	CHECK(DEC(MODE_LONG64, 0x0f, 0xc2, 0xc1, 0x01));        /* cmpps */
	CHECK(DEC(MODE_LONG64, 0x0f, 0xa4, 0xc8, 0x04));        /* shld */
	CHECK(DEC(MODE_LONG64, 0x0f, 0xc8));                    /* bswap eax */
	CHECK(DEC(MODE_LONG64, 0x0f, 0x77));                    /* emms */
	CHECK(DEC(MODE_LONG64, 0x0f, 0x0f, 0xc1, 0xb4));        /* 3DNow! pfmul */
	CHECK(DEC(MODE_LONG64, 0x66, 0x0f, 0x78, 0xc1, 0x04, 0x08)); /* extrq */
	CHECK(DEC(MODE_LONG64, 0xf2, 0x0f, 0x78, 0xc1, 0x04, 0x08)); /* insertq */
	CHECK(DEC(MODE_LONG64, 0x0f, 0x78, 0xc1));                   /* vmread */
	CHECK(DEC(MODE_LONG64, 0x0f, 0x38, 0x00, 0xc1));             /* pshufb mm */
	CHECK_EQ(in.map, INSN_MAP_0F38);
	CHECK_EQ(in.opcode, 0x00);
	CHECK(DEC(MODE_LONG64, 0x0f, 0x38, 0xf0, 0x04, 0x24));       /* movbe eax, [rsp] */
	CHECK(DEC(MODE_LONG64, 0x66, 0x0f, 0x3a, 0x0f, 0xc1, 0x08)); /* palignr */
	CHECK_EQ(in.map, INSN_MAP_0F3A);
	CHECK_EQ(in.imm, 8);
	CHECK(DEC(MODE_LONG64, 0x66, 0x0f, 0x3a, 0x16, 0x44, 0x24, 0x08, 0x01)); /* pextrd */
	CHECK(DEC(MODE_PROT16, 0x0f, 0x01, 0x16, 0x34, 0x12)); /* lgdt [0x1234] */
	CHECK(DEC(MODE_LONG64, 0xf3, 0x0f, 0xb8, 0xc1));       /* popcnt */
	CHECK(DEC(MODE_LONG64, 0xd9, 0xee));                   /* fldz */
	CHECK(DEC(MODE_LONG64, 0xdd, 0x44, 0x24, 0x08));       /* fld qword [rsp+8] */
}

TEST(vex_and_evex)
{
	CHECK(DEC(MODE_LONG64, 0xc5, 0xf8, 0x77)); /* vzeroupper */
	CHECK_EQ(in.vex, 2);
	CHECK_EQ(in.map, INSN_MAP_0F);
	CHECK_EQ(in.opcode, 0x77);
	CHECK_EQ(in.kind, INSN_OTHER);
	CHECK(DEC(MODE_LONG64, 0xc5, 0xf9, 0x6f, 0x00));       /* vmovdqa xmm0, [rax] */
	CHECK(DEC(MODE_LONG64, 0xc5, 0x79, 0x6f, 0x00));       /* vmovdqa xmm8, [rax] */
	CHECK_EQ(in.reg, 8);
	CHECK_EQ(in.rex, 0);
	CHECK(DEC(MODE_LONG64, 0xc5, 0xf9, 0x70, 0xc1, 0x1b)); /* vpshufd */
	CHECK(DEC(MODE_LONG64, 0xc5, 0xfa, 0x7e, 0x05, 0, 0, 0, 0)); /* vmovq rip-relative */
	CHECK(in.rip_rel);
	CHECK(DEC(MODE_LONG64, 0xc4, 0xe3, 0x79, 0x0f, 0xc1, 0x08)); /* vpalignr */
	CHECK_EQ(in.vex, 3);
	CHECK_EQ(in.map, INSN_MAP_0F3A);
	CHECK(DEC(MODE_LONG64, 0xc4, 0xe2, 0x79, 0x18, 0x00)); /* vbroadcastss */
	CHECK_EQ(in.map, INSN_MAP_0F38);
	CHECK(DEC(MODE_LONG64, 0xc4, 0xc1, 0x79, 0x6f, 0x04, 0x24)); /* VEX.B: [r12] */
	CHECK_EQ(in.base, 12);
	CHECK(DEC(MODE_LONG64, 0xc4, 0xe1, 0xf9, 0x7e, 0xc0)); /* vmovq rax, xmm0 */
	CHECK(DEC(MODE_LONG64, 0x62, 0xf1, 0x7c, 0x48, 0x10, 0x00)); /* vmovups zmm0, [rax] */
	CHECK_EQ(in.vex, 4);
	CHECK(DEC(MODE_LONG64, 0x62, 0xf1, 0x7c, 0x48, 0x10, 0x40, 0x01)); /* disp8*N */
	CHECK(DEC(MODE_LONG64, 0x62, 0xf3, 0x7d, 0x48, 0x03, 0xc1, 0x05)); /* valignd */
	CHECK(DEC(MODE_LONG64, 0x62, 0xf5, 0x7c, 0x48, 0x58, 0xc1));       /* vaddph: map 5 */
	CHECK_EQ(in.map, INSN_MAP_5);
	CHECK(DEC(MODE_LONG64, 0x67, 0xc5, 0xf8, 0x10, 0x00)); /* 67 may precede VEX */
	/* Outside 64-bit mode: VEX only when the next byte has mod 3. */
	CHECK(DEC(MODE_PROT32, 0xc5, 0xf8, 0x77));
	CHECK_EQ(in.vex, 2);
	CHECK(DEC(MODE_PROT32, 0xc4, 0xe3, 0x79, 0x0f, 0xc1, 0x08));
	CHECK(DEC(MODE_PROT16, 0xc5, 0xf8, 0x77));
	CHECK(DEC(MODE_PROT32, 0xc4, 0x00)); /* les eax, [eax] */
	CHECK_EQ(in.vex, 0);
	CHECK(DEC(MODE_PROT32, 0xc5, 0x46, 0x08)); /* lds eax, [esi+8] */
	CHECK(DEC(MODE_PROT32, 0x62, 0x00));       /* bound eax, [eax] */
	CHECK(DEC(MODE_REAL, 0xc4, 0x07));         /* les ax, [bx] */
	CHECK_EQ(DEC_RET(MODE_REAL, 0xc5, 0xf8, 0x77), -EINVAL); /* no VEX in real mode */
	CHECK_EQ(DEC_RET(MODE_REAL, 0x62, 0xc0), -EINVAL);
}

TEST(invalid_encodings)
{
	static const u8 inval64[] = { 0x06, 0x07, 0x0e, 0x16, 0x17, 0x1e, 0x1f, 0x27, 0x2f, 0x37,
				      0x3f, 0x60, 0x61, 0x82, 0x9a, 0xce, 0xd4, 0xd5, 0xea };
	enum cpu_mode m;

	for (unsigned i = 0; i < ARRAY_SIZE(inval64); i++) {
		u8 b[] = { inval64[i], 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 };

		CHECK_EQ(dec_ret(MODE_LONG64, b, sizeof(b)), -EINVAL);
		CHECK_EQ(dec_ret(MODE_PROT32, b, sizeof(b)), 0); /* valid there */
	}
	FOR_EACH_MODE(m) {
		CHECK_EQ(DEC_RET(m, 0xd6), -EINVAL);
		CHECK_EQ(DEC_RET(m, 0x0f, 0x04), -EINVAL);
		CHECK_EQ(DEC_RET(m, 0x0f, 0x0a), -EINVAL);
		CHECK_EQ(DEC_RET(m, 0x0f, 0x0c), -EINVAL);
		CHECK_EQ(DEC_RET(m, 0x0f, 0x24, 0xc0), -EINVAL);
		CHECK_EQ(DEC_RET(m, 0x0f, 0x36), -EINVAL);
		CHECK_EQ(DEC_RET(m, 0x0f, 0x39), -EINVAL);
		CHECK_EQ(DEC_RET(m, 0x0f, 0x3b), -EINVAL);
		CHECK_EQ(DEC_RET(m, 0x0f, 0x7a), -EINVAL);
		CHECK_EQ(DEC_RET(m, 0x0f, 0xa6), -EINVAL);
		/* Group members that do not exist. */
		CHECK_EQ(DEC_RET(m, 0xc6, 0x08, 0x12), -EINVAL);   /* C6 /1 */
		CHECK_EQ(DEC_RET(m, 0xc7, 0x38, 1, 2, 3, 4), -EINVAL);
		CHECK_EQ(DEC_RET(m, 0xfe, 0x10), -EINVAL);         /* FE /2 */
		CHECK_EQ(DEC_RET(m, 0xff, 0x38), -EINVAL);         /* FF /7 */
		CHECK_EQ(DEC_RET(m, 0xff, 0xd8), -EINVAL);         /* call far with a register */
		CHECK_EQ(DEC_RET(m, 0x8f, 0x08), -EINVAL);         /* XOP */
		/* LOCK where it is not allowed. */
		CHECK_EQ(DEC_RET(m, 0xf0, 0x0f, 0xa2), -EINVAL);
		CHECK_EQ(DEC_RET(m, 0xf0, 0x89, 0x07), -EINVAL);   /* mov */
		CHECK_EQ(DEC_RET(m, 0xf0, 0x03, 0x07), -EINVAL);   /* add to a register */
		CHECK_EQ(DEC_RET(m, 0xf0, 0x01, 0xc8), -EINVAL);   /* register destination */
		CHECK_EQ(DEC_RET(m, 0xf0, 0x39, 0x07), -EINVAL);   /* cmp */
		CHECK_EQ(DEC_RET(m, 0xf0, 0x80, 0x3f, 0x01), -EINVAL); /* cmp via group 1 */
		CHECK_EQ(DEC_RET(m, 0xf0, 0xf6, 0x07, 0x01), -EINVAL); /* test */
		CHECK_EQ(DEC_RET(m, 0xf0, 0xa5), -EINVAL);         /* movs */
	}
	/* XBEGIN and XABORT are the F8 members of C7/C6. */
	CHECK(DEC(MODE_LONG64, 0xc7, 0xf8, 1, 2, 3, 4));
	CHECK_EQ(in.kind, INSN_OTHER);
	CHECK(DEC(MODE_LONG64, 0xc6, 0xf8, 0x01));
	CHECK(DEC(MODE_LONG64, 0xf0, 0xf7, 0x1f)); /* lock neg [rdi] */
	/* VEX/EVEX rules. */
	CHECK_EQ(DEC_RET(MODE_LONG64, 0x66, 0xc5, 0xf8, 0x77), -EINVAL);
	CHECK_EQ(DEC_RET(MODE_LONG64, 0xf3, 0xc5, 0xf8, 0x77), -EINVAL);
	CHECK_EQ(DEC_RET(MODE_LONG64, 0x48, 0xc5, 0xf8, 0x77), -EINVAL);
	CHECK_EQ(DEC_RET(MODE_LONG64, 0xf0, 0xc4, 0xe2, 0x79, 0x18, 0x00), -EINVAL);
	CHECK_EQ(DEC_RET(MODE_LONG64, 0xc4, 0xe0, 0x79, 0x18, 0x00), -EINVAL); /* map 0 */
	CHECK_EQ(DEC_RET(MODE_LONG64, 0xc4, 0xe4, 0x79, 0x18, 0x00), -EINVAL); /* map 4 */
	CHECK_EQ(DEC_RET(MODE_LONG64, 0x62, 0xf1, 0x78, 0x48, 0x10, 0x00), -EINVAL); /* P1 bit 2 */
	CHECK_EQ(DEC_RET(MODE_LONG64, 0x62, 0xf4, 0x7c, 0x48, 0x10, 0x00), -EINVAL); /* map 4 */
}

TEST(length_limit_and_truncation)
{
	u8 b[24];

	/* 13 prefixes + 0F A2 = 15 bytes: fine; one more prefix: too long. */
	memset(b, 0x66, sizeof(b));
	b[13] = 0x0f;
	b[14] = 0xa2;
	CHECK(dec_exact(__LINE__, MODE_LONG64, b, 15));
	CHECK_EQ(in.kind, INSN_CPUID);
	memset(b, 0x66, sizeof(b));
	b[14] = 0x0f;
	b[15] = 0xa2;
	CHECK_EQ(insn_decode(&in, b, 16, MODE_LONG64), -E2BIG);
	CHECK_EQ(insn_decode(&in, b, 15, MODE_LONG64), -E2BIG);
	/* Prefixes without end: -E2BIG with 15 bytes or more, -EFAULT with fewer. */
	memset(b, 0x2e, sizeof(b));
	CHECK_EQ(insn_decode(&in, b, sizeof(b), MODE_PROT32), -E2BIG);
	CHECK_EQ(insn_decode(&in, b, 14, MODE_PROT32), -EFAULT);
	/* 14 REX prefixes and a NOP: 15 bytes. */
	memset(b, 0x48, sizeof(b));
	b[14] = 0x90;
	CHECK(dec_exact(__LINE__, MODE_LONG64, b, 15));
	/* Too long because of its displacement and immediate. */
	CHECK_EQ(DEC_RET(MODE_LONG64, 0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0x48, 0x81, 0x84,
			 0x24, 0, 0, 0, 0, 1, 2, 3, 4),
		 -E2BIG);
	/* Exactly 15 the same way: 4 prefixes, REX, opcode, ModRM, SIB, disp32, imm32. */
	CHECK(DEC(MODE_LONG64, 0x26, 0x26, 0x26, 0x48, 0x81, 0x84, 0x24, 0, 0, 0, 0, 1, 2, 3, 4));
	CHECK_EQ(in.kind, INSN_ADD);
	/* Nothing at all. */
	CHECK_EQ(insn_decode(&in, b, 0, MODE_LONG64), -EFAULT);
}

/*
 * The fast path (no prefix, ModRM or immediate) against the full decoder:
 * each opcode alone, and after a DS prefix (which changes nothing here but
 * forces the full path), must decode alike.
 */
TEST(fast_path_matches_full_decoder)
{
	enum cpu_mode m;

	FOR_EACH_MODE(m) {
		for (unsigned esc = 0; esc < 2; esc++) {
			for (unsigned op = 0; op < 256; op++) {
				u8 b[16], p[17];
				struct insn fast, full;
				int rf, rp;

				memset(b, 0, sizeof(b));
				b[0] = esc ? 0x0f : op;
				b[1] = esc ? op : 0;
				p[0] = 0x3e;
				memcpy(p + 1, b, sizeof(b));
				rf = insn_decode(&fast, b, INSN_MAX_LEN, m);
				rp = insn_decode(&full, p, INSN_MAX_LEN, m);
				if (!esc && (memchr("\x26\x2e\x36\x3e\x64\x65\x66\x67\xf0\xf2\xf3", op, 11) ||
					     (m == MODE_LONG64 && (op & 0xf0) == 0x40)))
					continue; /* a prefix: not an opcode of its own */
				CHECK_EQ(rf, rp);
				if (rf || rp)
					continue;
				CHECK_EQ(fast.len + 1, full.len);
				CHECK_EQ(fast.kind, full.kind);
				CHECK_EQ(fast.map, full.map);
				CHECK_EQ(fast.opcode, full.opcode);
				CHECK_EQ(fast.op_size, full.op_size);
				CHECK_EQ(fast.addr_size, full.addr_size);
				CHECK_EQ(fast.data_size, full.data_size);
				CHECK_EQ(fast.imm, full.imm);
				CHECK_EQ(fast.imm_size, full.imm_size);
				CHECK_EQ(fast.mod, full.mod);
				CHECK_EQ(fast.reg, full.reg);
				CHECK_EQ(fast.rex, full.rex);
				CHECK_EQ(full.seg, INSN_SEG_DS);
			}
		}
	}
}

int main(void)
{
	RUN(system_instructions_in_every_mode);
	RUN(port_io_in_every_mode);
	RUN(operand_and_address_sizes);
	RUN(immediates_by_mode);
	RUN(mov_to_memory_forms);
	RUN(moffs_and_stos);
	RUN(alu_with_memory);
	RUN(test_and_xchg);
	RUN(modrm_sib_displacement_32_64);
	RUN(modrm_16bit_addressing);
	RUN(segment_overrides);
	RUN(two_byte_and_escape_maps);
	RUN(vex_and_evex);
	RUN(invalid_encodings);
	RUN(length_limit_and_truncation);
	RUN(fast_path_matches_full_decoder);
	return unit_done();
}
