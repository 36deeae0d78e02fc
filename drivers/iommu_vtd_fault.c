/*
 * VT-d fault records into the common layer's struct iommu_fault: the
 * layout of 10.4.14 "Fault Recording Registers" and the reasons of
 * Appendix A "Non-Recoverable Fault Reason Encodings". Host-testable.
 */
#include "drivers/iommu_vtd_regs.h"
#include "drivers/iommu.h"

const char *vtd_fault_reason(u8 fr)
{
	switch (fr) {
	case 0x1: return "not present (root entry)";
	case 0x2: return "not present (context entry)";
	case 0x3: return "bad context entry";
	case 0x4: return "address beyond the width";
	case 0x5: return "no permission (write)";
	case 0x6: return "no permission (read)";
	case 0x7: return "page table unreadable";
	case 0x8: return "root table unreadable";
	case 0x9: return "context entry unreadable";
	case 0xa: return "reserved bits (root entry)";
	case 0xb: return "reserved bits (context entry)";
	case 0xc: return "reserved bits (page table)";
	case 0xd: return "blocked by translation type";
	case 0x20: return "interrupt: reserved bits in the request";
	case 0x21: return "interrupt: index beyond the table";
	case 0x22: return "interrupt: entry not present";
	case 0x23: return "interrupt: table unreadable";
	case 0x24: return "interrupt: reserved bits in the entry";
	case 0x25: return "interrupt: compatibility format blocked";
	case 0x26: return "interrupt: source not allowed";
	default: return fr >= 0x30 ? "scalable-mode fault" : "unknown fault reason";
	}
}

bool vtd_frcd_decode(u64 lo, u64 hi, struct iommu_fault *f)
{
	if (!(hi & VTD_FRCD_F))
		return false;
	f->bdf = VTD_FRCD_SID(hi);
	f->addr = lo & ~0xfffULL; /* FI: the page; its offset is not recorded */
	f->write = !(hi & VTD_FRCD_READ);
	f->what = vtd_fault_reason(VTD_FRCD_FR(hi));
	f->source_unknown = false; /* a fault record always names its source */
	return true;
}
