/*
 * The API's JSON for people (json.h), on jsmn's tokens.
 */
#include "json.h"
#include "lib/format.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Only this file sees jsmn; strict: primitives are numbers, true, false, null. */
#define JSMN_STATIC
#define JSMN_STRICT
#include <jsmn.h>

struct json_tok {
	jsmntok_t t;
};

int json_parse(struct json *j, const char *text, size_t len)
{
	jsmn_parser p;
	int n;

	memset(j, 0, sizeof(*j));
	jsmn_init(&p);
	n = jsmn_parse(&p, text, len, NULL, 0);
	if (n <= 0)
		return -1;
	j->tok = calloc((size_t)n, sizeof(*j->tok));
	if (!j->tok)
		return -1;
	jsmn_init(&p);
	/* struct json_tok is a jsmntok_t and nothing else. */
	_Static_assert(sizeof(struct json_tok) == sizeof(jsmntok_t), "json_tok is a jsmntok_t");
	if (jsmn_parse(&p, text, len, (jsmntok_t *)j->tok, (unsigned)n) != n) {
		json_free(j);
		return -1;
	}
	j->text = text;
	j->len = len;
	j->ntok = n;
	return 0;
}

void json_free(struct json *j)
{
	free(j->tok);
	j->tok = NULL;
	j->ntok = 0;
}

static const jsmntok_t *tok(const struct json *j, int i)
{
	return i >= 0 && i < j->ntok ? &j->tok[i].t : NULL;
}

enum json_type json_type(const struct json *j, int i)
{
	const jsmntok_t *t = tok(j, i);

	if (!t)
		return JSON_OTHER;
	switch (t->type) {
	case JSMN_OBJECT:
		return JSON_OBJECT;
	case JSMN_ARRAY:
		return JSON_ARRAY;
	case JSMN_STRING:
		return JSON_STRING;
	case JSMN_PRIMITIVE:
		return JSON_PRIMITIVE;
	default:
		return JSON_OTHER;
	}
}

int json_size(const struct json *j, int i)
{
	const jsmntok_t *t = tok(j, i);

	return t ? t->size : 0;
}

/* jsmn lays tokens out in document order; a key's size is 1 (its value). */
int json_next(const struct json *j, int i)
{
	int pending = 1;

	while (pending && i < j->ntok) {
		pending += j->tok[i].t.size;
		pending--;
		i++;
	}
	return i;
}

static bool tok_is(const struct json *j, int i, const char *s)
{
	const jsmntok_t *t = tok(j, i);
	size_t n = strlen(s);

	return t && t->type == JSMN_STRING && (size_t)(t->end - t->start) == n &&
	       !memcmp(j->text + t->start, s, n);
}

int json_get(const struct json *j, int obj, const char *key)
{
	const jsmntok_t *t = tok(j, obj);
	int k;

	if (!t || t->type != JSMN_OBJECT)
		return -1;
	k = obj + 1;
	for (int m = 0; m < t->size && k < j->ntok; m++) {
		if (tok_is(j, k, key))
			return k + 1 < j->ntok ? k + 1 : -1;
		k = json_next(j, k + 1);
	}
	return -1;
}

static int hex4(const char *s, const char *end, uint32_t *v)
{
	*v = 0;
	if (end - s < 4)
		return -1;
	for (int k = 0; k < 4; k++) {
		int h = fmt_hex_digit(s[k]);

		if (h < 0)
			return -1;
		*v = *v << 4 | (uint32_t)h;
	}
	return 0;
}

