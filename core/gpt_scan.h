/* Registering a disk's GPT partitions at boot (core/gpt_scan.c). */
#ifndef CORE_GPT_SCAN_H
#define CORE_GPT_SCAN_H

#include "hv/blockdev.h"

/* Reads bd's GPT (waiting for the reads) and registers "gpt:<name>" for
 * each usable partition; one line per partition or problem. */
void gpt_scan_disk(struct blockdev *bd);

#endif
