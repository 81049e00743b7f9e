/*
 * json.h - declared, validated decoding of JSON request bodies on cJSON.
 *
 * A handler lists the fields it accepts; json_decode() rejects malformed JSON,
 * non-object bodies, unknown fields, missing required fields, wrong types and
 * out-of-range values with XQ_EINVAL and a Chinese message naming the field,
 * and copies everything into a C struct. Handlers never touch cJSON input.
 */
#ifndef XQ_JSON_H
#define XQ_JSON_H

#include "xq.h"

#include <cjson/cJSON.h>

enum json_type {
	J_INT64,  /* integer number (no fraction), min..max */
	J_STRING, /* UTF-8 string, length in characters min..max */
	J_BOOL,   /* true / false */
	J_ENUM,   /* string that must be one of enum_values */
	J_DATE,   /* "YYYY-MM-DD", a real calendar date */
	J_DEC2,   /* number or numeric string with at most 2 decimals -> int64 hundredths */
	/*
	 * J_RAW_*: the item itself is kept (jval.raw, owned by the tree) for a
	 * structure the handler validates itself, e.g. tariff rules given to
	 * tariff_parse(); min..max bound its number of members / elements.
	 */
	J_RAW_OBJECT, /* a JSON object */
	J_RAW_ARRAY,  /* a JSON array */
};

#define J_REQUIRED 1u
#define J_NULLABLE 2u /* JSON null accepted: jval.null = 1 */

/* One decoded value. s points into the tree returned by json_decode(). */
struct jval {
	int set;  /* the field was present */
	int null; /* it was JSON null (only with J_NULLABLE) */
	int64_t i; /* J_INT64, J_BOOL (0/1), J_DEC2 (hundredths) */
	const char *s; /* J_STRING, J_ENUM, J_DATE */
	const cJSON *raw; /* J_RAW_OBJECT, J_RAW_ARRAY: points into the tree */
};

struct json_field {
	const char *name;
	enum json_type type;
	unsigned flags;
	size_t off; /* offsetof the struct jval in the output struct */
	int64_t min, max; /* numeric bounds, or string length bounds in characters */
	const char *const *enum_values; /* NULL-terminated, for J_ENUM */
	const char *label_zh; /* field name shown to people, e.g. "房号" */
};

/*
 * Decodes body (len bytes) into out following fields[0..n). On success *root
 * holds the parsed tree that owns the strings (caller frees with
 * cJSON_Delete). On failure returns XQ_EJSON or XQ_EINVAL, writes a Chinese
 * message into msg and the offending field name into field (both may be
 * empty), and *root is NULL.
 */
int json_decode(const char *body, size_t len, const struct json_field *fields, size_t n,
		void *out, cJSON **root /* OUT */, char *msg, size_t msglen, char *field,
		size_t fieldlen);

/* Counts UTF-8 characters; returns -1 if s is not valid UTF-8 (or has NULs/controls). */
long json_utf8_len(const char *s);

/* Formats hundredths as "12.50". */
void json_dec2_format(int64_t v, char *out, size_t n);

#endif
