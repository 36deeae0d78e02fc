/*
 * A RAM disk made from a boot module (disk=module:<name>, docs/config.md):
 * the module's bytes copied into hypervisor memory, one copy per VM, so the
 * module stays as booted and a VM's writes are lost when it ends. Requests
 * complete before submit returns. Its blockdev is the VM's alone and is not
 * put in the registry (which never forgets a device).
 */
#ifndef HV_RAMDISK_H
#define HV_RAMDISK_H

#include "hv/blockdev.h"

struct boot_info;
struct snap_writer;
struct snap_cursor;

/* A RAM disk holding module `name` (its size rounded down to whole
 * sectors), named "module:<name>". NULL, with a message naming the VM,
 * when there is no such module, it is smaller than a sector, or memory
 * runs out. */
struct blockdev *ramdisk_create(const struct boot_info *bi, const char *name, const char *vm);
void ramdisk_destroy(struct blockdev *bd);

/* A snapshot holds a RAM disk's contents (docs/snapshot.md, "virtio-blk"):
 * its size, then its bytes. Loading needs a disk of the same size (made from
 * the same module); -EINVAL otherwise. A short or damaged payload shows in
 * the cursor's state (snap_cursor_done), as for any section. */
void ramdisk_save(const struct blockdev *bd, struct snap_writer *w);
int ramdisk_load(struct blockdev *bd, struct snap_cursor *c);

#endif
