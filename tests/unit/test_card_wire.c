/* test_card_wire.c: tokencard-sim's wire handling in process. A minimal
 * reader written here talks to struct tc_sim over a socketpair: HELLO,
 * power on, ATR, a case 1 command, stale messages, error signals both ways,
 * removal at character n, control commands, malformed input, recording. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "tc_atr.h"
#include "tc_error.h"
#include "tc_sim.h"
#include "tc_wire.h"

#define ETU      372u
#define MAX_IN   600
#define CLOCK_HZ 3571200u

struct rd {
	struct tc_sim *sim;
	int fd;
	uint32_t seq, ack;
	struct tc_wire_msg in[MAX_IN];
	size_t nin;
	uint8_t buf[65536];
	size_t nbuf;
};

static struct rd R;    /* one reader per test, tests run one by one */
static int R_socktype; /* 0: SOCK_STREAM; SOCK_SEQPACKET shows each write apart */

/* The tests count the card's characters: they use the shortest ATR, 3B 00,
 * unless default_atr (test_wire_default_atr checks the default one). */
static void rd_open_atr(const char *const *sets, size_t nsets, FILE *record, bool default_atr)
{
	struct tc_sim_config cfg;
	struct tc_sim_log lg = {.level = TC_SIM_LOG_ERROR, .out = stderr};
	char why[TC_SIM_ERR_LEN];
	int sv[2];

	memset(&R, 0, sizeof(R));
	tc_sim_config_init(&cfg);
	if (!default_atr)
		assert_int_equal(tc_sim_config_set_arg(&cfg, "atr=3B 00", why, sizeof(why)), TC_OK);
	for (size_t i = 0; i < nsets; i++)
		assert_int_equal(tc_sim_config_set_arg(&cfg, sets[i], why, sizeof(why)), TC_OK);
	R.sim = tc_sim_new(&cfg, &lg, why, sizeof(why));
	assert_non_null(R.sim);
	assert_int_equal(socketpair(AF_UNIX, R_socktype ? R_socktype : SOCK_STREAM, 0, sv), 0);
	assert_int_equal(tc_sim_attach(R.sim, sv[0], record), TC_OK);
	R.fd = sv[1];
	(void)fcntl(R.fd, F_SETFL, fcntl(R.fd, F_GETFL) | O_NONBLOCK);
}

static void rd_open(const char *const *sets, size_t nsets, FILE *record)
{
	rd_open_atr(sets, nsets, record, false);
}

static void rd_close(void)
{
	tc_sim_free(R.sim);
	close(R.fd);
}

static void rd_send(struct tc_wire_msg *m)
{
	uint8_t b[TC_WIRE_MAX_MSG];
	m->seq = ++R.seq;
	if (m->ack == 0)
		m->ack = R.ack;
	int n = tc_wire_encode(m, b, sizeof(b));
	assert_true(n > 0);
	assert_int_equal(write(R.fd, b, (size_t)n), n);
}

static void rd_simple(uint8_t type, uint64_t t)
{
	struct tc_wire_msg m = {.type = type, .time = t};
	rd_send(&m);
}

/* Let the card run, then collect everything it sent. Returns the pump rc. */
static int rd_pump(void)
{
	int rc = tc_sim_pump(R.sim);
	R.nin = 0;
	for (;;) {
		ssize_t r = read(R.fd, R.buf + R.nbuf, sizeof(R.buf) - R.nbuf);
		if (r <= 0)
			break;
		R.nbuf += (size_t)r;
	}
	size_t off = 0;
	while (R.nin < MAX_IN) {
		int n = tc_wire_decode(R.buf + off, R.nbuf - off, &R.in[R.nin], NULL, 0);
		assert_true(n >= 0);
		if (n == 0)
			break;
		R.ack = R.in[R.nin].seq;
		R.nin++;
		off += (size_t)n;
	}
	memmove(R.buf, R.buf + off, R.nbuf - off);
	R.nbuf -= off;
	return rc;
}

