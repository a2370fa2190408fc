/* test_t0_card.c: the card side of T=0 driven directly, with the card OS
 * and the reader test application behind it. Times in clock cycles;
 * default etu = 372 cycles. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tc_card_os.h"
#include "tc_error.h"
#include "tc_t0_card.h"

#define ETU      372u
#define MAX_OUTS (TC_T0C_MAX_BURST + 8)

struct fixture {
	struct tc_card_os *os;
	struct tc_t0c *c;
	struct tc_t0c_out out[MAX_OUTS];
	size_t n;
	char log[1024];
};

static const uint8_t atr_ta1[] = {0x3B, 0x10, 0x95}; /* TA1 = 95: Fi 512, Di 16 */

static void log_fn(void *ctx, enum tc_t0c_state from, enum tc_t0c_state to, uint64_t t)
{
	struct fixture *f = ctx;
	size_t l = strlen(f->log);
	snprintf(f->log + l, sizeof(f->log) - l, "%llu %s -> %s\n", (unsigned long long)t,
	         tc_t0c_state_name(from), tc_t0c_state_name(to));
}

static struct fixture *make(struct tc_t0c_config *cfg)
{
	static struct fixture fx; /* one per test; cmocka runs tests one by one */
	memset(&fx, 0, sizeof(fx));
	if (cfg->atr_len == 0) {
		memcpy(cfg->atr, atr_ta1, sizeof(atr_ta1));
		cfg->atr_len = sizeof(atr_ta1);
	}
	if (cfg->atr_delay_clk == 0)
		cfg->atr_delay_clk = 5000;
	fx.os = tc_card_os_new();
	assert_non_null(fx.os);
	assert_int_equal(tc_card_os_add(fx.os, tc_card_app_test(), NULL, true), TC_OK);
	fx.c = tc_t0c_new(cfg, tc_card_os_ops(), fx.os);
	assert_non_null(fx.c);
	tc_t0c_set_log(fx.c, log_fn, &fx);
	return &fx;
}

static void done(struct fixture *f)
{
	tc_t0c_free(f->c);
	tc_card_os_free(f->os);
}

static size_t drain(struct fixture *f)
{
	f->n = 0;
	while (f->n < MAX_OUTS && tc_t0c_next(f->c, &f->out[f->n]))
		f->n++;
	return f->n;
}

/* Power on at 0, RST high at 1000, ATR drained. */
static void activate(struct fixture *f)
{
	assert_int_equal(tc_t0c_power_on(f->c, 0), TC_OK);
	assert_int_equal(tc_t0c_rst(f->c, true, 1000), TC_OK);
	(void)drain(f);
}

/* Reader characters 12 etu apart from t; returns the last one's time. */
static uint64_t feed(struct fixture *f, const uint8_t *b, size_t n, uint64_t t, unsigned etu)
{
	uint64_t last = t;
	for (size_t i = 0; i < n; i++) {
		last = t + i * 12u * etu;
		assert_int_equal(tc_t0c_on_char(f->c, b[i], true, last), TC_OK);
	}
	return last;
}

static void expect_bytes(const struct fixture *f, const uint8_t *b, size_t n)
{
	assert_int_equal(f->n, n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(f->out[i].kind, TC_T0C_OUT_CHAR);
		assert_int_equal(f->out[i].byte, b[i]);
	}
}

