/*
 * wxmsg.h - the mini-program server API that needs an access_token: the
 * token itself (stable_token, protocols §15) cached in MariaDB so every
 * xq-api host and xqctl share one, and subscribe messages (§16) for bill
 * reminders and staff alerts.
 *
 * The token is a secret: it is never logged and appears only in the query
 * string of the call that uses it. It is refreshed when less than
 * WXMSG_TOKEN_MARGIN_S remain, and once with force_refresh when WeChat
 * answers 40001/42001 (another component may have rolled it).
 *
 * Result codes: XQ_OK sent; XQ_EINVAL WeChat refused the message (errcode
 * in the result: 43101 no acceptance left, 40003 openid, 47003 data ...);
 * XQ_EAGAIN transport failure or errcode -1; XQ_EPROTO an answer that is not
 * WeChat's; db codes from the token cache.
 */
#ifndef XQ_WXMSG_H
#define XQ_WXMSG_H

#include "xq.h"

#include <cjson/cJSON.h>
#include <stddef.h>

struct config;
struct db;

#define WXMSG_TOKEN_MARGIN_S 600
#define WXMSG_TOKEN_MAX 1024

struct wxmsg_result {
	long errcode;     /* WeChat's, 0 when sent */
	char errmsg[128]; /* WeChat's, for logs */
	int64_t msgid;    /* when WeChat returned one */
};

/*
 * The current access token into tok (cap bytes, NUL-terminated): from
 * wx_access_token when it has more than WXMSG_TOKEN_MARGIN_S left, else
 * fetched from {wx.api_base_url}/cgi-bin/stable_token (force: with
 * force_refresh) and stored. XQ_EINVAL when WeChat refuses our credentials.
 */
int wxmsg_token(struct db *db, const struct config *cfg, int force, char *tok /* OUT */, size_t cap);

/*
 * POST /cgi-bin/message/subscribe/send for openid with template_id, page
 * (may be NULL) and data ({"thing1": {"value": "..."}, ...}, borrowed).
 * Retries once with a forced token refresh on 40001/42001.
 */
int wxmsg_subscribe_send(struct db *db, const struct config *cfg, const char *openid,
			 const char *template_id, const char *page, const cJSON *data,
			 struct wxmsg_result *out /* OUT */);

#endif
