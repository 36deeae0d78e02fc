/*
 * The management API's bearer token (docs/api.md, "Authentication"): set
 * from api_token= or made at boot, checked in constant time; refusals are
 * counted and logged at most once a second, never with a token in the line.
 */
#ifndef CORE_API_AUTH_H
#define CORE_API_AUTH_H

#include "hv/config.h"
#include "hv/types.h"

#define API_TOKEN_MADE_LEN 32 /* a token made at boot: 128 bits in hex */

/* Does the Authorization header's value (n bytes, not NUL-terminated)
 * carry the token? Takes the same time whatever it holds, for a header
 * of up to API_TOKEN_MAX bytes after "Bearer ". false while no token is set. */
bool api_auth_check(const char *value, size_t n);

/* A request was refused for why ("no Authorization header", ...): counted;
 * logged unless a line was written less than a second ago, then the next
 * line says how many were not logged. */
void api_auth_refused(const char *why, u64 now_ms);
u64 api_auth_refusals(void);

/* A token from 128 bits of seed, as lowercase hex, into out. */
void api_token_make(const u64 seed[2], char out[API_TOKEN_MADE_LEN + 1]);

#endif