static void test_t0c_atr_timing(void **state)
{
	struct tc_t0c_config cfg = {.extra_guard_etu = 2};
	struct fixture *f = make(&cfg);
	(void)state;
	assert_int_equal(tc_t0c_power_on(f->c, 0), TC_OK);
	assert_int_equal(drain(f), 0);
	assert_int_equal(tc_t0c_rst(f->c, true, 1000), TC_OK);
	drain(f);
	expect_bytes(f, atr_ta1, 3);
	assert_int_equal(f->out[0].time, 6000);
	assert_int_equal(f->out[1].time, 6000 + 14 * ETU);
	assert_int_equal(f->out[2].time, 6000 + 28 * ETU);
	assert_int_equal(f->out[2].tx_no, 3);
	assert_int_equal(tc_t0c_state(f->c), TC_T0C_AFTER_ATR);
	assert_string_equal(f->log, "0 OFF -> RESET\n1000 RESET -> AFTER_ATR\n");
	/* warm reset: the same ATR again, counted on */
	assert_int_equal(tc_t0c_rst(f->c, false, 50000), TC_OK);
	assert_int_equal(tc_t0c_rst(f->c, true, 51000), TC_OK);
	assert_int_equal(drain(f), 3);
	assert_int_equal(f->out[0].time, 56000);
	assert_int_equal(f->out[0].tx_no, 4);
	done(f);
}

static void test_t0c_mute(void **state)
{
	struct tc_t0c_config cfg = {.mute = true};
	struct fixture *f = make(&cfg);
	(void)state;
	activate(f);
	assert_int_equal(f->n, 0);
	assert_int_equal(tc_t0c_state(f->c), TC_T0C_SILENT);
	assert_int_equal(tc_t0c_on_char(f->c, 0x00, true, 90000), TC_E_STATE);
	assert_int_equal(drain(f), 0);
	done(f);
}

static void test_t0c_pps_accepted(void **state)
{
	static const uint8_t pps[] = {0xFF, 0x10, 0x95, 0x7A};
	static const uint8_t case1[] = {0x80, 0x30, 0x00, 0x00, 0x00};
	struct tc_t0c_config cfg = {0};
	struct fixture *f = make(&cfg);
	unsigned F, D;
	(void)state;
	activate(f);
	uint64_t t = feed(f, pps, sizeof(pps), 100000, ETU);
	drain(f);
	expect_bytes(f, pps, 4);
	assert_int_equal(f->out[0].time, t + 12 * ETU);
	/* new factors from the reader's next character: etu = 512 / 16 = 32 */
	t = feed(f, case1, 5, 200000, 32);
	tc_t0c_factors(f->c, &F, &D);
	assert_int_equal(F, 512);
	assert_int_equal(D, 16);
	drain(f);
	expect_bytes(f, (const uint8_t[]){0x90, 0x00}, 2);
	assert_int_equal(f->out[0].time, t + 12 * 32);
	assert_int_equal(f->out[1].time, t + 24 * 32);
	done(f);
}

static void pps_case(enum tc_t0c_pps_mode mode, const uint8_t *req, size_t nreq, const uint8_t *ans,
                     size_t nans)
{
	struct tc_t0c_config cfg = {.pps_mode = mode};
	if (mode == TC_T0C_PPS_ALT) {
		memcpy(cfg.pps_alt, ans, nans);
		cfg.pps_alt_len = nans;
	}
	struct fixture *f = make(&cfg);
	unsigned F, D;
	activate(f);
	(void)feed(f, req, nreq, 100000, ETU);
	drain(f);
	expect_bytes(f, ans, nans);
	/* whatever happened, a header at the defaults (or new factors) works */
	(void)feed(f, (const uint8_t[]){0x80, 0x30, 0, 0, 0}, 5, 300000, ETU);
	tc_t0c_factors(f->c, &F, &D);
	if (!(mode == TC_T0C_PPS_ACCEPT && nans == 4))
		assert_int_equal(D, 1);
	drain(f);
	expect_bytes(f, (const uint8_t[]){0x90, 0x00}, 2);
	done(f);
}

