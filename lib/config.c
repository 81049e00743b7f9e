/*
 * config.c - the key table, the ini parser and environment overrides.
 * The ini format: "[section]" headers, "key = value" lines, '#' or ';'
 * comments. A key "k" in section "s" is "s.k".
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum cfg_type { CFG_STR, CFG_INT, CFG_SIZE, CFG_BOOL, CFG_SECRET };

struct cfg_key {
	const char *key;
	enum cfg_type type;
	size_t off;
	const char *def;
	int64_t min, max;
};

#define OFF(f) offsetof(struct config, f)

static const struct cfg_key keys[] = {
	/* key                        type        field                     default            min   max */
	{ "db.host",                  CFG_STR,    OFF(db_host),             "",                0,    0 },
	{ "db.socket",                CFG_STR,    OFF(db_socket),           "var/run/mysqld.sock", 0, 0 },
	{ "db.port",                  CFG_INT,    OFF(db_port),             "3306",            1,    65535 },
	{ "db.name",                  CFG_STR,    OFF(db_name),             "xiaoqu",          0,    0 },
	{ "db.user",                  CFG_STR,    OFF(db_user),             "xiaoqu",          0,    0 },
	{ "db.password_file",         CFG_SECRET, OFF(db_password),         "",                0,    0 },
	{ "api.socket",               CFG_STR,    OFF(api_socket),          "var/run/xq-api.sock", 0, 0 },
	{ "api.threads",              CFG_INT,    OFF(api_threads),         "8",               1,    256 },
	{ "api.max_body",             CFG_SIZE,   OFF(api_max_body),        "64k",             1024, 16777216 },
	{ "api.secure_cookie",        CFG_BOOL,   OFF(api_secure_cookie),   "false",           0,    1 },
	{ "auth.session_ttl",         CFG_INT,    OFF(auth_session_ttl_s),  "28800",           60,   2592000 },
	{ "auth.login_max_fail",      CFG_INT,    OFF(auth_login_max_fail), "5",               1,    1000 },
	{ "auth.login_window",        CFG_INT,    OFF(auth_login_window_s), "900",             1,    86400 },
	{ "log.level",                CFG_STR,    OFF(log_level),           "info",            0,    0 },
	{ "wx.appid",                 CFG_STR,    OFF(wx_appid),            "",                0,    0 },
	{ "wx.app_secret_file",       CFG_SECRET, OFF(wx_app_secret),       "",                0,    0 },
	{ "wx.mchid",                 CFG_STR,    OFF(wx_mchid),            "",                0,    0 },
	{ "wx.merchant_serial",       CFG_STR,    OFF(wx_merchant_serial),  "",                0,    0 },
	{ "wx.merchant_key_file",     CFG_STR,    OFF(wx_merchant_key_file), "",               0,    0 },
	{ "wx.apiv3_key_file",        CFG_SECRET, OFF(wx_apiv3_key),        "",                0,    0 },
	{ "wx.platform_key_id",       CFG_STR,    OFF(wx_platform_key_id),  "",                0,    0 },
	{ "wx.platform_pubkey_file",  CFG_STR,    OFF(wx_platform_pubkey_file), "",            0,    0 },
	{ "wx.api_base_url",          CFG_STR,    OFF(wx_api_base_url),     "https://api.weixin.qq.com", 0, 0 },
	{ "wx.pay_base_url",          CFG_STR,    OFF(wx_pay_base_url),     "https://api.mch.weixin.qq.com", 0, 0 },
	{ "wx.notify_url",            CFG_STR,    OFF(wx_notify_url),       "",                0,    0 },
	{ "wxsim.socket",             CFG_STR,    OFF(wxsim_socket),        "var/run/xq-wxsim.sock", 0, 0 },
	{ "wxsim.threads",            CFG_INT,    OFF(wxsim_threads),       "4",               1,    64 },
	{ "wxsim.db_name",            CFG_STR,    OFF(wxsim_db_name),       "xiaoqu_wxsim",    0,    0 },
	{ "wxsim.platform_key_file",  CFG_STR,    OFF(wxsim_platform_key_file), "",            0,    0 },
	{ "wxsim.platform_cert_file", CFG_STR,    OFF(wxsim_platform_cert_file), "",           0,    0 },
	{ "wxsim.merchant_cert_file", CFG_STR,    OFF(wxsim_merchant_cert_file), "",           0,    0 },
	{ "wxsim.notify_retry",       CFG_BOOL,   OFF(wxsim_notify_retry),  "true",            0,    1 },
	{ "wxsim.notify_max_retries", CFG_INT,    OFF(wxsim_notify_max_retries), "15",         0,    15 },
	{ "wxsim.retry_scale",        CFG_INT,    OFF(wxsim_retry_scale),   "1",               1,    1000000 },
	{ "wxsim.token_ttl",          CFG_INT,    OFF(wxsim_token_ttl_s),   "7200",            1,    604800 },
	{ "wxsim.refund_delay_ms",    CFG_INT,    OFF(wxsim_refund_delay_ms), "1000",          0,    86400000 },
	{ "metersim.base_port",       CFG_INT,    OFF(metersim_base_port),  "8180",            1,    65535 },
	{ "metersim.control_port",    CFG_INT,    OFF(metersim_control_port), "8179",          1,    65535 },
	{ "metersim.baud",            CFG_INT,    OFF(metersim_baud),       "9600",            300,  115200 },
	{ "metersim.speed",           CFG_INT,    OFF(metersim_speed),      "1",               1,    86400 },
	{ "metersim.reply_log",       CFG_STR,    OFF(metersim_reply_log),  "",                0,    0 },
	{ "metersim.state_file",      CFG_STR,    OFF(metersim_state_file), "var/run/metersim.state", 0, 0 },
	{ "collector.shard",          CFG_INT,    OFF(collector_shard),     "0",               0,    1000 },
	{ "collector.interval_s",     CFG_INT,    OFF(collector_interval_s), "60",             1,    86400 },
	{ "collector.http_port",      CFG_INT,    OFF(collector_http_port), "8178",            0,    65535 },
	{ "collector.spool_file",     CFG_STR,    OFF(collector_spool_file), "var/run/collector.spool", 0, 0 },
	{ "collector.fsync_ms",       CFG_INT,    OFF(collector_fsync_ms),  "1000",            0,    60000 },
	{ "collector.retries",        CFG_INT,    OFF(collector_retries),   "2",               0,    10 },
	{ "collector.gap_ms",         CFG_INT,    OFF(collector_gap_ms),    "80",              0,    10000 },
	{ "collector.offline_cycles", CFG_INT,    OFF(collector_offline_cycles), "3",          1,    1000 },
	{ "collector.max_kw",         CFG_INT,    OFF(collector_max_kw),    "15",              1,    100000 },
	{ "collector.gateways_file",  CFG_STR,    OFF(collector_gateways_file), "",            0,    0 },
	{ "collector.stuck_polls",    CFG_INT,    OFF(collector_stuck_polls), "1440",          0,    1000000 },
	/* dunning, alerts, SMS (area: dunning, docs/dunning.md) */
	{ "dunning.tpl_reminder",     CFG_STR,    OFF(dunning_tpl_reminder), "XQ-BILL-DUE-REMINDER-DEMO-TEMPLATE-0000001", 0, 0 },
	{ "dunning.tpl_arrears",      CFG_STR,    OFF(dunning_tpl_arrears), "XQ-ARREARS-NOTICE-DEMO-TEMPLATE-0000000003", 0, 0 },
	{ "dunning.tpl_alert",        CFG_STR,    OFF(dunning_tpl_alert),   "",                0,    0 },
	{ "dunning.page",             CFG_STR,    OFF(dunning_page),        "pages/bill-detail/index", 0, 0 },
	{ "sms.gateway",              CFG_STR,    OFF(sms_gateway),         "table",           0,    0 },
	{ "sms.http_url",             CFG_STR,    OFF(sms_http_url),        "",                0,    0 },
	{ "sms.http_token_file",      CFG_SECRET, OFF(sms_http_token),      "",                0,    0 },
	{ "sms.sign",                 CFG_STR,    OFF(sms_sign),            "【小区物业】",    0,    0 },

	/* readings area: manual entry, import and review (docs/readings.md) */
	{ "readings.spike_factor",    CFG_INT,    OFF(readings_spike_factor), "5",             0,    1000 },
	{ "readings.photo_dir",       CFG_STR,    OFF(readings_photo_dir),  "var/photos",      0,    0 },
	{ "readings.photo_max",       CFG_SIZE,   OFF(readings_photo_max),  "2m",              1024, 16777216 },
};

