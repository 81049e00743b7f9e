/*
 * sms.h - the SMS gateway interface used by dunning. One function, three
 * back ends chosen by sms.gateway:
 *   table - the local sink: the message is appended to sms_outbox (what
 *           development, the demo and the tests use; nothing leaves the host)
 *   http  - production: POST {"mobile","content","ref"} as JSON to
 *           sms.http_url with "Authorization: Bearer <sms.http_token_file>";
 *           any 2xx is accepted (the gateway owns retries and receipts)
 *   off   - nothing is sent (XQ_EINVAL, so callers record the step as skipped)
 * The sms.sign signature is prefixed to content. Mobile numbers are logged
 * only with their middle digits masked.
 */
#ifndef XQ_SMS_H
#define XQ_SMS_H

#include "xq.h"

struct config;
struct db;

/*
 * Sends content to mobile; ref names the cause (dunning:<bill>:<step>).
 * XQ_OK handed over; XQ_EINVAL refused by the gateway or disabled; XQ_EAGAIN
 * no answer or 5xx; db codes for the table sink.
 */
int sms_send(struct db *db, const struct config *cfg, const char *mobile, const char *content,
	     const char *ref);

#endif