static void test_t0c_pps_variants(void **state)
{
	static const uint8_t req[] = {0xFF, 0x10, 0x95, 0x7A};
	(void)state;
	pps_case(TC_T0C_PPS_REFUSE, req, 4, NULL, 0);
	pps_case(TC_T0C_PPS_NO_PPS1, req, 4, (const uint8_t[]){0xFF, 0x00, 0xFF}, 3);
	pps_case(TC_T0C_PPS_WRONG, req, 4, (const uint8_t[]){0xFF, 0x11, 0x95, 0x7B}, 4);
	pps_case(TC_T0C_PPS_ALT, req, 4, (const uint8_t[]){0xFF, 0x10, 0x11, 0xFE}, 4);
	/* bad PCK, Di above the card's, T=1 asked: silence */
	pps_case(TC_T0C_PPS_ACCEPT, (const uint8_t[]){0xFF, 0x10, 0x95, 0x00}, 4, NULL, 0);
	pps_case(TC_T0C_PPS_ACCEPT, (const uint8_t[]){0xFF, 0x10, 0x96, 0x79}, 4, NULL, 0);
	pps_case(TC_T0C_PPS_ACCEPT, (const uint8_t[]){0xFF, 0x01, 0xFE}, 3, NULL, 0);
	/* PPS1 = defaults and no PPS1: echoed */
	pps_case(TC_T0C_PPS_ACCEPT, (const uint8_t[]){0xFF, 0x10, 0x11, 0xFE}, 4,
	         (const uint8_t[]){0xFF, 0x10, 0x11, 0xFE}, 4);
	pps_case(TC_T0C_PPS_ACCEPT, (const uint8_t[]){0xFF, 0x00, 0xFF}, 3,
	         (const uint8_t[]){0xFF, 0x00, 0xFF}, 3);
}

/* Send a header; return the time of its last character. */
static uint64_t header(struct fixture *f, uint8_t cla, uint8_t ins, uint8_t p1, uint8_t p2,
                       uint8_t p3, uint64_t t)
{
	const uint8_t h[5] = {cla, ins, p1, p2, p3};
	uint64_t last = feed(f, h, 5, t, ETU);
	drain(f);
	return last;
}

static void test_t0c_case1(void **state)
{
	struct tc_t0c_config cfg = {.proc_etu = 100};
	struct fixture *f = make(&cfg);
	(void)state;
	activate(f);
	uint64_t t = header(f, 0x80, 0x30, 0, 0, 0, 100000);
	expect_bytes(f, (const uint8_t[]){0x90, 0x00}, 2);
	assert_int_equal(f->out[0].time, t + (12 + 100) * ETU);
	assert_int_equal(tc_t0c_state(f->c), TC_T0C_HEADER);
	done(f);
}

static void test_t0c_case2(void **state)
{
	struct tc_t0c_config cfg = {0};
	struct fixture *f = make(&cfg);
	(void)state;
	activate(f);
	uint64_t t = header(f, 0x80, 0x34, 0x00, 0x05, 0x05, 100000);
	expect_bytes(f, (const uint8_t[]){0x34, 0, 1, 2, 3, 4, 0x90, 0x00}, 8);
	for (size_t i = 0; i < 8; i++)
		assert_int_equal(f->out[i].time, t + (12 + 12 * i) * ETU);
	/* Le = 00 means 256 */
	(void)header(f, 0x80, 0x34, 0x01, 0x00, 0x00, 200000);
	assert_int_equal(f->n, 1 + 256 + 2);
	assert_int_equal(f->out[256].byte, 0xFF);
	assert_int_equal(f->out[257].byte, 0x90);
	/* wrong Le: 6Cxx with the length the card has */
	(void)header(f, 0x80, 0x34, 0x00, 0x05, 0x10, 500000);
	expect_bytes(f, (const uint8_t[]){0x6C, 0x05}, 2);
	(void)header(f, 0x80, 0x34, 0x01, 0x00, 0x10, 600000);
	expect_bytes(f, (const uint8_t[]){0x6C, 0x00}, 2);
	done(f);
}