static uint8_t byte_of(size_t i)
{
	assert_int_equal(R.in[i].type, TC_WIRE_CHAR);
	bool ok;
	uint8_t b = tc_wire_char_read(R.in[i].u.chr.raw, R.in[i].u.chr.parity, false, &ok);
	assert_true(ok);
	return b;
}

/* HELLO, POWER_ON at 0, RST high at 500: the ATR arrives. */
static void rd_activate(void)
{
	struct tc_wire_msg h = {.type = TC_WIRE_HELLO};
	h.u.hello.version = 1;
	h.u.hello.role = TC_WIRE_ROLE_READER;
	snprintf(h.u.hello.name, sizeof(h.u.hello.name), "unit reader");
	rd_send(&h);
	assert_int_equal(rd_pump(), TC_OK);
	assert_int_equal(R.nin, 1);
	assert_int_equal(R.in[0].type, TC_WIRE_HELLO);
	assert_int_equal(R.in[0].u.hello.role, TC_WIRE_ROLE_CARD);
	assert_int_equal(R.in[0].u.hello.present, 1);
	struct tc_wire_msg p = {.type = TC_WIRE_POWER_ON, .time = 0};
	p.u.power_on.cls = TC_CLASS_B;
	p.u.power_on.clock_hz = CLOCK_HZ;
	rd_send(&p);
	assert_int_equal(rd_pump(), TC_OK);
	assert_int_equal(R.nin, 1);
	assert_int_equal(R.in[0].type, TC_WIRE_IDLE);
	struct tc_wire_msg r = {.type = TC_WIRE_RST, .time = 500};
	r.u.rst.level = 1;
	rd_send(&r);
	assert_int_equal(rd_pump(), TC_OK);
}

static void rd_chars(const uint8_t *b, size_t n, uint64_t t, uint32_t ack)
{
	for (size_t i = 0; i < n; i++) {
		struct tc_wire_msg m = {.type = TC_WIRE_CHAR, .time = t + i * 12 * ETU, .ack = ack};
		tc_wire_char_make(b[i], false, &m.u.chr.raw, &m.u.chr.parity);
		rd_send(&m);
	}
	struct tc_wire_msg idle = {.type = TC_WIRE_IDLE, .time = t + n * 12 * ETU, .ack = ack};
	rd_send(&idle);
}

static const uint8_t case1[] = {0x80, 0x30, 0x00, 0x00, 0x00};

/* The default ATR: a real T=0 card's, with TA1 96, the class indicator
 * (A, B, C) and compact-TLV historical bytes, so its TCK must be right. */
static void test_wire_default_atr(void **state)
{
	static const uint8_t want[] = {0x3B, 0x96, 0x96, 0x80, 0x1F, 0x07, 0x80,
	                               0x31, 0xC0, 0x82, 0x90, 0x00, 0xFB};
	uint8_t got[sizeof(want)];
	struct tc_atr a;

	(void)state;
	rd_open_atr(NULL, 0, NULL, true);
	rd_activate();
	assert_int_equal(R.nin, sizeof(want) + 1);
	for (size_t i = 0; i < sizeof(want); i++)
		got[i] = byte_of(i);
	assert_memory_equal(got, want, sizeof(want));
	assert_int_equal(R.in[sizeof(want)].type, TC_WIRE_IDLE);
	assert_int_equal(tc_atr_parse(got, sizeof(got), &a), 0);
	assert_int_equal(a.Fi, 512);
	assert_int_equal(a.Di, 32);
	assert_int_equal(a.fmax_khz, 5000);
	assert_true(a.has_class);
	assert_int_equal(a.classes, TC_ATR_CLASS_A | TC_ATR_CLASS_B | TC_ATR_CLASS_C);
	assert_int_equal(a.tck, TC_ATR_TCK_OK);
	assert_false(a.specific_mode);
	rd_close();
}

