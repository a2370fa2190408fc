/* scenario.h: wire scenarios for the T=0 reader engine (format:
 * docs/scenario-format.md). A scenario plays a scripted card against the real
 * engine (tc_t0.h), alone or under the APDU layer (tc_apdu.h), on a virtual
 * clock, and checks every character the reader sends and the outcome. */
#ifndef TC_SCENARIO_H
#define TC_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>

#define SCENARIO_MSG_MAX 1024u
#define SCENARIO_LOG_MAX 16384u

struct scenario_result {
	bool ok;
	unsigned checks;            /* expectations and reader lines checked */
	unsigned commands;          /* tpdu and apdu lines run */
	char msg[SCENARIO_MSG_MAX]; /* first failure, "file:line: what" */
	char log[SCENARIO_LOG_MAX]; /* engine transitions, "FROM -> TO (why)\n" */
	size_t log_len;
	bool log_truncated;
};

/* Run the scenario in text (NUL-terminated); name is used in messages.
 * Returns 0 when every check passed, -1 otherwise (res->msg says why). */
int scenario_run_text(const char *text, const char *name, struct scenario_result *res);
/* Same for a file. */
int scenario_run_file(const char *path, struct scenario_result *res);

#endif