static void test_t0c_case3_ack_and_one_by_one(void **state)
{
	(void)state;
	for (int mode = 0; mode < 2; mode++) {
		struct tc_t0c_config cfg = {.one_by_one = mode == 1};
		struct fixture *f = make(&cfg);
		activate(f);
		uint64_t t = header(f, 0x80, 0x32, 0, 0, 3, 100000);
		uint8_t ack = mode ? 0xCD : 0x32;
		expect_bytes(f, &ack, 1);
		assert_int_equal(f->out[0].time, t + 12 * ETU);
		assert_int_equal(tc_t0c_state(f->c), TC_T0C_DATA);
		for (int i = 0; i < 3; i++) {
			assert_int_equal(tc_t0c_on_char(f->c, (uint8_t)i, true, 200000 + i * 10000),
			                 TC_OK);
			drain(f);
			if (i < 2 && mode == 1)
				expect_bytes(f, &ack, 1);
			else if (i < 2)
				assert_int_equal(f->n, 0);
		}
		expect_bytes(f, (const uint8_t[]){0x90, 0x00}, 2);
		done(f);
	}
}

static void test_t0c_case4_get_response(void **state)
{
	struct tc_t0c_config cfg = {0};
	struct fixture *f = make(&cfg);
	(void)state;
	activate(f);
	(void)header(f, 0x80, 0x36, 0x00, 0x04, 0x02, 100000);
	expect_bytes(f, (const uint8_t[]){0x36}, 1);
	(void)feed(f, (const uint8_t[]){0xAA, 0xBB}, 2, 200000, ETU);
	drain(f);
	expect_bytes(f, (const uint8_t[]){0x61, 0x04}, 2);
	(void)header(f, 0x00, 0xC0, 0x00, 0x00, 0x04, 300000);
	expect_bytes(f, (const uint8_t[]){0xC0, 0, 1, 2, 3, 0x90, 0x00}, 7);
	(void)header(f, 0x00, 0xC0, 0x00, 0x00, 0x04, 400000);
	expect_bytes(f, (const uint8_t[]){0x69, 0x85}, 2);
	done(f);
}

static void test_t0c_nulls_while_busy(void **state)
{
	struct tc_t0c_config cfg = {0};
	struct fixture *f = make(&cfg);
	(void)state;
	activate(f);
	/* 80 38 00 0A: 10 000 etu of work; NULL every WT/2 = 4800 etu */
	uint64_t t = header(f, 0x80, 0x38, 0x00, 0x0A, 0x00, 100000);
	expect_bytes(f, (const uint8_t[]){0x60, 0x60, 0x90, 0x00}, 4);
	uint64_t start = t + 12 * ETU;
	assert_int_equal(f->out[0].time, start + 4800 * ETU);
	assert_int_equal(f->out[1].time, start + 9600 * ETU);
	assert_int_equal(f->out[2].time, start + 10000 * ETU);
	done(f);
}

static void test_t0c_null_storm_and_wrong_proc(void **state)
{
	struct tc_t0c_config cfg = {.null_storm = 3, .wrong_proc = true, .wrong_proc_byte = 0x33};
	struct fixture *f = make(&cfg);
	(void)state;
	activate(f);
	(void)header(f, 0x80, 0x34, 0x00, 0x01, 0x01, 100000);
	expect_bytes(f, (const uint8_t[]){0x60, 0x60, 0x60, 0x33, 0x00, 0x90, 0x00}, 7);
	done(f);
}

static void test_t0c_invalid_ins(void **state)
{
	struct tc_t0c_config cfg = {0};
	struct fixture *f = make(&cfg);
	(void)state;
	activate(f);
	(void)header(f, 0x80, 0x60, 0, 0, 0x10, 100000);
	expect_bytes(f, (const uint8_t[]){0x6D, 0x00}, 2);
	(void)header(f, 0x00, 0x9F, 0, 0, 0x00, 200000);
	expect_bytes(f, (const uint8_t[]){0x6D, 0x00}, 2);
	(void)header(f, 0xFF, 0x30, 0, 0, 0x00, 300000);
	expect_bytes(f, (const uint8_t[]){0x6E, 0x00}, 2);
	done(f);
}

