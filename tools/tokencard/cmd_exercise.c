/* cmd_exercise.c: "tokencard exercise": the reader test application's cases
 * 1-4 at every length through the driver's reader core, each answer checked,
 * with the wire efficiency of each case. A driver validator's run. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "session.h"
#include "tc_error.h"
#include "tc_hex.h"

#define EX_MAX_LEN 256

struct tally {
	unsigned passed, failed;
	bool verbose;
};

struct eff_row {
	const char *name;
	double spent, min;
};

static void usage(FILE *to)
{
	fprintf(to, "usage: tokencard exercise [--socket PATH | --card 'COMMAND {}'] [--no-pps]\n"
	            "                          [--max-len N] [--record FILE] [--verbose]\n"
	            "Runs the reader test application (AID A0 00 00 00 18 FF): case 1, and\n"
	            "cases 2, 3 and 4 for every length 1..N (default 256), checks every answer,\n"
	            "prints the wire efficiency (etu spent / minimum) of each case and a line\n"
	            "'N passed, N failed'. Exit status 0 when all passed.\n");
}

/* Build "80 INS P1 P2 [Lc data] [Le]" for the test application. */
static size_t build(uint8_t *a, uint8_t ins, unsigned len, bool with_data, bool with_le)
{
	size_t n = 0;
	a[n++] = 0x80;
	a[n++] = ins;
	a[n++] = (uint8_t)(with_le ? len >> 8 : 0);
	a[n++] = (uint8_t)(with_le ? len : 0);
	if (with_data) {
		unsigned nc = len > 255 ? 255 : len;
		a[n++] = (uint8_t)nc;
		for (unsigned i = 0; i < nc; i++)
			a[n++] = (uint8_t)i;
	}
	if (with_le)
		a[n++] = (uint8_t)len; /* 256 -> 00 */
	return n;
}

static bool answer_ok(const uint8_t *r, size_t rlen, unsigned want_data)
{
	if (rlen != want_data + 2 || r[rlen - 2] != 0x90 || r[rlen - 1] != 0x00)
		return false;
	for (unsigned i = 0; i < want_data; i++)
		if (r[i] != (uint8_t)i)
			return false;
	return true;
}

static void check(struct session *s, struct tally *t, const char *name, const uint8_t *a, size_t n,
                  unsigned want_data, struct eff_row *eff)
{
	uint8_t r[EX_MAX_LEN + 8];
	size_t rlen = 0;
	char hex[64];
	int rc = session_apdu(s, a, n, r, sizeof(r), &rlen);
	bool ok = rc == TC_OK && answer_ok(r, rlen, want_data);

	if (ok)
		t->passed++;
	else
		t->failed++;
	if (!ok || t->verbose)
		printf("%s %s: APDU %s -> %s%s%s\n", ok ? "ok  " : "FAIL", name,
		       tc_hex_encode(a, n, ' ', hex, sizeof(hex)), rc < 0 ? tc_errname(rc) : "",
		       rc < 0 ? " " : "", rc < 0 ? tc_slot_last_error(s->slot) : "");
	if (!ok && rc == TC_OK) {
		char got[64];
		printf("     got %zu bytes: %s\n", rlen,
		       tc_hex_encode(r, rlen, ' ', got, sizeof(got)));
	}
	if (eff) {
		struct tc_exchange_stats xs;
		tc_slot_exchange_stats(s->slot, &xs);
		eff->spent = xs.etu_spent;
		eff->min = xs.etu_min;
	}
}