static int parse_size(const char *s, int64_t *out)
{
	char *end;
	long long v;
	int64_t mul = 1;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || v < 0)
		return XQ_EINVAL;
	if (*end == 'k' || *end == 'K')
		mul = 1024, end++;
	else if (*end == 'm' || *end == 'M')
		mul = 1024 * 1024, end++;
	if (*end)
		return XQ_EINVAL;
	if (v > INT64_MAX / mul)
		return XQ_EINVAL;
	*out = v * mul;
	return XQ_OK;
}

static int read_secret(const char *path, char **out)
{
	FILE *f;
	char tmp[4096];
	size_t n;

	if (!*path) {
		*out = xq_strdup("");
		return XQ_OK;
	}
	f = fopen(path, "r");
	if (!f)
		return XQ_EINVAL;
	n = fread(tmp, 1, sizeof(tmp) - 1, f);
	fclose(f);
	while (n && (tmp[n - 1] == '\n' || tmp[n - 1] == '\r'))
		n--;
	*out = xq_strndup(tmp, n);
	return XQ_OK;
}

static int set_key(struct config *cfg, const struct cfg_key *k, const char *val, char *err,
		   size_t errlen)
{
	char *field = (char *)cfg + k->off;
	int64_t v = 0;
	int rc = XQ_OK;

	switch (k->type) {
	case CFG_STR:
		free(*(char **)field);
		*(char **)field = xq_strdup(val);
		return XQ_OK;
	case CFG_SECRET: {
		char *s = NULL;
		if (read_secret(val, &s)) {
			snprintf(err, errlen, "%s: cannot read secret file '%s'", k->key, val);
			return XQ_EINVAL;
		}
		free(*(char **)field);
		*(char **)field = s;
		return XQ_OK;
	}
	case CFG_BOOL:
		if (!strcmp(val, "true") || !strcmp(val, "yes") || !strcmp(val, "1") || !strcmp(val, "on"))
			v = 1;
		else if (!strcmp(val, "false") || !strcmp(val, "no") || !strcmp(val, "0") || !strcmp(val, "off"))
			v = 0;
		else
			rc = XQ_EINVAL;
		break;
	case CFG_INT:
		rc = xq_parse_i64(val, &v);
		break;
	case CFG_SIZE:
		rc = parse_size(val, &v);
		break;
	}
	if (rc || v < k->min || v > k->max) {
		snprintf(err, errlen, "%s: bad value '%s' (expected %lld..%lld)", k->key, val,
			 (long long)k->min, (long long)k->max);
		return XQ_EINVAL;
	}
	*(int64_t *)field = v;
	return XQ_OK;
}

