/* MMIO instruction emulation: MOV forms, STOS, ALU read-modify-write, XCHG. */
#include "arch/x86/emul/mmio.h"
#include "hv/bus.h"
#include "hv/vcpu.h"

#ifndef RFLAGS_AF
#define RFLAGS_AF BIT(4)
#endif
#define RFLAGS_ARITH \
	(RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF | RFLAGS_SF | RFLAGS_OF)

static inline u64 size_mask(unsigned size)
{
	return size >= 8 ? ~0ULL : BIT(size * 8) - 1;
}

/* Byte registers 4-7 are AH, CH, DH, BH unless a REX prefix is present
 * (SDM vol. 2, 3.1.1.3 and table 3-1). */
static inline bool high_byte_reg(const struct insn *in, unsigned reg, unsigned size)
{
	return size == 1 && !in->rex && reg >= 4 && reg < 8;
}

static u64 reg_get(const struct vcpu_regs *regs, const struct insn *in, unsigned reg,
		   unsigned size)
{
	if (high_byte_reg(in, reg, size))
		return (regs->gpr[reg - 4] >> 8) & 0xff;
	return regs->gpr[reg] & size_mask(size);
}

/* Writes as the CPU does (SDM vol. 1, 3.4.1.1): 8 and 16 bits keep the rest,
 * 32 bits zero-extend in 64-bit mode. */
static void reg_set(struct vcpu_regs *regs, const struct insn *in, unsigned reg, unsigned size,
		    u64 val, enum cpu_mode mode)
{
	u64 *r;

	if (high_byte_reg(in, reg, size)) {
		r = &regs->gpr[reg - 4];
		*r = (*r & ~0xff00ULL) | (val & 0xff) << 8;
		return;
	}
	r = &regs->gpr[reg];
	if (size == 4 && mode == MODE_LONG64)
		*r = (u32)val;
	else
		*r = (*r & ~size_mask(size)) | (val & size_mask(size));
}

static int mem_read(const struct bus *bus, u64 gpa, unsigned size, u64 *val)
{
	int err = bus_access(bus, gpa, (u8)size, false, val);

	if (err == -ENOENT)
		return err;
	if (err)
		*val = ~0ULL; /* the device failed it: reads as all ones */
	*val &= size_mask(size);
	return 0;
}

static int mem_write(const struct bus *bus, u64 gpa, unsigned size, u64 val)
{
	val &= size_mask(size);
	/* A failed write is dropped. */
	return bus_access(bus, gpa, (u8)size, true, &val) == -ENOENT ? -ENOENT : 0;
}

/* PF: set when the low byte of the result has an even number of ones. */
static inline u64 parity_flag(u64 r)
{
	unsigned v = (r ^ r >> 4) & 0xf;

	return (0x6996 >> v) & 1 ? 0 : RFLAGS_PF;
}

/*
 * a op b at size bytes; *flags gets CF PF AF ZF SF OF as the instruction sets
 * them (SDM vol. 2: ADD, SUB, CMP; AND, OR, XOR, TEST clear CF and OF and
 * leave AF undefined: cleared here).
 */
static u64 alu(enum insn_kind k, u64 a, u64 b, unsigned size, u64 *flags)
{
	const u64 mask = size_mask(size), sign = BIT(size * 8 - 1);
	u64 r, f = 0;

	a &= mask;
	b &= mask;
	switch (k) {
	case INSN_ADD:
		r = (a + b) & mask;
		if (r < a)
			f |= RFLAGS_CF;
		if (~(a ^ b) & (a ^ r) & sign)
			f |= RFLAGS_OF;
		f |= (a ^ b ^ r) & RFLAGS_AF;
		break;
	case INSN_SUB:
	case INSN_CMP:
		r = (a - b) & mask;
		if (a < b)
			f |= RFLAGS_CF;
		if ((a ^ b) & (a ^ r) & sign)
			f |= RFLAGS_OF;
		f |= (a ^ b ^ r) & RFLAGS_AF;
		break;
	case INSN_OR:
		r = a | b;
		break;
	case INSN_XOR:
		r = a ^ b;
		break;
	default: /* AND, TEST */
		r = a & b;
		break;
	}
	if (!r)
		f |= RFLAGS_ZF;
	if (r & sign)
		f |= RFLAGS_SF;
	*flags = f | parity_flag(r);
	return r;
}

