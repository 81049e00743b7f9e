/*
 * test_auth.c - password hashing, the password policy and TOTP against the
 * RFC 6238 reference values.
 */
#include "auth.h"
#include "test.h"

TEST(password_hash_and_verify)
{
	char h1[AUTH_HASH_MAX], h2[AUTH_HASH_MAX];

	CHECK_EQ_I64(auth_hash_password("Correct-horse-1", h1, sizeof(h1)), XQ_OK);
	CHECK_EQ_I64(auth_hash_password("Correct-horse-1", h2, sizeof(h2)), XQ_OK);
	CHECK(strncmp(h1, "$argon2id$v=19$m=19456,t=2,p=1$", 31) == 0);
	CHECK(strcmp(h1, h2) != 0); /* salted */
	CHECK_EQ_I64(auth_verify_password(h1, "Correct-horse-1"), XQ_OK);
	CHECK_EQ_I64(auth_verify_password(h1, "correct-horse-1"), XQ_EBADLOGIN);
	CHECK_EQ_I64(auth_verify_password("garbage", "x"), XQ_EBADLOGIN);
}

TEST(policy)
{
	CHECK_EQ_I64(auth_check_policy("abcdefg1"), XQ_OK);
	CHECK_EQ_I64(auth_check_policy("abcdef1"), XQ_EWEAKPW);
	CHECK_EQ_I64(auth_check_policy("abcdefgh"), XQ_EWEAKPW);
	CHECK_EQ_I64(auth_check_policy("12345678"), XQ_EWEAKPW);
}

TEST(totp_rfc6238)
{
	/* RFC 6238 appendix B, SHA-1 secret "12345678901234567890", last 6 digits */
	const char *secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
	char code[7];

	CHECK_EQ_I64(auth_totp_code(secret, 59, code), XQ_OK);
	CHECK_STR(code, "287082");
	auth_totp_code(secret, 1111111109, code);
	CHECK_STR(code, "081804");
	auth_totp_code(secret, 1234567890, code);
	CHECK_STR(code, "005924");
	auth_totp_code(secret, 2000000000, code);
	CHECK_STR(code, "279037");
	CHECK_EQ_I64(auth_totp_verify(secret, "005924", 1234567890), XQ_OK);
	CHECK_EQ_I64(auth_totp_verify(secret, "005924", 1234567890 + 30), XQ_OK); /* one step of skew */
	CHECK_EQ_I64(auth_totp_verify(secret, "005924", 1234567890 + 90), XQ_ETOTP);
	CHECK_EQ_I64(auth_totp_verify(secret, "00592", 1234567890), XQ_ETOTP);
	CHECK_EQ_I64(auth_totp_code("not base32!", 1, code), XQ_EINVAL);
}

TEST(sha256)
{
	char h[65];
	auth_sha256_hex("abc", h);
	CHECK_STR(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

int main(void)
{
	RUN(password_hash_and_verify);
	RUN(policy);
	RUN(totp_rfc6238);
	RUN(sha256);
	return test_report();
}
