/* serial_tty.c: the tty of a serial reader through termios2 (TCGETS2 /
 * TCSETS2), which carries any rate (BOTHER) where the UART allows. The
 * kernel header is used alone: <termios.h> would clash with it. */
#include <asm/termbits.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "serial_int.h"
#include "tc_error.h"

int tc_serial_tty_open(const char *path, char *why, size_t cap)
{
	int fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, cap, "cannot open %s: %s", path, strerror(errno));
		return TC_E_IO;
	}
	struct termios2 t;
	if (ioctl(fd, TCGETS2, &t) != 0) {
		snprintf(why, cap, "%s is not a tty: %s", path, strerror(errno));
		close(fd);
		return TC_E_UNSUPPORTED;
	}
	return fd;
}

static tcflag_t std_code(uint32_t rate)
{
	switch (rate) {
	case 1200:
		return B1200;
	case 1800:
		return B1800;
	case 2400:
		return B2400;
	case 4800:
		return B4800;
	case 9600:
		return B9600;
	case 19200:
		return B19200;
	case 38400:
		return B38400;
	case 57600:
		return B57600;
	case 115200:
		return B115200;
	case 230400:
		return B230400;
	case 460800:
		return B460800;
	case 500000:
		return B500000;
	case 576000:
		return B576000;
	case 921600:
		return B921600;
	case 1000000:
		return B1000000;
	case 1152000:
		return B1152000;
	case 1500000:
		return B1500000;
	case 2000000:
		return B2000000;
	case 2500000:
		return B2500000;
	case 3000000:
		return B3000000;
	default:
		return 0;
	}
}

/* Raw, 8 data bits, parity checked and marked (PARMRK), 2 stop bits. */
static void raw_8x2(struct termios2 *t, bool odd)
{
	t->c_iflag = INPCK | PARMRK;
	t->c_oflag = 0;
	t->c_lflag = 0;
	t->c_cflag = CS8 | CSTOPB | PARENB | CREAD | CLOCAL | (odd ? PARODD : 0);
	memset(t->c_cc, 0, sizeof(t->c_cc));
	t->c_cc[VMIN] = 0;
	t->c_cc[VTIME] = 0;
}

int tc_serial_tty_setup(int fd, uint32_t baud, bool odd, bool custom, uint32_t *got, char *why,
                        size_t cap)
{
	struct termios2 t;
	uint32_t std = tc_serial_std_rate(baud);

	if (!std && !custom)
		std = tc_serial_std_rate_near(baud); /* within what ISO/IEC 7816-3 allows */
	if (!std && !custom) {
		snprintf(why, cap,
		         "%u baud is not within 2 %% of a standard rate and custom divisors are "
		         "off (nocustom)",
		         (unsigned)baud);
		return TC_E_UNSUPPORTED;
	}
	if (ioctl(fd, TCGETS2, &t) != 0) {
		snprintf(why, cap, "TCGETS2: %s", strerror(errno));
		return TC_E_IO;
	}
	raw_8x2(&t, odd);
	if (std) {
		t.c_cflag |= std_code(std);
		t.c_ispeed = t.c_ospeed = std;
	} else {
		t.c_cflag |= BOTHER;
		t.c_ispeed = t.c_ospeed = baud;
	}
	if (ioctl(fd, TCSETS2, &t) != 0) {
		snprintf(why, cap, "the UART refuses %u baud: %s", (unsigned)baud, strerror(errno));
		return TC_E_UNSUPPORTED;
	}
	int rc = tc_serial_tty_rate(fd, got);
	if (rc != TC_OK) {
		snprintf(why, cap, "TCGETS2: %s", strerror(errno));
		return rc;
	}
	if (!tc_serial_rate_close(baud, *got)) {
		snprintf(why, cap, "the UART gives %u baud for %u (more than 2 %% off)",
		         (unsigned)*got, (unsigned)baud);
		return TC_E_UNSUPPORTED;
	}
	return TC_OK;
}

int tc_serial_tty_rate(int fd, uint32_t *baud)
{
	struct termios2 t;
	if (ioctl(fd, TCGETS2, &t) != 0)
		return TC_E_IO;
	*baud = t.c_ospeed;
	return TC_OK;
}
