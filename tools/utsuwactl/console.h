/*
 * utsuwactl console: a VM's console on this terminal, over a connection the
 * API has switched to a raw byte stream (GET /vms/NAME/console, 101).
 */
#ifndef UTSUWACTL_CONSOLE_H
#define UTSUWACTL_CONSOLE_H

#include "http.h"

#define CONSOLE_ESCAPE 0x1d            /* Ctrl-], as on utsuwa's own console */
#define CONSOLE_LINGER_MS 2000         /* after standard input ends (not a terminal) */

/*
 * Relays both ways until Ctrl-] on standard input, the end of standard input
 * (then CONSOLE_LINGER_MS of quiet), or the server closing. A terminal on
 * standard input is put in raw mode and restored on every way out, signals
 * included. Returns 0, or -1 on a transport error (already reported).
 */
int console_relay(struct http_conn *c, const char *name);

#endif