/* Everything the card says in answer to one input leaves in one write: over
 * a SOCK_SEQPACKET pair each write is one record, so one read must return
 * the ACK, 256 data bytes, SW1 SW2 and IDLE at once. */
static void test_wire_answer_in_one_write(void **state)
{
	static const uint8_t case2_256[] = {0x80, 0x34, 0x01, 0x00, 0x00};
	static uint8_t buf[65536];

	(void)state;
	R_socktype = SOCK_SEQPACKET;
	rd_open(NULL, 0, NULL);
	R_socktype = 0;
	rd_activate();
	assert_int_equal(R.nin, 3); /* the ATR and IDLE came in one record too */
	rd_chars(case2_256, 5, 20000, 0);
	assert_int_equal(tc_sim_pump(R.sim), TC_OK);
	ssize_t n = read(R.fd, buf, sizeof(buf));
	assert_true(n > 0);
	size_t off = 0, msgs = 0;
	struct tc_wire_msg m;
	int k;
	while ((k = tc_wire_decode(buf + off, (size_t)n - off, &m, NULL, 0)) > 0) {
		off += (size_t)k;
		msgs++;
	}
	assert_int_equal(off, (size_t)n);
	assert_int_equal(msgs, 1 + 256 + 2 + 1);
	assert_int_equal(m.type, TC_WIRE_IDLE);
	assert_true(read(R.fd, buf, sizeof(buf)) < 0); /* nothing more */
	rd_close();
}

static void test_wire_session_case1(void **state)
{
	(void)state;
	rd_open(NULL, 0, NULL);
	rd_activate();
	assert_int_equal(R.nin, 3); /* 3B 00 IDLE */
	assert_int_equal(byte_of(0), 0x3B);
	assert_int_equal(R.in[0].time, 1500);
	assert_int_equal(byte_of(1), 0x00);
	assert_int_equal(R.in[1].time, 1500 + 12 * ETU);
	assert_int_equal(R.in[2].type, TC_WIRE_IDLE);
	assert_true(R.in[2].time >= R.in[1].time + 10 * ETU);
	rd_chars(case1, 5, 20000, 0);
	assert_int_equal(rd_pump(), TC_OK);
	assert_int_equal(R.nin, 3);
	assert_int_equal(byte_of(0), 0x90);
	assert_int_equal(byte_of(1), 0x00);
	assert_int_equal(R.in[0].time, 20000 + 4 * 12 * ETU + 12 * ETU);
	assert_int_equal(R.in[2].type, TC_WIRE_IDLE);
	assert_int_equal(R.in[2].ack, R.seq);
	/* POWER_OFF is answered with IDLE */
	rd_simple(TC_WIRE_POWER_OFF, 200000);
	assert_int_equal(rd_pump(), TC_OK);
	assert_int_equal(R.nin, 1);
	assert_int_equal(R.in[0].type, TC_WIRE_IDLE);
	/* BYE ends the link */
	rd_simple(TC_WIRE_BYE, 200000);
	assert_int_equal(rd_pump(), TC_E_CLOSED);
	rd_close();
}

static void test_wire_stale_messages(void **state)
{
	(void)state;
	rd_open(NULL, 0, NULL);
	rd_activate();
	uint32_t ts_seq = R.in[0].seq, last_char = R.in[1].seq;
	/* a header sent without having seen the ATR: stale, no effect, no answer */
	rd_chars(case1, 5, 8000, 1);
	assert_int_equal(rd_pump(), TC_OK);
	assert_int_equal(R.nin, 0);
	/* ERROR against TS: current; the card repeats TS and the rest */
	struct tc_wire_msg e = {.type = TC_WIRE_ERROR, .time = 1500 + 3906, .ack = last_char};
	e.u.error.ref = ts_seq;
	rd_send(&e);
	assert_int_equal(rd_pump(), TC_OK);
	assert_int_equal(R.nin, 3);
	assert_int_equal(byte_of(0), 0x3B);
	assert_int_equal(R.in[0].time, 1500 + 13 * ETU);
	assert_int_equal(byte_of(1), 0x00);
	/* the same ERROR again names a superseded transmission: stale */
	e.ack = R.ack;
	rd_send(&e);
	assert_int_equal(rd_pump(), TC_OK);
	assert_int_equal(R.nin, 0);
	/* the header again, current this time */
	rd_chars(case1, 5, 40000, 0);
	assert_int_equal(rd_pump(), TC_OK);
	assert_int_equal(R.nin, 3);
	assert_int_equal(byte_of(0), 0x90);
	rd_close();
}

