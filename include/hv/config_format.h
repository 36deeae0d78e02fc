/* A VM's configuration back as the one word it came from (core/config_format.c). */
#ifndef HV_CONFIG_FORMAT_H
#define HV_CONFIG_FORMAT_H

#include "hv/config.h"

/*
 * Writes `vm=<name>,image=...` such that config_parse gives back *c (with
 * name instead of c->name when name is not NULL): what a snapshot keeps of
 * how its VM was made. 0, or -ENOSPC when it does not fit in n bytes.
 */
int config_format_vm(const struct vm_config *c, const char *name, char *buf, size_t n);

#endif
