/* lwIP's <string.h>: the hypervisor's own (lib/string.c). lwIP is built with
 * -nostdinc (mk/lwip.mk): these shims are all the C library it sees. */
#ifndef LWIP_PORT_STRING_H
#define LWIP_PORT_STRING_H

#include "lib/string.h"

#endif
