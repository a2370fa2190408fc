/* test_token_tear.c: power cut at every byte of every write of every
 * state-changing command of the token card (tc_store_tear_after). After
 * each cut the card is reopened: its memory must be the state before the
 * command, the state after it, or a state the command commits on purpose
 * on its way (a PIN try spent before the comparison), never a mix. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "app_token_int.h"
#include "test_token_fixture.h"

#define IMG TC_TOKEN_STORE_SIZE

struct scenario {
	const char *name;
	void (*base)(struct fx *f); /* committed once, restored before every cut */
	void (*prep)(struct fx *f); /* after each reopen, before the cut is armed */
	uint16_t (*act)(struct fx *f);
	void (*mid)(struct tok_state *s); /* an intermediate state, or NULL */
};

static void base_blank(struct fx *f)
{
	(void)f;
}

static void base_perso(struct fx *f)
{
	assert_int_equal(fx_personalise(f, 0), 0x9000);
}

static void base_ready(struct fx *f)
{
	struct tc_token t;
	fx_token(&t);
	assert_int_equal(fx_personalise(f, 0), 0x9000);
	assert_int_equal(fx_put_token(f, &t), 0x9000);
}

static void base_blocked(struct fx *f)
{
	base_ready(f);
	for (int i = 0; i < 3; i++)
		assert_int_equal(FX_CMD(f, tc_tok_verify("0000", out, cap)) & 0xFFF0, 0x63C0);
}

static void prep_none(struct fx *f)
{
	(void)f;
}

static void prep_pin(struct fx *f)
{
	assert_int_equal(FX_CMD(f, tc_tok_verify(FX_PIN, out, cap)), 0x9000);
}

static struct tc_tok_debit_resp pending;

static void prep_debit(struct fx *f)
{
	struct tc_tok_debit d;
	prep_pin(f);
	fx_debit_data(&d, 2500);
	assert_int_equal(FX_CMD(f, tc_tok_debit_request(&d, out, cap)), 0x9000);
	assert_int_equal(tc_tok_parse_debit(f->resp, f->rlen, &pending), TC_OK);
}

static uint16_t act_perso(struct fx *f)
{
	return fx_personalise(f, 7);
}

static uint16_t act_put(struct fx *f)
{
	struct tc_token t;
	fx_token(&t);
	t.amount = 99999;
	assert_int_equal(tc_token_seal(&t, fx_token_key), TC_OK);
	return fx_put_token(f, &t);
}

static uint16_t act_verify_ok(struct fx *f)
{
	return FX_CMD(f, tc_tok_verify(FX_PIN, out, cap));
}

static uint16_t act_verify_bad(struct fx *f)
{
	return FX_CMD(f, tc_tok_verify("0000", out, cap));
}

static uint16_t act_change(struct fx *f)
{
	return FX_CMD(f, tc_tok_change_pin(FX_PIN, "3141", out, cap));
}

static uint16_t act_reset(struct fx *f)
{
	return FX_CMD(f, tc_tok_reset_retry(FX_PUK, "2718", out, cap));
}

static uint16_t act_change_bad(struct fx *f)
{
	return FX_CMD(f, tc_tok_change_pin("0000", "3141", out, cap));
}

static uint16_t act_reset_keep(struct fx *f)
{
	return FX_CMD(f, tc_tok_reset_retry(FX_PUK, NULL, out, cap));
}

static uint16_t act_reset_bad(struct fx *f)
{
	return FX_CMD(f, tc_tok_reset_retry("11111111", "2718", out, cap));
}

static uint16_t act_debit(struct fx *f)
{
	struct tc_tok_debit d;
	fx_debit_data(&d, 1500);
	return FX_CMD(f, tc_tok_debit_request(&d, out, cap));
}

static uint16_t act_expire(struct fx *f)
{
	struct tc_tok_debit d;
	fx_debit_data(&d, 1500);
	d.date = (struct tc_date){2003, 1, 1};
	return FX_CMD(f, tc_tok_debit_request(&d, out, cap));
}

static uint16_t act_complete(struct fx *f)
{
	uint8_t arpc[16];
	assert_int_equal(tc_tok_arpc(f->keys.mac, pending.atc, TC_TOK_APPROVE, pending.arqc, arpc),
	                 TC_OK);
	return FX_CMD(f, tc_tok_debit_complete(pending.atc, TC_TOK_APPROVE, arpc, out, cap));
}

