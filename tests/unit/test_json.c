/*
 * test_json.c - the field-table decoder: types, bounds, required/unknown/
 * duplicate fields, UTF-8 checks, dates and two-decimal numbers.
 */
#include "json.h"
#include "test.h"

#include <stddef.h>

struct in {
	struct jval id, name, flag, kind, day, area, opt;
};

static const char *const kinds[] = { "a", "b", NULL };

#define O(f) offsetof(struct in, f)
static const struct json_field fields[] = {
	{ "id", J_INT64, J_REQUIRED, O(id), 1, 1000, NULL, "编号" },
	{ "name", J_STRING, J_REQUIRED, O(name), 1, 4, NULL, "名称" },
	{ "flag", J_BOOL, 0, O(flag), 0, 1, NULL, "标志" },
	{ "kind", J_ENUM, 0, O(kind), 0, 0, kinds, "类型" },
	{ "day", J_DATE, 0, O(day), 0, 0, NULL, "日期" },
	{ "area", J_DEC2, 0, O(area), 0, 100000, NULL, "面积" },
	{ "opt", J_INT64, J_NULLABLE, O(opt), 0, 10, NULL, "可选" },
};

static int dec(const char *body, struct in *in, char *field)
{
	char msg[256];
	cJSON *root = NULL;
	int rc = json_decode(body, strlen(body), fields, sizeof(fields) / sizeof(fields[0]), in,
			     &root, msg, sizeof(msg), field, 64);
	if (rc == XQ_OK)
		CHECK(root != NULL);
	else
		CHECK(root == NULL && msg[0]);
	cJSON_Delete(root);
	return rc;
}

TEST(good)
{
	struct in in;
	char f[64];
	CHECK_EQ_I64(dec("{\"id\":7,\"name\":\"一二三四\",\"flag\":true,\"kind\":\"b\",\"day\":\"2024-02-29\","
			 "\"area\":\"89.5\",\"opt\":null}", &in, f), XQ_OK);
	CHECK_EQ_I64(in.id.i, 7);
	CHECK_EQ_I64(in.flag.i, 1);
	CHECK_EQ_I64(in.area.i, 8950);
	CHECK(in.opt.set && in.opt.null);
	CHECK_EQ_I64(dec("{\"id\":1,\"name\":\"x\",\"area\":12.34}", &in, f), XQ_OK);
	CHECK_EQ_I64(in.area.i, 1234);
	CHECK(!in.flag.set && !in.day.set);
}

TEST(rejections_name_the_field)
{
	struct in in;
	char f[64];
	CHECK_EQ_I64(dec("{\"id\":1", &in, f), XQ_EJSON);
	CHECK_EQ_I64(dec("[1]", &in, f), XQ_EJSON);
	CHECK_EQ_I64(dec("{\"id\":1,\"name\":\"x\"} x", &in, f), XQ_EJSON);
	CHECK_EQ_I64(dec("{\"name\":\"x\"}", &in, f), XQ_EINVAL);
	CHECK_STR(f, "id");
	CHECK_EQ_I64(dec("{\"id\":1001,\"name\":\"x\"}", &in, f), XQ_EINVAL);
	CHECK_STR(f, "id");
	CHECK_EQ_I64(dec("{\"id\":1.5,\"name\":\"x\"}", &in, f), XQ_EINVAL);
	CHECK_EQ_I64(dec("{\"id\":\"1\",\"name\":\"x\"}", &in, f), XQ_EINVAL);
	CHECK_EQ_I64(dec("{\"id\":1,\"name\":\"12345\"}", &in, f), XQ_EINVAL);
	CHECK_STR(f, "name");
	CHECK_EQ_I64(dec("{\"id\":1,\"name\":\"\"}", &in, f), XQ_EINVAL);
	CHECK_EQ_I64(dec("{\"id\":1,\"name\":null}", &in, f), XQ_EINVAL);
	CHECK_EQ_I64(dec("{\"id\":1,\"name\":\"x\",\"zzz\":1}", &in, f), XQ_EINVAL);
	CHECK_STR(f, "zzz");
	CHECK_EQ_I64(dec("{\"id\":1,\"name\":\"x\",\"id\":2}", &in, f), XQ_EINVAL);
	CHECK_STR(f, "id");
	CHECK_EQ_I64(dec("{\"id\":1,\"name\":\"x\",\"kind\":\"c\"}", &in, f), XQ_EINVAL);
	CHECK_STR(f, "kind");
	CHECK_EQ_I64(dec("{\"id\":1,\"name\":\"x\",\"day\":\"2023-02-29\"}", &in, f), XQ_EINVAL);
	CHECK_EQ_I64(dec("{\"id\":1,\"name\":\"x\",\"day\":\"2023-13-01\"}", &in, f), XQ_EINVAL);
	CHECK_EQ_I64(dec("{\"id\":1,\"name\":\"x\",\"area\":1.234}", &in, f), XQ_EINVAL);
	CHECK_EQ_I64(dec("{\"id\":1,\"name\":\"x\",\"area\":\"1e3\"}", &in, f), XQ_EINVAL);
	CHECK_EQ_I64(dec("{\"id\":1,\"name\":\"x\",\"area\":-1}", &in, f), XQ_EINVAL);
	CHECK_EQ_I64(dec("{\"id\":1,\"name\":\"x\",\"flag\":1}", &in, f), XQ_EINVAL);
	CHECK_EQ_I64(dec("{\"id\":1,\"name\":\"x\",\"opt\":11}", &in, f), XQ_EINVAL);
	/* JSON escapes that decode to control characters or broken surrogates */
	CHECK_EQ_I64(dec("{\"id\":1,\"name\":\"a\\u0000b\"}", &in, f), XQ_EINVAL);
	CHECK_EQ_I64(dec("{\"id\":1,\"name\":\"\\u0007\"}", &in, f), XQ_EINVAL);
}