static void test_wire_card_signals_parity(void **state)
{
	(void)state;
	rd_open(NULL, 0, NULL);
	rd_activate();
	struct tc_wire_msg m = {.type = TC_WIRE_CHAR, .time = 20000};
	tc_wire_char_make(0x80, false, &m.u.chr.raw, &m.u.chr.parity);
	m.u.chr.parity ^= 1u;
	rd_send(&m);
	uint32_t bad_seq = R.seq;
	/* the rest of the old burst: stale once the card has signalled */
	rd_chars(case1 + 1, 4, 20000 + 12 * ETU, 0);
	assert_int_equal(rd_pump(), TC_OK);
	assert_int_equal(R.nin, 2);
	assert_int_equal(R.in[0].type, TC_WIRE_ERROR);
	assert_int_equal(R.in[0].u.error.ref, bad_seq);
	assert_int_equal(R.in[0].time, 20000 + 3906);
	assert_int_equal(R.in[1].type, TC_WIRE_IDLE);
	rd_chars(case1, 5, 20000 + 14 * ETU, 0);
	assert_int_equal(rd_pump(), TC_OK);
	assert_int_equal(byte_of(0), 0x90);
	rd_close();
}

static void test_wire_remove_at_and_control(void **state)
{
	static const char *const sets[] = {"remove_at=2"};
	char reply[TC_SIM_STATUS_LEN];
	(void)state;
	rd_open(sets, 1, NULL);
	rd_activate();
	assert_int_equal(R.nin, 2); /* n - 1 = 1 CHAR, then REMOVE, nothing more */
	assert_int_equal(byte_of(0), 0x3B);
	assert_int_equal(R.in[1].type, TC_WIRE_REMOVE);
	assert_int_equal(tc_sim_control(R.sim, "status", reply, sizeof(reply)), TC_OK);
	assert_non_null(strstr(reply, "present=no"));
	assert_int_equal(tc_sim_control(R.sim, "remove", reply, sizeof(reply)), TC_E_FORMAT);
	assert_string_equal(reply, "error: card already removed");
	/* a removed card ignores power */
	struct tc_wire_msg r = {.type = TC_WIRE_RST, .time = 90000};
	rd_send(&r);
	assert_int_equal(rd_pump(), TC_OK);
	assert_int_equal(R.nin, 0);
	assert_int_equal(tc_sim_control(R.sim, "insert\n", reply, sizeof(reply)), TC_OK);
	assert_string_equal(reply, "ok");
	assert_int_equal(rd_pump(), TC_OK);
	assert_int_equal(R.nin, 1);
	assert_int_equal(R.in[0].type, TC_WIRE_INSERT);
	assert_int_equal(tc_sim_control(R.sim, "set pps=refuse", reply, sizeof(reply)), TC_OK);
	assert_int_equal(tc_sim_control(R.sim, "set tc1=999", reply, sizeof(reply)), TC_E_FORMAT);
	assert_string_equal(reply,
	                    "error: bad value '999' for tc1: expected a number 0..255 or none");
	assert_int_equal(tc_sim_control(R.sim, "dance", reply, sizeof(reply)), TC_E_FORMAT);
	assert_int_equal(tc_sim_control(R.sim, "status", reply, sizeof(reply)), TC_OK);
	assert_non_null(strstr(reply, "present=yes"));
	assert_non_null(strstr(reply, "pps=refuse"));
	/* powered again: the ATR comes (remove_at fired once) */
	struct tc_wire_msg p = {.type = TC_WIRE_POWER_ON, .time = 100000};
	p.u.power_on.cls = TC_CLASS_A;
	p.u.power_on.clock_hz = CLOCK_HZ;
	rd_send(&p);
	r.time = 101000;
	r.u.rst.level = 1;
	rd_send(&r);
	assert_int_equal(rd_pump(), TC_OK);
	assert_int_equal(R.nin, 3);
	assert_int_equal(R.in[0].time, 102000);
	rd_close();
}

