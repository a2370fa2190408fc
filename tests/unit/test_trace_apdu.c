/* test_trace_apdu.c: the APDU view of "tokencard trace" (trace_apdu.c): T=0
 * TPDUs, as the session decoder hands them over, merged back into APDUs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "trace_int.h"

struct capture {
	char text[65536];
	size_t len;
};

static void emit(void *ctx, const char *line)
{
	struct capture *c = ctx;
	int n = snprintf(c->text + c->len, sizeof(c->text) - c->len, "%s\n", line);
	if (n > 0 && (size_t)n < sizeof(c->text) - c->len)
		c->len += (size_t)n;
}

struct fixture {
	struct capture cap;
	struct trace_out o;
	struct tr_apdus *a;
	uint64_t t;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	tr_out_init(&f->o, emit, &f->cap);
	f->o.F = 372;
	f->o.D = 1;
	f->o.quiet = true;
	f->a = tr_apdus_new();
	assert_non_null(f->a);
	f->o.apdus = f->a;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	tr_apdus_free(f->a);
	free(f);
	return 0;
}

/* One TPDU: header, data to the card, data from it (n bytes 00 01 ...), SW. */
static void tpdu(struct fixture *f, const char *hdr_hex, const uint8_t *to, size_t nto,
                 size_t nfrom, uint16_t sw)
{
	struct tr_tpdu t;
	unsigned h[5];
	memset(&t, 0, sizeof(t));
	assert_int_equal(sscanf(hdr_hex, "%x %x %x %x %x", &h[0], &h[1], &h[2], &h[3], &h[4]), 5);
	for (int i = 0; i < 5; i++)
		t.hdr[i] = (uint8_t)h[i];
	if (nto)
		memcpy(t.to, to, nto);
	t.nto = nto;
	for (size_t i = 0; i < nfrom; i++)
		t.from[i] = (uint8_t)i;
	t.nfrom = nfrom;
	t.secret = t.hdr[1] == 0x20 && nto > 0;
	t.sw1 = (uint8_t)(sw >> 8);
	t.sw2 = (uint8_t)sw;
	t.t_start = f->t;
	f->t += 10000;
	t.t_end = f->t - 100;
	tr_apdus_tpdu(f->a, &f->o, &t);
}

static void has(const struct fixture *f, const char *needle)
{
	if (!strstr(f->cap.text, needle)) {
		fprintf(stderr, "missing \"%s\" in:\n%s\n", needle, f->cap.text);
		fail();
	}
}

static void test_plain_and_reissue(void **state)
{
	struct fixture *f = *state;
	tpdu(f, "80 34 00 05 05", NULL, 0, 5, 0x9000);
	has(f, "APDU 80 34 00 05 05  (test app case 2)");
	has(f, "-> SW 90 00: success; 5 bytes; 1 TPDU\n");
	has(f, "00 01 02 03 04\n");
	/* Le 09 refused with 6C05: re-issued with P3 05, one APDU */
	tpdu(f, "80 34 00 05 09", NULL, 0, 0, 0x6C05);
	assert_int_equal(tr_apdus_count(f->a), 1);
	tpdu(f, "80 34 00 05 05", NULL, 0, 5, 0x9000);
	assert_int_equal(tr_apdus_count(f->a), 2);
	has(f, "APDU 80 34 00 05 09");
	has(f, "5 bytes; 2 TPDUs, re-issued after 6Cxx");
	/* a 6Cxx answered by something else: two APDUs */
	tpdu(f, "80 34 00 05 09", NULL, 0, 0, 0x6C05);
	tpdu(f, "80 30 00 00 00", NULL, 0, 0, 0x9000);
	assert_int_equal(tr_apdus_count(f->a), 4);
	has(f, "-> SW 6C 05");
}

static void test_get_response_chains(void **state)
{
	struct fixture *f = *state;
	const uint8_t data[4] = {0x0A, 0x0B, 0x0C, 0x0D};
	/* case 4: 61 06, then GET RESPONSE */
	tpdu(f, "80 36 00 06 04", data, 4, 0, 0x6106);
	tpdu(f, "80 C0 00 00 06", NULL, 0, 6, 0x9000);
	assert_int_equal(tr_apdus_count(f->a), 1);
	has(f, "APDU 80 36 00 06 04 0A 0B 0C 0D  (test app case 4)");
	has(f, "6 bytes; 2 TPDUs, GET RESPONSE");
	/* case 4 answered 9000, then GET RESPONSE; 61xx twice */
	tpdu(f, "80 36 01 00 01", data, 1, 0, 0x9000);
	tpdu(f, "80 C0 00 00 00", NULL, 0, 256, 0x6100);
	tpdu(f, "80 C0 00 00 00", NULL, 0, 256, 0x9000);
	assert_int_equal(tr_apdus_count(f->a), 2);
	has(f, "512 bytes; 3 TPDUs, GET RESPONSE");
	has(f, "... 256 more bytes");
	/* a case 3 answered 9000 and then a new command: the open APDU ends */
	tpdu(f, "80 32 00 00 01", data, 1, 0, 0x9000);
	assert_int_equal(tr_apdus_count(f->a), 2);
	tpdu(f, "80 30 00 00 00", NULL, 0, 0, 0x9000);
	assert_int_equal(tr_apdus_count(f->a), 4);
}

