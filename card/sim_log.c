/* sim_log.c: see sim_log.h. */
#include "sim_log.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const char *const level_names[] = {"error", "info", "debug"};

void tc_sim_log_init(struct tc_sim_log *lg)
{
	const char *v = getenv("TC_SIM_LOG");

	lg->level = TC_SIM_LOG_INFO;
	lg->out = stderr;
	for (int i = 0; v && i < 3; i++)
		if (strcmp(v, level_names[i]) == 0)
			lg->level = i;
}

void tc_sim_log_printf(const struct tc_sim_log *lg, int level, const char *func, const char *fmt,
                       ...)
{
	va_list ap;
	FILE *f = lg->out ? lg->out : stderr;

	fprintf(f, "tokencard-sim: %s: %s: ",
	        level_names[level < 0   ? 0
	                    : level > 2 ? 2
	                                : level],
	        func);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
}
