/*
 * Table-driven x86 instruction decoder. One attribute word per opcode of the
 * one-byte and 0F maps (SDM vol. 2, appendix A, tables) says
 * whether a ModRM byte follows, which immediate, the 64-bit mode rules and
 * which emulated kind it is; the 0F 38 and 0F 3A maps are uniform (ModRM;
 * ModRM + ib). Groups whose meaning depends on ModRM.reg (table A-6) are
 * settled after the ModRM byte.
 *
 * Vendor differences, where the length or validity depends on the CPU:
 * - In 64-bit mode 66 does not shrink the near branches (Jcc, JMP, CALL,
 *   LOOP): their operand size is 64 and rel32 stays rel32, as on Intel.
 *   AMD honours 66 there (rel16), but no trapping instruction is a branch.
 * - 66/F2 0F 78 are AMD's SSE4a EXTRQ/INSERTQ with two imm8.
 * - 0F 0F is 3DNow! (ModRM, then an imm8 suffix opcode).
 * - XOP (8F with ModRM.reg != 0, AMD family 15h only) is -EINVAL.
 * VEX and EVEX instructions are decoded for their length (INSN_OTHER).
 *
 * insn_decode() takes a fast path for what traps on every exit without NRIP
 * (no prefix, ModRM or immediate: CPUID, RDMSR, HLT...), about 50
 * instructions; everything else goes through decode_full().
 */
#include "arch/x86/emul/decode.h"

/* Immediate kinds (SDM vol. 2, A.2.2 operand-type codes). */
enum imm_type {
	IMM_NONE,
	IMM_B,     /* Ib, sign-extended */
	IMM_BU,    /* Ib, unsigned: port, vector, AAM/AAD base */
	IMM_W,     /* Iw, unsigned: RET n */
	IMM_Z,     /* Iz: 16 bits with 16-bit operand size, else 32, sign-extended */
	IMM_V,     /* Iv: the operand size, up to 64 (MOV r, imm) */
	IMM_MOFFS, /* Ob/Ov: an address of the address size (A0-A3) */
	IMM_ENTER, /* Iw, Ib */
	IMM_FAR,   /* Ap: offset (Iz) then a 16-bit selector */
	IMM_GRP3,  /* F6/F7: Ib/Iz for /0 and /1 (TEST) only */
	IMM_SSE4A, /* 66/F2 0F 78: two Ib (EXTRQ, INSERTQ) */
};

/* Attribute word: bits 0-7 the kind (or a group to resolve), then flags. */
#define A_KIND_MASK 0xffu
#define A_MODRM BIT(8)
#define A_IMM_SHIFT 9 /* 4 bits: enum imm_type */
#define A_I64 BIT(13)   /* invalid in 64-bit mode */
#define A_D64 BIT(14)   /* operand size defaults to 64 in 64-bit mode */
#define A_F64 BIT(15)   /* operand size is 64 in 64-bit mode (66 ignored) */
#define A_INV BIT(16)   /* invalid opcode */
#define A_PFX BIT(17)   /* legacy prefix */
#define A_REX BIT(18)   /* REX in 64-bit mode (INC/DEC elsewhere) */
#define A_BYTE BIT(19)  /* byte operand */
#define A_MODREG BIT(20) /* ModRM.mod ignored: always registers (MOV CR/DR) */
#define A_VEX BIT(21)   /* C4/C5/62: VEX/EVEX in 64-bit mode, or with mod 3 */
#define A_LOCK BIT(22)  /* LOCK may be valid (with a memory operand) */
#define A_ESC BIT(23)   /* 0F 38, 0F 3A: a three-byte opcode follows */
#define A_IMM_MASK (0xfu << A_IMM_SHIFT)

#define IMM(t) ((u32)(t) << A_IMM_SHIFT)
#define A_IMM(a) (((a) >> A_IMM_SHIFT) & 0xf)

/* Groups resolved from ModRM.reg (SDM vol. 2, table A-6). */
enum {
	K_GRP1 = NR_INSN_KINDS, /* 80-83: ADD OR ADC SBB AND SUB XOR CMP */
	K_GRP1A,                /* 8F: POP Ev; other reg values are XOP */
	K_GRP3,                 /* F6/F7: TEST TEST NOT NEG MUL IMUL DIV IDIV */
	K_GRP4,                 /* FE: INC DEC */
	K_GRP5,                 /* FF: INC DEC CALL CALLF JMP JMPF PUSH */
	K_GRP7,                 /* 0F 01: VMCALL, XSETBV, VMMCALL among others */
	K_GRP11,                /* C6/C7: MOV /0; XABORT/XBEGIN (F8) */
};
_Static_assert(K_GRP11 <= A_KIND_MASK, "kinds fit the attribute word");