static uint16_t act_declined(struct fx *f)
{
	uint8_t arpc[16];
	assert_int_equal(tc_tok_arpc(f->keys.mac, pending.atc, TC_TOK_DECLINE, pending.arqc, arpc),
	                 TC_OK);
	return FX_CMD(f, tc_tok_debit_complete(pending.atc, TC_TOK_DECLINE, arpc, out, cap));
}

static uint16_t act_refused(struct fx *f)
{
	uint8_t arpc[16] = {0};
	return FX_CMD(f, tc_tok_debit_complete(pending.atc, TC_TOK_APPROVE, arpc, out, cap));
}

static void mid_pin(struct tok_state *s)
{
	s->pin_tries--;
}

static void mid_puk(struct tok_state *s)
{
	s->puk_tries--;
}

static const struct scenario scenarios[] = {
    {"PERSONALISE", base_blank, prep_none, act_perso, NULL},
    {"PUT TOKEN", base_ready, prep_none, act_put, NULL},
    {"PUT TOKEN, first token", base_perso, prep_none, act_put, NULL},
    {"VERIFY right", base_perso, prep_none, act_verify_ok, mid_pin},
    {"VERIFY wrong", base_perso, prep_none, act_verify_bad, NULL},
    {"CHANGE REFERENCE DATA", base_perso, prep_none, act_change, mid_pin},
    {"CHANGE REFERENCE DATA wrong", base_perso, prep_none, act_change_bad, NULL},
    {"RESET RETRY COUNTER", base_perso, prep_none, act_reset, mid_puk},
    {"RESET RETRY COUNTER blocked, new PIN", base_blocked, prep_none, act_reset, mid_puk},
    {"RESET RETRY COUNTER blocked, PIN kept", base_blocked, prep_none, act_reset_keep, mid_puk},
    {"RESET RETRY COUNTER wrong", base_blocked, prep_none, act_reset_bad, NULL},
    {"DEBIT REQUEST", base_ready, prep_pin, act_debit, NULL},
    {"DEBIT REQUEST expired", base_ready, prep_pin, act_expire, NULL},
    {"DEBIT COMPLETE", base_ready, prep_debit, act_complete, NULL},
    {"DEBIT COMPLETE declined", base_ready, prep_debit, act_declined, NULL},
    {"DEBIT COMPLETE refused", base_ready, prep_debit, act_refused, NULL},
};

static uint8_t *slurp(const char *path, size_t *n)
{
	FILE *fp = fopen(path, "rb");
	assert_non_null(fp);
	uint8_t *buf = malloc(1 << 16);
	assert_non_null(buf);
	*n = fread(buf, 1, 1 << 16, fp);
	fclose(fp);
	return buf;
}

static void spill(const char *path, const uint8_t *buf, size_t n)
{
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(buf, 1, n, fp), n);
	fclose(fp);
}

static void read_image(struct fx *f, uint8_t img[IMG])
{
	struct tc_store *s;
	assert_int_equal(tc_store_open(f->path, IMG, &s), TC_OK);
	assert_int_equal(tc_store_read(s, img, IMG), TC_OK);
	tc_store_close(s);
}

/* Is got the intermediate state of sc from before? */
static bool is_mid(const struct scenario *sc, const uint8_t *before, const uint8_t *got)
{
	static uint8_t mid[IMG];
	struct tok_state st;

	if (!sc->mid)
		return false;
	assert_int_equal(tok_state_decode(before, &st), TC_OK);
	sc->mid(&st);
	tok_state_encode(&st, mid);
	return memcmp(got, mid, IMG) == 0;
}

/* Run one scenario; returns the number of cut points tried. */
static long run_scenario(const struct scenario *sc)
{
	struct fx *f = fx_new(true);
	static uint8_t before[IMG], other[IMG], after[IMG], got[IMG];
	bool have_other = false;
	size_t base_len;
	long n;
	struct tok_state st;

	assert_non_null(f);
	sc->base(f);
	fx_close(f);
	uint8_t *base = slurp(f->path, &base_len);
	for (n = 0;; n++) {
		spill(f->path, base, base_len);
		assert_int_equal(fx_open(f), TC_OK);
		sc->prep(f);
		assert_int_equal(tc_store_read(tc_token_card_store(f->card), before, IMG), TC_OK);
		tc_store_tear_after(tc_token_card_store(f->card), n);
		uint16_t sw = sc->act(f);
		/* a torn write stops the card: every command answers 6581 */
		if (sw == 0x6581)
			assert_int_equal(FX_CMD(f, tc_tok_get_data(TC_TOK_DO_LIFECYCLE, out, cap)),
			                 0x6581);
		fx_close(f);
		read_image(f, got);
		if (sw != 0x6581) {
			memcpy(after, got, IMG);
			break;
		}
		/* The memory reopens as a token card holding a whole state. */
		assert_int_equal(fx_open(f), TC_OK);
		fx_close(f);
		assert_int_equal(tok_state_decode(got, &st), TC_OK);
		if (memcmp(got, before, IMG) == 0 || is_mid(sc, before, got))
			continue;
		/* Anything else must be the final state: all such images are one
		 * image, compared with the final state once it is known. */
		if (have_other && memcmp(got, other, IMG) != 0)
			fail_msg("%s: cut at byte %ld gave a mixed state", sc->name, n);
		memcpy(other, got, IMG);
		have_other = true;
	}
	if (have_other && memcmp(other, after, IMG) != 0)
		fail_msg("%s: a cut gave a state that is neither old nor new", sc->name);
	if (!sc->mid) /* VERIFY right ends where it began, on purpose */
		assert_memory_not_equal(before, after, IMG);
	free(base);
	fx_free(f);
	return n;
}

