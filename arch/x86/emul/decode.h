/*
 * x86 instruction decoder: the length of any general-purpose instruction and
 * the operands of the few the hypervisor emulates (CPUID, MSRs, port I/O, HLT,
 * hypercalls, MOV and friends on device memory). Needed because a CPU without
 * NRIP save (QEMU's SVM) does not say how long the trapped instruction was.
 *
 * The format is SDM vol. 2, chapter 2 ("Instruction Format"): up to four
 * groups of legacy prefixes, REX (64-bit mode), VEX/EVEX, one to three opcode
 * bytes, ModRM, SIB, displacement and immediate, at most 15 bytes in all.
 */
#ifndef EMUL_DECODE_H
#define EMUL_DECODE_H

#include "hv/types.h"
#include "hv/guest_ctx.h"

/* The architectural limit on an instruction's length (SDM vol. 2, 2.3.11). */
#define INSN_MAX_LEN 15

/* What the hypervisor emulates; everything else is INSN_OTHER (length only). */
enum insn_kind {
	INSN_OTHER,
	INSN_CPUID,      /* 0F A2 */
	INSN_RDMSR,      /* 0F 32 */
	INSN_WRMSR,      /* 0F 30 */
	INSN_IN,         /* E4/E5 imm8, EC/ED DX */
	INSN_OUT,        /* E6/E7 imm8, EE/EF DX */
	INSN_INS,        /* 6C/6D */
	INSN_OUTS,       /* 6E/6F */
	INSN_HLT,        /* F4 */
	INSN_VMMCALL,    /* 0F 01 D9 */
	INSN_VMCALL,     /* 0F 01 C1 */
	INSN_XSETBV,     /* 0F 01 D1 */
	/* The rest have a memory operand: a ModRM form with mod 3 is INSN_OTHER. */
	INSN_MOV_STORE,  /* 88, 89 (from reg); C6 /0, C7 /0 (immediate) */
	INSN_MOV_LOAD,   /* 8A, 8B */
	INSN_MOVZX,      /* 0F B6, 0F B7 */
	INSN_MOVSX,      /* 0F BE, 0F BF */
	INSN_MOV_MOFFS,  /* A0/A1 load into AL/rAX, A2/A3 store from AL/rAX */
	INSN_STOS,       /* AA, AB */
	INSN_ADD,        /* 00-03, 80-83 /0 */
	INSN_OR,         /* 08-0B, 80-83 /1 */
	INSN_AND,        /* 20-23, 80-83 /4 */
	INSN_SUB,        /* 28-2B, 80-83 /5 */
	INSN_XOR,        /* 30-33, 80-83 /6 */
	INSN_CMP,        /* 38-3B, 80-83 /7 */
	INSN_TEST_MEM,   /* 84, 85, F6 /0 /1, F7 /0 /1 */
	INSN_XCHG_MEM,   /* 86, 87 */
	NR_INSN_KINDS
};

/* Opcode maps (SDM vol. 2, appendix A.3). */
enum insn_map {
	INSN_MAP_1B,   /* one-byte opcode */
	INSN_MAP_0F,   /* 0F xx */
	INSN_MAP_0F38, /* 0F 38 xx */
	INSN_MAP_0F3A, /* 0F 3A xx */
	INSN_MAP_5,    /* EVEX map 5 (AVX512-FP16) */
	INSN_MAP_6,    /* EVEX map 6 */
};

/* Legacy prefixes seen (SDM vol. 2, 2.1.1). Of F2 and F3 the last one wins. */
#define INSN_PFX_OPSIZE BIT(0) /* 66 */
#define INSN_PFX_ADSIZE BIT(1) /* 67 */
#define INSN_PFX_LOCK BIT(2)   /* F0 */
#define INSN_PFX_REP BIT(3)    /* F3: REP/REPE */
#define INSN_PFX_REPNE BIT(4)  /* F2 */

/* The last segment override prefix. In 64-bit mode ES, CS, SS and DS
 * overrides are recorded but have no effect (SDM vol. 1, 3.3.7.1). */
enum insn_seg {
	INSN_SEG_NONE,
	INSN_SEG_ES, /* 26 */
	INSN_SEG_CS, /* 2E */
	INSN_SEG_SS, /* 36 */
	INSN_SEG_DS, /* 3E */
	INSN_SEG_FS, /* 64 */
	INSN_SEG_GS, /* 65 */
};

/* REX bits (SDM vol. 2, 2.2.1). */
#define REX_B BIT(0)
#define REX_X BIT(1)
#define REX_R BIT(2)
#define REX_W BIT(3)

/* base or index of a memory operand that has none. */
#define INSN_NO_REG 0xff

struct insn {
	/*
	 * Immediate, imm_size bytes. Sign-extended to 64 bits where the
	 * instruction sign-extends it (Ib, Iz, Iv: e.g. 83 /0 ib, C7 /0 id with
	 * REX.W); zero-extended for unsigned ones: an I/O port (E4-E7), a moffs
	 * address (A0-A3), INT n, RET n, and the multi-part ENTER (iw, ib) and far
	 * pointer (offset, then selector) which keep their bytes little-endian.
	 */
	u64 imm;
	s64 disp;           /* displacement, sign-extended; 0 when disp_size is 0 */
	enum insn_kind kind;
	u8 len;             /* bytes, 1-15 */
	u8 map;             /* enum insn_map */
	u8 opcode;          /* the opcode byte within its map */
	u8 prefixes;        /* INSN_PFX_* */
	u8 seg;             /* enum insn_seg */
	u8 rex;             /* the REX byte (40-4F) in 64-bit mode, else 0 */
	u8 vex;             /* 0; or 2, 3, 4: a VEX2, VEX3 or EVEX prefix of that length */
	u8 modrm;           /* the raw ModRM byte, when has_modrm */
	/*
	 * ModRM fields, reg and rm extended by REX.R and REX.B. mod is 3 for a
	 * register operand (also for MOV to/from CR/DR, which ignore mod); rm
	 * names a register only then. For a memory operand see base/index.
	 */
	u8 mod, reg, rm;
	u8 sib;             /* the raw SIB byte, when has_sib */
	/* Memory operand: base + index * scale + disp (each register
	 * INSN_NO_REG when absent), also for 16-bit addressing (BX+SI...). */
	u8 scale, index, base;
	u8 disp_size, imm_size;
	u8 op_size;         /* effective operand size: 2, 4 or 8 bytes */
	u8 addr_size;       /* effective address size: 2, 4 or 8 bytes */
	/* Bytes the instruction moves: 1 for the byte forms, 2 or 4 for port I/O,
	 * the source width for MOVZX/MOVSX, else op_size. */
	u8 data_size;
	bool has_modrm, has_sib;
	bool rip_rel;       /* RIP-relative (64-bit mode, mod 0, rm 5): base is the next RIP */
};

/*
 * Decodes the instruction at bytes[0..avail) as the CPU in the given mode
 * would. Returns 0; -EFAULT when the bytes end before the instruction does
 * (avail < 15: the fetch stopped at an unmapped page); -E2BIG when it would
 * be longer than 15 bytes; -EINVAL for an invalid encoding (one the CPU would
 * raise #UD for) or an unsupported one (XOP). Reads nothing past
 * min(avail, 15) bytes, so it may decode guest memory in place.
 */
int insn_decode(struct insn *out, const u8 *bytes, size_t avail, enum cpu_mode mode);

#endif
