/*
 * lwIP's compiler and platform glue (lwIP's src/include/lwip/arch.h asks for
 * it): the hypervisor is freestanding, so no libc headers beyond the
 * compiler's own (stdint.h, stddef.h through hv/types.h).
 */
#ifndef LWIP_PORT_ARCH_CC_H
#define LWIP_PORT_ARCH_CC_H

#include "hv/console.h"
#include "hv/types.h"
#include "lib/string.h"

#define BYTE_ORDER LITTLE_ENDIAN

/* No inttypes.h, limits.h, unistd.h or ctype.h: lwIP defines what it needs
 * (ssize_t, its own isdigit and friends) from these. */
#define LWIP_NO_INTTYPES_H 1
#define LWIP_NO_LIMITS_H 1
#define LWIP_NO_UNISTD_H 1
#define LWIP_NO_CTYPE_H 1
#define INT_MAX __INT_MAX__
#define X8_F "02x"
#define U16_F "u"
#define S16_F "d"
#define X16_F "x"
#define U32_F "u"
#define S32_F "d"
#define X32_F "x"
#define SZT_F "lu"

#define lwip_htons(x) __builtin_bswap16(x)
#define lwip_htonl(x) __builtin_bswap32(x)

/* LWIP_DEBUGF output (off unless LWIP_DEBUG), and broken invariants of the
 * stack, which are the hypervisor's own. */
#define LWIP_PLATFORM_DIAG(x) do { kprintf x; } while (0)
#define LWIP_PLATFORM_ASSERT(x) panic("lwip: %s (%s:%d)", x, __FILE__, __LINE__)

/* Initial sequence numbers, DHCP transaction ids, local ports
 * (core/netstack.c: the TSC, mixed). */
u32 netstack_rand(void);
#define LWIP_RAND() netstack_rand()

#endif