static void test_token_tear_every_write(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		long n = run_scenario(&scenarios[i]);
		/* At least one whole image was written (there was a cut point). */
		assert_true(n > IMG);
		printf("# %s: %ld cut points\n", scenarios[i].name, n);
	}
}

/* The commands that must not change the card's memory write no byte:
 * SELECT, GET DATA, READ RECORD, GET CHALLENGE, INTERNAL AUTHENTICATE,
 * VERIFY asking the tries, and refusals before any check of a secret
 * (PUT TOKEN without a challenge, DEBIT REQUEST without the PIN, DEBIT
 * COMPLETE without a request, PERSONALISE of a personalised card). So the
 * scenarios above are every write of the application. */
static void test_token_readers_write_nothing(void **state)
{
	static const uint16_t tags[] = {TC_TOK_DO_BALANCE,   TC_TOK_DO_ATC,     TC_TOK_DO_PIN_TRIES,
	                                TC_TOK_DO_LIFECYCLE, TC_TOK_DO_CARD_ID, TC_TOK_DO_PUK_TRIES,
	                                TC_TOK_DO_KEY_FLAGS};
	struct fx *f = fx_new(true);
	struct tc_tok_debit d;
	struct tc_token t;
	uint8_t chal[8] = {1, 2, 3, 4, 5, 6, 7, 8}, mac[16] = {0}, arpc[16] = {0};
	(void)state;
	assert_non_null(f);
	base_ready(f);
	long w0 = tc_store_bytes_written(tc_token_card_store(f->card));
	assert_true(w0 > 0);
	assert_int_equal(FX_CMD(f, tc_tok_select(out, cap)), 0x9000);
	for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++)
		assert_int_equal(FX_CMD(f, tc_tok_get_data(tags[i], out, cap)), 0x9000);
	assert_int_equal(FX_CMD(f, tc_tok_read_record(TC_TOK_SFI_TOKEN, 1, out, cap)), 0x9000);
	assert_int_equal(FX_CMD(f, tc_tok_read_record(TC_TOK_SFI_LOG, 1, out, cap)), 0x6A83);
	assert_int_equal(FX_CMD(f, tc_tok_get_challenge(out, cap)), 0x9000);
	assert_int_equal(FX_CMD(f, tc_tok_int_auth(chal, sizeof(chal), out, cap)), 0x9000);
	assert_int_equal(FX_CMD(f, tc_tok_verify(NULL, out, cap)), 0x63C3);
	fx_debit_data(&d, 100);
	assert_int_equal(FX_CMD(f, tc_tok_debit_request(&d, out, cap)), 0x6982);
	assert_int_equal(FX_CMD(f, tc_tok_debit_complete(1, TC_TOK_APPROVE, arpc, out, cap)),
	                 0x6985);
	fx_token(&t);
	assert_int_equal(FX_CMD(f, tc_tok_select(out, cap)), 0x9000); /* forgets the challenge */
	uint8_t rec[TC_TOKEN_MAX_ENC];
	int rn = tc_token_encode(&t, rec, sizeof(rec), NULL, 0);
	assert_true(rn > 0);
	assert_int_equal(FX_CMD(f, tc_tok_put_token(rec, (size_t)rn, mac, out, cap)), 0x6985);
	assert_int_equal(fx_personalise(f, 0), 0x6985);
	assert_int_equal(tc_store_bytes_written(tc_token_card_store(f->card)), w0);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_token_readers_write_nothing),
	    cmocka_unit_test(test_token_tear_every_write),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
