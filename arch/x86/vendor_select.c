/* One image, two back ends: chosen here from CPUID (DESIGN.md, "One image"). */
#include "hv/vendor.h"
#include "arch/x86/svm/svm.h"

const struct vendor_ops *vendor;

const struct vendor_ops *vendor_select(void);
const struct vendor_ops *vendor_select(void)
{
	if (svm_supported())
		return &svm_ops;
	return NULL;
}
