/*
 * log.h - one line per event on stderr: time, level, request id, message.
 * The request id is thread-local so worker threads tag their lines without
 * passing it around. Callers must never pass secrets (keys, passwords,
 * session tokens) to these functions.
 */
#ifndef XQ_LOG_H
#define XQ_LOG_H

#include "xq.h"

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Minimum level printed; from config "log.level" (debug|info|warn|error). */
void log_set_level(enum log_level lvl);
/* Parses a level name; XQ_EINVAL if unknown. */
int log_parse_level(const char *name, enum log_level *out /* OUT */);
/* Sets this thread's request id ("" clears it). Copied, at most 32 bytes. */
void log_set_request_id(const char *rid);
const char *log_request_id(void);

void log_write(enum log_level lvl, const char *fmt, ...) XQ_PRINTF(2, 3);
void log_vwrite(enum log_level lvl, const char *fmt, va_list ap);

#define log_debug(...) log_write(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_write(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_write(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_write(LOG_ERROR, __VA_ARGS__)

#endif
