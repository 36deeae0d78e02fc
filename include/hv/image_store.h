/*
 * Images uploaded through the management API (PUT /images/NAME, docs/api.md):
 * kernels, initrds and disk images kept in hypervisor memory, each in one
 * contiguous run of pages, so that a VM's image=, initrd= and disk=module:
 * find them by name as they find boot modules (core/image_store.c).
 *
 * One name space: a stored image may not have a boot module's name, so a
 * name means the same image wherever it is looked up. Boot modules are
 * looked up first, which is then the same as looking up either first.
 *
 * The table changes only on CPU 0 (the API); lookups come from any CPU (a
 * guest's reset loads its image again) under a spinlock held for the walk.
 * An image a VM names cannot be deleted or replaced while that VM exists.
 */
#ifndef HV_IMAGE_STORE_H
#define HV_IMAGE_STORE_H

#include "hv/bootinfo.h"
#include "hv/config.h"
#include "hv/types.h"

#define IMAGE_STORE_SLOTS 16
#define IMAGE_NAME_MAX VM_IMAGE_MAX      /* with its NUL, as image= allows */
#define IMAGE_MAX_DEFAULT (256ULL << 20) /* api_image_max= when not given */

/* The boot module, else the stored image, of that name; NULL if neither. */
const struct boot_module *image_find(const struct boot_info *bi, const char *name);

/* The largest image PUT /images takes (the configuration's api_image_max=). */
void image_store_set_max(u64 bytes);
u64 image_store_max(void);

/* A name an image may have: 1-63 characters of A-Z a-z 0-9 . _ + - (none of
 * the configuration's separators, so it cannot change a vm= word). */
bool image_name_valid(const char *name);

/*
 * An upload in three steps: begin takes a slot and size bytes of memory
 * (not yet visible to lookups), write fills it, commit makes it visible;
 * abort gives everything back. begin returns the slot, or -EEXIST (a boot
 * module or stored image has the name), -ENOSPC (no slot), -E2BIG (larger
 * than the limit), -ENOMEM (no contiguous run of memory that size), with a
 * line in err.
 */
int image_store_begin(const char *name, u64 size, char *err, size_t n);
void image_store_write(int slot, u64 off, const void *data, u64 len);
void image_store_commit(int slot);
void image_store_abort(int slot);

/* Forgets the image and frees its memory: -ENOENT, or -EBUSY while a VM
 * names it (image=, initrd= or disk=module:), with a line in err. */
int image_store_delete(const char *name, char *err, size_t n);

/* Each stored image: its name and size. */
void image_store_list(void (*out)(void *ctx, const char *name, u64 bytes), void *ctx);

#endif
