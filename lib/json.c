/*
 * json.c - the field-table decoder behind every JSON request body.
 * Validation is strict on purpose: an unknown field is an error, so a typo
 * in a client is found at once instead of being silently ignored.
 */
#include "json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

long json_utf8_len(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	long n = 0;

	while (*p) {
		unsigned c = *p;
		int extra;
		unsigned cp;

		if (c < 0x80) {
			/* control characters other than tab/newline have no place in our data */
			if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
				return -1;
			p++;
			n++;
			continue;
		}
		if ((c & 0xE0) == 0xC0)
			extra = 1, cp = c & 0x1F;
		else if ((c & 0xF0) == 0xE0)
			extra = 2, cp = c & 0x0F;
		else if ((c & 0xF8) == 0xF0)
			extra = 3, cp = c & 0x07;
		else
			return -1;
		p++;
		for (int i = 0; i < extra; i++, p++) {
			if ((*p & 0xC0) != 0x80)
				return -1;
			cp = (cp << 6) | (*p & 0x3F);
		}
		if ((extra == 1 && cp < 0x80) || (extra == 2 && cp < 0x800) ||
		    (extra == 3 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
			return -1;
		n++;
	}
	return n;
}

void json_dec2_format(int64_t v, char *out, size_t n)
{
	uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	snprintf(out, n, "%s%llu.%02llu", v < 0 ? "-" : "", (unsigned long long)(a / 100),
		 (unsigned long long)(a % 100));
}

static int is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int valid_date(const char *s)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, m, d;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return 0;
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y < 1970 || y > 2200 || m < 1 || m > 12 || d < 1)
		return 0;
	return d <= mdays[m - 1] + (m == 2 && is_leap(y));
}

/* "12", "12.5", "-3.25" -> hundredths; rejects more than two decimals. */
static int parse_dec2(const char *s, int64_t *out)
{
	int neg = 0, frac_digits = 0;
	int64_t v = 0;
	const char *p = s;

	if (*p == '-')
		neg = 1, p++;
	if (*p < '0' || *p > '9')
		return XQ_EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (INT64_MAX - 9) / 10)
			return XQ_EINVAL;
		v = v * 10 + (*p - '0');
	}
	if (v > INT64_MAX / 100)
		return XQ_EINVAL;
	v *= 100;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return XQ_EINVAL;
		for (; *p >= '0' && *p <= '9'; p++, frac_digits++) {
			if (frac_digits >= 2)
				return XQ_EINVAL;
			v += (*p - '0') * (frac_digits == 0 ? 10 : 1);
		}
	}
	if (*p)
		return XQ_EINVAL;
	*out = neg ? -v : v;
	return XQ_OK;
}

/*
 * cJSON turns the escape \u0000 into a NUL inside valuestring, which would
 * silently cut the string short; such bodies are refused up front. An
 * escape is a backslash preceded by an even number of backslashes.
 */
static int has_nul_escape(const char *body, size_t len)
{
	for (size_t i = 0; i + 5 < len; i++) {
		size_t k = 0;
		if (body[i] != '\\' || body[i + 1] != 'u' || strncmp(body + i + 2, "0000", 4))
			continue;
		while (k < i && body[i - 1 - k] == '\\')
			k++;
		if (k % 2 == 0)
			return 1;
	}
	return 0;
}

static int fail(char *msg, size_t msglen, char *field, size_t fieldlen,
		const struct json_field *f, const char *why)
{
	snprintf(field, fieldlen, "%s", f ? f->name : "");
	if (f)
		snprintf(msg, msglen, "%s（%s）%s", f->label_zh ? f->label_zh : f->name, f->name, why);
	else
		snprintf(msg, msglen, "%s", why);
	return XQ_EINVAL;
}

