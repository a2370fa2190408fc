/* log.c: the driver's logging (see log.h). */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "tc_hex.h"

/* pcscd's logger, when the driver runs inside pcscd. */
void log_msg(const int priority, const char *fmt, ...) __attribute__((weak));

#define PCSC_PRIORITY_DEBUG 0
#define PCSC_PRIORITY_INFO  1
#define PCSC_PRIORITY_ERROR 2

unsigned tc_log_level(void)
{
	/* Read once; a data race on the first calls only stores the same value. */
	static int level = -1;
	if (level < 0) {
		const char *env = getenv("TC_DRIVER_LOGLEVEL");
		level = env ? (int)strtoul(env, NULL, 0) : (int)(TC_LOG_CRITICAL | TC_LOG_INFO);
	}
	return (unsigned)level;
}

void tc_log_write(unsigned category, const char *func, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (log_msg) {
		int prio = category == TC_LOG_CRITICAL ? PCSC_PRIORITY_ERROR
		           : category == TC_LOG_INFO   ? PCSC_PRIORITY_INFO
		                                       : PCSC_PRIORITY_DEBUG;
		log_msg(prio, "tokencard %s() %s", func, msg);
	} else {
		fprintf(stderr, "tokencard %s() %s\n", func, msg);
	}
}

/* Commands whose data is a secret: VERIFY, CHANGE REFERENCE DATA, RESET
 * RETRY COUNTER (PINs, PUKs), and in a proprietary class the key loading
 * commands: tokencard's PERSONALISE (80 E0) and GlobalPlatform's PUT KEY (D8). */
static int is_secret(uint8_t cla, uint8_t ins)
{
	if (ins == 0x20 || ins == 0x21 || ins == 0x24 || ins == 0x2C)
		return 1;
	return (cla & 0x80) && (ins == 0xE0 || ins == 0xD8);
}

void tc_log_apdu(const char *func, const char *dir, const uint8_t *b, size_t n, int is_command)
{
	char hex[3 * 64 + 8];
	if (is_command && n > 5 && is_secret(b[0], b[1])) {
		tc_hex_encode(b, 5, ' ', hex, sizeof(hex));
		tc_log_write(TC_LOG_WIRE, func, "%s %s [%zu bytes not logged]", dir, hex, n - 5);
		return;
	}
	tc_log_write(TC_LOG_WIRE, func, "%s %s%s (%zu bytes)", dir,
	             tc_hex_encode(b, n < 64 ? n : 64, ' ', hex, sizeof(hex)), n > 64 ? " ..." : "",
	             n);
}
