/* The API's JSON (core/api_json.c): RFC 8259's grammar, jsmn's tokens read
 * through a table of fields (types, unknown and repeated fields, lengths,
 * ranges), and the writer's escaping and bounds. */
#include "unit.h"
#include "core/api_json.h"

#include <string.h>

static char err[160];
static struct json_doc d;

static int parse(const char *s)
{
	err[0] = 0;
	return json_parse(&d, s, (u32)strlen(s), err, sizeof(err));
}

TEST(grammar)
{
	static const char *const good[] = {
		"{}", " { } ", "", "  \r\n\t", "{\"a\":1}", "{\"a\":[1,2,{\"b\":null}],\"c\":-1.5e+3}",
		"{\"a\":\"\\u0041\\n\\\"\\\\\\/\"}", "{\"a\":true,\"b\":false}", "{\"a\":0}",
		"{\"a\":\"\xc3\xa9\"}", /* UTF-8 is JSON; the fields refuse it later */
	};
	static const char *const bad[] = {
		"[]", "1", "\"a\"", "{", "}", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{\"a\":1 \"b\":2}",
		"{\"a\" 1}", "{a:1}", "{\"a\":01}", "{\"a\":1.}", "{\"a\":.5}", "{\"a\":tru}",
		"{\"a\":nul}", "{\"a\":\"\\x\"}", "{\"a\":\"\\u12\"}", "{\"a\":\"x\ny\"}",
		"{\"a\":1}{}", "{\"a\":1} x", "{\"a\":[1,]}", "{\"a\":[,1]}", "{'a':1}",
		"{\"a\":1e}", "{\"a\":-}", "{\"a\":\"unterminated}",
		"{\"a\":[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]}", /* deeper than 16 */
	};

	for (unsigned i = 0; i < ARRAY_SIZE(good); i++) {
		if (parse(good[i]))
			fprintf(stderr, "refused: %s (%s)\n", good[i], err);
		CHECK_EQ(parse(good[i]), 0);
	}
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		if (!parse(bad[i]))
			fprintf(stderr, "accepted: %s\n", bad[i]);
		CHECK_EQ(parse(bad[i]), -EINVAL);
	}
	CHECK(!strcmp((parse("[]"), err), "the body is not a JSON object"));
	CHECK(!strcmp((parse("{} x"), err), "something follows the JSON object (at byte 3)"));
}

TEST(too_many_values)
{
	char s[2048] = "{\"a\":[";

	for (int i = 0; i < 200; i++)
		strcat(s, i ? ",1" : "1");
	strcat(s, "]}");
	CHECK_EQ(parse(s), -EINVAL);
	CHECK(!strcmp(err, "the body has more than 128 JSON values"));
}

static struct json_field f[] = {
	{ .name = "name", .types = BIT(JSON_STRING), .max = 15 },
	{ .name = "mem_mib", .types = BIT(JSON_UINT), .max = 1024 },
	{ .name = "start", .types = BIT(JSON_BOOL) },
	{ .name = "net", .types = BIT(JSON_BOOL) | BIT(JSON_OBJECT) },
	{ .name = "disks", .types = BIT(JSON_ARRAY) },
	{ .name = "any", .types = BIT(JSON_ANY) },
};

static int fields(const char *s)
{
	if (parse(s))
		return -1;
	return json_fields(&d, 0, f, ARRAY_SIZE(f), err, sizeof(err));
}

static bool said(const char *s, const char *want)
{
	fields(s);
	if (strcmp(err, want)) {
		fprintf(stderr, "  %s\n  got:    %s\n  wanted: %s\n", s, err, want);
		return false;
	}
	return true;
}

TEST(fields_read)
{
	char name[16];

	CHECK_EQ(fields("{\"name\":\"web\",\"mem_mib\":64,\"start\":false,\"net\":{\"mac\":1},"
			"\"disks\":[1,[2,3],4],\"any\":null}"), 0);
	json_string(&d, f[0].tok, name, sizeof(name));
	CHECK(!strcmp(name, "web"));
	CHECK_EQ(json_uint(&d, f[1].tok), 64);
	CHECK(!json_bool(&d, f[2].tok));
	CHECK_EQ(json_type_of(&d, f[3].tok), JSON_OBJECT);
	CHECK_EQ(json_count(&d, f[4].tok), 3);
	{
		int e = json_first(&d, f[4].tok);

		CHECK_EQ(json_uint(&d, e), 1);
		e = json_next(&d, e);
		CHECK_EQ(json_type_of(&d, e), JSON_ARRAY);
		e = json_next(&d, e);
		CHECK_EQ(json_uint(&d, e), 4); /* past the nested array */
	}
	CHECK_EQ(fields("{}"), 0);
	for (unsigned i = 0; i < ARRAY_SIZE(f); i++)
		CHECK_EQ(f[i].tok, -1);
	/* Escapes decode; a key spelled with one is the same key. */
	CHECK_EQ(fields("{\"na\\u006de\":\"w\\u0065b\\/x\"}"), 0);
	json_string(&d, f[0].tok, name, sizeof(name));
	CHECK(!strcmp(name, "web/x"));
}

