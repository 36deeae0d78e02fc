/*
 * JSON for the management API (docs/api.md): a strict reader of request
 * bodies over jsmn's tokens, and a bounded writer of answers.
 *
 * The reader takes one object whose fields are named in a table: a field
 * that is not in it, one given twice, one of the wrong type, a string too
 * long or holding a control or non-ASCII character, a number that is not a
 * whole number in range: each is refused with a line naming the field.
 */
#ifndef CORE_API_JSON_H
#define CORE_API_JSON_H

#include "hv/types.h"

#define JSON_TOKENS_MAX 128 /* values in one body */
#define JSON_DEPTH_MAX 8    /* nesting the writer allows */

/* ---- reading ---- */

struct json_doc {
	const char *js;
	u32 len;
	int ntok;
	void *tok; /* jsmntok_t[JSON_TOKENS_MAX]; jsmn's type stays in core/api_json.c */
};

/* Tokenizes js; 0, or -EINVAL with a line in err: not JSON, not one
 * object, too many values, a literal that is not true, false, null or a
 * number. An empty body (only white space) is an empty object. */
int json_parse(struct json_doc *d, const char *js, u32 len, char *err, size_t n);

enum json_type { JSON_STRING, JSON_UINT, JSON_BOOL, JSON_OBJECT, JSON_ARRAY, JSON_ANY };

struct json_field {
	const char *name;
	unsigned types; /* BIT(enum json_type) each type it may have; JSON_ANY: any */
	u64 max;        /* a string's longest length, a number's largest value */
	int tok;        /* out: its value's token, -1 when absent */
};

/* Checks the object at token obj against the table; fills each field's
 * tok. 0, or -EINVAL with a line naming the field. */
int json_fields(const struct json_doc *d, int obj, struct json_field *f, unsigned nf, char *err,
		size_t n);

/* The value at token t. */
enum json_type json_type_of(const struct json_doc *d, int t);
/* A checked string (json_fields did) into buf, NUL-terminated. */
void json_string(const struct json_doc *d, int t, char *buf, size_t cap);
u64 json_uint(const struct json_doc *d, int t);
bool json_bool(const struct json_doc *d, int t);
/* An array's elements: the token of element 0, then json_next for the next. */
unsigned json_count(const struct json_doc *d, int t);
int json_first(const struct json_doc *d, int t);
int json_next(const struct json_doc *d, int t);

/* ---- writing ---- */

struct json_writer {
	char *buf;
	u32 cap, len;
	bool overflow;           /* something did not fit: the answer is incomplete */
	u8 depth;
	bool first[JSON_DEPTH_MAX]; /* no value yet at this depth: no comma before the next */
	bool after_key;
};

void jw_init(struct json_writer *w, char *buf, u32 cap);
void jw_obj(struct json_writer *w);
void jw_obj_end(struct json_writer *w);
void jw_arr(struct json_writer *w);
void jw_arr_end(struct json_writer *w);
void jw_key(struct json_writer *w, const char *k);
/* Escaped: '"' '\' and every byte outside 0x20-0x7e as \uXXXX or \n ... */
void jw_str(struct json_writer *w, const char *s);
void jw_strn(struct json_writer *w, const char *s, size_t n);
void jw_u64(struct json_writer *w, u64 v);
void jw_bool(struct json_writer *w, bool v);
void jw_null(struct json_writer *w);
/* key and value in one */
void jw_kstr(struct json_writer *w, const char *k, const char *s);
void jw_ku64(struct json_writer *w, const char *k, u64 v);
void jw_kbool(struct json_writer *w, const char *k, bool v);
/* Whole and balanced: nothing overflowed, every object and array closed. */
bool jw_ok(const struct json_writer *w);

#endif
