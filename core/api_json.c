/*
 * JSON for the management API (core/api_json.h). Bodies are checked against
 * the grammar of RFC 8259 first (jsmn is a tokenizer and lets some broken
 * text through, a trailing comma for one), then tokenized by jsmn, the
 * header-only tokenizer of Debian's libjsmn-dev, and read through a table
 * of fields. Answers are written into a fixed buffer, every string escaped.
 */
#include "core/api_json.h"
#include "lib/format.h"
#include "lib/string.h"

#define JSMN_STATIC
#define JSMN_STRICT
#include <jsmn.h>

#define JSON_NEST_MAX 16 /* nesting a body may have */

static jsmntok_t toks[JSON_TOKENS_MAX]; /* CPU 0 only: one body at a time */

/* ---- the grammar (RFC 8259, section 2-7) ---- */

struct scan {
	const char *s;
	u32 i, n;
};

static void skip_ws(struct scan *p)
{
	while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' ||
			       p->s[p->i] == '\r'))
		p->i++;
}

static bool eat(struct scan *p, char c)
{
	if (p->i < p->n && p->s[p->i] == c) {
		p->i++;
		return true;
	}
	return false;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool scan_string(struct scan *p)
{
	if (!eat(p, '"'))
		return false;
	while (p->i < p->n) {
		u8 c = (u8)p->s[p->i++];

		if (c == '"')
			return true;
		if (c < 0x20)
			return false;
		if (c != '\\')
			continue;
		if (p->i >= p->n)
			return false;
		c = (u8)p->s[p->i++];
		if (c == 'u') {
			for (unsigned k = 0; k < 4; k++)
				if (p->i >= p->n || !is_hex(p->s[p->i++]))
					return false;
		} else if (!strchr("\"\\/bfnrt", c) || !c) {
			return false;
		}
	}
	return false;
}

static bool scan_digits(struct scan *p)
{
	u32 from = p->i;

	while (p->i < p->n && is_digit(p->s[p->i]))
		p->i++;
	return p->i > from;
}

static bool scan_number(struct scan *p)
{
	eat(p, '-');
	if (eat(p, '0')) {
		/* no more digits after a leading zero */
	} else if (!scan_digits(p)) {
		return false;
	}
	if (eat(p, '.') && !scan_digits(p))
		return false;
	if (eat(p, 'e') || eat(p, 'E')) {
		if (!eat(p, '+'))
			eat(p, '-');
		if (!scan_digits(p))
			return false;
	}
	return true;
}

static bool scan_literal(struct scan *p, const char *lit)
{
	size_t n = strlen(lit);

	if (p->n - p->i < n || memcmp(p->s + p->i, lit, n))
		return false;
	p->i += (u32)n;
	return true;
}

static bool scan_value(struct scan *p, unsigned depth)
{
	skip_ws(p);
	if (p->i >= p->n)
		return false;
	switch (p->s[p->i]) {
	case '{':
		if (depth == JSON_NEST_MAX)
			return false;
		p->i++;
		skip_ws(p);
		if (eat(p, '}'))
			return true;
		do {
			skip_ws(p);
			if (!scan_string(p))
				return false;
			skip_ws(p);
			if (!eat(p, ':') || !scan_value(p, depth + 1))
				return false;
			skip_ws(p);
		} while (eat(p, ','));
		return eat(p, '}');
	case '[':
		if (depth == JSON_NEST_MAX)
			return false;
		p->i++;
		skip_ws(p);
		if (eat(p, ']'))
			return true;
		do {
			if (!scan_value(p, depth + 1))
				return false;
			skip_ws(p);
		} while (eat(p, ','));
		return eat(p, ']');
	case '"':
		return scan_string(p);
	case 't':
		return scan_literal(p, "true");
	case 'f':
		return scan_literal(p, "false");
	case 'n':
		return scan_literal(p, "null");
	default:
		return scan_number(p);
	}
}

/* ---- reading ---- */

static int refuse(char *err, size_t n, const char *fmt, ...) __printf(3, 4);

static int refuse(char *err, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fmt_vsnprintf(err, n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static const jsmntok_t *tok(const struct json_doc *d, int t)
{
	return &((const jsmntok_t *)d->tok)[t];
}

int json_parse(struct json_doc *d, const char *js, u32 len, char *err, size_t n)
{
	struct scan p = { js, 0, len };
	jsmn_parser jp;
	int r;

	d->js = js;
	d->len = len;
	d->tok = toks;
	d->ntok = 0;
	skip_ws(&p);
	if (p.i == len) { /* an empty body: an empty object */
		d->js = "{}";
		d->len = 2;
		js = d->js;
		len = d->len;
		p = (struct scan){ js, 0, len };
	}
	if (js[p.i] != '{')
		return refuse(err, n, "the body is not a JSON object");
	if (!scan_value(&p, 0))
		return refuse(err, n, "the body is not JSON (at byte %u)", p.i);
	skip_ws(&p);
	if (p.i != len)
		return refuse(err, n, "something follows the JSON object (at byte %u)", p.i);
	jsmn_init(&jp);
	r = jsmn_parse(&jp, js, len, toks, JSON_TOKENS_MAX);
	if (r == JSMN_ERROR_NOMEM)
		return refuse(err, n, "the body has more than %d JSON values", JSON_TOKENS_MAX);
	if (r < 1 || toks[0].type != JSMN_OBJECT)
		return refuse(err, n, "the body is not JSON");
	d->ntok = r;
	return 0;
}

/* The token after t and everything inside it. */
static int skip(const struct json_doc *d, int t)
{
	int pending = 1;

	while (pending && t < d->ntok) {
		pending += tok(d, t)->size - 1;
		t++;
	}
	return t;
}

enum json_type json_type_of(const struct json_doc *d, int t)
{
	const jsmntok_t *k = tok(d, t);

	switch (k->type) {
	case JSMN_OBJECT:
		return JSON_OBJECT;
	case JSMN_ARRAY:
		return JSON_ARRAY;
	case JSMN_STRING:
		return JSON_STRING;
	default:
		break;
	}
	if (d->js[k->start] == 't' || d->js[k->start] == 'f')
		return JSON_BOOL;
	if (is_digit(d->js[k->start]))
		return JSON_UINT; /* or a fraction: json_fields tells them apart */
	return JSON_ANY;          /* null, a negative number */
}

static int hex_value(char c)
{
	return is_digit(c) ? c - '0' : (c | 0x20) - 'a' + 10;
}

/*
 * Decodes the string at s (its n bytes between the quotes, checked by
 * scan_string) into out (if not NULL, cap bytes with the NUL). Its length,
 * or -1 if a character is not printable ASCII: names and command lines are
 * plain text, and a control character has no business in either.
 */
static long decode(const char *s, int n, char *out, size_t cap)
{
	long len = 0;

	for (int i = 0; i < n; i++) {
		char c = s[i];

		if (c == '\\') {
			c = s[++i];
			switch (c) {
			case 'u': {
				unsigned v = 0;

				for (int k = 0; k < 4; k++)
					v = v << 4 | (unsigned)hex_value(s[++i]);
				if (v < 0x20 || v > 0x7e)
					return -1;
				c = (char)v;
				break;
			}
			case '"': case '\\': case '/':
				break;
			default: /* \b \f \n \r \t */
				return -1;
			}
		} else if ((u8)c < 0x20 || (u8)c > 0x7e) {
			return -1;
		}
		if (out && (size_t)len + 1 < cap)
			out[len] = c;
		len++;
	}
	if (out && cap)
		out[MIN((size_t)len, cap - 1)] = 0;
	return len;
}

void json_string(const struct json_doc *d, int t, char *buf, size_t cap)
{
	const jsmntok_t *k = tok(d, t);

	if (decode(d->js + k->start, k->end - k->start, buf, cap) < 0 && cap)
		buf[0] = 0;
}

u64 json_uint(const struct json_doc *d, int t)
{
	const jsmntok_t *k = tok(d, t);
	u64 v = 0;

	for (int i = k->start; i < k->end && is_digit(d->js[i]); i++)
		v = v > (~0ULL - 9) / 10 ? ~0ULL : v * 10 + (u64)(d->js[i] - '0');
	return v;
}

bool json_bool(const struct json_doc *d, int t)
{
	return d->js[tok(d, t)->start] == 't';
}

unsigned json_count(const struct json_doc *d, int t)
{
	return (unsigned)tok(d, t)->size;
}

int json_first(const struct json_doc *d, int t)
{
	return t + 1;
}

int json_next(const struct json_doc *d, int t)
{
	return skip(d, t);
}

/* "a string", "a number", ... for a wrong type's message. */
static const char *wanted(unsigned types)
{
	static const char *const one[] = {
		[JSON_STRING] = "a string", [JSON_UINT] = "a whole number", [JSON_BOOL] = "true or false",
		[JSON_OBJECT] = "an object", [JSON_ARRAY] = "an array",
	};

	if (types == (BIT(JSON_BOOL) | BIT(JSON_OBJECT)))
		return "true, false or an object";
	for (unsigned t = 0; t < ARRAY_SIZE(one); t++)
		if (types == BIT(t))
			return one[t];
	return "another type";
}

/* The key at t for a message: printable, cut at 32 characters. */
static const char *shown_key(const struct json_doc *d, int t, char buf[40])
{
	const jsmntok_t *k = tok(d, t);
	int n = MIN(k->end - k->start, 32), i;

	for (i = 0; i < n; i++) {
		char c = d->js[k->start + i];

		buf[i] = c >= 0x20 && c < 0x7f && c != '\'' ? c : '?';
	}
	if (k->end - k->start > n) {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = 0;
	return buf;
}

/* Is the number at t a whole number (no sign, fraction or exponent)? */
static bool whole(const struct json_doc *d, int t)
{
	const jsmntok_t *k = tok(d, t);

	for (int i = k->start; i < k->end; i++)
		if (!is_digit(d->js[i]))
			return false;
	return true;
}

static int check_value(const struct json_doc *d, int v, const struct json_field *f, char *err,
		       size_t n)
{
	enum json_type ty = json_type_of(d, v);
	const jsmntok_t *k = tok(d, v);
	long len;

	if (f->types == BIT(JSON_ANY))
		return 0;
	if ((f->types & BIT(JSON_UINT)) && k->type == JSMN_PRIMITIVE &&
	    (d->js[k->start] == '-' || is_digit(d->js[k->start])) && !whole(d, v))
		return refuse(err, n, "field '%s': not a whole number from 0 to %lu", f->name,
			      (unsigned long)f->max);
	if (ty == JSON_ANY || !(f->types & BIT(ty)))
		return refuse(err, n, "field '%s': expected %s", f->name, wanted(f->types));
	switch (ty) {
	case JSON_STRING:
		len = decode(d->js + k->start, k->end - k->start, NULL, 0);
		if (len < 0)
			return refuse(err, n, "field '%s': a control or non-ASCII character", f->name);
		if ((u64)len > f->max)
			return refuse(err, n, "field '%s': longer than %lu characters", f->name,
				      (unsigned long)f->max);
		return 0;
	case JSON_UINT:
		if (k->end - k->start > 20 || json_uint(d, v) > f->max)
			return refuse(err, n, "field '%s': more than %lu", f->name,
				      (unsigned long)f->max);
		return 0;
	default:
		return 0;
	}
}

int json_fields(const struct json_doc *d, int obj, struct json_field *f, unsigned nf, char *err,
		size_t n)
{
	const jsmntok_t *o = tok(d, obj);
	int t = obj + 1;

	if (o->type != JSMN_OBJECT)
		return refuse(err, n, "expected a JSON object");
	for (unsigned i = 0; i < nf; i++)
		f[i].tok = -1;
	for (int k = 0; k < o->size; k++) {
		char key[40], shown[40];
		unsigned i;
		long len;

		/* The grammar was checked: t is a key, t + 1 its value. */
		len = decode(d->js + tok(d, t)->start, tok(d, t)->end - tok(d, t)->start, key,
			     sizeof(key));
		for (i = 0; i < nf; i++)
			if (len >= 0 && (size_t)len < sizeof(key) && !strcmp(key, f[i].name))
				break;
		if (i == nf)
			return refuse(err, n, "unknown field '%s'", shown_key(d, t, shown));
		if (f[i].tok >= 0)
			return refuse(err, n, "field '%s' is given twice", f[i].name);
		f[i].tok = t + 1;
		if (check_value(d, t + 1, &f[i], err, n))
			return -EINVAL;
		t = skip(d, t + 1);
	}
	return 0;
}

/* ---- writing ---- */

static void put(struct json_writer *w, const char *s, size_t n)
{
	if (w->overflow || n > w->cap - w->len) {
		w->overflow = true;
		return;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += (u32)n;
}

/* Before a value: a comma unless it is the first here or follows a key. */
static void sep(struct json_writer *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (!w->first[w->depth])
		put(w, ",", 1);
	w->first[w->depth] = false;
}

void jw_init(struct json_writer *w, char *buf, u32 cap)
{
	memset(w, 0, sizeof(*w));
	w->buf = buf;
	w->cap = cap;
	w->first[0] = true;
}

static void jw_open(struct json_writer *w, const char *c)
{
	sep(w);
	put(w, c, 1);
	if (w->depth + 1 >= JSON_DEPTH_MAX) {
		w->overflow = true;
		return;
	}
	w->first[++w->depth] = true;
}

static void jw_close(struct json_writer *w, const char *c)
{
	if (!w->depth) {
		w->overflow = true;
		return;
	}
	w->depth--;
	put(w, c, 1);
}

void jw_obj(struct json_writer *w) { jw_open(w, "{"); }
void jw_obj_end(struct json_writer *w) { jw_close(w, "}"); }
void jw_arr(struct json_writer *w) { jw_open(w, "["); }
void jw_arr_end(struct json_writer *w) { jw_close(w, "]"); }

void jw_strn(struct json_writer *w, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	sep(w);
	put(w, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		u8 c = (u8)s[i];
		char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };

		if (c == '"' || c == '\\') {
			e[1] = (char)c;
			put(w, e, 2);
		} else if (c == '\n') {
			put(w, "\\n", 2);
		} else if (c < 0x20 || c > 0x7e) {
			put(w, e, 6);
		} else {
			put(w, (const char *)&c, 1);
		}
	}
	put(w, "\"", 1);
}

void jw_str(struct json_writer *w, const char *s)
{
	jw_strn(w, s, strlen(s));
}

void jw_key(struct json_writer *w, const char *k)
{
	jw_str(w, k);
	put(w, ":", 1);
	w->after_key = true;
}

void jw_u64(struct json_writer *w, u64 v)
{
	char b[24];

	sep(w);
	put(w, b, (size_t)fmt_snprintf(b, sizeof(b), "%lu", (unsigned long)v));
}

void jw_bool(struct json_writer *w, bool v)
{
	sep(w);
	put(w, v ? "true" : "false", v ? 4 : 5);
}

void jw_null(struct json_writer *w)
{
	sep(w);
	put(w, "null", 4);
}

void jw_kstr(struct json_writer *w, const char *k, const char *s)
{
	jw_key(w, k);
	jw_str(w, s);
}

void jw_ku64(struct json_writer *w, const char *k, u64 v)
{
	jw_key(w, k);
	jw_u64(w, v);
}

void jw_kbool(struct json_writer *w, const char *k, bool v)
{
	jw_key(w, k);
	jw_bool(w, v);
}

bool jw_ok(const struct json_writer *w)
{
	return !w->overflow && !w->depth && !w->after_key;
}