static int decode_one(const cJSON *item, const struct json_field *f, struct jval *v, char *msg,
		      size_t msglen, char *field, size_t fieldlen)
{
	char why[160];

	v->set = 1;
	if (cJSON_IsNull(item)) {
		if (!(f->flags & J_NULLABLE))
			return fail(msg, msglen, field, fieldlen, f, "不能为空");
		v->null = 1;
		return XQ_OK;
	}
	switch (f->type) {
	case J_INT64: {
		double d;
		if (!cJSON_IsNumber(item))
			return fail(msg, msglen, field, fieldlen, f, "必须是整数");
		d = item->valuedouble;
		/* beyond 2^53 a double no longer holds every integer exactly */
		if (d != floor(d) || fabs(d) > 9007199254740992.0)
			return fail(msg, msglen, field, fieldlen, f, "必须是整数");
		v->i = (int64_t)d;
		if (v->i < f->min || v->i > f->max) {
			snprintf(why, sizeof(why), "必须在 %lld 到 %lld 之间", (long long)f->min,
				 (long long)f->max);
			return fail(msg, msglen, field, fieldlen, f, why);
		}
		return XQ_OK;
	}
	case J_BOOL:
		if (!cJSON_IsBool(item))
			return fail(msg, msglen, field, fieldlen, f, "必须是 true 或 false");
		v->i = cJSON_IsTrue(item);
		return XQ_OK;
	case J_DEC2: {
		char tmp[64];
		if (cJSON_IsString(item)) {
			snprintf(tmp, sizeof(tmp), "%s", item->valuestring);
		} else if (cJSON_IsNumber(item)) {
			/* %.10g keeps what the client wrote for any sane value */
			snprintf(tmp, sizeof(tmp), "%.10g", item->valuedouble);
		} else {
			return fail(msg, msglen, field, fieldlen, f, "必须是数字");
		}
		if (strchr(tmp, 'e') || parse_dec2(tmp, &v->i))
			return fail(msg, msglen, field, fieldlen, f, "必须是最多两位小数的数字");
		if (v->i < f->min || v->i > f->max) {
			char a[32], b[32];
			json_dec2_format(f->min, a, sizeof(a));
			json_dec2_format(f->max, b, sizeof(b));
			snprintf(why, sizeof(why), "必须在 %s 到 %s 之间", a, b);
			return fail(msg, msglen, field, fieldlen, f, why);
		}
		return XQ_OK;
	}
	case J_STRING:
	case J_ENUM:
	case J_DATE: {
		long chars;
		if (!cJSON_IsString(item))
			return fail(msg, msglen, field, fieldlen, f, "必须是字符串");
		v->s = item->valuestring;
		chars = json_utf8_len(v->s);
		if (chars < 0)
			return fail(msg, msglen, field, fieldlen, f, "包含无效字符");
		if (f->type == J_DATE) {
			if (!valid_date(v->s))
				return fail(msg, msglen, field, fieldlen, f, "必须是有效日期（YYYY-MM-DD）");
			return XQ_OK;
		}
		if (f->type == J_ENUM) {
			for (const char *const *e = f->enum_values; *e; e++)
				if (!strcmp(*e, v->s))
					return XQ_OK;
			return fail(msg, msglen, field, fieldlen, f, "取值不在允许范围内");
		}
		if (chars < f->min) {
			if (f->min == 1)
				return fail(msg, msglen, field, fieldlen, f, "不能为空");
			snprintf(why, sizeof(why), "至少 %lld 个字符", (long long)f->min);
			return fail(msg, msglen, field, fieldlen, f, why);
		}
		if (chars > f->max) {
			snprintf(why, sizeof(why), "最多 %lld 个字符", (long long)f->max);
			return fail(msg, msglen, field, fieldlen, f, why);
		}
		return XQ_OK;
	}
	case J_RAW_OBJECT:
	case J_RAW_ARRAY: {
		int obj = f->type == J_RAW_OBJECT, count;
		if (obj ? !cJSON_IsObject(item) : !cJSON_IsArray(item))
			return fail(msg, msglen, field, fieldlen, f, obj ? "必须是对象" : "必须是数组");
		count = cJSON_GetArraySize(item);
		if (count < f->min || count > f->max) {
			snprintf(why, sizeof(why), "%s必须有 %lld 到 %lld 个", obj ? "成员" : "元素",
				 (long long)f->min, (long long)f->max);
			return fail(msg, msglen, field, fieldlen, f, why);
		}
		v->raw = item;
		return XQ_OK;
	}
	}
	return fail(msg, msglen, field, fieldlen, f, "类型不支持");
}

int json_decode(const char *body, size_t len, const struct json_field *fields, size_t n,
		void *out, cJSON **root, char *msg, size_t msglen, char *field, size_t fieldlen)
{
	cJSON *doc, *item;
	int rc;

	*root = NULL;
	msg[0] = field[0] = '\0';
	/* body is NUL-terminated (struct buf); counting the NUL lets cJSON reject
	 * trailing garbage, and an embedded NUL would hide the rest of the body */
	doc = memchr(body, '\0', len) ? NULL : cJSON_ParseWithLengthOpts(body, len + 1, NULL, 1);
	if (doc && has_nul_escape(body, len)) {
		cJSON_Delete(doc);
		snprintf(msg, msglen, "请求内容包含无效字符（\\u0000）");
		return XQ_EINVAL;
	}
	if (!doc) {
		snprintf(msg, msglen, "请求内容不是有效的 JSON");
		return XQ_EJSON;
	}
	if (!cJSON_IsObject(doc)) {
		cJSON_Delete(doc);
		snprintf(msg, msglen, "请求内容必须是 JSON 对象");
		return XQ_EJSON;
	}
	cJSON_ArrayForEach(item, doc) {
		size_t i;
		for (i = 0; i < n; i++)
			if (!strcmp(fields[i].name, item->string))
				break;
		if (i == n) {
			snprintf(field, fieldlen, "%s", item->string);
			snprintf(msg, msglen, "不支持的字段：%s", item->string);
			cJSON_Delete(doc);
			return XQ_EINVAL;
		}
		/* cJSON keeps duplicate keys; the second one would be silently ignored */
		for (cJSON *prev = doc->child; prev != item; prev = prev->next)
			if (!strcmp(prev->string, item->string)) {
				snprintf(field, fieldlen, "%s", item->string);
				snprintf(msg, msglen, "字段重复：%s", item->string);
				cJSON_Delete(doc);
				return XQ_EINVAL;
			}
	}
	for (size_t i = 0; i < n; i++) {
		struct jval *v = (struct jval *)((char *)out + fields[i].off);
		memset(v, 0, sizeof(*v));
		item = cJSON_GetObjectItemCaseSensitive(doc, fields[i].name);
		if (!item) {
			if (fields[i].flags & J_REQUIRED) {
				fail(msg, msglen, field, fieldlen, &fields[i], "是必填项");
				cJSON_Delete(doc);
				return XQ_EINVAL;
			}
			continue;
		}
		if ((rc = decode_one(item, &fields[i], v, msg, msglen, field, fieldlen))) {
			cJSON_Delete(doc);
			return rc;
		}
	}
	*root = doc;
	return XQ_OK;
}
