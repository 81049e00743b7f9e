/*
 * link.h - the byte transport under a gateway (docs/style.md rule 20): the
 * collector's bus logic reads and writes through struct link, so a TCP
 * gateway, a serial port or an in-memory pipe in a test look the same.
 * Every operation is non-blocking; the link's fd goes into the event loop.
 */
#ifndef XQ_COLLECTOR_LINK_H
#define XQ_COLLECTOR_LINK_H

#include <stddef.h>
#include <sys/types.h>

struct link;

struct link_ops {
	/* Bytes read (> 0), 0 at end of stream, -1 with errno (EAGAIN: nothing yet). */
	ssize_t (*read)(struct link *l, void *buf, size_t n);
	/* Bytes written (may be short), -1 with errno. */
	ssize_t (*write)(struct link *l, const void *buf, size_t n);
	/* Releases the transport; l->fd becomes -1. Safe to call twice. */
	void (*close)(struct link *l);
};

struct link {
	const struct link_ops *ops;
	int fd; /* for epoll; -1 when closed */
};

/*
 * Starts a non-blocking TCP connect to host:port (numeric IPv4). XQ_OK with
 * *in_progress set when the connect completes later (wait for EPOLLOUT, then
 * link_tcp_finish), XQ_EINVAL on a bad address, XQ_ERROR if it failed now.
 */
int link_tcp_open(struct link *l /* OUT */, const char *host, int port, int *in_progress /* OUT */);
/* After EPOLLOUT on a connecting link: XQ_OK if connected, XQ_ERROR (errno set) if not. */
int link_tcp_finish(struct link *l);

/*
 * Opens a serial port (collector area: gateway.host starting with '/' names
 * the device) raw, non-blocking, 8 data bits, even parity or none, 1 stop
 * bit, at baud (300..115200). XQ_EINVAL for an unsupported speed, XQ_ERROR
 * (errno set) if the device cannot be opened or configured.
 */
int link_serial_open(struct link *l /* OUT */, const char *path, int baud, int even_parity);

#endif
