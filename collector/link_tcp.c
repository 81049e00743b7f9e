/*
 * link_tcp.c - struct link over a non-blocking TCP socket: a transparent
 * serial-to-TCP gateway in TCP-server mode (meter-protocols.md section 1).
 */
#include "link.h"
#include "xq.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static ssize_t tcp_read(struct link *l, void *buf, size_t n)
{
	return recv(l->fd, buf, n, 0);
}

static ssize_t tcp_write(struct link *l, const void *buf, size_t n)
{
	return send(l->fd, buf, n, MSG_NOSIGNAL);
}

static void tcp_close(struct link *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
}

static const struct link_ops tcp_ops = { tcp_read, tcp_write, tcp_close };

int link_tcp_open(struct link *l, const char *host, int port, int *in_progress)
{
	struct sockaddr_in sa;
	int one = 1;

	l->ops = &tcp_ops;
	l->fd = -1;
	*in_progress = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	if (port < 1 || port > 65535 || inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return XQ_EINVAL;
	l->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->fd < 0)
		return XQ_ERROR;
	/* requests are tiny and strictly one at a time: never let Nagle hold one */
	setsockopt(l->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(l->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return XQ_OK;
	if (errno == EINPROGRESS) {
		*in_progress = 1;
		return XQ_OK;
	}
	tcp_close(l);
	return XQ_ERROR;
}

int link_tcp_finish(struct link *l)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(l->fd, SOL_SOCKET, SO_ERROR, &err, &len) || err) {
		errno = err ? err : errno;
		return XQ_ERROR;
	}
	return XQ_OK;
}
