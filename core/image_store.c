/*
 * The image store (include/hv/image_store.h): images uploaded through the
 * management API, each a contiguous run of pages that looks to the loaders
 * like a boot module (struct boot_module: physical start and end, its name).
 */
#include "hv/image_store.h"
#include "hv/hv.h"
#include "hv/mm.h"
#include "hv/spinlock.h"
#include "hv/vm.h"
#include "lib/format.h"
#include "lib/string.h"

enum slot_state { SLOT_FREE, SLOT_LOADING, SLOT_READY };

struct image {
	enum slot_state state;  /* lookups see only SLOT_READY */
	struct boot_module mod; /* start, end; cmdline holds the name */
	u64 npages;
};

static struct image images[IMAGE_STORE_SLOTS];
static spinlock_t images_lock = SPINLOCK_INIT; /* guards state; held only for a walk */
static u64 image_max = IMAGE_MAX_DEFAULT;

_Static_assert(IMAGE_NAME_MAX <= BOOT_MODNAME_MAX, "an image's name fits a module's string");

static int refuse(char *err, size_t n, int ret, const char *fmt, ...) __printf(4, 5);

/* A line saying why into err, and ret back. */
static int refuse(char *err, size_t n, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fmt_vsnprintf(err, n, fmt, ap);
	va_end(ap);
	return ret;
}

void image_store_set_max(u64 bytes)
{
	image_max = bytes;
}

u64 image_store_max(void)
{
	return image_max;
}

bool image_name_valid(const char *name)
{
	size_t n = strnlen(name, IMAGE_NAME_MAX);

	if (!n || n == IMAGE_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '+' || c == '-'))
			return false;
	}
	return true;
}

/* The ready image of that name, or NULL. Under images_lock. */
static struct image *find_locked(const char *name)
{
	for (unsigned i = 0; i < IMAGE_STORE_SLOTS; i++)
		if (images[i].state == SLOT_READY && !strcmp(images[i].mod.cmdline, name))
			return &images[i];
	return NULL;
}

const struct boot_module *image_find(const struct boot_info *bi, const char *name)
{
	const struct boot_module *m = bi ? bootinfo_find_module(bi, name) : NULL;
	struct image *im;

	if (m)
		return m;
	spin_lock(&images_lock);
	im = find_locked(name);
	spin_unlock(&images_lock);
	/* A ready image stays as it is while a VM names it (image_store_delete). */
	return im ? &im->mod : NULL;
}

/* Does a VM that exists name the image (image=, initrd=, disk=module:)? */
static const char *user_of(const char *name)
{
	for (unsigned i = 0; i < CONFIG_MAX_VMS; i++) {
		const struct vm *vm = vms[i];

		if (!vm)
			continue;
		if (!strcmp(vm->cfg.image, name) || !strcmp(vm->cfg.initrd, name))
			return vm->name;
		for (unsigned d = 0; d < vm->cfg.nr_disks; d++)
			if (!strncmp(vm->cfg.disks[d].spec, "module:", 7) &&
			    !strcmp(vm->cfg.disks[d].spec + 7, name))
				return vm->name;
	}
	return NULL;
}

int image_store_begin(const char *name, u64 size, char *err, size_t n)
{
	u64 npages, pa;
	int slot = -1;

	if (!image_name_valid(name))
		return refuse(err, n, -EINVAL, "an image name is 1-%d characters of A-Z a-z 0-9 . _ + -",
				    IMAGE_NAME_MAX - 1);
	if (bootinfo_find_module(hv_boot_info(), name))
		return refuse(err, n, -EEXIST, "image '%s': a boot module has that name", name);
	if (size > image_max)
		return refuse(err, n, -E2BIG, "image '%s': %lu bytes is more than the limit, %lu "
				    "(api_image_max=)", name, (unsigned long)size,
				    (unsigned long)image_max);
	for (unsigned i = 0; i < IMAGE_STORE_SLOTS; i++) {
		if (images[i].state != SLOT_FREE && !strcmp(images[i].mod.cmdline, name))
			return refuse(err, n, -EEXIST, "image '%s' exists already (DELETE it first)",
					    name);
		if (images[i].state == SLOT_FREE && slot < 0)
			slot = (int)i;
	}
	if (slot < 0)
		return refuse(err, n, -ENOSPC, "the image store is full (%d images)",
				    IMAGE_STORE_SLOTS);
	npages = MAX(ALIGN_UP(size, PAGE_SIZE) / PAGE_SIZE, 1);
	pa = page_alloc(npages, PAGE_SIZE);
	if (!pa)
		return refuse(err, n, -ENOMEM, "image '%s': no %lu MiB of contiguous free memory",
				    name, (unsigned long)((size + (1 << 20) - 1) >> 20));
	images[slot].npages = npages;
	images[slot].mod.start = pa;
	images[slot].mod.end = pa + size;
	strlcpy(images[slot].mod.cmdline, name, sizeof(images[slot].mod.cmdline));
	images[slot].state = SLOT_LOADING; /* lookups skip it until commit */
	return slot;
}

void image_store_write(int slot, u64 off, const void *data, u64 len)
{
	struct image *im = &images[slot];

	if (im->state != SLOT_LOADING || off > im->mod.end - im->mod.start ||
	    len > im->mod.end - im->mod.start - off)
		return; /* the HTTP side never writes past Content-Length */
	memcpy((u8 *)(uintptr_t)(im->mod.start + off), data, len);
}

void image_store_commit(int slot)
{
	spin_lock(&images_lock);
	images[slot].state = SLOT_READY;
	spin_unlock(&images_lock);
}

static void release(struct image *im)
{
	spin_lock(&images_lock);
	im->state = SLOT_FREE;
	spin_unlock(&images_lock);
	page_free(im->mod.start, im->npages);
	memset(im, 0, sizeof(*im));
}

void image_store_abort(int slot)
{
	if (slot >= 0 && slot < IMAGE_STORE_SLOTS && images[slot].state == SLOT_LOADING)
		release(&images[slot]);
}

int image_store_delete(const char *name, char *err, size_t n)
{
	struct image *im;
	const char *user;

	spin_lock(&images_lock);
	im = find_locked(name);
	spin_unlock(&images_lock);
	if (!im)
		return refuse(err, n, -ENOENT, "no image '%s'", name);
	user = user_of(name);
	if (user)
		return refuse(err, n, -EBUSY, "image '%s' is vm %s's (destroy the VM first)", name,
				    user);
	release(im);
	return 0;
}

void image_store_list(void (*out)(void *ctx, const char *name, u64 bytes), void *ctx)
{
	for (unsigned i = 0; i < IMAGE_STORE_SLOTS; i++)
		if (images[i].state == SLOT_READY)
			out(ctx, images[i].mod.cmdline, images[i].mod.end - images[i].mod.start);
}
