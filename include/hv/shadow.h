/*
 * Shadow page tables: guest-virtual to host-physical tables the CPU walks in
 * place of the guest's own, for CPUs without nested paging (AMD-V without
 * NPT, APM vol. 2, 15.24 "Shadow paging"; VT-x without EPT or unrestricted
 * guest).
 *
 * The scheme is a "virtual TLB" (docs/shadow-paging.md): each vCPU has its
 * own shadow tables, built on demand at #PF from the guest's tables, and
 * dropped exactly where a TLB would drop translations: INVLPG drops the
 * region of the address, a paging-mode change drops everything, a CR3 load
 * drops what the guest changed in the tables of the root it takes back (a
 * root is kept per recent CR3, shadow_roots.c). Guest page-table writes are
 * not tracked (no write protection):
 * the guest must invalidate after changing a translation, as it must on
 * hardware; what it need not invalidate (a not-present entry made present,
 * rights widened) faults into the builder, which walks again.
 *
 * Guest-physical addresses go through the VM's struct gmem: a shadow leaf
 * points only into its RAM chunks; MMIO and addresses with nothing there are
 * never mapped, so every access to them faults and is emulated as under
 * nested paging.
 */
#ifndef HV_SHADOW_H
#define HV_SHADOW_H

#include "hv/types.h"
#include "hv/guest_ctx.h"
#include "hv/tlb_tag.h"

struct vm;

/* Table pages a vCPU's shadow may hold beyond its roots (4 MiB with their
 * snapshots); when they run out every root is flushed and built again. */
#define SHADOW_MAX_TABLES 512
/* Shadow roots a vCPU keeps, one per guest CR3 it ran with lately (a
 * process switch takes its root back instead of rebuilding it). */
#define SHADOW_ROOTS 4
/* Pages a root's tag may have to drop one by one before its next entry;
 * more and the whole tag is flushed (shadow_tlb.c). */
#define SHADOW_TLB_MAX_PAGES 8

struct shadow_stats {
	u64 fills;        /* shadow leaves written */
	u64 guest_faults; /* #PF handed to the guest */
	u64 mmio;         /* faults that were MMIO or unassigned */
	u64 flushes;      /* the whole shadow dropped */
	u64 invlpgs;      /* a region dropped by INVLPG */
	u64 full;         /* flushes because the tables ran out */
	u64 root_hits;    /* CR3 loads that took a kept root back */
	u64 root_misses;  /* ... that started an empty one */
	u64 stale;        /* entries dropped as their guest entry changed (a root's check, a fill) */
	u64 tlb_kept;     /* root_hits whose check dropped nothing: the CPU's TLB keeps its entries */
	u64 tlb_flushes;  /* a root's tag flushed before an entry (shadow_tlb_tag) */
	u64 tlb_pages;    /* pages of a root's tag invalidated one by one instead */
};

/* How the guest translates, which decides what each shadow entry stands
 * for (arch/x86/mmu/shadow_pt.c, "Snapshots"). */
enum shadow_guest_format {
	SGF_OFF,    /* paging off: the identity map, no guest tables */
	SGF_32,     /* 32-bit paging, 4 MiB pages only with CR4.PSE (SGF_32_PSE) */
	SGF_32_PSE,
	SGF_PAE,
	SGF_LONG,   /* 4-level */
};

/* A root: its table page (the snapshot page after it) and the guest CR3
 * and format it shadows, once it is keyed; the TLB tag (ASID or VPID) the
 * guest runs it under (shadow_tlb.c). */
struct shadow_root {
	u64 pa;
	u64 cr3;
	u64 last_use;   /* for the choice of the root to reuse */
	u8 format;      /* enum shadow_guest_format */
	bool keyed;     /* cr3 and format say what it holds: it may be taken back */
	/* An entry of the root was dropped or narrowed since its tag was
	 * last flushed: the CPU's TLB may hold what the root no longer does.
	 * Where that was only leaves, tlb_pages of them (at most
	 * SHADOW_TLB_MAX_PAGES), the pages in tlb_page[] (page-aligned,
	 * canonical linear addresses) are enough. */
	bool tlb_stale;
	u8 tlb_pages;
	u64 tlb_page[SHADOW_TLB_MAX_PAGES];
	struct tlb_tag tag;
};