#define M A_MODRM
#define Ib IMM(IMM_B)
#define Iz IMM(IMM_Z)

/* An ALU block (00-3F): Eb,Gb  Ev,Gv  Gb,Eb  Gv,Ev  AL,Ib  rAX,Iz. LOCK is
 * valid on the forms that write memory, except for CMP. */
#define ALU(op, k, lk)                                                              \
	[(op) + 0] = M | A_BYTE | (lk) | (k), [(op) + 1] = M | (lk) | (k),         \
	[(op) + 2] = M | A_BYTE | (k), [(op) + 3] = M | (k),                       \
	[(op) + 4] = Ib | A_BYTE, [(op) + 5] = Iz

/* One-byte opcode map (SDM vol. 2, table A-2). Unlisted: no operands. */
static const u32 map1[256] = {
	ALU(0x00, INSN_ADD, A_LOCK),
	ALU(0x08, INSN_OR, A_LOCK),
	ALU(0x10, INSN_OTHER, A_LOCK), /* ADC */
	ALU(0x18, INSN_OTHER, A_LOCK), /* SBB */
	ALU(0x20, INSN_AND, A_LOCK),
	ALU(0x28, INSN_SUB, A_LOCK),
	ALU(0x30, INSN_XOR, A_LOCK),
	ALU(0x38, INSN_CMP, 0),
	[0x06] = A_I64, [0x07] = A_I64, [0x0e] = A_I64,      /* PUSH/POP ES, PUSH CS */
	[0x16] = A_I64, [0x17] = A_I64, [0x1e] = A_I64, [0x1f] = A_I64, /* SS, DS */
	[0x27] = A_I64, [0x2f] = A_I64, [0x37] = A_I64, [0x3f] = A_I64, /* DAA DAS AAA AAS */
	[0x26] = A_PFX, [0x2e] = A_PFX, [0x36] = A_PFX, [0x3e] = A_PFX,
	[0x40 ... 0x4f] = A_REX,                             /* or INC/DEC r */
	[0x50 ... 0x5f] = A_D64,                             /* PUSH/POP r */
	[0x60] = A_I64, [0x61] = A_I64,                      /* PUSHA POPA */
	[0x62] = M | A_I64 | A_VEX,                          /* BOUND; EVEX */
	[0x63] = M,                                          /* ARPL; MOVSXD */
	[0x64 ... 0x67] = A_PFX,
	[0x68] = Iz | A_D64, [0x69] = M | Iz, [0x6a] = Ib | A_D64, [0x6b] = M | Ib,
	[0x6c] = A_BYTE | INSN_INS, [0x6d] = INSN_INS,
	[0x6e] = A_BYTE | INSN_OUTS, [0x6f] = INSN_OUTS,
	[0x70 ... 0x7f] = Ib | A_F64,                        /* Jcc rel8 */
	[0x80] = M | Ib | A_BYTE | A_LOCK | K_GRP1,
	[0x81] = M | Iz | A_LOCK | K_GRP1,
	[0x82] = M | Ib | A_BYTE | A_LOCK | A_I64 | K_GRP1,
	[0x83] = M | Ib | A_LOCK | K_GRP1,
	[0x84] = M | A_BYTE | INSN_TEST_MEM, [0x85] = M | INSN_TEST_MEM,
	[0x86] = M | A_BYTE | A_LOCK | INSN_XCHG_MEM, [0x87] = M | A_LOCK | INSN_XCHG_MEM,
	[0x88] = M | A_BYTE | INSN_MOV_STORE, [0x89] = M | INSN_MOV_STORE,
	[0x8a] = M | A_BYTE | INSN_MOV_LOAD, [0x8b] = M | INSN_MOV_LOAD,
	[0x8c ... 0x8e] = M,                                 /* MOV Sreg, LEA */
	[0x8f] = M | A_D64 | K_GRP1A,
	[0x9a] = IMM(IMM_FAR) | A_I64,                       /* CALLF ptr */
	[0x9c] = A_D64, [0x9d] = A_D64,                      /* PUSHF POPF */
	[0xa0] = IMM(IMM_MOFFS) | A_BYTE | INSN_MOV_MOFFS, [0xa1] = IMM(IMM_MOFFS) | INSN_MOV_MOFFS,
	[0xa2] = IMM(IMM_MOFFS) | A_BYTE | INSN_MOV_MOFFS, [0xa3] = IMM(IMM_MOFFS) | INSN_MOV_MOFFS,
	[0xa4] = A_BYTE, [0xa6] = A_BYTE,                    /* MOVS CMPS */
	[0xa8] = Ib | A_BYTE, [0xa9] = Iz,                   /* TEST AL/rAX */
	[0xaa] = A_BYTE | INSN_STOS, [0xab] = INSN_STOS,
	[0xac] = A_BYTE, [0xae] = A_BYTE,                    /* LODS SCAS */
	[0xb0 ... 0xb7] = Ib | A_BYTE,                       /* MOV r8, imm8 */
	[0xb8 ... 0xbf] = IMM(IMM_V),                        /* MOV r, imm16/32/64 */
	[0xc0] = M | Ib | A_BYTE, [0xc1] = M | Ib,           /* shift group 2 */
	[0xc2] = IMM(IMM_W) | A_F64, [0xc3] = A_F64,         /* RET */
	[0xc4] = M | A_I64 | A_VEX, [0xc5] = M | A_I64 | A_VEX, /* LES LDS; VEX */
	[0xc6] = M | Ib | A_BYTE | K_GRP11, [0xc7] = M | Iz | K_GRP11,
	[0xc8] = IMM(IMM_ENTER) | A_D64, [0xc9] = A_D64,     /* ENTER LEAVE */
	[0xca] = IMM(IMM_W),                                 /* RETF n */
	[0xcd] = IMM(IMM_BU), [0xce] = A_I64,                /* INT n, INTO */
	[0xd0] = M | A_BYTE, [0xd1] = M, [0xd2] = M | A_BYTE, [0xd3] = M,
	[0xd4] = IMM(IMM_BU) | A_I64, [0xd5] = IMM(IMM_BU) | A_I64, /* AAM AAD */
	[0xd6] = A_INV,                                      /* (SALC, undocumented) */
	[0xd8 ... 0xdf] = M,                                 /* x87 */
	[0xe0 ... 0xe3] = Ib | A_F64,                        /* LOOPcc JrCXZ */
	[0xe4] = IMM(IMM_BU) | A_BYTE | INSN_IN, [0xe5] = IMM(IMM_BU) | INSN_IN,
	[0xe6] = IMM(IMM_BU) | A_BYTE | INSN_OUT, [0xe7] = IMM(IMM_BU) | INSN_OUT,
	[0xe8] = Iz | A_F64, [0xe9] = Iz | A_F64,            /* CALL JMP rel */
	[0xea] = IMM(IMM_FAR) | A_I64, [0xeb] = Ib | A_F64,  /* JMPF ptr, JMP rel8 */
	[0xec] = A_BYTE | INSN_IN, [0xed] = INSN_IN,
	[0xee] = A_BYTE | INSN_OUT, [0xef] = INSN_OUT,
	[0xf0] = A_PFX, [0xf2] = A_PFX, [0xf3] = A_PFX,
	[0xf4] = INSN_HLT,
	[0xf6] = M | IMM(IMM_GRP3) | A_BYTE | A_LOCK | K_GRP3,
	[0xf7] = M | IMM(IMM_GRP3) | A_LOCK | K_GRP3,
	[0xfe] = M | A_BYTE | A_LOCK | K_GRP4,
	[0xff] = M | A_LOCK | K_GRP5,
};

