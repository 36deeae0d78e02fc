/* One image, two back ends: chosen here from CPUID (DESIGN.md, "One image"). */
#include "hv/vendor.h"
#include "arch/x86/svm/svm.h"
#include "arch/x86/vmx/vmx.h"
#include "asm/cpu.h"

const struct vendor_ops *vendor;

const struct vendor_ops *vendor_select(void);
const struct vendor_ops *vendor_select(void)
{
	struct cpuid_regs v = cpuid(0);

	/* The vendor first: each feature bit means something only on its
	 * vendor's CPUs (CPUID 8000_0001h ECX bit 2 is reserved on Intel). */
	if (v.ebx == 0x68747541 && v.edx == 0x69746e65 && v.ecx == 0x444d4163) /* AuthenticAMD */
		return svm_supported() ? &svm_ops : NULL;
	if (v.ebx == 0x756e6547 && v.edx == 0x49656e69 && v.ecx == 0x6c65746e) /* GenuineIntel */
		return vmx_supported() ? &vmx_ops : NULL;
	if (svm_supported())
		return &svm_ops;
	if (vmx_supported())
		return &vmx_ops;
	return NULL;
}
