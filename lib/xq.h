/*
 * xq.h - what every module of libxq shares: result codes, the error helper,
 * assertions and the allocation wrappers that never return NULL.
 *
 * Result codes are one X-macro list so that the log text, the HTTP status and
 * the Chinese text shown to people cannot drift apart.
 */
#ifndef XQ_H
#define XQ_H

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>

#ifdef XQ_UNITTEST
#define XQ_STATIC
#else
#define XQ_STATIC static
#endif

#define XQ_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define XQ_NORETURN __attribute__((noreturn))
#define XQ_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/*
 * X(name, value, http status, stable code for programs, english, chinese)
 * The stable code is what clients branch on; never rename one.
 */
#define XQ_FOR_EACH_ERR(X)                                                                     \
	X(XQ_OK, 0, 200, "OK", "ok", "成功")                                                     \
	X(XQ_ERROR, -1, 500, "INTERNAL", "internal error", "系统内部错误，请稍后重试")           \
	X(XQ_ENOTFOUND, -2, 404, "NOT_FOUND", "not found", "记录不存在")                         \
	X(XQ_EINVAL, -3, 400, "INVALID_ARGUMENT", "invalid argument", "参数不正确")              \
	X(XQ_EJSON, -4, 400, "BAD_JSON", "malformed json", "请求内容不是有效的 JSON")            \
	X(XQ_ETOOBIG, -5, 413, "BODY_TOO_LARGE", "body too large", "请求内容过大")               \
	X(XQ_EAUTH, -6, 401, "UNAUTHENTICATED", "not authenticated", "请先登录")                 \
	X(XQ_EFORBIDDEN, -7, 403, "FORBIDDEN", "forbidden", "没有权限执行此操作")                \
	X(XQ_ECSRF, -8, 403, "CSRF_FAILED", "csrf token missing or wrong", "安全校验失败，请刷新页面后重试") \
	X(XQ_ETHROTTLED, -9, 429, "TOO_MANY_ATTEMPTS", "too many attempts", "尝试次数过多，请稍后再试") \
	X(XQ_ECONFLICT, -10, 409, "CONFLICT", "conflict", "数据冲突：记录已存在或已被修改")       \
	X(XQ_EDB, -11, 503, "DB_UNAVAILABLE", "database error", "数据库暂时不可用，请稍后重试")  \
	X(XQ_EOVERFLOW, -12, 400, "OVERFLOW", "numeric overflow", "数值超出范围")                \
	X(XQ_EMETHOD, -13, 405, "METHOD_NOT_ALLOWED", "method not allowed", "不支持的请求方法")   \
	X(XQ_EBADLOGIN, -14, 401, "BAD_CREDENTIALS", "bad credentials", "用户名或密码错误")      \
	X(XQ_EINUSE, -15, 409, "IN_USE", "still referenced", "该记录仍被其他数据引用，无法删除") \
	X(XQ_EAGAIN, -16, 503, "RETRY", "try again", "服务繁忙，请稍后重试")                     \
	X(XQ_EPROTO, -17, 502, "PROTOCOL", "protocol error", "协议错误")                         \
	X(XQ_EMEDIA, -18, 415, "UNSUPPORTED_MEDIA_TYPE", "unsupported media type", "请求内容类型必须是 application/json") \
	X(XQ_ETOTP, -19, 401, "TOTP_REQUIRED", "totp code required or wrong", "请输入正确的动态验证码") \
	X(XQ_EDISABLED, -20, 403, "ACCOUNT_DISABLED", "account disabled", "账号已停用，请联系管理员") \
	X(XQ_EWEAKPW, -21, 400, "WEAK_PASSWORD", "password too weak", "密码至少 8 位，且须同时包含字母和数字")

enum xq_err {
#define XQ_ENUM(name, val, http, code, en, zh) name = (val),
	XQ_FOR_EACH_ERR(XQ_ENUM)
#undef XQ_ENUM
};

/* English text for logs. Never NULL. */
const char *xq_strerror(int rc);
/* Chinese text for people. Never NULL. */
const char *xq_message_zh(int rc);
/* Stable machine code, e.g. "NOT_FOUND". Never NULL. */
const char *xq_code(int rc);
/* HTTP status for a result code; unknown codes map to 500. */
int xq_http_status(int rc);

/* Logs "error: <fmt>: <xq_strerror(rc)>" at error level and returns rc. */
int xq_error(int rc, const char *fmt, ...) XQ_PRINTF(2, 3);

XQ_NORETURN void xq_panic(const char *file, int line, const char *expr);
#define XQ_ASSERT(e) ((e) ? (void)0 : xq_panic(__FILE__, __LINE__, #e))

/* Allocation: abort on out of memory, never return NULL. */
void *xq_malloc(size_t n);
void *xq_calloc(size_t n, size_t size); /* checks n*size for overflow */
void *xq_realloc(void *p, size_t n);
char *xq_strdup(const char *s);
char *xq_strndup(const char *s, size_t n);

/* snprintf that asserts the result fit (truncation is our bug). */
int xq_snprintf(char *dst, size_t n, const char *fmt, ...) XQ_PRINTF(3, 4);

/* Strict decimal integer parse of the whole string; XQ_EINVAL on junk/overflow. */
int xq_parse_i64(const char *s, int64_t *out /* OUT */);

/* Milliseconds since the Unix epoch (wall clock) and a monotonic clock. */
int64_t xq_now_ms(void);
int64_t xq_mono_us(void);

/* Fill buf with n cryptographically random bytes (OpenSSL RAND_bytes). */
int xq_random(void *buf, size_t n);
/* Lower-case hex of n bytes into out (2n+1 bytes). */
void xq_hex(const void *in, size_t n, char *out);

#endif