struct shadow_mmu {
	u64 root;       /* the current root (roots[cur].pa): PML4 or PAE PDPT, below 4 GiB */
	u8 levels;      /* the roots' format: 4 (guest in long mode) or 3 (PAE, all others) */
	bool huge;      /* a 1 GiB guest page was shadowed since the last flush */
	u32 used;       /* tables[0, used) hold tables; [used, allocated) are free */
	u32 allocated;
	u64 *tables;    /* one page: physical addresses of the table pages */
	struct shadow_root roots[SHADOW_ROOTS];
	unsigned cur;   /* the root the guest runs on */
	u64 clock;      /* root uses so far */
	/* Two zeroed contiguous pages (a table and its snapshot) when pages
	 * is 2, one for 1; physical; 0 when none. */
	u64 (*alloc_table)(unsigned pages);
	void (*free_table)(u64 pa, unsigned pages);
	struct shadow_stats stats;
};

/* What the guest's walk read at each level, top down, after it set the
 * accessed and dirty bits (shadow_gwalk): what the shadow entries on the
 * way to a leaf are derived from and are checked against later. */
struct shadow_walked {
	u8 format;      /* enum shadow_guest_format */
	u8 n;           /* entries read */
	u64 entry[4];
};

/* Writes the 4 KiB shadow leaf for la (shadow_pt.c), building the tables
 * above it from the guest entries in *w (a table whose entry above was
 * derived from another guest entry is replaced); flushes first if the pool
 * has run out. Whether a present leaf was there before (the CPU's TLB may
 * hold it: the caller flushes). */
bool shadow_set_leaf(struct shadow_mmu *s, u64 la, u64 leaf, const struct shadow_walked *w);

/* Maps la to pa, a host page that is not the guest's (VT-x's
 * virtual-8086 TSS, arch/x86/vmx/vmx_rmode.c), writable and
 * supervisor-only, until the next flush. Whether the pool ran out and the
 * shadow was flushed first (what was mapped before is gone). */
bool shadow_map_host(struct shadow_mmu *s, u64 la, u64 pa);

/* The registers the CPU runs the guest with (shadow_hw_regs). */
struct shadow_hw {
	u64 cr0, cr3, cr4, efer;
};

/*
 * Before an entry on CPU cpu (with its tag pool, tags below limit): the
 * tag to run the current root under and what the CPU's TLB must drop
 * first, in *w. Each root has a tag of its own, so a CR3 load that takes a
 * root back whose check dropped nothing keeps what the TLB holds for it
 * (arch/x86/mmu/shadow_tlb.c).
 */
enum shadow_tlb_flush {
	SHADOW_TLB_NONE,
	SHADOW_TLB_PAGES, /* that tag's translations of the pages listed */
	SHADOW_TLB_TAG,   /* all of that tag's translations */
	SHADOW_TLB_ALL,   /* every tag's: a new generation of this CPU's tags */
};
struct shadow_tlb_work {
	enum shadow_tlb_flush flush;
	u32 tag;
	unsigned pages;                 /* up to SHADOW_TLB_MAX_PAGES */
	u64 page[SHADOW_TLB_MAX_PAGES];     /* linear, page-aligned */
};
void shadow_tlb_tag(struct shadow_mmu *s, struct tlb_tag_pool *pool, int cpu, u32 limit,
		    struct shadow_tlb_work *w);

/* The common entry, inline: the current root's tag is valid on this CPU
 * and nothing is to be flushed from it; its tag in *tag. Otherwise
 * shadow_tlb_tag says what to do. */
static inline bool shadow_tlb_clean(const struct shadow_mmu *s, const struct tlb_tag_pool *pool,
				    int cpu, u32 *tag)
{
	const struct shadow_root *r = &s->roots[s->cur];

	if (!r->tag.gen || r->tag.gen != pool->gen || r->tag.cpu != cpu || r->tlb_stale ||
	    r->tlb_pages)
		return false;
	*tag = r->tag.id;
	return true;
}

/* Sets up s with alloc/free; the caller checks that the roots lie below
 * 4 GiB (shadow_roots_below_4g). -ENOMEM. */
int shadow_init(struct shadow_mmu *s, u64 (*alloc_table)(unsigned pages),
		void (*free_table)(u64 pa, unsigned pages));
void shadow_destroy(struct shadow_mmu *s);
bool shadow_roots_below_4g(const struct shadow_mmu *s);

/* Drops every shadow translation of every root (a paging-mode change, a
 * change of the VM's guest-physical space, a state load). */
void shadow_flush(struct shadow_mmu *s);

