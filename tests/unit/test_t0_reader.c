/* test_t0_reader.c: the T=0 reader engine (tc_t0.h): every scenario file under
 * $TC_DATA_DIR/t0, stored transition logs, and direct tests of the API. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scenario.h"
#include "tc_error.h"
#include "tc_t0.h"
#include "tc_timing.h"

#define MAX_SCN 256

static const char *data_dir(void)
{
	const char *d = getenv("TC_DATA_DIR");
	return d ? d : "tests/data";
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = calloc(1, 1u << 16);
	if (buf)
		(void)fread(buf, 1, (1u << 16) - 1, f);
	fclose(f);
	return buf;
}

/* ---- scenario files ---------------------------------------------------- */

static void test_t0r_scenarios_all(void **state)
{
	(void)state;
	char dir[1024], *names[MAX_SCN];
	size_t n = 0;
	snprintf(dir, sizeof(dir), "%s/t0", data_dir());
	DIR *d = opendir(dir);
	assert_non_null(d);
	struct dirent *de;
	while ((de = readdir(d)) != NULL && n < MAX_SCN) {
		size_t len = strlen(de->d_name);
		if (len > 4 && strcmp(de->d_name + len - 4, ".scn") == 0)
			names[n++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_str);
	unsigned failed = 0;
	static struct scenario_result res;
	for (size_t i = 0; i < n; i++) {
		char path[1400];
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (scenario_run_file(path, &res) != 0) {
			print_error("FAIL %s\n", res.msg);
			failed++;
		} else if (res.checks == 0) {
			print_error("FAIL %s: checks nothing\n", names[i]);
			failed++;
		}
		free(names[i]);
	}
	print_message("%zu scenario files\n", n);
	assert_true(n >= 30);
	assert_int_equal(failed, 0);
}

static void check_log(const char *scn, const char *log)
{
	char path[1024];
	static struct scenario_result res;
	snprintf(path, sizeof(path), "%s/t0/%s", data_dir(), scn);
	assert_int_equal(scenario_run_file(path, &res), 0);
	snprintf(path, sizeof(path), "%s/t0/%s", data_dir(), log);
	char *want = read_text(path);
	assert_non_null(want);
	if (strcmp(want, res.log) != 0)
		print_error("transition log differs from %s; got:\n%s", path, res.log);
	assert_string_equal(want, res.log);
	free(want);
}

static void test_t0r_transition_log_bytewise(void **state)
{
	(void)state;
	check_log("case3_ins_ff_bytewise.scn", "case3_ins_ff_bytewise.log");
}

static void test_t0r_transition_log_error_signal(void **state)
{
	(void)state;
	check_log("tx_parity_header.scn", "tx_parity_header.log");
}

static void test_t0r_scenario_bad_script(void **state)
{
	(void)state;
	static struct scenario_result res;
	/* The reader sends 00 B0 ..., the script says 00 B1: caught with its line. */
	assert_int_equal(scenario_run_text("tpdu 00 B0 00 00 00\nreader 00 B1 00 00 00\n"
	                                   "card +16 90 00\nexpect sw 9000\n",
	                                   "bad", &res),
	                 -1);
	assert_non_null(strstr(res.msg, "bad:2:"));
	/* An unexpected error must be expected explicitly. */
	assert_int_equal(scenario_run_text("tpdu 00 B0 00 00 00\nreader 00 B0 00 00 00\n"
	                                   "card mute\n",
	                                   "mute", &res),
	                 -1);
	assert_non_null(strstr(res.msg, "TC_E_TIMEOUT"));
	assert_int_equal(scenario_run_text("tpdu 00 B0\n", "short", &res), -1);
	assert_int_equal(scenario_run_text("bogus line\n", "bogus", &res), -1);
}

/* ---- direct tests ------------------------------------------------------- */

static struct tc_t0r *new_engine(unsigned F, unsigned D, unsigned N, unsigned WI)
{
	struct tc_t0r_params p = {.F = F, .D = D, .N = N, .WI = WI};
	struct tc_t0r *e = tc_t0r_new(&p);
	assert_non_null(e);
	return e;
}

static void next_kind(struct tc_t0r *e, struct tc_t0r_action *a, enum tc_t0r_action_kind k)
{
	tc_t0r_next(e, a);
	if (a->kind != k)
		print_error("action %s, expected %s\n", tc_t0r_action_name(a->kind),
		            tc_t0r_action_name(k));
	assert_int_equal(a->kind, k);
}

static void test_t0r_names(void **state)
{
	(void)state;
	for (int s = 0; s < TC_T0R_STATE_COUNT; s++)
		assert_string_not_equal(tc_t0r_state_name((enum tc_t0r_state)s), "?");
	assert_string_equal(tc_t0r_state_name(TC_T0R_STATE_COUNT), "?");
	assert_string_equal(tc_t0r_action_name(TC_T0R_ACT_WAIT), "WAIT");
}

static void test_t0r_params(void **state)
{
	(void)state;
	struct tc_t0r_params bad = {.N = 256};
	assert_null(tc_t0r_new(&bad));
	struct tc_t0r *e = tc_t0r_new(NULL); /* defaults: 372, 1, N 0, WI 10 */
	assert_non_null(e);
	assert_int_equal(tc_t0r_wt_clk(e), 9600ull * 372);
	assert_int_equal(tc_t0r_guard_clk(e), 12ull * 372);
	tc_t0r_free(e);
	e = new_engine(512, 64, 0, 2); /* WT = 960 x 2 x 64 etu, 1 etu = 8 clk */
	assert_int_equal(tc_t0r_wt_clk(e), 960ull * 2 * 64 * 8);
	tc_t0r_free(e);
}

static void test_t0r_start_checks(void **state)
{
	(void)state;
	struct tc_t0r *e = new_engine(372, 1, 0, 10);
	const uint8_t h0[5] = {0, 0xD6, 0, 0, 0}, h1[5] = {0, 0xB0, 0, 0, 2};
	const uint8_t d[1] = {1};
	struct tc_t0r_action a;
	assert_int_equal(tc_t0r_start(e, h0, d, 0), TC_E_INVAL);
	assert_int_equal(tc_t0r_on_char(e, 0x90, true, 0), TC_E_STATE);
	assert_int_equal(tc_t0r_start(e, h1, NULL, 100), TC_OK);
	assert_int_equal(tc_t0r_start(e, h1, NULL, 100), TC_E_STATE);
	assert_int_equal(tc_t0r_on_char(e, 0x90, true, 0), TC_E_STATE); /* header not sent */
	next_kind(e, &a, TC_T0R_ACT_SEND);
	assert_int_equal(a.n, 5);
	assert_int_equal(a.start, 100);
	assert_int_equal(a.spacing, 12 * 372);
	assert_memory_equal(a.bytes, h1, 5);
	uint64_t last = 100 + 4 * 12 * 372;
	assert_int_equal(tc_t0r_on_char(e, 0x60, true, last - 1), TC_E_INVAL);
	assert_int_equal(tc_t0r_on_error_signal(e, 5, last), TC_E_INVAL);
	assert_int_equal(tc_t0r_on_char(e, 0x90, true, last + 16 * 372), TC_OK);
	assert_int_equal(tc_t0r_on_error_signal(e, 1, last), TC_E_STATE); /* card answered */
	tc_t0r_free(e);
}

static void test_t0r_timeout_edges(void **state)
{
	(void)state;
	struct tc_t0r *e = new_engine(372, 1, 0, 10);
	const uint8_t h[5] = {0, 0xB0, 0, 0, 1};
	struct tc_t0r_action a;
	assert_int_equal(tc_t0r_start(e, h, NULL, 0), TC_OK);
	next_kind(e, &a, TC_T0R_ACT_SEND);
	next_kind(e, &a, TC_T0R_ACT_WAIT);
	uint64_t last = 4 * 12 * 372, wt = 9600ull * 372;
	assert_int_equal(a.deadline, last + wt);
	/* A NULL at the deadline restarts WT from its own edge. */
	assert_int_equal(tc_t0r_on_timeout(e, last + wt), TC_OK);
	assert_int_equal(tc_t0r_state(e), TC_T0R_WAIT_PROC);
	assert_int_equal(tc_t0r_on_char(e, 0x60, true, last + wt), TC_OK);
	next_kind(e, &a, TC_T0R_ACT_WAIT);
	assert_int_equal(a.deadline, last + 2 * wt);
	/* A character one clock late fails as a timeout. */
	assert_int_equal(tc_t0r_on_char(e, 0x60, true, last + 2 * wt + 1), TC_OK);
	next_kind(e, &a, TC_T0R_ACT_FAILED);
	assert_int_equal(a.err, TC_E_TIMEOUT);
	assert_non_null(a.reason);
	assert_int_equal(tc_t0r_on_timeout(e, last + 3 * wt), TC_E_STATE);
	tc_t0r_free(e);
}

static void test_t0r_signal_error_action(void **state)
{
	(void)state;
	struct tc_t0r *e = new_engine(372, 1, 0, 10);
	const uint8_t h[5] = {0, 0xB0, 0, 0, 1};
	struct tc_t0r_action a;
	assert_int_equal(tc_t0r_start(e, h, NULL, 0), TC_OK);
	next_kind(e, &a, TC_T0R_ACT_SEND);
	uint64_t t = 4 * 12 * 372 + 16 * 372;
	assert_int_equal(tc_t0r_on_char(e, 0xB0, false, t), TC_OK);
	next_kind(e, &a, TC_T0R_ACT_SIGNAL_ERROR);
	assert_int_equal(a.start, t + 21 * 372 / 2);
	assert_int_equal(a.duration, 3 * 372 / 2);
	next_kind(e, &a, TC_T0R_ACT_WAIT);
	tc_t0r_free(e);
}

/* Card at the fastest pace: efficiency exactly 1. */
static void test_t0r_stats_min_time(void **state)
{
	(void)state;
	struct tc_t0r *e = new_engine(372, 1, 0, 10);
	const uint8_t h[5] = {0, 0xB0, 0, 0, 2};
	const uint8_t card[] = {0xB0, 0x01, 0x02, 0x90, 0x00};
	struct tc_t0r_action a;
	struct tc_t0r_stats st;
	assert_int_equal(tc_t0r_start(e, h, NULL, 1000), TC_OK);
	next_kind(e, &a, TC_T0R_ACT_SEND);
	uint64_t t = a.start + 4 * a.spacing;
	for (size_t i = 0; i < sizeof(card); i++) {
		t += 12 * 372;
		assert_int_equal(tc_t0r_on_char(e, card[i], true, t), TC_OK);
	}
	next_kind(e, &a, TC_T0R_ACT_DONE);
	assert_int_equal(a.n, 2);
	assert_int_equal(a.sw1, 0x90);
	tc_t0r_get_stats(e, &st);
	assert_int_equal(st.tx_chars, 5);
	assert_int_equal(st.rx_chars, 5);
	assert_int_equal(st.t_first, 1000);
	assert_int_equal(st.t_end - st.t_first, st.min_clk);
	tc_t0r_free(e);
}

static void test_t0r_reset_line(void **state)
{
	(void)state;
	struct tc_t0r *e = new_engine(372, 1, 0, 10);
	const uint8_t h[5] = {0, 0xB0, 0, 0, 0};
	struct tc_t0r_action a;
	assert_int_equal(tc_t0r_start(e, h, NULL, 0), TC_OK);
	next_kind(e, &a, TC_T0R_ACT_SEND);
	assert_int_equal(tc_t0r_on_char(e, 0x6A, true, 60 * 372), TC_OK);
	assert_int_equal(tc_t0r_on_char(e, 0x82, true, 72 * 372), TC_OK);
	next_kind(e, &a, TC_T0R_ACT_DONE);
	assert_int_equal(tc_t0r_start(e, h, NULL, 72 * 372), TC_OK); /* turnaround applies */
	next_kind(e, &a, TC_T0R_ACT_SEND);
	assert_int_equal(a.start, 84 * 372);
	assert_int_equal(tc_t0r_on_timeout(e, a.start + 4 * a.spacing + 9601 * 372), TC_OK);
	next_kind(e, &a, TC_T0R_ACT_FAILED);
	tc_t0r_reset_line(e);
	assert_int_equal(tc_t0r_start(e, h, NULL, 5), TC_OK); /* no history: at once */
	next_kind(e, &a, TC_T0R_ACT_SEND);
	assert_int_equal(a.start, 5);
	tc_t0r_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_t0r_scenarios_all),
	    cmocka_unit_test(test_t0r_transition_log_bytewise),
	    cmocka_unit_test(test_t0r_transition_log_error_signal),
	    cmocka_unit_test(test_t0r_scenario_bad_script),
	    cmocka_unit_test(test_t0r_names),
	    cmocka_unit_test(test_t0r_params),
	    cmocka_unit_test(test_t0r_start_checks),
	    cmocka_unit_test(test_t0r_timeout_edges),
	    cmocka_unit_test(test_t0r_signal_error_action),
	    cmocka_unit_test(test_t0r_stats_min_time),
	    cmocka_unit_test(test_t0r_reset_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