TEST(utf8)
{
	CHECK_EQ_I64(json_utf8_len("abc"), 3);
	CHECK_EQ_I64(json_utf8_len("小区"), 2);
	CHECK_EQ_I64(json_utf8_len("🏠"), 1);
	CHECK_EQ_I64(json_utf8_len("\xC0\xAF"), -1);     /* overlong */
	CHECK_EQ_I64(json_utf8_len("\xED\xA0\x80"), -1); /* surrogate */
	CHECK_EQ_I64(json_utf8_len("\xE5\xB0"), -1);     /* truncated */
	CHECK_EQ_I64(json_utf8_len("\xFF"), -1);
}

TEST(dec2_format)
{
	char b[32];
	json_dec2_format(8950, b, sizeof(b));
	CHECK_STR(b, "89.50");
	json_dec2_format(-5, b, sizeof(b));
	CHECK_STR(b, "-0.05");
	json_dec2_format(0, b, sizeof(b));
	CHECK_STR(b, "0.00");
}

/* J_RAW_OBJECT / J_RAW_ARRAY keep the item for the handler and check shape and size. */
struct raw_in {
	struct jval rules, ids;
};

#define R(f) offsetof(struct raw_in, f)
static const struct json_field raw_fields[] = {
	{ "rules", J_RAW_OBJECT, J_REQUIRED, R(rules), 1, 20, NULL, "规则" },
	{ "ids", J_RAW_ARRAY, 0, R(ids), 1, 3, NULL, "房屋" },
};

static int dec_raw(const char *body, struct raw_in *in, char *field, cJSON **root)
{
	char msg[256];

	memset(in, 0, sizeof(*in));
	return json_decode(body, strlen(body), raw_fields, 2, in, root, msg, sizeof(msg), field, 64);
}

TEST(raw_object_and_array)
{
	struct raw_in in;
	char field[64];
	cJSON *root = NULL;

	CHECK_EQ_I64(dec_raw("{\"rules\":{\"a\":1,\"b\":[2]},\"ids\":[1,2]}", &in, field, &root),
		     XQ_OK);
	CHECK(cJSON_IsObject(in.rules.raw));
	CHECK_EQ_I64(cJSON_GetArraySize(in.rules.raw), 2);
	CHECK(cJSON_IsArray(in.ids.raw));
	CHECK_EQ_I64(cJSON_GetArrayItem(in.ids.raw, 1)->valueint, 2);
	cJSON_Delete(root);
	root = NULL;
	CHECK_EQ_I64(dec_raw("{\"rules\":[1]}", &in, field, &root), XQ_EINVAL);
	CHECK_STR(field, "rules");
	CHECK_EQ_I64(dec_raw("{\"rules\":{}}", &in, field, &root), XQ_EINVAL);
	CHECK_STR(field, "rules");
	CHECK_EQ_I64(dec_raw("{\"rules\":{\"a\":1},\"ids\":{}}", &in, field, &root), XQ_EINVAL);
	CHECK_STR(field, "ids");
	CHECK_EQ_I64(dec_raw("{\"rules\":{\"a\":1},\"ids\":[1,2,3,4]}", &in, field, &root),
		     XQ_EINVAL);
	CHECK_STR(field, "ids");
	CHECK(root == NULL);
}

int main(void)
{
	RUN(good);
	RUN(rejections_name_the_field);
	RUN(utf8);
	RUN(dec2_format);
	RUN(raw_object_and_array);
	return test_report();
}