/* Two-byte opcode map, 0F xx (SDM vol. 2, table A-3), row by row. */
static const u32 map0f[256] = {
	[0x00] = M, [0x01] = M | K_GRP7, [0x02] = M, [0x03] = M,  /* grp 6, grp 7, LAR, LSL */
	[0x04] = A_INV, [0x0a] = A_INV, [0x0c] = A_INV,           /* 05-09, 0B UD2: no operands */
	[0x0d] = M, [0x0f] = M | Ib,                              /* PREFETCH, 3DNow! */
	[0x10 ... 0x1f] = M,                                      /* SSE moves, hint NOPs */
	[0x20] = M | A_MODREG | A_LOCK, [0x21] = M | A_MODREG,    /* MOV CR/DR; LOCK MOV */
	[0x22] = M | A_MODREG | A_LOCK, [0x23] = M | A_MODREG,    /* CR0 is CR8 on AMD */
	[0x24 ... 0x27] = A_INV,                                  /* MOV TR (386/486) */
	[0x28 ... 0x2f] = M,
	[0x30] = INSN_WRMSR, [0x32] = INSN_RDMSR,                 /* 31 RDTSC .. 37 GETSEC */
	[0x36] = A_INV, [0x38] = A_ESC, [0x39] = A_INV, [0x3a] = A_ESC,
	[0x3b ... 0x3f] = A_INV,
	[0x40 ... 0x6f] = M,                                      /* CMOVcc, SSE, MMX */
	[0x70 ... 0x73] = M | Ib, [0x74 ... 0x76] = M,            /* 77 EMMS */
	[0x78] = M | IMM(IMM_SSE4A), [0x79] = M,                  /* VMREAD/EXTRQ, VMWRITE */
	[0x7a] = A_INV, [0x7b] = A_INV, [0x7c ... 0x7f] = M,
	[0x80 ... 0x8f] = Iz | A_F64,                             /* Jcc rel16/32 */
	[0x90 ... 0x9f] = M,                                      /* SETcc */
	[0xa0] = A_D64, [0xa1] = A_D64, [0xa2] = INSN_CPUID, [0xa3] = M,
	[0xa4] = M | Ib, [0xa5] = M, [0xa6] = A_INV, [0xa7] = A_INV,
	[0xa8] = A_D64, [0xa9] = A_D64, [0xab] = M | A_LOCK,      /* AA RSM */
	[0xac] = M | Ib, [0xad ... 0xaf] = M,
	[0xb0] = M | A_BYTE | A_LOCK, [0xb1] = M | A_LOCK,        /* CMPXCHG */
	[0xb2] = M, [0xb3] = M | A_LOCK, [0xb4] = M, [0xb5] = M,
	[0xb6] = M | A_BYTE | INSN_MOVZX, [0xb7] = M | INSN_MOVZX,
	[0xb8] = M, [0xb9] = M,                                   /* POPCNT, UD1 */
	[0xba] = M | Ib | A_LOCK, [0xbb] = M | A_LOCK, [0xbc] = M, [0xbd] = M,
	[0xbe] = M | A_BYTE | INSN_MOVSX, [0xbf] = M | INSN_MOVSX,
	[0xc0] = M | A_BYTE | A_LOCK, [0xc1] = M | A_LOCK,        /* XADD */
	[0xc2] = M | Ib, [0xc3] = M, [0xc4 ... 0xc6] = M | Ib,
	[0xc7] = M | A_LOCK,                                      /* grp 9: CMPXCHG8B/16B */
	[0xd0 ... 0xff] = M,                                      /* C8-CF BSWAP */
};