static void test_t0c_reader_parity_signalled(void **state)
{
	struct tc_t0c_config cfg = {0};
	struct fixture *f = make(&cfg);
	(void)state;
	activate(f);
	assert_int_equal(tc_t0c_on_char(f->c, 0x80, false, 100000), TC_OK);
	drain(f);
	assert_int_equal(f->n, 1);
	assert_int_equal(f->out[0].kind, TC_T0C_OUT_SIGNAL);
	assert_int_equal(f->out[0].time, 100000 + 3906); /* 10.5 x 372 */
	/* repeated correctly: the header goes on */
	(void)feed(f, (const uint8_t[]){0x80, 0x30, 0x00, 0x00}, 4, 110000, ETU);
	assert_int_equal(drain(f), 0);
	(void)feed(f, (const uint8_t[]){0x00}, 1, 200000, ETU);
	drain(f);
	expect_bytes(f, (const uint8_t[]){0x90, 0x00}, 2);
	/* bounded: the fourth consecutive signal makes the card silent */
	for (int i = 0; i < 4; i++)
		assert_int_equal(tc_t0c_on_char(f->c, 0x80, false, 300000 + i * 10000), TC_OK);
	assert_int_equal(drain(f), 4);
	assert_int_equal(tc_t0c_state(f->c), TC_T0C_SILENT);
	done(f);
}

static void test_t0c_card_repeats_bounded(void **state)
{
	struct tc_t0c_config cfg = {0};
	struct fixture *f = make(&cfg);
	(void)state;
	activate(f);
	(void)header(f, 0x80, 0x34, 0x00, 0x02, 0x02, 100000);
	assert_int_equal(f->n, 5); /* ACK 00 01 90 00 */
	uint64_t t1 = f->out[1].time;
	uint64_t sig = t1 + 3906;
	assert_int_equal(tc_t0c_on_error(f->c, 1, sig), TC_OK);
	drain(f);
	expect_bytes(f, (const uint8_t[]){0x00, 0x01, 0x90, 0x00}, 4);
	assert_int_equal(f->out[0].time, t1 + 13 * ETU);
	assert_int_equal(f->out[0].index, 1);
	assert_int_equal(f->out[1].time, t1 + 25 * ETU);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(tc_t0c_on_error(f->c, 1, f->out[0].time + 3906), TC_OK);
		drain(f);
		assert_int_equal(f->n, 4);
	}
	assert_int_equal(tc_t0c_on_error(f->c, 1, f->out[0].time + 3906), TC_E_PARITY);
	assert_int_equal(drain(f), 0);
	assert_int_equal(tc_t0c_state(f->c), TC_T0C_SILENT);
	assert_int_equal(tc_t0c_on_error(f->c, 1, 0), TC_E_STATE);
	done(f);
}

static void test_t0c_parity_faults(void **state)
{
	struct tc_t0c_config cfg = {.n_tx_bad = 1, .tx_bad = {2}, .rx_bad_every = 3};
	struct fixture *f = make(&cfg);
	(void)state;
	activate(f);
	assert_false(f->out[0].bad_parity);
	assert_true(f->out[1].bad_parity);
	assert_false(f->out[2].bad_parity);
	/* a repetition is not a new character: with times 1 it goes out right */
	assert_int_equal(tc_t0c_on_error(f->c, 1, f->out[1].time + 3906), TC_OK);
	drain(f);
	assert_int_equal(f->n, 2);
	assert_false(f->out[0].bad_parity);
	assert_int_equal(f->out[0].tx_no, 4);
	/* reader characters 3, 6, ... are signalled although right */
	for (int i = 0; i < 3; i++)
		assert_int_equal(tc_t0c_on_char(f->c, 0x80, true, 100000 + i * 5000), TC_OK);
	drain(f);
	assert_int_equal(f->n, 1);
	assert_int_equal(f->out[0].kind, TC_T0C_OUT_SIGNAL);
	done(f);
}

