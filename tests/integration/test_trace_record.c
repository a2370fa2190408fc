/* test_trace_record.c: "tokencard trace" on sessions recorded here and now:
 * tokencard-sim driven by "tokencard demo --direct", the Python card (inverse
 * convention) driven by "tokencard exercise"; then damaged records, which
 * must give exit status 1 and the offset of the fault. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

struct out {
	char *text;
	size_t len;
	int status;
};

static char dir[64];

/* Run a shell command, keep its stdout+stderr and exit status. */
static void run(struct out *o, const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	strncat(cmd, " 2>&1", sizeof(cmd) - strlen(cmd) - 1);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	size_t cap = 1 << 16;
	o->text = malloc(cap);
	o->len = 0;
	assert_non_null(o->text);
	size_t r;
	while ((r = fread(o->text + o->len, 1, cap - o->len - 1, p)) > 0) {
		o->len += r;
		if (cap - o->len < 1024) {
			cap *= 2;
			o->text = realloc(o->text, cap);
			assert_non_null(o->text);
		}
	}
	o->text[o->len] = '\0';
	int st = pclose(p);
	o->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void has(const struct out *o, const char *needle)
{
	if (!strstr(o->text, needle)) {
		fprintf(stderr, "missing \"%s\" in:\n%.6000s\n", needle, o->text);
		fail();
	}
}

static const char *env(const char *name)
{
	const char *v = getenv(name);
	if (!v)
		fprintf(stderr, "%s is not set\n", name);
	assert_non_null(v);
	return v;
}

/* The ATR as "tokencard demo" printed it ("ATR 3B ..." up to the newline). */
static void atr_of(const struct out *o, char *atr, size_t cap)
{
	const char *p = strstr(o->text, ": ATR ");
	assert_non_null(p);
	p += 2;
	size_t n = strcspn(p, "\n");
	assert_true(n < cap);
	memcpy(atr, p, n);
	atr[n] = '\0';
}

static void test_sim_session(void **state)
{
	struct out demo, tr, raw;
	char atr[128];
	(void)state;

	run(&demo, "%s demo --direct --no-trace --record %s/sim.wire --card '%s --socket {}'",
	    env("TC_TOOL"), dir, env("TC_SIM"));
	assert_int_equal(demo.status, 0);
	atr_of(&demo, atr, sizeof(atr));
	run(&tr, "%s trace %s/sim.wire", env("TC_TOOL"), dir);
	assert_int_equal(tr.status, 0);
	has(&tr, "HELLO from card \"tokencard-sim\"");
	has(&tr, "POWER_ON class");
	has(&tr, "RST high: cold reset");
	has(&tr, atr); /* the ATR the driver got is the ATR on the wire */
	has(&tr, "TS 3B: direct convention");
	has(&tr, "PPS request FF");
	has(&tr, "=> accepted: T=0");
	has(&tr, "TPDU header 00 A4 04 00 06  (SELECT)");
	has(&tr, "ACK A4: all remaining data");
	has(&tr, "data to card (6 bytes): A0 00 00 00 18 FF");
	has(&tr, "TPDU header 80 30 00 00 00");
	has(&tr, "SW 90 00: success");
	has(&tr, "SW 6C 05");
	has(&tr, "SW 61 06");
	has(&tr, "TPDU header 80 38 00 02 00  (test app time request)");
	has(&tr, "data from card (256 bytes): 00 01 02");
	has(&tr, "POWER_OFF");
	run(&raw, "%s trace --raw %s/sim.wire", env("TC_TOOL"), dir);
	assert_int_equal(raw.status, 0);
	has(&raw, "HELLO      version 1 role 2");
	has(&raw, "CHAR       raw 3B parity 1 = 3B");
	has(&raw, "(CHARS 2/"); /* both ends accept runs: answers travel as CHARS */
	struct out ap;
	run(&ap, "%s trace --apdu %s/sim.wire", env("TC_TOOL"), dir);
	assert_int_equal(ap.status, 0);
	has(&ap, "APDU 00 A4 04 00 06 A0 00 00 00 18 FF  (SELECT)");
	has(&ap, "APDU 80 34 00 05 09  (test app case 2)"); /* Le 9 refused: 6C05 */
	has(&ap, "-> SW 90 00: success; 5 bytes; 2 TPDUs, re-issued after 6Cxx");
	has(&ap, "-> SW 90 00: success; 6 bytes; 2 TPDUs, GET RESPONSE");
	has(&ap, "-> SW 90 00: success; 256 bytes; 1 TPDU");
	has(&ap, "8 APDUs in 10 TPDUs");
	free(ap.text);
	free(demo.text);
	free(tr.text);
	free(raw.text);
}

/* text without the numbers after "seq " and without the closing count of
 * messages: a side's IDLE messages take numbers too, and how many it sends
 * depends on how the socket batched the other side's messages, so numbers
 * and the count of (stale) messages may shift by one between two runs. */
static char *without_seqs(const char *text)
{
	const char *summary = strstr(text, " messages, ");
	while (summary && summary > text && summary[-1] != '\n')
		summary--;
	char *out = malloc(strlen(text) + 1), *o = out;
	assert_non_null(out);
	for (const char *p = text; *p && p != summary;) {
		if (strncmp(p, "seq ", 4) == 0) {
			memcpy(o, "seq #", 5);
			o += 5;
			for (p += 4; *p >= '0' && *p <= '9'; p++)
				;
			continue;
		}
		*o++ = *p++;
	}
	*o = '\0';
	return out;
}

/* The same exercise with runs of characters (CHARS) and without
 * (TC_WIRE_RUNS=0 on both ends): the same characters at the same times, so
 * the answers, the wire efficiency and the decoded sessions are identical; also when parity errors
 * in both directions interrupt runs half-way (the rest of the run is stale, then repeated). */
static void same_session(const char *name, const char *sim_args)
{
	struct out a, b, ta, tb, ra, rb;

	/* stdout only: the card's log names its private directory */
	run(&a,
	    "(%s exercise --max-len 20 --record %s/%s1.wire --card '%s --socket {} %s' "
	    "2>/dev/null)",
	    env("TC_TOOL"), dir, name, env("TC_SIM"), sim_args);
	has(&a, " 0 failed");
	run(&b,
	    "(TC_WIRE_RUNS=0 %s exercise --max-len 20 --record %s/%s0.wire "
	    "--card '%s --socket {} %s' 2>/dev/null)",
	    env("TC_TOOL"), dir, name, env("TC_SIM"), sim_args);
	assert_string_equal(a.text, b.text);
	run(&ta, "%s trace %s/%s1.wire", env("TC_TOOL"), dir, name);
	run(&tb, "%s trace %s/%s0.wire", env("TC_TOOL"), dir, name);
	assert_int_equal(ta.status, 0);
	assert_int_equal(tb.status, 0);
	has(&ta, "data from card (20 bytes)");
	/* all but the first line, which names the file and its size */
	char *sa = without_seqs(strchr(ta.text, '\n')), *sb = without_seqs(strchr(tb.text, '\n'));
	assert_string_equal(sa, sb);
	free(sa);
	free(sb);
	run(&ra, "%s trace --raw %s/%s1.wire", env("TC_TOOL"), dir, name);
	run(&rb, "%s trace --raw %s/%s0.wire", env("TC_TOOL"), dir, name);
	has(&ra, "(CHARS 1/");
	assert_null(strstr(rb.text, "(CHARS"));
	free(a.text);
	free(b.text);
	free(ta.text);
	free(tb.text);
	free(ra.text);
	free(rb.text);
}

static void test_runs_same_session(void **state)
{
	(void)state;
	same_session("runs", "");
	same_session("faults", "--set parity_tx_every=7 --set parity_rx_every=5");
}

/* A paced wire (realtime) carries plain CHARs only: pacing is per message. */
static void test_realtime_no_runs(void **state)
{
	struct out demo, raw;
	(void)state;

	run(&demo,
	    "%s demo --direct --realtime --no-trace --record %s/rt.wire --card '%s --socket {}'",
	    env("TC_TOOL"), dir, env("TC_SIM"));
	assert_int_equal(demo.status, 0);
	run(&raw, "%s trace --raw %s/rt.wire", env("TC_TOOL"), dir);
	assert_int_equal(raw.status, 0);
	has(&raw, "realtime 1");
	has(&raw, "CHAR       raw 3B parity 1 = 3B");
	assert_null(strstr(raw.text, "(CHARS"));
	free(demo.text);
	free(raw.text);
}

static void test_python_card_inverse(void **state)
{
	struct out ex, tr;
	(void)state;

	run(&ex,
	    "%s exercise --max-len 2 --record %s/py.wire "
	    "--card '/usr/bin/python3 %s/tests/wire_card.py --inverse --socket {}'",
	    env("TC_TOOL"), dir, env("TC_SOURCE_DIR"));
	has(&ex, " 0 failed");
	run(&tr, "%s trace %s/py.wire", env("TC_TOOL"), dir);
	assert_int_equal(tr.status, 0);
	has(&tr, "HELLO from card \"wire_card.py\"");
	has(&tr, "ATR 3F 12 95 54 43");
	has(&tr, "TS 3F: inverse convention");
	has(&tr, "TA1 95: Fi 512, Di 16");
	has(&tr, "PPS request FF 10 95 7A");
	has(&tr, "PPS answer FF 10 95 7A");
	has(&tr, "TPDU header 80 34 00 02 02");
	has(&tr, "data from card (2 bytes): 00 01");
	has(&tr, "SW 61 02");
	has(&tr, "SW 90 00: success");
	free(ex.text);
	free(tr.text);
}

static void write_file(const char *name, const void *a, size_t n)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(a, 1, n, f), n);
	fclose(f);
}