/* Kinds of the 80-83 group by ModRM.reg; ADC and SBB are not emulated. */
static const u8 grp1_kind[8] = {
	INSN_ADD, INSN_OR, INSN_OTHER, INSN_OTHER, INSN_AND, INSN_SUB, INSN_XOR, INSN_CMP,
};

/* Kinds that name a memory access; their register forms (mod 3) are INSN_OTHER. */
#define MEM_KINDS                                                                   \
	(BIT(INSN_MOV_STORE) | BIT(INSN_MOV_LOAD) | BIT(INSN_MOVZX) | BIT(INSN_MOVSX) | \
	 BIT(INSN_ADD) | BIT(INSN_OR) | BIT(INSN_AND) | BIT(INSN_SUB) | BIT(INSN_XOR) | \
	 BIT(INSN_CMP) | BIT(INSN_TEST_MEM) | BIT(INSN_XCHG_MEM))
#define IO_KINDS (BIT(INSN_IN) | BIT(INSN_OUT) | BIT(INSN_INS) | BIT(INSN_OUTS))

/* 16-bit addressing by ModRM.rm (SDM vol. 2, table 2-1): BX+SI, BX+DI, BP+SI,
 * BP+DI, SI, DI, BP (disp16 alone with mod 0), BX. Register numbers as ModRM. */
enum { R_BX = 3, R_BP = 5, R_SI = 6, R_DI = 7 };
static const u8 base16[8] = { R_BX, R_BX, R_BP, R_BP, R_SI, R_DI, R_BP, R_BX };
static const u8 index16[8] = { R_SI, R_DI, R_SI, R_DI, INSN_NO_REG, INSN_NO_REG, INSN_NO_REG,
			       INSN_NO_REG };

#ifndef __noinline
#define __noinline __attribute__((noinline)) /* the rare parts, off the fast path */
#endif

/* When the bytes end early: a truncated fetch, or a too-long instruction. */
static inline int trunc_err(size_t avail)
{
	return avail < INSN_MAX_LEN ? -EFAULT : -E2BIG;
}