/* A whole session; the transitions are compared with a stored log. */
static void test_t0c_transition_log(void **state)
{
	struct tc_t0c_config cfg = {0};
	struct fixture *f = make(&cfg);
	char path[512], want[1024];
	const char *dir = getenv("TC_DATA_DIR");
	(void)state;
	activate(f);
	(void)feed(f, (const uint8_t[]){0xFF, 0x00, 0xFF}, 3, 100000, ETU);
	(void)header(f, 0x80, 0x32, 0, 0, 1, 200000);
	(void)feed(f, (const uint8_t[]){0x00}, 1, 300000, ETU);
	(void)header(f, 0x80, 0x34, 0, 1, 1, 400000);
	for (int i = 0; i < 4; i++)
		(void)tc_t0c_on_error(f->c, 0, 500000 + i * 10000);
	assert_int_equal(tc_t0c_rst(f->c, false, 700000), TC_OK);
	assert_int_equal(tc_t0c_power_off(f->c, 800000), TC_OK);
	snprintf(path, sizeof(path), "%s/card/t0_card_transitions.txt", dir ? dir : "tests/data");
	FILE *in = fopen(path, "rb");
	assert_non_null(in);
	size_t n = fread(want, 1, sizeof(want) - 1, in);
	fclose(in);
	want[n] = '\0';
	assert_string_equal(f->log, want);
	done(f);
}

static void test_t0c_parity_fault_times(void **state)
{
	struct tc_t0c_config cfg = {
	    .n_tx_bad = 1, .tx_bad = {1}, .tx_bad_times = 2, .tx_bad_every = 2};
	struct fixture *f = make(&cfg);
	(void)state;
	activate(f);
	assert_true(f->out[0].bad_parity); /* listed */
	assert_true(f->out[1].bad_parity); /* every 2nd */
	assert_false(f->out[2].bad_parity);
	assert_int_equal(tc_t0c_on_error(f->c, 0, f->out[0].time + 3906), TC_OK);
	drain(f);
	assert_int_equal(f->n, 3);
	assert_true(f->out[0].bad_parity);  /* second time of two */
	assert_false(f->out[1].bad_parity); /* every-Nth errors happen once */
	assert_int_equal(tc_t0c_on_error(f->c, 0, f->out[0].time + 3906), TC_OK);
	drain(f);
	assert_false(f->out[0].bad_parity);
	done(f);
}

static void test_t0c_bad_args(void **state)
{
	struct tc_t0c_config cfg = {0};
	static const struct tc_t0c_ops no_cmd = {0};
	(void)state;
	assert_null(tc_t0c_new(&cfg, tc_card_os_ops(), NULL)); /* no ATR */
	cfg.atr_len = 2;
	assert_null(tc_t0c_new(&cfg, &no_cmd, NULL));
	assert_string_equal(tc_t0c_state_name(TC_T0C_DATA), "DATA");
	assert_string_equal(tc_t0c_state_name(TC_T0C_STATE_COUNT), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_t0c_atr_timing),
	    cmocka_unit_test(test_t0c_mute),
	    cmocka_unit_test(test_t0c_pps_accepted),
	    cmocka_unit_test(test_t0c_pps_variants),
	    cmocka_unit_test(test_t0c_case1),
	    cmocka_unit_test(test_t0c_case2),
	    cmocka_unit_test(test_t0c_case3_ack_and_one_by_one),
	    cmocka_unit_test(test_t0c_case4_get_response),
	    cmocka_unit_test(test_t0c_nulls_while_busy),
	    cmocka_unit_test(test_t0c_null_storm_and_wrong_proc),
	    cmocka_unit_test(test_t0c_invalid_ins),
	    cmocka_unit_test(test_t0c_reader_parity_signalled),
	    cmocka_unit_test(test_t0c_card_repeats_bounded),
	    cmocka_unit_test(test_t0c_parity_faults),
	    cmocka_unit_test(test_t0c_parity_fault_times),
	    cmocka_unit_test(test_t0c_transition_log),
	    cmocka_unit_test(test_t0c_bad_args),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