/*
 * The guest loaded CR3 (ctx holds its new value; it may be the old one):
 * the TLB drops what it holds for the guest. The root kept for that CR3 is
 * taken back after every entry of it was checked against the guest's
 * tables as they are now (what changed is dropped, shadow_pt.c; its tag is
 * flushed only if something was), or the least recently used root starts
 * empty for it (and its tag is flushed).
 */
void shadow_load_cr3(struct shadow_mmu *s, struct vm *vm, const struct guest_ctx *ctx);

/* The guest's format in ctx. */
enum shadow_guest_format shadow_format(const struct guest_ctx *ctx);
/* Drops the translations INVLPG of la must drop: the page's leaf where the
 * guest maps it with a 4 KiB page, its 2 or 4 MiB region under a large
 * guest page, everything after a 1 GiB one. */
void shadow_invlpg(struct shadow_mmu *s, u64 la);

/*
 * The CR0, CR3, CR4 and EFER to run the guest with when it believes it has
 * ctx's: paging always on (paged real mode when CR0.PE is clear, APM vol. 2,
 * 15.19), CR0.WP always set (WP = 0 is emulated in the leaves), PAE tables
 * unless the guest is in long mode, the shadow root in CR3. Switches the
 * root's format (a flush) when the guest's mode needs the other one; keys
 * the current root with ctx's CR3 and format after a flush, and flushes if
 * it was keyed with others (a CR3 that changed without shadow_load_cr3).
 */
void shadow_hw_regs(struct shadow_mmu *s, const struct guest_ctx *ctx, struct shadow_hw *hw);

/* What a guest page-table walk found (arch/x86/mmu/shadow_gwalk.c). */
struct shadow_gpte {
	u64 gpa;        /* of the linear address's byte */
	bool write;     /* the walk's rights: R/W, U/S and XD of all levels */
	bool user;
	bool nx;
	bool dirty;     /* the leaf's D bit, after the walk set it */
	u64 cache;      /* PWT, PCD, PAT as a 4 KiB leaf holds them (bits 3, 4, 7) */
	u8 page_shift;  /* the guest page: 12, 21, 22 or 30; 32 with paging off */
	struct shadow_walked walked;
};

/*
 * The guest's walk of linear for access (GW_WRITE, GW_USER, GW_FETCH of
 * arch/x86/emul/gwalk.h), as its MMU would do it (SDM vol. 3, 4.3 to 4.8;
 * APM vol. 2, 5.2 to 5.7), setting accessed bits in every entry used and
 * the dirty bit of the leaf on a write, atomically and only when the access
 * is allowed. 0 with *g filled; -EFAULT with the #PF error code in
 * *pf_error; -ENOENT when a paging-structure entry lies outside RAM (*bad:
 * its guest-physical address); -EINVAL non-canonical; -ENOTSUP 5-level
 * paging; -EAGAIN when another vCPU changed an entry under the walk.
 */
int shadow_gwalk(struct vm *vm, const struct guest_ctx *ctx, u64 linear, unsigned access,
		 struct shadow_gpte *g, u32 *pf_error, u64 *bad);

enum shadow_fault_kind {
	SHADOW_FIXED,       /* a shadow leaf now allows the access: resume */
	SHADOW_GUEST_FAULT, /* the guest's tables forbid it: #PF (error) for the guest */
	SHADOW_MMIO,        /* the address is not RAM: emulate the access (gpa) */
	SHADOW_BAD_TABLE,   /* the guest's tables reach outside its RAM (gpa): stop the VM */
	SHADOW_GP,          /* non-canonical (cannot fault with #PF): #GP(0) */
};

struct shadow_fault {
	enum shadow_fault_kind kind;
	u32 error; /* SHADOW_GUEST_FAULT */
	u64 gpa;   /* SHADOW_MMIO, SHADOW_BAD_TABLE */
};

/*
 * A #PF the CPU raised through the shadow tables at linear with error code
 * hw_error, the guest's registers in ctx: walk the guest's tables and fill
 * the shadow leaf, or say what else to do (arch/x86/mmu/shadow_fault.c).
 */
void shadow_page_fault(struct shadow_mmu *s, struct vm *vm, const struct guest_ctx *ctx,
		       u64 linear, u32 hw_error, struct shadow_fault *out);

/*
 * Whether a shadow leaf for gpa (in RAM) may allow writes, given the
 * VM's dirty logging; for a write access the page is marked dirty first,
 * so a write never lands unlogged (arch/x86/mmu/shadow_gmem.c; the host
 * tests have their own).
 */
bool shadow_gmem_writable(struct vm *vm, u64 gpa, bool write);

#endif
