/* sim_log.h: tokencard-sim logging to stderr, level from TC_SIM_LOG
 * (error | info | debug; default info). The macros test the level before
 * they evaluate their arguments and name the function. */
#ifndef SIM_LOG_H
#define SIM_LOG_H

#include <stdio.h>

enum tc_sim_level {
	TC_SIM_LOG_ERROR = 0,
	TC_SIM_LOG_INFO = 1,
	TC_SIM_LOG_DEBUG = 2,
};

struct tc_sim_log {
	int level;
	FILE *out; /* stderr unless a test says otherwise */
};

/* Level from the environment variable TC_SIM_LOG. */
void tc_sim_log_init(struct tc_sim_log *lg);
void tc_sim_log_printf(const struct tc_sim_log *lg, int level, const char *func, const char *fmt,
                       ...) __attribute__((format(printf, 4, 5)));

#define SIM_LOG(lg, lvl, ...)                                                                      \
	do {                                                                                       \
		if ((lg)->level >= (lvl))                                                          \
			tc_sim_log_printf((lg), (lvl), __func__, __VA_ARGS__);                     \
	} while (0)
#define SIM_ERR(lg, ...)   SIM_LOG(lg, TC_SIM_LOG_ERROR, __VA_ARGS__)
#define SIM_INFO(lg, ...)  SIM_LOG(lg, TC_SIM_LOG_INFO, __VA_ARGS__)
#define SIM_DEBUG(lg, ...) SIM_LOG(lg, TC_SIM_LOG_DEBUG, __VA_ARGS__)

#endif
