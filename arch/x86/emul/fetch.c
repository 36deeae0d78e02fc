/* Instruction fetch from guest memory, and fetch + decode for the exit path. */
#include "arch/x86/emul/fetch.h"
#include "arch/x86/emul/gmem.h"
#include "lib/string.h"

/* The linear address of the page after la's, wrapping at 4 GiB outside
 * 64-bit mode (in 64-bit mode a non-canonical result is gwalk's -EINVAL). */
static u64 next_page(const struct guest_ctx *ctx, u64 la)
{
	u64 next = ALIGN_DOWN(la, PAGE_SIZE) + PAGE_SIZE;

	return (ctx->efer & EFER_LMA) && (ctx->cs.attr & SEG_ATTR_L) ? next : (u32)next;
}

/* Host pointer to n bytes of guest code at linear address la (n not crossing a page). */
static const u8 *map_code(const struct vm *vm, const struct guest_ctx *ctx, u64 la, size_t n,
			  u32 *pf_error, int *err)
{
	const u8 *p;
	u64 gpa;

	*err = gwalk(vm, ctx, la, insn_fetch_access(ctx), &gpa, pf_error);
	if (*err)
		return NULL;
	p = emul_gpa_ptr(vm, gpa, n);
	if (!p)
		*err = -ENOENT; /* executing from outside RAM */
	return p;
}

/* The bytes at la; *err2 and *pf2 say why the second page was not read. */
static int fetch_bytes(const struct vm *vm, const struct guest_ctx *ctx, u64 la, u8 *buf,
		       size_t *got, u32 *pf_error, int *err2, u32 *pf2)
{
	size_t n = MIN(PAGE_SIZE - (la & (PAGE_SIZE - 1)), (size_t)INSN_MAX_LEN);
	const u8 *p;
	int err;

	*got = 0;
	*err2 = 0;
	p = map_code(vm, ctx, la, n, pf_error, &err);
	if (!p)
		return err;
	memcpy(buf, p, n);
	*got = n;
	if (n < INSN_MAX_LEN) {
		/* The rest from the next page, if it translates; else stop short. */
		p = map_code(vm, ctx, next_page(ctx, la), INSN_MAX_LEN - n, pf2, err2);
		if (p) {
			memcpy(buf + n, p, INSN_MAX_LEN - n);
			*got = INSN_MAX_LEN;
		}
	}
	return 0;
}

int insn_fetch(const struct vm *vm, const struct guest_ctx *ctx, u64 rip, u8 *buf, size_t *got)
{
	u32 pf_error, pf2 = 0;
	int err2;

	return fetch_bytes(vm, ctx, insn_linear_rip(ctx, rip), buf, got, &pf_error, &err2, &pf2);
}

int insn_fetch_decode(const struct vm *vm, const struct guest_ctx *ctx, u64 rip, u64 rflags,
		      struct insn *out, u32 *pf_error)
{
	const enum cpu_mode mode = guest_ctx_mode(ctx, rflags);
	const u64 la = insn_linear_rip(ctx, rip);
	u8 buf[INSN_MAX_LEN];
	const u8 *p;
	size_t got;
	int err, err2;
	u32 pf2 = 0;

	out->len = 0;
	/* The common case: all 15 bytes in one page, decoded in place (the
	 * decoder reads nothing past them). */
	if (likely((la & (PAGE_SIZE - 1)) <= PAGE_SIZE - INSN_MAX_LEN)) {
		p = map_code(vm, ctx, la, INSN_MAX_LEN, pf_error, &err);
		return p ? insn_decode(out, p, INSN_MAX_LEN, mode) : err;
	}

	err = fetch_bytes(vm, ctx, la, buf, &got, pf_error, &err2, &pf2);
	if (err)
		return err;
	err = insn_decode(out, buf, got, mode);
	if (err == -EFAULT) {
		/* It runs into the next page, which did not translate: that
		 * page's error, at its start. */
		out->len = got;
		*pf_error = pf2;
		err = err2;
	}
	return err;
}