/* n bytes little-endian (n <= 8). */
static inline u64 read_le(const u8 *p, unsigned n)
{
	u64 v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

static inline s64 sign_extend(u64 v, unsigned bytes)
{
	unsigned sh = 64 - 8 * bytes;

	return (s64)(v << sh) >> sh;
}

/* Zeroes every field, in order: stores the compiler merges into a few wide
 * ones (`*in = (struct insn){ 0 }` becomes REP STOS, slower on this path). */
static inline void insn_clear(struct insn *in)
{
	in->imm = 0;
	in->disp = 0;
	in->kind = INSN_OTHER;
	in->len = in->map = in->opcode = in->prefixes = in->seg = in->rex = in->vex = 0;
	in->modrm = in->mod = in->reg = in->rm = in->sib = in->scale = in->index = in->base = 0;
	in->disp_size = in->imm_size = in->op_size = in->addr_size = in->data_size = 0;
	in->has_modrm = in->has_sib = in->rip_rel = false;
}
_Static_assert(sizeof(struct insn) == 48, "insn_clear() must clear every field");
_Static_assert(MODE_REAL == 0 && MODE_PROT16 == 1 && MODE_PROT32 == 2 && MODE_LONG64 == 3,
	       "cpu_mode indexes the size tables");

/*
 * Legacy prefixes in any order, and a REX that counts only right before the
 * opcode: a legacy prefix after it voids it (SDM vol. 2, 2.1.1 and 2.2.1).
 * Returns the index of the opcode byte, or an error.
 */
static __noinline int decode_prefixes(struct insn *in, const u8 *bytes, size_t lim, size_t avail,
				      bool long64, unsigned *rex)
{
	unsigned pfx = 0;
	size_t i;

	for (i = 0;; i++) {
		u8 b;
		u32 a;

		if (i >= lim)
			return trunc_err(avail);
		b = bytes[i];
		a = map1[b];
		if (!(a & (A_PFX | A_REX)))
			break;
		if (a & A_REX) {
			if (!long64)
				break; /* INC/DEC */
			*rex = b;
			continue;
		}
		*rex = 0;
		switch (b) {
		case 0x66:
			pfx |= INSN_PFX_OPSIZE;
			break;
		case 0x67:
			pfx |= INSN_PFX_ADSIZE;
			break;
		case 0xf0:
			pfx |= INSN_PFX_LOCK;
			break;
		case 0xf2:
			pfx = (pfx & ~INSN_PFX_REP) | INSN_PFX_REPNE;
			break;
		case 0xf3:
			pfx = (pfx & ~INSN_PFX_REPNE) | INSN_PFX_REP;
			break;
		case 0x26:
			in->seg = INSN_SEG_ES;
			break;
		case 0x2e:
			in->seg = INSN_SEG_CS;
			break;
		case 0x36:
			in->seg = INSN_SEG_SS;
			break;
		case 0x3e:
			in->seg = INSN_SEG_DS;
			break;
		case 0x64:
			in->seg = INSN_SEG_FS;
			break;
		case 0x65:
			in->seg = INSN_SEG_GS;
			break;
		}
	}
	in->prefixes = pfx;
	return i;
}

/*
 * ModRM, SIB and displacement (SDM vol. 2, 2.1.5 and tables 2-1 to 2-3; 2.2.1
 * for REX and RIP-relative addressing). Returns false when the bytes end.
 */
static __noinline bool decode_modrm(struct insn *in, const u8 *bytes, size_t *pi, size_t lim,
				    unsigned rex, bool modreg, bool long64)
{
	size_t i = *pi;
	unsigned mod, rm, dsz = 0;
	u8 m;

	if (i >= lim)
		return false;
	m = bytes[i++];
	mod = m >> 6;
	rm = m & 7;
	in->has_modrm = true;
	in->modrm = m;
	in->reg = ((m >> 3) & 7) | (rex & REX_R) << 1;
	in->rm = rm | (rex & REX_B) << 3;
	if (mod == 3 || modreg) {
		in->mod = 3;
		*pi = i;
		return true;
	}
	in->mod = mod;
	in->scale = 1;
	if (in->addr_size == 2) {
		in->base = base16[rm];
		in->index = index16[rm];
		if (mod == 0 && rm == 6) {
			in->base = INSN_NO_REG;
			dsz = 2;
		} else {
			dsz = mod; /* mod 1: disp8, mod 2: disp16 */
		}
	} else {
		in->index = INSN_NO_REG;
		if (rm == 4) {
			unsigned idx, base;
			u8 s;

			if (i >= lim)
				return false;
			s = bytes[i++];
			in->has_sib = true;
			in->sib = s;
			in->scale = 1 << (s >> 6);
			/* Index 100b means none, but with REX.X it is R12 (table 2-3). */
			idx = ((s >> 3) & 7) | (rex & REX_X) << 2;
			if (idx != 4)
				in->index = idx;
			/* Base 101b with mod 0 means disp32 and no base, also with REX.B (R13). */
			base = s & 7;
			if (base == 5 && mod == 0) {
				in->base = INSN_NO_REG;
				dsz = 4;
			} else {
				in->base = base | (rex & REX_B) << 3;
			}
		} else if (rm == 5 && mod == 0) {
			/* disp32 alone; RIP-relative in 64-bit mode (2.2.1.6). */
			in->base = INSN_NO_REG;
			in->rip_rel = long64;
			dsz = 4;
		} else {
			in->base = in->rm;
		}
		if (mod == 1)
			dsz = 1;
		else if (mod == 2)
			dsz = 4;
	}
	if (dsz) {
		if (i + dsz > lim)
			return false;
		in->disp = sign_extend(read_le(bytes + i, dsz), dsz);
		in->disp_size = dsz;
		i += dsz;
	}
	*pi = i;
	return true;
}

/* The kind of a group opcode from ModRM.reg (SDM vol. 2, table A-6), or -EINVAL. */
static __noinline int resolve_group(struct insn *in, unsigned grp, bool long64)
{
	unsigned r = (in->modrm >> 3) & 7;

	switch (grp) {
	case K_GRP1:
		return grp1_kind[r];
	case K_GRP1A:
		return r ? -EINVAL : INSN_OTHER; /* reg != 0: XOP, not supported */
	case K_GRP3:
		return r < 2 ? INSN_TEST_MEM : INSN_OTHER;
	case K_GRP4:
		return r < 2 ? INSN_OTHER : -EINVAL;
	case K_GRP5:
		if (r == 7 || ((r == 3 || r == 5) && in->mod == 3))
			return -EINVAL;
		if (long64 && (r == 2 || r == 4))
			in->op_size = 8; /* near CALL/JMP: f64 */
		else if (long64 && r == 6 && !(in->prefixes & INSN_PFX_OPSIZE))
			in->op_size = 8; /* PUSH: d64 */
		return INSN_OTHER;
	case K_GRP7:
		if (in->mod == 3) {
			switch (in->modrm) {
			case 0xc1:
				return INSN_VMCALL;
			case 0xd1:
				return INSN_XSETBV;
			case 0xd9:
				return INSN_VMMCALL;
			}
		}
		return INSN_OTHER;
	case K_GRP11:
		if (r == 0)
			return INSN_MOV_STORE;
		return in->modrm == 0xf8 ? INSN_OTHER : -EINVAL; /* XABORT, XBEGIN */
	}
	return -EINVAL;
}

_Static_assert(INSN_MAP_0F == 1 && INSN_MAP_0F38 == 2 && INSN_MAP_0F3A == 3,
	       "VEX/EVEX map numbers are the insn_map values");

/*
 * The VEX (C4, C5) or EVEX (62) prefix after which the opcode follows (SDM
 * vol. 2, 2.3.5 and 2.7.1). *pi points past the C4/C5/62 byte. Returns the
 * attribute word for the opcode (ModRM and immediate only) and sets *rex to
 * the REX bits the prefix carries; on failure sets *err to -EINVAL, or to 1
 * when the bytes ran out.
 */
static __noinline u32 decode_vex(struct insn *in, const u8 *bytes, size_t *pi, size_t lim,
				 u8 esc, unsigned *rex, int *err)
{
	size_t i = *pi, n = esc == 0xc5 ? 1 : esc == 0xc4 ? 2 : 3;
	unsigned map;
	u8 p0, op;

	/* 66, F2, F3, LOCK or REX before VEX/EVEX: #UD (2.3.2). */
	if (in->prefixes & (INSN_PFX_OPSIZE | INSN_PFX_REP | INSN_PFX_REPNE | INSN_PFX_LOCK) ||
	    *rex) {
		*err = -EINVAL;
		return 0;
	}
	if (i + n >= lim) { /* the payload and the opcode */
		*err = 1;
		return 0;
	}
	p0 = bytes[i];
	/* R, X, B are stored inverted in bits 7, 6, 5: as REX bits 2, 1, 0. */
	*rex = (u8)~p0 >> 5;
	if (esc == 0xc5) {
		map = INSN_MAP_0F;
		*rex &= REX_R;
	} else if (esc == 0xc4) {
		map = p0 & 0x1f;
		if (map < 1 || map > 3)
			goto inval;
		*rex |= bytes[i + 1] >> 7 << 3;
	} else {
		map = p0 & 7;
		if (map == 0 || map == 4 || map == 7 || !(bytes[i + 1] & 4))
			goto inval;
		*rex |= bytes[i + 1] >> 7 << 3;
		map = map == 5 ? INSN_MAP_5 : map == 6 ? INSN_MAP_6 : map;
	}
	op = bytes[i + n];
	*pi = i + n + 1;
	in->vex = n + 1;
	in->map = map;
	in->opcode = op;
	/* VZEROUPPER/VZEROALL (VEX 0F 77) are the only ones without ModRM. */
	if (map == INSN_MAP_0F && op == 0x77 && esc != 0x62)
		return 0;
	if (map == INSN_MAP_0F3A || (map == INSN_MAP_0F && A_IMM(map0f[op]) == IMM_B))
		return M | Ib;
	return M;
inval:
	*err = -EINVAL;
	return 0;
}

/* The immediate at bytes[i] (SDM vol. 2, A.2.2). Returns the index past it, or an error. */
static __noinline int decode_imm(struct insn *in, const u8 *bytes, size_t i, size_t lim,
				 size_t avail, u32 a)
{
	unsigned isz = 0;
	bool sx = false;
	u64 v;

	switch (A_IMM(a)) {
	case IMM_B:
		isz = 1;
		sx = true;
		break;
	case IMM_BU:
		isz = 1;
		break;
	case IMM_W:
		isz = 2;
		break;
	case IMM_Z:
		isz = in->op_size == 2 ? 2 : 4;
		sx = true;
		break;
	case IMM_V:
		isz = in->op_size;
		sx = true;
		break;
	case IMM_MOFFS:
		isz = in->addr_size;
		break;
	case IMM_ENTER:
		isz = 3;
		break;
	case IMM_FAR:
		isz = (in->op_size == 2 ? 2 : 4) + 2;
		break;
	case IMM_GRP3: /* only TEST (/0, /1) has one */
		if (!(in->modrm & 0x30))
			isz = a & A_BYTE ? 1 : in->op_size == 2 ? 2 : 4;
		sx = true;
		break;
	case IMM_SSE4A:
		if (in->prefixes & (INSN_PFX_OPSIZE | INSN_PFX_REPNE))
			isz = 2;
		break;
	}
	if (!isz)
		return i;
	if (i + isz > lim)
		return trunc_err(avail);
	v = read_le(bytes + i, isz);
	in->imm = sx ? (u64)sign_extend(v, isz) : v;
	in->imm_size = isz;
	return i + isz;
}

/* Effective address size (SDM vol. 1, 3.6; vol. 2, 2.2.1.2). */
static inline void set_addr_size(struct insn *in, unsigned pfx, enum cpu_mode mode)
{
	if (mode == MODE_LONG64)
		in->addr_size = pfx & INSN_PFX_ADSIZE ? 4 : 8;
	else
		in->addr_size = (mode == MODE_PROT32) != !!(pfx & INSN_PFX_ADSIZE) ? 4 : 2;
}

/* Effective operand size: REX.W, then 66, then the 64-bit defaults (d64, f64). */
static inline void set_op_size(struct insn *in, u32 a, unsigned pfx, unsigned rex,
			       enum cpu_mode mode)
{
	if (mode == MODE_LONG64) {
		if ((rex & REX_W) || (a & A_F64))
			in->op_size = 8;
		else if (pfx & INSN_PFX_OPSIZE)
			in->op_size = 2;
		else
			in->op_size = a & A_D64 ? 8 : 4;
	} else {
		in->op_size = (mode == MODE_PROT32) != !!(pfx & INSN_PFX_OPSIZE) ? 4 : 2;
	}
}

/* The fields every decode ends with. */
static inline void finish(struct insn *in, u32 a, unsigned kind, unsigned rex, size_t len)
{
	in->data_size = a & A_BYTE ? 1 : in->op_size;
	if (unlikely(BIT(kind) & IO_KINDS) && in->data_size == 8)
		in->data_size = 4; /* port I/O ignores REX.W */
	else if (unlikely(kind == INSN_MOVZX || kind == INSN_MOVSX) && !(a & A_BYTE))
		in->data_size = 2;
	in->kind = kind;
	in->rex = rex;
	in->len = len;
}

/* The whole decoder: prefixes, the three opcode maps, VEX/EVEX, ModRM, SIB,
 * displacement, immediate, groups. */
static __noinline int decode_full(struct insn *out, const u8 *bytes, size_t avail,
				  enum cpu_mode mode)
{
	const size_t lim = avail < INSN_MAX_LEN ? avail : INSN_MAX_LEN;
	const bool long64 = mode == MODE_LONG64;
	unsigned rex = 0, pfx = 0, k;
	size_t i = 0;
	u32 a;
	u8 b;

	insn_clear(out);
	if (unlikely(!lim))
		return trunc_err(avail);
	b = bytes[0];
	a = map1[b];
	if (unlikely(a & (A_PFX | A_REX))) {
		int r = decode_prefixes(out, bytes, lim, avail, long64, &rex);

		if (r < 0)
			return r;
		i = r;
		pfx = out->prefixes;
		b = bytes[i];
		a = map1[b];
	}
	i++;

	set_addr_size(out, pfx, mode); /* ModRM needs it */

	/* The opcode: one byte, 0F xx, 0F 38 xx, 0F 3A xx, or after VEX/EVEX. */
	if (b == 0x0f) {
		if (unlikely(i >= lim))
			return trunc_err(avail);
		b = bytes[i++];
		if (likely(b != 0x38 && b != 0x3a)) {
			out->map = INSN_MAP_0F;
			a = map0f[b];
		} else {
			out->map = b == 0x38 ? INSN_MAP_0F38 : INSN_MAP_0F3A;
			a = b == 0x38 ? M : M | Ib;
			if (unlikely(i >= lim))
				return trunc_err(avail);
			b = bytes[i++];
		}
		out->opcode = b;
	} else if (unlikely(a & A_VEX) && (long64 || i >= lim || bytes[i] >= 0xc0)) {
		/*
		 * Outside 64-bit mode C4/C5/62 are VEX/EVEX only when the next
		 * byte would be a register ModRM (mod 3), where LES, LDS and
		 * BOUND are invalid (SDM vol. 2, 2.3.5). Real mode has no VEX:
		 * #UD either way.
		 */
		int err = 0;

		if (i >= lim)
			return trunc_err(avail);
		if (mode == MODE_REAL)
			return -EINVAL;
		a = decode_vex(out, bytes, &i, lim, b, &rex, &err);
		if (err)
			return err < 0 ? err : trunc_err(avail);
		if (!long64)
			rex = 0; /* VEX.R/X/B/W are ignored outside 64-bit mode */
	} else {
		out->opcode = b;
	}
	if (unlikely(a & (A_INV | (long64 ? A_I64 : 0))))
		return -EINVAL;

	set_op_size(out, a, pfx, rex, mode);

	if (a & A_MODRM) {
		if (unlikely(!decode_modrm(out, bytes, &i, lim, rex, a & A_MODREG, long64)))
			return trunc_err(avail);
	}

	k = a & A_KIND_MASK;
	if (unlikely(k >= NR_INSN_KINDS)) {
		int r = resolve_group(out, k, long64);

		if (r < 0)
			return r;
		k = r;
	}
	if ((BIT(k) & MEM_KINDS) && out->mod == 3)
		k = INSN_OTHER;

	/* LOCK needs a lockable instruction with a memory destination (SDM vol. 2,
	 * LOCK); MOV CR with LOCK is AMD's CR8 access from 32-bit mode. */
	if (unlikely(pfx & INSN_PFX_LOCK) &&
	    (!(a & A_LOCK) || (out->mod == 3 && !(a & A_MODREG)) || k == INSN_CMP ||
	     k == INSN_TEST_MEM))
		return -EINVAL;

	if (A_IMM(a)) {
		int r = decode_imm(out, bytes, i, lim, avail, a);

		if (r < 0)
			return r;
		i = r;
	}

	finish(out, a, k, out->vex ? 0 : rex, i);
	return 0;
}

int insn_decode(struct insn *out, const u8 *bytes, size_t avail, enum cpu_mode mode)
{
	/*
	 * The fast path, for what traps on every exit without NRIP: no prefix,
	 * ModRM or immediate (CPUID, RDMSR, WRMSR, HLT, IN/OUT with DX...).
	 * The rules are decode_full()'s, minus the parts these lack.
	 */
	if (likely(avail >= 2)) {
		const u32 skip = A_PFX | A_REX | A_MODRM | A_IMM_MASK | A_INV | A_VEX | A_ESC |
				 (mode == MODE_LONG64 ? A_I64 : 0);
		unsigned map = INSN_MAP_1B;
		u8 b = bytes[0];
		u32 a = map1[b];

		if (b == 0x0f) {
			map = INSN_MAP_0F;
			b = bytes[1];
			a = map0f[b];
		}
		if (likely(!(a & skip))) {
			/* Default sizes by mode; no REX.W, so nothing for finish() to fix. */
			static const u8 op_size[] = { 2, 2, 4, 4 }, addr_size[] = { 2, 2, 4, 8 };

			insn_clear(out);
			out->map = map;
			out->opcode = b;
			out->addr_size = addr_size[mode];
			out->op_size = mode == MODE_LONG64 && (a & (A_D64 | A_F64)) ? 8 : op_size[mode];
			out->data_size = a & A_BYTE ? 1 : out->op_size;
			out->kind = a & A_KIND_MASK;
			out->len = map + 1;
			return 0;
		}
	}
	return decode_full(out, bytes, avail, mode);
}
