/* Raw flat images: the bytes go to the load address, which is also the entry. */
#include "hv/loader.h"
#include "hv/vm.h"
#include "lib/string.h"

u64 loader_load_address(const struct vm_config *cfg)
{
	if (cfg->load)
		return cfg->load;
	return cfg->mode == START_REAL16 ? REAL_DEFAULT_LOAD : PROT_DEFAULT_LOAD;
}

int load_raw(struct vm *vm, const void *image, u64 size, u64 load, const char **why)
{
	const struct vm_config *cfg = &vm->cfg;

	if (cfg->mode == START_REAL16) {
		/* Real mode reaches 64 KiB from segment 0; the stacks sit at the top. */
		if (load < 0x500 || load + size > REAL_STACK_TOP - cfg->cpus * REAL_STACK_STRIDE) {
			*why = "a real-mode image must lie within 0x500-0xc000 (below the stacks)";
			return -E2BIG;
		}
	} else if (load < GUEST_BOOT_END + (u64)cfg->cpus * PROT_STACK_STRIDE) {
		*why = "load address collides with the boot structures (0x1000-0x7fff) or the stacks";
		return -EINVAL;
	}
	if (!size || gmem_write(vm, load, image, size)) {
		*why = size ? "image does not fit in the VM's memory" : "image is empty";
		return -E2BIG;
	}
	return 0;
}
