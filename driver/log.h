/* log.h: the driver's logging. Categories are bits of TC_DRIVER_LOGLEVEL
 * (decimal or 0x hex), as the CCID driver's LogLevel: 1 critical errors,
 * 2 information, 4 wire (APDUs, hex, VERIFY data masked), 8 periodic (polling).
 * Default: 3. Inside pcscd messages go to pcscd's log_msg(); elsewhere to
 * stderr. The macros test the level before evaluating their arguments. */
#ifndef TC_DRIVER_LOG_H
#define TC_DRIVER_LOG_H

#include <stddef.h>
#include <stdint.h>

#define TC_LOG_CRITICAL 1u
#define TC_LOG_INFO     2u
#define TC_LOG_WIRE     4u
#define TC_LOG_PERIODIC 8u

unsigned tc_log_level(void);
void tc_log_write(unsigned category, const char *func, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Log an APDU or response in hex, masking what must never be logged: the
 * data of VERIFY, CHANGE REFERENCE DATA, RESET RETRY COUNTER and of proprietary
 * key loading (80 E0 PERSONALISE, GlobalPlatform PUT KEY D8). */
void tc_log_apdu(const char *func, const char *dir, const uint8_t *b, size_t n, int is_command);

#ifdef TC_NO_LOG
#define TC_LOG(cat, ...) ((void)0)
#else
#define TC_LOG(cat, ...)                                                                           \
	do {                                                                                       \
		if (tc_log_level() & (cat))                                                        \
			tc_log_write((cat), __func__, __VA_ARGS__);                                \
	} while (0)
#endif

#define LOG_ERR(...)  TC_LOG(TC_LOG_CRITICAL, __VA_ARGS__)
#define LOG_INFO(...) TC_LOG(TC_LOG_INFO, __VA_ARGS__)
#define LOG_POLL(...) TC_LOG(TC_LOG_PERIODIC, __VA_ARGS__)
#define LOG_APDU(dir, b, n, cmd)                                                                   \
	do {                                                                                       \
		if (tc_log_level() & TC_LOG_WIRE)                                                  \
			tc_log_apdu(__func__, (dir), (b), (n), (cmd));                             \
	} while (0)

#endif
