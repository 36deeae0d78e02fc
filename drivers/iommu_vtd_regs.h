/*
 * VT-d remapping hardware: its registers (VT-d spec 10.4 "Register
 * Descriptions"), root and context entries (9.1 "Root Entry", 9.3 "Context
 * Entry"), and the fault recording registers (10.4.14) with the fault
 * reasons of Appendix A. Used by drivers/iommu_vtd.c and, for the fault
 * decoding, drivers/iommu_vtd_fault.c.
 */
#ifndef DRIVERS_IOMMU_VTD_REGS_H
#define DRIVERS_IOMMU_VTD_REGS_H

#include "hv/types.h"

struct iommu_fault;

/* 10.4: register offsets from the unit's base. */
#define VTD_VER 0x00
#define VTD_CAP 0x08
#define VTD_ECAP 0x10
#define VTD_GCMD 0x18
#define VTD_GSTS 0x1c
#define VTD_RTADDR 0x20
#define VTD_CCMD 0x28
#define VTD_FSTS 0x34
#define VTD_FECTL 0x38
#define VTD_PMEN 0x64

/* 10.4.2 Capability Register. */
#define VTD_CAP_ND(c) ((unsigned)((c) & 7))          /* 2^(4 + 2*ND) domain IDs */
#define VTD_CAP_RWBF(c) (((c) >> 4) & 1)             /* write buffers need flushing */
#define VTD_CAP_PLMR(c) (((c) >> 5) & 1)
#define VTD_CAP_PHMR(c) (((c) >> 6) & 1)
#define VTD_CAP_CM(c) (((c) >> 7) & 1)               /* caching mode: not-present cached */
#define VTD_CAP_SAGAW(c) ((unsigned)(((c) >> 8) & 0x1f)) /* bit 1: 39-bit, 3 levels; bit 2: 48-bit, 4 */
#define VTD_CAP_MGAW(c) ((unsigned)(((c) >> 16) & 0x3f) + 1)
#define VTD_CAP_FRO(c) ((unsigned)(((c) >> 24) & 0x3ff) * 16) /* fault recording, bytes */
#define VTD_CAP_NFR(c) ((unsigned)(((c) >> 40) & 0xff) + 1)   /* fault recording registers */
#define VTD_CAP_DWD(c) (((c) >> 54) & 1)             /* write draining */
#define VTD_CAP_DRD(c) (((c) >> 55) & 1)             /* read draining */

/* 10.4.3 Extended Capability Register. */
#define VTD_ECAP_C(e) ((e) & 1)                      /* page walks snoop the CPU caches */
#define VTD_ECAP_QI(e) (((e) >> 1) & 1)
#define VTD_ECAP_IR(e) (((e) >> 3) & 1)
#define VTD_ECAP_IRO(e) ((unsigned)(((e) >> 8) & 0x3ff) * 16) /* IOTLB registers, bytes */
#define VTD_ECAP_SMTS(e) (((e) >> 43) & 1)

/* 10.4.4 Global Command and 10.4.5 Global Status: the same bit positions. */
#define VTD_GCMD_TE BIT(31)    /* translation enable / TES */
#define VTD_GCMD_SRTP BIT(30)  /* set root table pointer / RTPS */
#define VTD_GCMD_SFL BIT(29)
#define VTD_GCMD_EAFL BIT(28)
#define VTD_GCMD_WBF BIT(27)   /* write buffer flush / WBFS */
#define VTD_GCMD_QIE BIT(26)   /* queued invalidation / QIES */
#define VTD_GCMD_IRE BIT(25)   /* interrupt remapping / IRES */
#define VTD_GCMD_SIRTP BIT(24)
#define VTD_GCMD_CFI BIT(23)
/* 10.4.4: the one-shot commands (SRTP, SFL, WBF, SIRTP) must not be written
 * back from the status: keep only the others when changing one bit. */
#define VTD_GSTS_KEEP 0x96ffffffu