/* The extended encoding of 80 32 00 00 / 80 36 01 10 with Lc 300 (+ Le 0120). */
static size_t extended(uint8_t *out, uint8_t ins, uint8_t p2, bool le)
{
	size_t n = 0;
	out[n++] = 0x80;
	out[n++] = ins;
	out[n++] = ins == 0x36 ? 0x01 : 0x00;
	out[n++] = p2;
	out[n++] = 0x00;
	out[n++] = 0x01;
	out[n++] = 0x2C;
	for (unsigned i = 0; i < 300; i++)
		out[n++] = (uint8_t)i;
	if (le) {
		out[n++] = 0x01;
		out[n++] = 0x20;
	}
	return n;
}

static void test_envelope(void **state)
{
	struct fixture *f = *state;
	uint8_t cmd[400];
	size_t n = extended(cmd, 0x32, 0x00, false); /* 307 bytes: pieces of 255 and 52 */
	tpdu(f, "80 C2 00 00 FF", cmd, 255, 0, 0x9000);
	tpdu(f, "80 C2 00 00 34", cmd + 255, n - 255, 0, 0x9000);
	assert_int_equal(tr_apdus_count(f->a), 1);
	has(f, "APDU 80 32 00 00 00 01 2C 00 01 02 03 04 05 06 07 08  (test app case 3)  in "
	       "ENVELOPE pieces");
	has(f, "... 51 more bytes");
	has(f, "0 bytes; 2 TPDUs\n");
	/* right after it, 4E: its first piece starts a new APDU; 9000, GET RESPONSE */
	n = extended(cmd, 0x36, 0x10, true); /* 309 bytes */
	tpdu(f, "80 C2 00 00 FF", cmd, 255, 0, 0x9000);
	tpdu(f, "80 C2 00 00 36", cmd + 255, n - 255, 0, 0x9000);
	tpdu(f, "80 C0 00 00 00", NULL, 0, 256, 0x6110);
	tpdu(f, "80 C0 00 00 10", NULL, 0, 16, 0x9000);
	assert_int_equal(tr_apdus_count(f->a), 2);
	has(f, "272 bytes; 4 TPDUs, GET RESPONSE");
}

static void test_secret_and_cut(void **state)
{
	struct fixture *f = *state;
	const uint8_t pin[8] = {0x31, 0x32, 0x33, 0x34, 0xFF, 0xFF, 0xFF, 0xFF};
	tpdu(f, "00 20 00 01 08", pin, 8, 0, 0x9000);
	/* data sent and 9000: a GET RESPONSE could still follow (case 4) */
	assert_int_equal(tr_apdus_count(f->a), 0);
	/* an open APDU (61xx) and a TPDU cut before its SW by a removal */
	tpdu(f, "80 36 00 06 00", NULL, 0, 0, 0x6106);
	has(f, "APDU 00 20 00 01 ... (13 bytes; data not shown: PIN, PUK or key material)");
	assert_null(strstr(f->cap.text, "31 32 33 34"));
	struct tr_tpdu cut;
	memset(&cut, 0, sizeof(cut));
	memcpy(cut.hdr, "\x80\x34\x00\x10\x10", 5);
	cut.t_start = f->t;
	tr_apdus_end(f->a, &f->o, &cut, "the card was removed");
	assert_int_equal(tr_apdus_count(f->a), 3);
	has(f, "-> SW 61 06: ");
	has(f, "APDU 80 34 00 10 10  (test app case 2)");
	has(f, "-> no answer: the card was removed");
	tr_apdus_end(f->a, &f->o, NULL, NULL); /* nothing open: nothing printed */
	assert_int_equal(tr_apdus_count(f->a), 3);
}

static void test_card_number_masked(void **state)
{
	struct fixture *f = *state;
	const uint8_t pan[16] = "4111111111111111";
	tpdu(f, "80 E2 00 00 10", pan, 16, 0, 0x9000);
	tr_apdus_end(f->a, &f->o, NULL, "end of record"); /* no GET RESPONSE came */
	assert_int_equal(tr_apdus_count(f->a), 1);
	has(f, "-> SW 90 00: success; 0 bytes; 1 TPDU");
	/* 12 or more digits: all but the last four masked */
	has(f, "APDU 80 E2 00 00 10 ** ** ** ** ** ** ** ** ** ** **\n");
	has(f, "  ** 31 31 31 31\n"); /* the run goes on across the row */
	assert_null(strstr(f->cap.text, "34 31"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_plain_and_reissue, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_get_response_chains, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_envelope, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_secret_and_cut, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_card_number_masked, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
