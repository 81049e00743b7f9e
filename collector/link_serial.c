/*
 * link_serial.c - struct link over a local serial port (an RS-485 adapter
 * such as /dev/ttyUSB0, or a pty in the tests): raw mode, 8 data bits,
 * parity even or none, one stop bit, non-blocking, so the port sits in the
 * collector's epoll loop like a TCP gateway (meter-protocols.md section 1:
 * DL/T 645 and CJ/T 188 buses run 8E1, Modbus RTU meters mostly 8N1).
 */
#include "link.h"
#include "xq.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static ssize_t serial_read(struct link *l, void *buf, size_t n)
{
	return read(l->fd, buf, n);
}

static ssize_t serial_write(struct link *l, const void *buf, size_t n)
{
	return write(l->fd, buf, n);
}

static void serial_close(struct link *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
}

static const struct link_ops serial_ops = { serial_read, serial_write, serial_close };

static int baud_flag(int baud, speed_t *out)
{
	static const struct {
		int baud;
		speed_t flag;
	} t[] = { { 300, B300 },     { 600, B600 },     { 1200, B1200 },   { 2400, B2400 },
		  { 4800, B4800 },   { 9600, B9600 },   { 19200, B19200 }, { 38400, B38400 },
		  { 57600, B57600 }, { 115200, B115200 } };

	for (size_t i = 0; i < XQ_ARRAY_LEN(t); i++)
		if (t[i].baud == baud) {
			*out = t[i].flag;
			return XQ_OK;
		}
	return XQ_EINVAL;
}

int link_serial_open(struct link *l, const char *path, int baud, int even_parity)
{
	struct termios t;
	speed_t sp;

	l->ops = &serial_ops;
	l->fd = -1;
	if (baud_flag(baud, &sp) != XQ_OK)
		return XQ_EINVAL;
	/* O_NOCTTY: a meter bus must never become our controlling terminal */
	l->fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (l->fd < 0)
		return XQ_ERROR;
	if (tcgetattr(l->fd, &t) != 0)
		goto fail;
	cfmakeraw(&t); /* no echo, no line editing, no CR/LF mapping: bytes as sent */
	t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB | PARODD | CSTOPB | CRTSCTS);
	t.c_cflag |= CS8 | CLOCAL | CREAD | (even_parity ? PARENB : 0);
	t.c_iflag &= ~(tcflag_t)(IXON | IXOFF | IXANY);
	if (even_parity)
		t.c_iflag |= INPCK; /* a parity error drops the byte; the frame check catches it */
	t.c_cc[VMIN] = 0;
	t.c_cc[VTIME] = 0;
	if (cfsetispeed(&t, sp) != 0 || cfsetospeed(&t, sp) != 0 || tcsetattr(l->fd, TCSANOW, &t) != 0)
		goto fail;
	tcflush(l->fd, TCIOFLUSH); /* whatever was on the line before is not ours */
	return XQ_OK;
fail:
	{
		int e = errno;

		serial_close(l);
		errno = e;
	}
	return XQ_ERROR;
}
