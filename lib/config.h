/*
 * config.h - the one configuration of every xiaoqu program.
 * Sources, later wins: built-in defaults, the ini file, XQ_* environment
 * variables (key "db.socket" -> XQ_DB_SOCKET). Secret values (CFG_SECRET) name a
 * file whose contents are read once; the value itself is never logged.
 * Every key is listed once in config.c and documented in
 * deploy/xiaoqu.conf.example.
 */
#ifndef XQ_CONFIG_H
#define XQ_CONFIG_H

#include "xq.h"

struct config {
	/* database */
	char *db_host;
	char *db_socket;
	int64_t db_port;
	char *db_name;
	char *db_user;
	char *db_password; /* secret: read from db.password_file */
	/* api */
	char *api_socket;
	int64_t api_threads;
	int64_t api_max_body;
	int64_t api_secure_cookie;
	/* auth */
	int64_t auth_session_ttl_s;
	int64_t auth_login_max_fail;
	int64_t auth_login_window_s;
	/* logging */
	char *log_level;
	/*
	 * WeChat: mini-program login/messages and Pay API v3. xq-api is the
	 * client; xq-wxsim (sim/wxsim) reads the same keys to imitate WeChat.
	 */
	char *wx_appid;
	char *wx_app_secret;	     /* secret: read from wx.app_secret_file */
	char *wx_mchid;
	char *wx_merchant_serial;    /* merchant API certificate serial, hex */
	char *wx_merchant_key_file;  /* path of apiclient_key.pem; the program loads it */
	char *wx_apiv3_key;	     /* secret: read from wx.apiv3_key_file (32 bytes) */
	char *wx_platform_key_id;    /* Wechatpay-Serial we accept: PUB_KEY_ID_... or a cert serial */
	char *wx_platform_pubkey_file; /* path: WeChat Pay public key or platform cert PEM */
	char *wx_api_base_url;	     /* https://api.weixin.qq.com */
	char *wx_pay_base_url;	     /* https://api.mch.weixin.qq.com */
	char *wx_notify_url;	     /* our payment/refund callback URL */
	/* xq-wxsim, the local imitation of WeChat */
	char *wxsim_socket;
	int64_t wxsim_threads;
	char *wxsim_db_name;
	char *wxsim_platform_key_file;	/* path: the "WeChat" private key */
	char *wxsim_platform_cert_file; /* path: platform certificate (certificate mode) */
	char *wxsim_merchant_cert_file; /* path: the merchant's certificate (verifies requests) */
	int64_t wxsim_notify_retry;	/* bool: retry failed callbacks (§8.4) */
	int64_t wxsim_notify_max_retries;
	int64_t wxsim_retry_scale;	/* §8.4 intervals are divided by this */
	int64_t wxsim_token_ttl_s;
	int64_t wxsim_refund_delay_ms;
	/* xq-metersim, the meter and gateway simulator (docs/collector.md) */
	int64_t metersim_base_port;    /* first gateway port; gateway rows made by --setup */
	int64_t metersim_control_port; /* 127.0.0.1 line protocol: truth and faults */
	int64_t metersim_baud;	       /* line speed every simulated bus is paced at */
	int64_t metersim_speed;	       /* simulated seconds per real second (load profile) */
	char *metersim_reply_log;      /* path: one line per reply sent ("" = none) */
	char *metersim_state_file;     /* path: every register, written on SIGUSR1 */
	/* xq-collector, the meter-reading daemon (docs/collector.md) */
	int64_t collector_shard;       /* polls the gateway rows with this shard */
	int64_t collector_interval_s;  /* poll period; read_at = slot start */
	int64_t collector_http_port;   /* 127.0.0.1 Prometheus /metrics; 0 = off */
	char *collector_spool_file;    /* write-ahead spool of unsaved readings */
	int64_t collector_fsync_ms;    /* upper bound between spool fsyncs */
	int64_t collector_retries;     /* extra attempts after a timeout or bad frame */
	int64_t collector_gap_ms;      /* inter-frame gap on a bus */
	int64_t collector_offline_cycles; /* missed cycles before a meter_offline alert */
	int64_t collector_max_kw;      /* spike ceiling: max power x elapsed time */
	char *collector_gateways_file; /* path: gateway/meter list instead of the DB ("" = DB) */
	int64_t collector_stuck_polls; /* unchanged readings in a row flagged "stuck"; 0 = off */
	/* dunning, alerts, SMS (area: dunning, docs/dunning.md) */
	char *dunning_tpl_reminder; /* subscribe template of reminder steps (thing1,amount2,time3) */
	char *dunning_tpl_arrears;  /* subscribe template of arrears steps (thing1,amount2,date3,thing4) */
	char *dunning_tpl_alert;    /* template to staff openids for critical alerts, "" = console only */
	char *dunning_page;         /* mini-program page a reminder opens (?id=<bill_id> appended) */
	char *sms_gateway;          /* table (local sink) | http (production) | off */
	char *sms_http_url;         /* POST {mobile, content, ref} as JSON */
	char *sms_http_token;       /* secret: read from sms.http_token_file, sent as Bearer */
	char *sms_sign;             /* signature prefixed to every SMS */

	/* readings area (docs/readings.md) */
	int64_t readings_spike_factor; /* manual use above k x 90-day daily average is flagged; 0 = off */
	char *readings_photo_dir;      /* reader photos, named by content hash */
	int64_t readings_photo_max;    /* body cap of R_UPLOAD routes (photos) */
};

/*
 * Loads defaults, then path (may be NULL: no file), then the environment.
 * On error returns XQ_EINVAL with a message naming the key and line in errbuf;
 * call config_release() in both cases (strings may already be allocated).
 */
int config_load(struct config *cfg /* OUT */, const char *path, char *errbuf, size_t errlen);
void config_release(struct config *cfg);
/* Prints every key and its value (secrets as "<set>"/"<unset>") to stdout. */
void config_dump(const struct config *cfg);

#endif