TEST(fields_refused)
{
	CHECK(said("{\"nmae\":1}", "unknown field 'nmae'"));
	CHECK(said("{\"name\":\"a\",\"name\":\"b\"}", "field 'name' is given twice"));
	CHECK(said("{\"name\":\"a\",\"na\\u006de\":\"b\"}", "field 'name' is given twice"));
	CHECK(said("{\"name\":1}", "field 'name': expected a string"));
	CHECK(said("{\"name\":null}", "field 'name': expected a string"));
	CHECK(said("{\"name\":\"0123456789abcdef\"}", "field 'name': longer than 15 characters"));
	CHECK(said("{\"name\":\"a\\nb\"}", "field 'name': a control or non-ASCII character"));
	CHECK(said("{\"name\":\"a\\u0000b\"}", "field 'name': a control or non-ASCII character"));
	CHECK(said("{\"name\":\"\xc3\xa9\"}", "field 'name': a control or non-ASCII character"));
	CHECK(said("{\"name\":\"\\u00e9\"}", "field 'name': a control or non-ASCII character"));
	CHECK(said("{\"mem_mib\":\"64\"}", "field 'mem_mib': expected a whole number"));
	CHECK(said("{\"mem_mib\":-1}", "field 'mem_mib': not a whole number from 0 to 1024"));
	CHECK(said("{\"mem_mib\":1.5}", "field 'mem_mib': not a whole number from 0 to 1024"));
	CHECK(said("{\"mem_mib\":1e3}", "field 'mem_mib': not a whole number from 0 to 1024"));
	CHECK(said("{\"mem_mib\":1025}", "field 'mem_mib': more than 1024"));
	CHECK(said("{\"mem_mib\":99999999999999999999999}", "field 'mem_mib': more than 1024"));
	CHECK(said("{\"mem_mib\":true}", "field 'mem_mib': expected a whole number"));
	CHECK(said("{\"start\":1}", "field 'start': expected true or false"));
	CHECK(said("{\"start\":\"true\"}", "field 'start': expected true or false"));
	CHECK(said("{\"net\":[]}", "field 'net': expected true, false or an object"));
	CHECK(said("{\"disks\":{}}", "field 'disks': expected an array"));
	/* An unknown key is shown cut and printable. */
	CHECK(said("{\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\":1}",
		   "unknown field 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...'"));
	CHECK(said("{\"a'b\\n\":1}", "unknown field 'a?b\\n'"));
}

TEST(writer)
{
	char buf[256];
	struct json_writer w;

	jw_init(&w, buf, sizeof(buf));
	jw_obj(&w);
	jw_kstr(&w, "s", "q\"b\\n\nc\x01\x7f\xff");
	jw_ku64(&w, "n", 18446744073709551615ULL);
	jw_kbool(&w, "t", true);
	jw_key(&w, "a");
	jw_arr(&w);
	jw_u64(&w, 1);
	jw_obj(&w);
	jw_obj_end(&w);
	jw_str(&w, "");
	jw_arr_end(&w);
	jw_obj_end(&w);
	CHECK(jw_ok(&w));
	buf[w.len] = 0;
	CHECK(!strcmp(buf, "{\"s\":\"q\\\"b\\\\n\\nc\\u0001\\u007f\\u00ff\",\"n\":18446744073709551615,"
			   "\"t\":true,\"a\":[1,{},\"\"]}"));

	/* Too small: marked, never past the buffer (ASan watches). */
	for (u32 cap = 0; cap < 40; cap++) {
		char *small = malloc(cap ? cap : 1);

		jw_init(&w, small, cap);
		jw_obj(&w);
		jw_kstr(&w, "key", "a value that is long");
		jw_obj_end(&w);
		CHECK_EQ(jw_ok(&w), cap >= 30);
		free(small);
	}
	/* Unbalanced is not ok. */
	jw_init(&w, buf, sizeof(buf));
	jw_obj(&w);
	CHECK(!jw_ok(&w));
	jw_obj_end(&w);
	jw_obj_end(&w);
	CHECK(!jw_ok(&w));
}

int main(void)
{
	RUN(grammar);
	RUN(too_many_values);
	RUN(fields_read);
	RUN(fields_refused);
	RUN(writer);
	return unit_done();
}