static void test_wire_refused_class(void **state)
{
	static const char *const sets[] = {"answer_classes=A"};
	(void)state;
	rd_open(sets, 1, NULL);
	rd_activate(); /* at class B */
	assert_int_equal(R.nin, 1);
	assert_int_equal(R.in[0].type, TC_WIRE_IDLE);
	rd_close();
}

static void test_wire_malformed(void **state)
{
	uint8_t junk[TC_WIRE_HDR_LEN] = {0x77, 0, 0, 0, 0, 0, 0, 1};
	(void)state;
	rd_open(NULL, 0, NULL);
	rd_simple(TC_WIRE_IDLE, 0);
	assert_int_equal(rd_pump(), TC_E_CLOSED);
	assert_int_equal(R.in[0].type, TC_WIRE_BYE);
	assert_string_equal(R.in[0].u.bye.reason, "HELLO first");
	rd_close();

	rd_open(NULL, 0, NULL);
	struct tc_wire_msg h = {.type = TC_WIRE_HELLO};
	h.u.hello.version = 2;
	h.u.hello.role = TC_WIRE_ROLE_READER;
	rd_send(&h);
	assert_int_equal(rd_pump(), TC_E_CLOSED);
	assert_string_equal(R.in[0].u.bye.reason, "version");
	rd_close();

	rd_open(NULL, 0, NULL);
	rd_activate();
	assert_int_equal(write(R.fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
	assert_int_equal(rd_pump(), TC_E_CLOSED);
	assert_int_equal(R.in[R.nin - 1].type, TC_WIRE_BYE);
	rd_close();
}

static void test_wire_record(void **state)
{
	FILE *rec = tmpfile();
	char magic[8];
	(void)state;
	assert_non_null(rec);
	rd_open(NULL, 0, rec);
	rd_activate();
	tc_sim_detach(R.sim);
	rewind(rec);
	assert_int_equal(fread(magic, 1, 8, rec), 8);
	assert_memory_equal(magic, TC_WIRE_RECORD_MAGIC, 8);
	int dir = fgetc(rec);
	assert_int_equal(dir, 'R'); /* the reader's HELLO first */
	fseek(rec, 0, SEEK_END);
	/* R HELLO(4+11) C HELLO(4+13) R POWER_ON C IDLE R RST C CHAR C CHAR C IDLE */
	long want = 8 + (1 + 24 + 15) + (1 + 24 + 17) + (1 + 24 + 5) + (1 + 24) + (1 + 24 + 1) +
	            2 * (1 + 24 + 2) + (1 + 24);
	assert_int_equal(ftell(rec), want);
	fclose(rec);
	rd_close();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_wire_session_case1),
	    cmocka_unit_test(test_wire_stale_messages),
	    cmocka_unit_test(test_wire_card_signals_parity),
	    cmocka_unit_test(test_wire_default_atr),
	    cmocka_unit_test(test_wire_answer_in_one_write),
	    cmocka_unit_test(test_wire_remove_at_and_control),
	    cmocka_unit_test(test_wire_refused_class),
	    cmocka_unit_test(test_wire_malformed),
	    cmocka_unit_test(test_wire_record),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