static void run_all(struct session *s, struct tally *t, unsigned max_len, struct eff_row *eff)
{
	uint8_t a[EX_MAX_LEN + 16];
	static const uint8_t select[] = {0x00, 0xA4, 0x04, 0x00, 0x06, 0xA0,
	                                 0x00, 0x00, 0x00, 0x18, 0xFF};
	char name[48];

	check(s, t, "SELECT", select, sizeof(select), 0, NULL);
	check(s, t, "case 1", a, build(a, 0x30, 0, false, false), 0, &eff[0]);
	for (unsigned len = 1; len <= max_len; len++) {
		snprintf(name, sizeof(name), "case 2 Le=%u", len);
		check(s, t, name, a, build(a, 0x34, len, false, true), len,
		      len == 16    ? &eff[1]
		      : len == 256 ? &eff[4]
		                   : NULL);
		if (len <= 255) {
			snprintf(name, sizeof(name), "case 3 Lc=%u", len);
			check(s, t, name, a, build(a, 0x32, len, true, false), 0,
			      len == 16 ? &eff[2] : NULL);
		}
		snprintf(name, sizeof(name), "case 4 Lc=%u Le=%u", len > 255 ? 255 : len, len);
		check(s, t, name, a, build(a, 0x36, len, true, true), len,
		      len == 16 ? &eff[3] : NULL);
	}
	static const uint8_t timereq[] = {0x80, 0x38, 0x00, 0x01};
	check(s, t, "time request", timereq, sizeof(timereq), 0, NULL);
}

static void print_eff(const struct eff_row *eff, unsigned F, unsigned D)
{
	printf("\nWire efficiency at Fi=%u Di=%u (etu spent / minimum = 12 etu x bytes of "
	       "APDU and response):\n",
	       F, D);
	for (int i = 0; i < 5; i++)
		if (eff[i].min > 0)
			printf("  %-22s %8.0f etu / %8.0f etu = %.3f\n", eff[i].name, eff[i].spent,
			       eff[i].min, eff[i].spent / eff[i].min);
}

int cmd_exercise(int argc, char **argv)
{
	static const struct option long_opts[] = {
	    {"socket", required_argument, 0, 's'}, {"card", required_argument, 0, 'c'},
	    {"no-pps", no_argument, 0, 'n'},       {"max-len", required_argument, 0, 'm'},
	    {"record", required_argument, 0, 'o'}, {"verbose", no_argument, 0, 'v'},
	    {"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};
	struct session_opts o = {.argv0 = argv[0]};
	struct tally t = {0};
	unsigned max_len = EX_MAX_LEN;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "hv", long_opts, NULL)) != -1) {
		switch (c) {
		case 's':
			o.socket = optarg;
			break;
		case 'c':
			o.card_cmd = optarg;
			break;
		case 'n':
			o.no_pps = true;
			break;
		case 'm':
			max_len = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'o':
			o.record = optarg;
			break;
		case 'v':
			t.verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (max_len < 1 || max_len > EX_MAX_LEN) {
		fprintf(stderr, "tokencard exercise: --max-len must be 1..%d\n", EX_MAX_LEN);
		return 2;
	}
	struct session s;
	if (session_start(&s, &o) < 0)
		return 1;
	uint8_t atr[40];
	size_t n;
	int rc = tc_slot_power_up(s.slot, false, atr, &n);
	if (rc == TC_OK)
		rc = tc_slot_set_protocol(s.slot, 0);
	struct eff_row eff[5] = {{"case 1", 0, 0},
	                         {"case 2, 16 bytes", 0, 0},
	                         {"case 3, 16 bytes", 0, 0},
	                         {"case 4, 16 + 16 bytes", 0, 0},
	                         {"case 2, 256 bytes", 0, 0}};
	unsigned F = 0, D = 0, khz = 0;
	if (rc == TC_OK) {
		tc_slot_params(s.slot, &F, &D, &khz);
		run_all(&s, &t, max_len, eff);
	} else {
		printf("power up / PPS failed: %s: %s\n", tc_errname(rc),
		       tc_slot_last_error(s.slot));
		t.failed++;
	}
	session_stop(&s);
	if (rc == TC_OK)
		print_eff(eff, F, D);
	printf("\n%u passed, %u failed\n", t.passed, t.failed);
	return t.failed ? 1 : 0;
}
