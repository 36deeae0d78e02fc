/*
 * What utsuwactl reads in the API's JSON answers, to print them for people:
 * jsmn's tokens (Debian's libjsmn-dev, the tokenizer the API server uses too)
 * and a few walks over them. Tolerant: fields it does not know are printed
 * or skipped, fields missing from an answer print as "-".
 *
 * Every value printed for people goes through json_text, which replaces
 * control characters with '?': a server's strings never reach the terminal
 * as escape sequences. --json prints the answer as it came instead.
 */
#ifndef UTSUWACTL_JSON_H
#define UTSUWACTL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct json_tok;

struct json {
	const char *text;
	size_t len;
	struct json_tok *tok;
	int ntok;
};

enum json_type { JSON_OTHER, JSON_OBJECT, JSON_ARRAY, JSON_STRING, JSON_PRIMITIVE };

/* 0, or -1 if text is not JSON. The first value is token 0. */
int json_parse(struct json *j, const char *text, size_t len);
void json_free(struct json *j);

enum json_type json_type(const struct json *j, int i);
/* Members of an object (pairs) or elements of an array. */
int json_size(const struct json *j, int i);
/* The token after i and everything inside it. */
int json_next(const struct json *j, int i);
/* The value of key in object obj, or -1. */
int json_get(const struct json *j, int obj, const char *key);
/* Token i as text for people (malloc'd): a string unescaped, a primitive as
 * it is, an object or array as its JSON; control characters as '?'. */
char *json_text(const struct json *j, int i);
/* Writes s to a JSON string literal with quotes, escaping what JSON needs. */
void json_put_string(FILE *out, const char *s);

/* Object i as "key: value" lines; nested objects and arrays as dotted and
 * indexed keys (vcpus[0].exits.hlt: 12). */
void json_print_fields(const struct json *j, int i, FILE *out);

struct json_column {
	const char *key;       /* the field in each object */
	const char *title;     /* the column's heading */
	bool right;            /* right-aligned (numbers) */
};
/* Array arr of objects as a table with a heading line; -1 if arr is not an array. */
int json_print_table(const struct json *j, int arr, const struct json_column *cols, int ncols,
		     FILE *out);

#endif