static void test_damaged(void **state)
{
	struct out o;
	char path[128];
	(void)state;

	/* A recording cut in the middle of a message. */
	snprintf(path, sizeof(path), "%s/sim.wire", dir);
	FILE *f = fopen(path, "rb");
	if (!f)
		skip(); /* the first test did not run */
	static uint8_t buf[1 << 16];
	size_t n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	assert_true(n > 200);
	write_file("cut.wire", buf, 200);
	run(&o, "%s trace %s/cut.wire", env("TC_TOOL"), dir);
	assert_int_equal(o.status, 1);
	has(&o, "error at offset ");
	has(&o, "truncated");
	has(&o, "HELLO from reader"); /* what precedes the fault is decoded */
	free(o.text);

	static const char garbage[] = "TCWIRE1\nX123456789012345678901234567890";
	write_file("garbage.wire", garbage, sizeof(garbage) - 1);
	run(&o, "%s trace %s/garbage.wire", env("TC_TOOL"), dir);
	assert_int_equal(o.status, 1);
	has(&o, "error at offset 8 (after 0 messages): direction byte 0x58");
	free(o.text);

	write_file("notwire.wire", "hello world\n", 12);
	run(&o, "%s trace --raw %s/notwire.wire", env("TC_TOOL"), dir);
	assert_int_equal(o.status, 1);
	has(&o, "error at offset 0");
	has(&o, "not a wire record");
	free(o.text);

	/* A CHAR whose parity "bit" is 2. */
	memcpy(buf + 200, "TCWIRE1\nR", 9);
	static const uint8_t chr[] = {0x20, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0,    0,
	                              0,    0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 0x3B, 2};
	memcpy(buf + 209, chr, sizeof(chr));
	write_file("badchar.wire", buf + 200, 9 + sizeof(chr));
	run(&o, "%s trace %s/badchar.wire", env("TC_TOOL"), dir);
	assert_int_equal(o.status, 1);
	has(&o, "error at offset 8");
	has(&o, "CHAR parity bit 2");
	free(o.text);

	run(&o, "%s trace %s/does-not-exist.wire", env("TC_TOOL"), dir);
	assert_int_equal(o.status, 2);
	free(o.text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sim_session),      cmocka_unit_test(test_runs_same_session),
	    cmocka_unit_test(test_realtime_no_runs), cmocka_unit_test(test_python_card_inverse),
	    cmocka_unit_test(test_damaged),
	};
	snprintf(dir, sizeof(dir), "/tmp/tc-trace-test.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return rc;
}