static void set_flags(struct vcpu_regs *regs, u64 f)
{
	regs->rflags = (regs->rflags & ~RFLAGS_ARITH) | f;
}

/* ADD OR AND SUB XOR CMP: 00-3B (Eb,Gb  Ev,Gv  Gb,Eb  Gv,Ev) or 80-83 (Ex,imm). */
static int emul_alu(struct vcpu_regs *regs, const struct insn *in, u64 gpa,
		    const struct bus *mmio, enum cpu_mode mode)
{
	const unsigned size = in->data_size;
	const bool grp1 = in->opcode >= 0x80;
	const bool to_reg = !grp1 && (in->opcode & 2); /* the register is the destination */
	u64 m, r, f;
	int err;

	err = mem_read(mmio, gpa, size, &m);
	if (err)
		return err;
	if (to_reg) {
		r = alu(in->kind, reg_get(regs, in, in->reg, size), m, size, &f);
		if (in->kind != INSN_CMP)
			reg_set(regs, in, in->reg, size, r, mode);
	} else {
		r = alu(in->kind, m, grp1 ? in->imm : reg_get(regs, in, in->reg, size), size, &f);
		if (in->kind != INSN_CMP) {
			err = mem_write(mmio, gpa, size, r);
			if (err)
				return err;
		}
	}
	set_flags(regs, f);
	return 0;
}

int emul_mmio(struct vcpu_regs *regs, const struct insn *in, u64 gpa, const struct bus *mmio,
	      enum cpu_mode mode)
{
	const unsigned size = in->data_size;
	u64 val, f;
	int err;

	switch (in->kind) {
	case INSN_MOV_STORE: /* 88, 89 from reg; C6, C7 immediate */
		val = in->opcode >= 0xc6 ? in->imm : reg_get(regs, in, in->reg, size);
		return mem_write(mmio, gpa, size, val);
	case INSN_MOV_LOAD:
		err = mem_read(mmio, gpa, size, &val);
		if (!err)
			reg_set(regs, in, in->reg, size, val, mode);
		return err;
	case INSN_MOVZX:
	case INSN_MOVSX:
		err = mem_read(mmio, gpa, size, &val);
		if (err)
			return err;
		if (in->kind == INSN_MOVSX)
			val = size == 1 ? (u64)(s64)(s8)val : (u64)(s64)(s16)val;
		reg_set(regs, in, in->reg, in->op_size, val, mode);
		return 0;
	case INSN_MOV_MOFFS: /* A0/A1 load AL/rAX, A2/A3 store it */
		if (in->opcode & 2)
			return mem_write(mmio, gpa, size, reg_get(regs, in, GPR_RAX, size));
		err = mem_read(mmio, gpa, size, &val);
		if (!err)
			reg_set(regs, in, GPR_RAX, size, val, mode);
		return err;
	case INSN_STOS:
		if (in->prefixes & (INSN_PFX_REP | INSN_PFX_REPNE))
			return -ENOTSUP;
		err = mem_write(mmio, gpa, size, reg_get(regs, in, GPR_RAX, size));
		if (err)
			return err;
		/* rDI moves by the size, down with DF, at the address size. */
		val = regs->gpr[GPR_RDI] + (regs->rflags & RFLAGS_DF ? -(u64)size : size);
		reg_set(regs, in, GPR_RDI, in->addr_size, val, mode);
		return 0;
	case INSN_ADD:
	case INSN_OR:
	case INSN_AND:
	case INSN_SUB:
	case INSN_XOR:
	case INSN_CMP:
		return emul_alu(regs, in, gpa, mmio, mode);
	case INSN_TEST_MEM: /* 84, 85 with a register; F6, F7 with an immediate */
		err = mem_read(mmio, gpa, size, &val);
		if (err)
			return err;
		alu(INSN_TEST_MEM, val, in->opcode >= 0xf6 ? in->imm : reg_get(regs, in, in->reg, size),
		    size, &f);
		set_flags(regs, f);
		return 0;
	case INSN_XCHG_MEM:
		err = mem_read(mmio, gpa, size, &val);
		if (err)
			return err;
		err = mem_write(mmio, gpa, size, reg_get(regs, in, in->reg, size));
		if (!err)
			reg_set(regs, in, in->reg, size, val, mode);
		return err;
	default:
		return -ENOTSUP;
	}
}
