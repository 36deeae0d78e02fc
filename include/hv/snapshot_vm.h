/*
 * The payloads of the VM-wide snapshot sections (docs/snapshot.md): the
 * configuration (SNAP_SEC_CONFIG, always section 0) and guest RAM
 * (SNAP_SEC_MEMORY, one section per 2 MiB piece). vCPU and device sections
 * are written by their owners (the vCPU state, each device's _save).
 */
#ifndef HV_SNAPSHOT_VM_H
#define HV_SNAPSHOT_VM_H

#include "hv/config.h"
#include "hv/snapshot.h"
#include "hv/types.h"

#define SNAP_CONFIG_LINE_MAX 1024
#define SNAP_CONFIG_NAME "config"
#define SNAP_MEMORY_NAME "ram"

struct snap_vm_config {
	char name[VM_NAME_MAX];            /* NUL-terminated */
	u64 mem_size;                      /* bytes: a multiple of 2 MiB */
	u32 nr_vcpus;                      /* 1..VM_MAX_VCPUS */
	char line[SNAP_CONFIG_LINE_MAX];   /* the configuration word the VM was made from */
};

/* Writes the configuration section (it must be the first). -EINVAL for a
 * value snap_load_config would refuse; else the writer's error. */
int snap_save_config(struct snap_writer *w, const struct snap_vm_config *cfg);
/* Reads it back from a verified snapshot: -ENOENT without one, -EINVAL when
 * a value is impossible (cfg is then unchanged). */
int snap_load_config(const struct snapshot *s, struct snap_vm_config *cfg);

/*
 * One 2 MiB piece of guest RAM at gpa (2 MiB-aligned): npages 4 KiB pages
 * (1..SNAP_MEM_PIECE_PAGES) at data. Pages of zeros are left out; a piece
 * that is all zeros writes no section at all (a restored VM's RAM starts
 * zeroed). Pieces must be saved in increasing gpa order.
 */
int snap_save_ram_piece(struct snap_writer *w, u64 gpa, const void *data, u32 npages);
/* Reads the section at c (a SNAP_SEC_MEMORY one) into dst, npages pages,
 * zeroing the pages left out. -EINVAL when the section does not describe
 * exactly that piece or is malformed; dst is then unchanged. */
int snap_load_ram_piece(struct snap_cursor *c, u64 gpa, void *dst, u32 npages);

#endif
