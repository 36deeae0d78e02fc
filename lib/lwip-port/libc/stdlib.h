/* lwIP's <stdlib.h>: netif.c's netif_find() reads an interface number with
 * atoi(); nothing else of it is used (MEM_LIBC_MALLOC is 0). */
#ifndef LWIP_PORT_STDLIB_H
#define LWIP_PORT_STDLIB_H

static inline int atoi(const char *s)
{
	int n = 0;

	while (*s >= '0' && *s <= '9')
		n = n * 10 + (*s++ - '0');
	return n;
}

#endif