/* 10.4.7 Context Command Register: a 64-bit command, ICC clears when done. */
#define VTD_CCMD_ICC BIT(63)
#define VTD_CCMD_GLOBAL (1ULL << 61)
#define VTD_CCMD_DOMAIN (2ULL << 61)
#define VTD_CCMD_DEVICE (3ULL << 61)
#define VTD_CCMD_CAIG(v) (((v) >> 59) & 3) /* what was done: 0 = refused */
#define VTD_CCMD_SID(bdf) ((u64)(bdf) << 16)
#define VTD_CCMD_DID(did) ((u64)(did))

/* 10.4.8.1 IOTLB Invalidate Register, at ECAP.IRO + 8; IVT clears when done. */
#define VTD_IOTLB_REG 8
#define VTD_IOTLB_IVT BIT(63)
#define VTD_IOTLB_GLOBAL (1ULL << 60)
#define VTD_IOTLB_DOMAIN (2ULL << 60)
#define VTD_IOTLB_IAIG(v) (((v) >> 57) & 3) /* what was done: 0 = refused */
#define VTD_IOTLB_DR BIT(49) /* drain reads first */
#define VTD_IOTLB_DW BIT(48) /* drain writes first */
#define VTD_IOTLB_DID(did) ((u64)(did) << 32)

/* 10.4.9 Fault Status, 10.4.10 Fault Event Control. */
#define VTD_FSTS_PFO BIT(0)  /* primary fault overflow (write 1 to clear) */
#define VTD_FSTS_PPF BIT(1)  /* some fault record has F set */
#define VTD_FECTL_IM BIT(31) /* fault event interrupt masked */

/* 10.4.16 Protected Memory Enable. */
#define VTD_PMEN_EPM BIT(31)
#define VTD_PMEN_PRS BIT(0)

/* 10.4.6 Root Table Address: TTM (bits 11:10) 00 is the legacy root table. */

/* 9.1 Root Entry (legacy mode): 256 of them, one per bus, 4 KiB. */
struct vtd_root_entry {
	u64 lo; /* bit 0 present, bits 63:12 the context table */
	u64 hi; /* reserved */
};
_Static_assert(sizeof(struct vtd_root_entry) == 16, "VT-d root entry");
#define VTD_ROOT_P BIT(0)

/* 9.3 Context Entry (legacy mode): 256 per bus, one per device/function. */
struct vtd_context_entry {
	u64 lo; /* bit 0 P, bit 1 FPD, bits 3:2 TT, bits 63:12 second-level table */
	u64 hi; /* bits 2:0 AW, bits 23:8 domain ID */
};
_Static_assert(sizeof(struct vtd_context_entry) == 16, "VT-d context entry");
#define VTD_CTX_P BIT(0)
#define VTD_CTX_TT_SL (0ULL << 2) /* untranslated requests through second-level tables */
#define VTD_CTX_AW(levels) ((u64)(levels) - 2) /* 1: 3-level, 39-bit; 2: 4-level, 48-bit */
#define VTD_CTX_DID(did) ((u64)(did) << 8)
#define VTD_CTX_DID_OF(hi) ((u16)((hi) >> 8))

/* 10.4.14 Fault Recording Register: 128 bits, at CAP.FRO + 16 * n. */
#define VTD_FRCD_F BIT(63)       /* in the high quadword: a fault is recorded */
#define VTD_FRCD_READ BIT(62)    /* T (bit 126): 1 read, 0 write */
#define VTD_FRCD_FR(hi) ((u8)((hi) >> 32)) /* fault reason, bits 103:96 */
#define VTD_FRCD_SID(hi) ((u16)(hi))        /* source ID, bits 79:64 */
#define VTD_FRCD_F_DWORD 0x80000000u /* F as bit 31 of the record's last dword */

/* Appendix A: the fault reason's name ("not present", ...). */
const char *vtd_fault_reason(u8 fr);
/* A fault record's two quadwords into f; false when its F bit is clear. */
bool vtd_frcd_decode(u64 lo, u64 hi, struct iommu_fault *f);

#endif