static size_t put_utf8(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

char *json_text(const struct json *j, int i)
{
	const jsmntok_t *t = tok(j, i);
	const char *s, *end;
	char *out, *o;

	if (!t)
		return strdup("-");
	s = j->text + t->start;
	end = j->text + t->end;
	/* Unescaping never makes a string longer (\uXXXX: 6 bytes, at most 4 of UTF-8). */
	out = malloc((size_t)(end - s) + 1);
	if (!out)
		return NULL;
	o = out;
	while (s < end) {
		unsigned char c = (unsigned char)*s++;

		if (c == '\\' && t->type == JSMN_STRING && s < end) {
			uint32_t cp, lo;

			c = (unsigned char)*s++;
			switch (c) {
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case 'u':
				if (hex4(s, end, &cp) < 0) {
					*o++ = '?';
					continue;
				}
				s += 4;
				/* A surrogate pair: \uD8xx\uDCxx. */
				if (cp >= 0xd800 && cp < 0xdc00 && end - s >= 6 && s[0] == '\\' &&
				    s[1] == 'u' && !hex4(s + 2, end, &lo) && lo >= 0xdc00 && lo < 0xe000) {
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
					s += 6;
				} else if (cp >= 0xd800 && cp < 0xe000) {
					cp = '?';
				}
				if (cp < 0x20 || cp == 0x7f)
					cp = '?';
				o += put_utf8(o, cp);
				continue;
			default:
				break;     /* \" \\ \/ and anything else: the character */
			}
		}
		*o++ = (char)(c < 0x20 || c == 0x7f ? '?' : c);
	}
	*o = '\0';
	return out;
}

void json_put_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

/* Whether array i holds only strings and primitives (printed on one line). */
static bool flat_array(const struct json *j, int i)
{
	int k = i + 1;

	for (int m = 0; m < json_size(j, i); m++, k++) {
		enum json_type ty = json_type(j, k);

		if (ty != JSON_STRING && ty != JSON_PRIMITIVE)
			return false;
	}
	return true;
}

static void print_value(const struct json *j, int i, const char *name, FILE *out)
{
	enum json_type ty = json_type(j, i);
	size_t nlen = strlen(name);

	if (ty == JSON_OBJECT && json_size(j, i) > 0) {
		int k = i + 1;

		for (int m = 0; m < json_size(j, i); m++) {
			char *key = json_text(j, k);
			char *sub = malloc(nlen + strlen(key ? key : "") + 2);

			if (key && sub) {
				sprintf(sub, "%s%s%s", name, nlen ? "." : "", key);
				print_value(j, k + 1, sub, out);
			}
			free(sub);
			free(key);
			k = json_next(j, k + 1);
		}
		return;
	}
	if (ty == JSON_ARRAY && json_size(j, i) > 0 && !flat_array(j, i)) {
		int k = i + 1;

		for (int m = 0; m < json_size(j, i); m++) {
			char *sub = malloc(nlen + 24);

			if (sub) {
				sprintf(sub, "%s[%d]", name, m);
				print_value(j, k, sub, out);
			}
			free(sub);
			k = json_next(j, k);
		}
		return;
	}
	if (nlen)
		fprintf(out, "%s: ", name);
	if (ty == JSON_ARRAY) {
		int k = i + 1;

		for (int m = 0; m < json_size(j, i); m++, k++) {
			char *v = json_text(j, k);

			fprintf(out, "%s%s", m ? ", " : "", v ? v : "?");
			free(v);
		}
		if (!json_size(j, i))
			fputs("-", out);
	} else {
		char *v = json_text(j, i);

		fputs(v ? v : "?", out);
		free(v);
	}
	fputc('\n', out);
}

void json_print_fields(const struct json *j, int i, FILE *out)
{
	print_value(j, i, "", out);
}

int json_print_table(const struct json *j, int arr, const struct json_column *cols, int ncols,
		     FILE *out)
{
	int rows, k;
	size_t *width;
	char **cell;

	if (json_type(j, arr) != JSON_ARRAY)
		return -1;
	rows = json_size(j, arr);
	width = calloc((size_t)ncols, sizeof(*width));
	cell = calloc((size_t)(rows + 1) * (size_t)ncols, sizeof(*cell));
	if (!width || !cell) {
		free(width);
		free(cell);
		return -1;
	}
	for (int c = 0; c < ncols; c++)
		cell[c] = strdup(cols[c].title);
	k = arr + 1;
	for (int r = 1; r <= rows; r++) {
		for (int c = 0; c < ncols; c++) {
			int v = json_get(j, k, cols[c].key);

			cell[r * ncols + c] = v < 0 ? strdup("-") : json_text(j, v);
		}
		k = json_next(j, k);
	}
	for (int r = 0; r <= rows; r++)
		for (int c = 0; c < ncols; c++) {
			size_t n = cell[r * ncols + c] ? strlen(cell[r * ncols + c]) : 1;

			if (n > width[c])
				width[c] = n;
		}
	for (int r = 0; r <= rows; r++) {
		for (int c = 0; c < ncols; c++) {
			const char *s = cell[r * ncols + c] ? cell[r * ncols + c] : "?";
			bool last = c == ncols - 1;

			if (cols[c].right)
				fprintf(out, "%*s", (int)width[c], s);
			else
				fprintf(out, "%-*s", last ? 0 : (int)width[c], s);
			fputs(last ? "\n" : "  ", out);
		}
	}
	for (int n = 0; n < (rows + 1) * ncols; n++)
		free(cell[n]);
	free(cell);
	free(width);
	return 0;
}