static const struct cfg_key *find_key(const char *name)
{
	for (size_t i = 0; i < XQ_ARRAY_LEN(keys); i++)
		if (!strcmp(keys[i].key, name))
			return &keys[i];
	return NULL;
}

static char *trim(char *s)
{
	char *e;
	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int load_file(struct config *cfg, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char line[1024], section[64] = "", name[192];
	int lineno = 0, rc = XQ_OK;

	if (!f) {
		snprintf(err, errlen, "cannot open config '%s': %s", path, strerror(errno));
		return XQ_EINVAL;
	}
	while (fgets(line, sizeof(line), f)) {
		char *s = trim(line), *eq, *k, *v;
		const struct cfg_key *key;

		lineno++;
		if (!*s || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *close = strchr(s, ']');
			if (!close || (size_t)(close - s - 1) >= sizeof(section)) {
				snprintf(err, errlen, "%s:%d: bad section header", path, lineno);
				rc = XQ_EINVAL;
				break;
			}
			*close = '\0';
			snprintf(section, sizeof(section), "%s", trim(s + 1));
			continue;
		}
		eq = strchr(s, '=');
		if (!eq) {
			snprintf(err, errlen, "%s:%d: expected 'key = value'", path, lineno);
			rc = XQ_EINVAL;
			break;
		}
		*eq = '\0';
		k = trim(s);
		v = trim(eq + 1);
		snprintf(name, sizeof(name), "%s%s%s", section, *section ? "." : "", k);
		key = find_key(name);
		if (!key) {
			snprintf(err, errlen, "%s:%d: unknown key '%s'", path, lineno, name);
			rc = XQ_EINVAL;
			break;
		}
		if ((rc = set_key(cfg, key, v, err, errlen)))
			break;
	}
	fclose(f);
	return rc;
}

int config_load(struct config *cfg, const char *path, char *err, size_t errlen)
{
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < XQ_ARRAY_LEN(keys); i++)
		if ((rc = set_key(cfg, &keys[i], keys[i].def, err, errlen)))
			return rc;
	if (path && (rc = load_file(cfg, path, err, errlen)))
		return rc;
	for (size_t i = 0; i < XQ_ARRAY_LEN(keys); i++) {
		char env[96];
		const char *v;
		size_t j = 0;

		memcpy(env, "XQ_", 3);
		for (const char *p = keys[i].key; *p && j < sizeof(env) - 4; p++, j++)
			env[3 + j] = *p == '.' ? '_' : (char)toupper((unsigned char)*p);
		env[3 + j] = '\0';
		v = getenv(env);
		if (v && (rc = set_key(cfg, &keys[i], v, err, errlen)))
			return rc;
	}
	return XQ_OK;
}

void config_release(struct config *cfg)
{
	for (size_t i = 0; i < XQ_ARRAY_LEN(keys); i++)
		if (keys[i].type == CFG_STR || keys[i].type == CFG_SECRET)
			free(*(char **)((char *)cfg + keys[i].off));
	memset(cfg, 0, sizeof(*cfg));
}

void config_dump(const struct config *cfg)
{
	for (size_t i = 0; i < XQ_ARRAY_LEN(keys); i++) {
		const char *field = (const char *)cfg + keys[i].off;
		switch (keys[i].type) {
		case CFG_STR:
			printf("%s = %s\n", keys[i].key, *(char *const *)field);
			break;
		case CFG_SECRET:
			printf("%s = %s\n", keys[i].key, **(char *const *)field ? "<set>" : "<unset>");
			break;
		default:
			printf("%s = %lld\n", keys[i].key, (long long)*(const int64_t *)field);
		}
	}
}
