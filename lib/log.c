/*
 * log.c - line-oriented logging to stderr. Each event is formatted into one
 * buffer and written with a single write(2) so lines from threads never
 * interleave. Newlines inside messages are escaped to keep one event a line.
 */
#include "log.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum log_level min_level = LOG_INFO;
static _Thread_local char request_id[33];

static const char *const level_names[] = { "debug", "info", "warn", "error" };

void log_set_level(enum log_level lvl)
{
	min_level = lvl;
}

int log_parse_level(const char *name, enum log_level *out)
{
	for (size_t i = 0; i < XQ_ARRAY_LEN(level_names); i++) {
		if (strcmp(name, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return XQ_OK;
		}
	}
	return XQ_EINVAL;
}

void log_set_request_id(const char *rid)
{
	size_t n = strlen(rid);
	if (n >= sizeof(request_id))
		n = sizeof(request_id) - 1;
	memcpy(request_id, rid, n);
	request_id[n] = '\0';
}

const char *log_request_id(void)
{
	return request_id;
}

void log_vwrite(enum log_level lvl, const char *fmt, va_list ap)
{
	char line[2048], msg[1800];
	struct timespec ts;
	struct tm tm;
	int n;

	if (lvl < min_level)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	for (char *p = msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s %s%s%s\n",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
		     tm.tm_sec, ts.tv_nsec / 1000000, level_names[lvl],
		     request_id[0] ? "rid=" : "", request_id[0] ? request_id : "",
		     request_id[0] ? " " : "");
	if (n < 0)
		return;
	if ((size_t)n < sizeof(line)) {
		/* replace the newline with the message, then append the newline */
		n--;
		n += snprintf(line + n, sizeof(line) - (size_t)n, "%s\n", msg);
		if ((size_t)n >= sizeof(line)) {
			n = sizeof(line) - 1;
			line[n - 1] = '\n';
		}
	}
	if (write(STDERR_FILENO, line, (size_t)n) < 0) {
		/* nowhere left to report it */
	}
}

void log_write(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vwrite(lvl, fmt, ap);
	va_end(ap);
}
