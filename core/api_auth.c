/* The management API's bearer token (core/api_auth.h, include/hv/api.h). */
#include "core/api_auth.h"
#include "hv/api.h"
#include "hv/console.h"
#include "lib/string.h"

#define LOG_INTERVAL_MS 1000

static char token[API_TOKEN_MAX + 1]; /* zero-padded: the check reads all of it */
static size_t token_len;

static u64 refusals;     /* since boot */
static u64 unlogged;     /* since the last line */
static u64 last_log_ms;
static bool logged_once;

void api_set_token(const char *t)
{
	memset(token, 0, sizeof(token));
	token_len = strnlen(t, API_TOKEN_MAX);
	memcpy(token, t, token_len);
}

bool api_auth_check(const char *value, size_t n)
{
	static const char scheme[] = "bearer ";
	const size_t sn = sizeof(scheme) - 1;
	u32 diff;

	/* The scheme is case-insensitive (RFC 9110, 11.1); what follows is the token. */
	if (n < sn)
		return false;
	for (size_t i = 0; i < sn; i++)
		if ((value[i] | (i < sn - 1 ? 0x20 : 0)) != scheme[i])
			return false;
	value += sn;
	n -= sn;
	/* Every byte of the stored token is read whatever the guess: how long
	 * this takes says nothing about how much of it was right. */
	diff = (n != token_len) | !token_len;
	for (size_t i = 0; i < API_TOKEN_MAX; i++)
		diff |= (u8)((i < n ? (u8)value[i] : 0) ^ (u8)token[i]);
	return !diff;
}

void api_auth_refused(const char *why, u64 now_ms)
{
	refusals++;
	if (logged_once && now_ms - last_log_ms < LOG_INTERVAL_MS) {
		unlogged++;
		return;
	}
	if (unlogged)
		kprintf("api: 401: %s (%lu more refused in the last %lu ms, not logged; %lu since "
			"boot)\n", why, (unsigned long)unlogged, (unsigned long)(now_ms - last_log_ms),
			(unsigned long)refusals);
	else
		kprintf("api: 401: %s (%lu since boot)\n", why, (unsigned long)refusals);
	unlogged = 0;
	last_log_ms = now_ms;
	logged_once = true;
}

u64 api_auth_refusals(void)
{
	return refusals;
}

void api_token_make(const u64 seed[2], char out[API_TOKEN_MADE_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";

	for (unsigned i = 0; i < API_TOKEN_MADE_LEN; i++)
		out[i] = hex[(seed[i / 16] >> (4 * (i % 16))) & 15];
	out[API_TOKEN_MADE_LEN] = 0;
}
