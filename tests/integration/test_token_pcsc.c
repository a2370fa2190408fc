/* test_token_pcsc.c: the deposit-token card through the real pcscd, the
 * driver and the loopback reader: `tokencard card` personalises a blank card
 * and reads it; PIN, PUK; the two-step payment in both outcomes with this
 * test playing the host (tc_token_mac.h); replayed cryptograms refused; the
 * card's memory surviving a tokencard-sim restart and a card pulled during
 * DEBIT COMPLETE; and no full card number or PIN in any output, log or
 * trace. The tests run in order on one card. */
#define _GNU_SOURCE
#include <ctype.h>
#include <fcntl.h>
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
#include <winscard.h>

#include "pcsc_rig.h"
#include "tc_crypto.h"
#include "tc_error.h"
#include "tc_sw.h"
#include "tc_token_apdu.h"
#include "tc_token_mac.h"

/* Test data of tests/data/token/holder.txt and keys.txt (TEST KEYS). */
#define PAN      "1111222233334444"
#define PIN      "9157"
#define PUK      "87654321"
#define CARD_ID  "TC00000001"
#define CURRENCY 840u
#define DEPOSIT  40000u
#define FAR_AWAY 60000 /* ms: generous, never a timing assertion */
#define OUT_LEN  65536u

static const uint8_t master[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                   0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF};
static const uint8_t token_key[16] = {0x2B, 0x7E, 0x15, 0x16, 0x28, 0xAE, 0xD2, 0xA6,
                                      0xAB, 0xF7, 0x15, 0x88, 0x09, 0xCF, 0x4F, 0x3C};

struct fixture {
	struct pcsc_rig *rig;
	struct pcsc_rig_opts opts;
	char work[64];    /* our files: card memory, wire record, tool output */
	char store[128];  /* the card's memory file (rig start --token-card) */
	char record[128]; /* the card records its wire: tokencard-sim --record */
	char data[512];   /* tests/data/token */
	struct tc_tok_keys keys;
	uint32_t last_atc; /* the host's highest ATC seen */
	SCARDCONTEXT ctx;
	char reader[PCSC_READER_NAME_LEN];
	char out[OUT_LEN]; /* the latest tool output */
};

static struct fixture fx;

/* ---- the tool ---------------------------------------------------------------- */

/* Run `tokencard ARGS...` with input on stdin (not a terminal); its stdout
 * and stderr into fx.out and appended to WORK/tools.out. Exit status. */
static int tool(const char *input, ...)
{
	const char *argv[16] = {getenv("TC_TOOL")};
	char path[128];
	va_list ap;
	int n = 1;
	va_start(ap, input);
	while (n < 15 && (argv[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	argv[n] = NULL;
	int in[2];
	assert_int_equal(pipe(in), 0);
	snprintf(path, sizeof(path), "%s/tool.last", fx.work);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	pid_t pid = fork();
	if (pid == 0) {
		(void)dup2(in[0], 0);
		(void)dup2(fd, 1);
		(void)dup2(fd, 2);
		close(in[1]);
		char *args[16];
		for (int i = 0; i <= n; i++)
			args[i] = argv[i] ? strdup(argv[i]) : NULL;
		execv(args[0], args);
		_exit(127);
	}
	close(in[0]);
	if (input)
		assert_int_equal(write(in[1], input, strlen(input)), (ssize_t)strlen(input));
	close(in[1]);
	int st = 0;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	ssize_t got = pread(fd, fx.out, sizeof(fx.out) - 1, 0);
	fx.out[got > 0 ? got : 0] = '\0';
	close(fd);
	snprintf(path, sizeof(path), "%s/tools.out", fx.work);
	FILE *all = fopen(path, "a");
	assert_non_null(all);
	fprintf(all, "$ tokencard %s ...\n%s", argv[1], fx.out);
	fclose(all);
	print_message("tokencard %s %s -> %d\n%s", argv[1], argv[2] ? argv[2] : "",
	              WIFEXITED(st) ? WEXITSTATUS(st) : -1, fx.out);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void expect_out(const char *text)
{
	if (!strstr(fx.out, text))
		fail_msg("expected '%s' in the tool's output", text);
}

/* ---- PC/SC as the host's terminal --------------------------------------------- */

static void ensure_ctx(void)
{
	if (fx.ctx != 0)
		return;
	assert_int_equal(SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &fx.ctx),
	                 SCARD_S_SUCCESS);
	assert_int_equal(pcsc_reader_name(fx.ctx, 0, fx.reader, sizeof(fx.reader)),
	                 SCARD_S_SUCCESS);
}

static SCARDHANDLE connect_card(void)
{
	SCARDHANDLE h = 0;
	DWORD proto = 0;
	ensure_ctx();
	DWORD st = 0;
	assert_int_equal(pcsc_wait_state(fx.ctx, fx.reader, SCARD_STATE_PRESENT, FAR_AWAY, &st),
	                 SCARD_S_SUCCESS);
	LONG rv =
	    SCardConnect(fx.ctx, fx.reader, SCARD_SHARE_EXCLUSIVE, SCARD_PROTOCOL_T0, &h, &proto);
	if (rv != SCARD_S_SUCCESS)
		fail_msg("SCardConnect: %s", pcsc_stringify_error(rv));
	return h;
}

static void release(void)
{
	if (fx.ctx)
		(void)SCardReleaseContext(fx.ctx);
	fx.ctx = 0;
}

/* One command; GET RESPONSE after 61xx. Returns SW, or -1 when PC/SC failed. */
static int xfer(SCARDHANDLE h, const uint8_t *apdu, size_t n, uint8_t *out, size_t *nout)
{
	uint8_t buf[300];
	size_t got = 0, len;
	uint16_t sw;
	if (pcsc_apdu(h, apdu, n, buf, sizeof(buf), &len, &sw) != SCARD_S_SUCCESS)
		return -1;
	for (;;) {
		if (out && got + len <= 300)
			memcpy(out + got, buf, len);
		got += len;
		if ((sw >> 8) != 0x61)
			break;
		const uint8_t gr[5] = {0x00, 0xC0, 0x00, 0x00, (uint8_t)sw};
		if (pcsc_apdu(h, gr, 5, buf, sizeof(buf), &len, &sw) != SCARD_S_SUCCESS)
			return -1;
	}
	if (nout)
		*nout = got;
	return sw;
}

static int cmd(SCARDHANDLE h, int n, const uint8_t *apdu, uint8_t *out, size_t *nout)
{
	assert_true(n > 0);
	return xfer(h, apdu, (size_t)n, out, nout);
}

static SCARDHANDLE open_app(bool verify_pin)
{
	uint8_t a[TC_TOK_APDU_MAX];
	SCARDHANDLE h = connect_card();
	assert_int_equal(cmd(h, tc_tok_select(a, sizeof(a)), a, NULL, NULL), TC_SW_OK);
	if (verify_pin)
		assert_int_equal(cmd(h, tc_tok_verify(PIN, a, sizeof(a)), a, NULL, NULL), TC_SW_OK);
	return h;
}

static void close_app(SCARDHANDLE h)
{
	(void)SCardDisconnect(h, SCARD_RESET_CARD);
}

static void get(SCARDHANDLE h, uint16_t tag, struct tc_tok_status *st)
{
	uint8_t a[8], r[64];
	size_t n = 0;
	assert_int_equal(cmd(h, tc_tok_get_data(tag, a, sizeof(a)), a, r, &n), TC_SW_OK);
	assert_int_equal(tc_tok_parse_data(tag, r, n, st), TC_OK);
}

static void status_of(SCARDHANDLE h, struct tc_tok_status *st)
{
	memset(st, 0, sizeof(*st));
	get(h, TC_TOK_DO_BALANCE, st);
	get(h, TC_TOK_DO_ATC, st);
	get(h, TC_TOK_DO_LIFECYCLE, st);
	get(h, TC_TOK_DO_PIN_TRIES, st);
}

static int read_log(SCARDHANDLE h, unsigned rec, struct tc_tok_log_entry *e)
{
	uint8_t a[8], r[64];
	size_t n = 0;
	int sw = cmd(h, tc_tok_read_record(TC_TOK_SFI_LOG, (uint8_t)rec, a, sizeof(a)), a, r, &n);
	if (sw == TC_SW_OK)
		assert_int_equal(tc_tok_log_decode(r, n, e), TC_OK);
	return sw;
}

static struct tc_tok_debit debit(uint64_t amount)
{
	struct tc_tok_debit d = {.amount = amount, .currency = CURRENCY};
	d.date = (struct tc_date){2002, 10, 1};
	memcpy(d.terminal, "TERM0001", 8);
	assert_int_equal(tc_random(d.nonce, sizeof(d.nonce)), TC_OK);
	return d;
}

/* DEBIT REQUEST, checked by the host as it would: the ARQC and the counter. */
static struct tc_tok_debit_resp request(SCARDHANDLE h, const struct tc_tok_debit *d)
{
	uint8_t a[TC_TOK_APDU_MAX], r[64];
	size_t n = 0;
	struct tc_tok_debit_resp resp;
	assert_int_equal(cmd(h, tc_tok_debit_request(d, a, sizeof(a)), a, r, &n), TC_SW_OK);
	assert_int_equal(tc_tok_parse_debit(r, n, &resp), TC_OK);
	assert_int_equal(tc_tok_arqc_check(fx.keys.mac, (const uint8_t *)CARD_ID, strlen(CARD_ID),
	                                   fx.last_atc, d, "1234567890", &resp),
	                 TC_OK);
	/* the same answer again is a replay for the host */
	assert_int_equal(tc_tok_arqc_check(fx.keys.mac, (const uint8_t *)CARD_ID, strlen(CARD_ID),
	                                   resp.atc, d, "1234567890", &resp),
	                 TC_E_STATE);
	fx.last_atc = resp.atc;
	return resp;
}

/* The DEBIT COMPLETE command of the host's answer. */
static int complete_apdu(const struct tc_tok_debit_resp *r, enum tc_tok_outcome o, uint8_t *a,
                         size_t cap)
{
	uint8_t arpc[16];
	assert_int_equal(tc_tok_arpc(fx.keys.mac, r->atc, o, r->arqc, arpc), TC_OK);
	return tc_tok_debit_complete(r->atc, o, arpc, a, cap);
}

/* ---- tests ------------------------------------------------------------------- */

static void test_token_personalise_and_info(void **state)
{
	char holder[600], keys[600];
	(void)state;
	snprintf(holder, sizeof(holder), "%s/holder.txt", fx.data);
	snprintf(keys, sizeof(keys), "%s/keys.txt", fx.data);
	assert_int_equal(tool(NULL, "card", "info", NULL), 0);
	expect_out("lifecycle        blank");
	assert_int_equal(tool(NULL, "card", "personalise", "--keys", keys, holder, NULL), 0);
	expect_out("card number ************4444");
	expect_out("TEST KEYS");
	ensure_ctx(); /* the reader's name, for -r */
	assert_int_equal(tool(NULL, "card", "info", "--keys", keys, "-r", fx.reader, NULL), 0);
	expect_out("lifecycle        active");
	expect_out("card ID          " CARD_ID);
	expect_out("balance          400.00 USD (840)");
	expect_out("PIN tries left   3 of 3");
	expect_out("card number        ************4444");
	expect_out("issuer MAC         valid under the key for tokens");
	/* a personalised card is not personalised again */
	assert_int_equal(tool(NULL, "card", "personalise", "--keys", keys, holder, NULL), 1);
	expect_out("the card is not blank (lifecycle active)");
	/* a holder file with a mistake: a clear message, nothing sent */
	assert_int_equal(tool(NULL, "card", "personalise", "--keys", keys, keys, NULL), 2);
	expect_out("keys.txt:4: unknown key 'test'");
}

static void test_token_pin_tries_block_and_puk(void **state)
{
	(void)state;
	assert_int_equal(tool("0000\n", "card", "verify", NULL), 1);
	expect_out("PIN wrong: 2 tries left");
	assert_int_equal(tool(NULL, "card", "verify", "--tries", NULL), 0);
	expect_out("PIN tries left: 2");
	assert_int_equal(tool(PIN "\n", "card", "verify", NULL), 0);
	expect_out("PIN correct");
	assert_int_equal(tool(NULL, "card", "verify", "--tries", NULL), 0);
	expect_out("PIN tries left: 3");
	assert_int_equal(tool("1111\n", "card", "verify", NULL), 1);
	expect_out("2 tries left");
	assert_int_equal(tool("2222\n", "card", "verify", NULL), 1);
	expect_out("1 try left");
	assert_int_equal(tool("3333\n", "card", "verify", NULL), 1);
	expect_out("0 tries left (blocked)");
	/* blocked: the right PIN no longer helps, no try is used */
	assert_int_equal(tool(PIN "\n", "card", "verify", NULL), 1);
	expect_out("PIN blocked: unblock it with the PUK");
	assert_int_equal(tool(NULL, "card", "info", NULL), 0);
	expect_out("lifecycle        blocked");
	/* a wrong PUK costs a PUK try; the right one unblocks, PIN kept */
	assert_int_equal(tool("12345678\n\n", "card", "unblock", NULL), 1);
	expect_out("PUK wrong: 9 tries left");
	assert_int_equal(tool(PUK "\n\n", "card", "unblock", NULL), 0);
	expect_out("PIN unblocked");
	assert_int_equal(tool(PIN "\n", "card", "verify", NULL), 0);
	/* VERIFY without data through raw PC/SC: 63C3, no try used */
	uint8_t a[8];
	SCARDHANDLE h = open_app(false);
	assert_int_equal(cmd(h, tc_tok_verify(NULL, a, sizeof(a)), a, NULL, NULL), 0x63C3);
	close_app(h);
}

static void payment(enum tc_tok_outcome outcome)
{
	uint8_t a[TC_TOK_APDU_MAX], r[64];
	size_t n = 0;
	struct tc_tok_status before, after;
	struct tc_tok_log_entry e;
	SCARDHANDLE h = open_app(true);
	status_of(h, &before);
	struct tc_tok_debit d = debit(1250);
	struct tc_tok_debit_resp resp = request(h, &d);
	assert_int_equal(resp.atc, before.atc + 1);
	assert_int_equal(cmd(h, complete_apdu(&resp, outcome, a, sizeof(a)), a, r, &n), TC_SW_OK);
	uint64_t bal = 0;
	assert_int_equal(tc_tok_parse_balance(r, n, &bal), TC_OK);
	status_of(h, &after);
	uint64_t want = outcome == TC_TOK_APPROVE ? before.balance - 1250 : before.balance;
	assert_int_equal(bal, want);
	assert_int_equal(after.balance, want);
	assert_int_equal(after.atc, resp.atc);
	assert_int_equal(read_log(h, 1, &e), TC_SW_OK);
	assert_int_equal(e.atc, resp.atc);
	assert_int_equal(e.outcome, outcome);
	assert_int_equal(e.balance, want);
	close_app(h);
}

static void test_token_payment_approved(void **state)
{
	(void)state;
	payment(TC_TOK_APPROVE);
	assert_int_equal(tool(NULL, "card", "log", NULL), 0);
	expect_out("approved");
	expect_out("TERM0001");
}

static void test_token_payment_declined(void **state)
{
	(void)state;
	payment(TC_TOK_DECLINE);
	assert_int_equal(tool(NULL, "card", "info", NULL), 0);
	expect_out("balance          387.50 USD (840)");
}

/* A DEBIT COMPLETE replayed: without a request pending (6985), and against
 * a newer request (6982, logged "completion refused", balance untouched). */
static void test_token_replayed_debit_cryptogram(void **state)
{
	uint8_t a[TC_TOK_APDU_MAX], old[TC_TOK_APDU_MAX];
	struct tc_tok_status before, after;
	struct tc_tok_log_entry e;
	(void)state;
	SCARDHANDLE h = open_app(true);
	status_of(h, &before);
	struct tc_tok_debit d = debit(100);
	struct tc_tok_debit_resp r1 = request(h, &d);
	int n = complete_apdu(&r1, TC_TOK_APPROVE, old, sizeof(old));
	assert_int_equal(cmd(h, n, old, NULL, NULL), TC_SW_OK);
	assert_int_equal(cmd(h, n, old, NULL, NULL), TC_SW_CONDITIONS);
	d = debit(100);
	struct tc_tok_debit_resp r2 = request(h, &d);
	assert_int_equal(cmd(h, n, old, NULL, NULL), TC_SW_SECURITY_NOT_SATISFIED);
	/* one answer per request: the right one now comes too late */
	assert_int_equal(cmd(h, complete_apdu(&r2, TC_TOK_APPROVE, a, sizeof(a)), a, NULL, NULL),
	                 TC_SW_CONDITIONS);
	status_of(h, &after);
	assert_int_equal(after.balance, before.balance - 100);
	assert_int_equal(read_log(h, 1, &e), TC_SW_OK);
	assert_int_equal(e.atc, r2.atc);
	assert_int_equal(e.outcome, TC_TOK_REFUSED);
	close_app(h);
}

/* A new token by PUT TOKEN, then the same command again: refused with the
 * challenge spent (6985) and under a fresh challenge (6982). */
static void test_token_put_token_replay(void **state)
{
	uint8_t a[TC_TOK_APDU_MAX], put[TC_TOK_APDU_MAX], rec[TC_TOKEN_MAX_ENC], chal[16], mac[16];
	size_t nchal = 0;
	char why[TC_TOKEN_WHY_LEN];
	struct tc_tok_status st;
	(void)state;
	struct tc_token t = {.amount = 50000, .currency = CURRENCY};
	snprintf(t.token_id, sizeof(t.token_id), "1234567890");
	snprintf(t.user_name, sizeof(t.user_name), "TARO YAMADA");
	snprintf(t.user_id, sizeof(t.user_id), "100000123");
	t.deposit_date = (struct tc_date){2002, 9, 10};
	t.expiry = (struct tc_date){2002, 11, 15};
	snprintf(t.bank_id, sizeof(t.bank_id), "0001");
	snprintf(t.bank_account, sizeof(t.bank_account), "999123456");
	snprintf(t.company_id, sizeof(t.company_id), "1111");
	snprintf(t.card_number, sizeof(t.card_number), PAN);
	assert_int_equal(tc_token_seal(&t, token_key), TC_OK);
	int rn = tc_token_encode(&t, rec, sizeof(rec), why, sizeof(why));
	assert_true(rn > 0);
	SCARDHANDLE h = open_app(false);
	status_of(h, &st);
	assert_int_equal(cmd(h, tc_tok_get_challenge(a, sizeof(a)), a, chal, &nchal), TC_SW_OK);
	assert_int_equal(nchal, TC_TOK_CHALLENGE);
	assert_int_equal(tc_tok_put_token_mac(fx.keys.token, (const uint8_t *)CARD_ID,
	                                      strlen(CARD_ID), chal, st.atc, rec, (size_t)rn, mac),
	                 TC_OK);
	int n = tc_tok_put_token(rec, (size_t)rn, mac, put, sizeof(put));
	assert_int_equal(cmd(h, n, put, NULL, NULL), TC_SW_OK);
	assert_int_equal(cmd(h, n, put, NULL, NULL), TC_SW_CONDITIONS);
	assert_int_equal(cmd(h, tc_tok_get_challenge(a, sizeof(a)), a, chal, &nchal), TC_SW_OK);
	assert_int_equal(cmd(h, n, put, NULL, NULL), TC_SW_SECURITY_NOT_SATISFIED);
	status_of(h, &st);
	assert_int_equal(st.balance, 50000);
	assert_int_equal(st.life, TC_TOK_ACTIVE);
	close_app(h);
}

/* tokencard-sim restarted (the whole rig, same token_store): same card. */
static void test_token_survives_sim_restart(void **state)
{
	struct tc_tok_status before, after;
	struct tc_tok_log_entry e1, e2;
	(void)state;
	SCARDHANDLE h = open_app(false);
	status_of(h, &before);
	assert_int_equal(read_log(h, 1, &e1), TC_SW_OK);
	close_app(h);
	release();
	assert_int_equal(pcsc_rig_restart(fx.rig, &fx.opts), 0);
	h = open_app(false);
	status_of(h, &after);
	assert_int_equal(read_log(h, 1, &e2), TC_SW_OK);
	close_app(h);
	assert_int_equal(after.balance, before.balance);
	assert_int_equal(after.atc, before.atc);
	assert_int_equal(after.life, TC_TOK_ACTIVE);
	assert_int_equal(e1.atc, e2.atc);
	assert_int_equal(e1.amount, e2.amount);
	assert_int_equal(e1.outcome, e2.outcome);
	assert_int_equal(e1.balance, e2.balance);
	assert_memory_equal(e1.terminal, e2.terminal, sizeof(e1.terminal));
}

static unsigned card_tx(void)
{
	char v[32];
	assert_int_equal(pcsc_rig_card_status(fx.rig, 0, "tx", v, sizeof(v)), 0);
	return (unsigned)strtoul(v, NULL, 10);
}

static void reinsert(void)
{
	DWORD st = 0;
	assert_int_equal(pcsc_rig_remove(fx.rig, 0), 0);
	assert_int_equal(pcsc_wait_state(fx.ctx, fx.reader, SCARD_STATE_EMPTY, FAR_AWAY, &st),
	                 SCARD_S_SUCCESS);
	assert_int_equal(pcsc_rig_insert(fx.rig, 0), 0);
}

/* One payment with the card pulled at its character k of DEBIT COMPLETE
 * (counted from the first character after the DEBIT REQUEST's answer).
 * Returns 1 when the new state stayed, 0 the old, and sets *pulled when the
 * pull came during DEBIT COMPLETE. */
static int pull_during_complete(unsigned k, bool *pulled)
{
	uint8_t a[TC_TOK_APDU_MAX];
	struct tc_tok_status before, after;
	struct tc_tok_log_entry e;
	char line[64];
	unsigned tx0 = card_tx();
	reinsert(); /* the card's character count starts at this power-on */
	SCARDHANDLE h = open_app(true);
	status_of(h, &before);
	struct tc_tok_debit d = debit(100);
	struct tc_tok_debit_resp r = request(h, &d);
	snprintf(line, sizeof(line), "set remove_at=%u", card_tx() - tx0 + k);
	assert_int_equal(pcsc_rig_card(fx.rig, 0, line, NULL, 0), 0);
	int sw = cmd(h, complete_apdu(&r, TC_TOK_APPROVE, a, sizeof(a)), a, NULL, NULL);
	*pulled = sw != TC_SW_OK;
	(void)SCardDisconnect(h, SCARD_LEAVE_CARD);
	assert_int_equal(pcsc_rig_card(fx.rig, 0, "set remove_at=0", NULL, 0), 0);
	char present[16];
	assert_int_equal(pcsc_rig_card_status(fx.rig, 0, "present", present, sizeof(present)), 0);
	if (strcmp(present, "yes") != 0)
		assert_int_equal(pcsc_rig_insert(fx.rig, 0), 0);
	h = open_app(false);
	status_of(h, &after);
	assert_int_equal(read_log(h, 1, &e), TC_SW_OK);
	close_app(h);
	assert_int_equal(after.atc, r.atc);
	assert_int_equal(e.atc, r.atc);
	if (after.balance == before.balance - 100 && e.outcome == TC_TOK_APPROVE &&
	    e.balance == after.balance)
		return 1;
	if (after.balance == before.balance && e.outcome == TC_TOK_PENDING)
		return 0;
	fail_msg("pull at %u: balance %llu (was %llu), log outcome %d: neither old nor new", k,
	         (unsigned long long)after.balance, (unsigned long long)before.balance, e.outcome);
	return -1;
}

static void test_token_pulled_mid_debit_complete(void **state)
{
	unsigned olds = 0, news = 0, pulls = 0;
	(void)state;
	for (unsigned k = 1; k <= 6; k++) {
		bool pulled = false;
		int r = pull_during_complete(k, &pulled);
		print_message("pulled at character %u of DEBIT COMPLETE: %s, %s state\n", k,
		              pulled ? "command failed" : "command completed", r ? "new" : "old");
		olds += r == 0;
		news += r == 1;
		pulls += pulled;
	}
	print_message("%u old, %u new, %u pulled during the command\n", olds, news, pulls);
	assert_true(pulls > 0);
}

/* ---- no card number, no PIN anywhere ---------------------------------------- */

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot read %s", path);
	char *buf = malloc(8u << 20);
	assert_non_null(buf);
	*len = fread(buf, 1, (8u << 20) - 1, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

/* The secrets in every form an output could show them: as text, as the
 * hex of their ASCII digits, and the PIN blocks in hex (spaced or not). */
static const char *const secrets[] = {
    PAN,
    PIN,
    PUK,
    "31 31 31 31 32 32 32 32 33 33 33 33 34 34 34 34",
    "31313131323232323333333334343434",
    "39 31 35 37",
    "39313537",
    "38 37 36 35 34 33 32 31",
    "3837363534333231",
    "24 91 57 FF",
    "249157FF",
    "28 87 65 43 21 FF",
    "2887654321FF",
};

/* The key bytes of the test keys (master, key for tokens, the card's three
 * keys) as hex, spaced or not: each key's first and last eight bytes, so
 * that a key split over two log lines is still found. Lower case: the
 * search folds the text to lower case. */
#define KEY_FORMS 20u
static char key_forms[KEY_FORMS][48];

static void make_key_forms(void)
{
	const uint8_t *keys[5] = {master, token_key, fx.keys.auth, fx.keys.mac, fx.keys.token};
	unsigned n = 0;
	for (size_t k = 0; k < 5; k++)
		for (size_t half = 0; half < 2; half++)
			for (int spaced = 0; spaced < 2; spaced++, n++) {
				char *p = key_forms[n];
				for (size_t i = 0; i < 8; i++)
					p += sprintf(p, spaced && i ? " %02x" : "%02x",
					             keys[k][8 * half + i]);
			}
}

static void no_secret_in(const char *path, size_t min_len)
{
	size_t len = 0;
	char *text = slurp(path, &len);
	print_message("checked %s: %zu bytes\n", path, len);
	if (len < min_len)
		fail_msg("%s: only %zu bytes, expected a real log", path, len);
	for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
		const char *at = memmem(text, len, secrets[i], strlen(secrets[i]));
		if (at)
			fail_msg("%s holds '%s' at offset %zu", path, secrets[i],
			         (size_t)(at - text));
	}
	for (size_t i = 0; i < len; i++)
		text[i] = (char)tolower((unsigned char)text[i]);
	make_key_forms();
	for (size_t i = 0; i < KEY_FORMS; i++) {
		const char *at = memmem(text, len, key_forms[i], strlen(key_forms[i]));
		if (at)
			fail_msg("%s holds key bytes '%s' at offset %zu", path, key_forms[i],
			         (size_t)(at - text));
	}
	free(text);
}

/* A fresh blank card, personalised and used by the tool with pcscd and the
 * driver logging every APDU and the card's wire recorded; then every
 * output, log and decoded trace is searched. */
static void test_token_no_pan_or_pin_anywhere(void **state)
{
	char holder[600], keys[600], path[700], wire[128], rigdir[64];
	(void)state;
	snprintf(holder, sizeof(holder), "%s/holder.txt", fx.data);
	snprintf(keys, sizeof(keys), "%s/keys.txt", fx.data);
	snprintf(fx.store, sizeof(fx.store), "%s/card2.mem", fx.work);
	release();
	assert_int_equal(pcsc_rig_restart(fx.rig, &fx.opts), 0);
	fx.last_atc = 0; /* another card for the host */
	assert_int_equal(tool(NULL, "card", "personalise", "--keys", keys, holder, NULL), 0);
	assert_int_equal(tool(NULL, "card", "info", "--keys", keys, NULL), 0);
	assert_int_equal(tool("0000\n", "card", "verify", NULL), 1);
	assert_int_equal(tool(PIN "\n", "card", "verify", NULL), 0);
	assert_int_equal(tool(PUK "\n" PIN "\n", "card", "unblock", NULL), 0);
	payment(TC_TOK_APPROVE);
	assert_int_equal(tool(NULL, "card", "log", NULL), 0);
	release();
	snprintf(rigdir, sizeof(rigdir), "%s", pcsc_rig_dir(fx.rig));
	setenv("TC_KEEP_RIG", "1", 1); /* keep the logs for the search */
	pcsc_rig_stop(fx.rig);
	fx.rig = NULL;
	snprintf(wire, sizeof(wire), "%s/wire.tcw", fx.work);
	assert_int_equal(tool(NULL, "trace", wire, NULL), 0);
	expect_out("VERIFY");
	expect_out("not shown");
	snprintf(path, sizeof(path), "%s/tools.out", fx.work);
	no_secret_in(path, 1000);
	snprintf(path, sizeof(path), "%s/card0.log", rigdir);
	no_secret_in(path, 100);
	snprintf(path, sizeof(path), "%s/pcscd.log", rigdir);
	no_secret_in(path, 1000);
	/* the driver logged the APDUs (its log masks VERIFY data) */
	size_t len = 0;
	char *text = slurp(path, &len);
	bool apdus = strstr(text, "00 20 00 80") != NULL;
	bool perso = strstr(text, "80 E0 00 00") != NULL || strstr(text, "80 e0 00 00") != NULL;
	free(text);
	if (!apdus)
		fail_msg("no VERIFY APDU in %s: the driver's wire log was off", path);
	if (!perso)
		print_message("note: no PERSONALISE header in %s (logged otherwise)\n", path);
	unsetenv("TC_KEEP_RIG");
	static const char *const kept[] = {"card.conf", "tool.out", "pcscd.log", "card0.log"};
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]) && !getenv("TC_KEEP_WORK"); i++) {
		snprintf(path, sizeof(path), "%s/%s", rigdir, kept[i]);
		(void)unlink(path);
	}
	(void)rmdir(rigdir);
}

/* ---- setup -------------------------------------------------------------------- */

static int group_setup(void **state)
{
	const char *sim = getenv("TC_SIM"), *src = getenv("TC_SOURCE_DIR");
	(void)state;
	if (!sim || !src || !getenv("TC_TOOL"))
		return -1;
	snprintf(fx.work, sizeof(fx.work), "/tmp/tc-tokit-XXXXXX");
	if (!mkdtemp(fx.work))
		return -1;
	snprintf(fx.data, sizeof(fx.data), "%s/tests/data/token", src);
	snprintf(fx.store, sizeof(fx.store), "%s/card.mem", fx.work);
	/* the card records its wire (the rig splits its card command at spaces) */
	snprintf(fx.record, sizeof(fx.record), "--record %s/wire.tcw", fx.work);
	setenv("TC_RIG_DEBUG", "1", 1);       /* pcscd --debug: the driver's log kept */
	setenv("TC_DRIVER_LOGLEVEL", "7", 1); /* with the APDUs (VERIFY data masked) */
	fx.opts =
	    (struct pcsc_rig_opts){.readers = 1, .token_store = fx.store, .card_args = fx.record};
	if (tc_tok_keys_derive(master, (const uint8_t *)CARD_ID, strlen(CARD_ID), &fx.keys) != 0)
		return -1;
	fx.rig = pcsc_rig_start(&fx.opts);
	return fx.rig ? 0 : -1;
}

static int group_teardown(void **state)
{
	static const char *const files[] = {"card.mem",     "card2.mem", "wire.tcw",
	                                    "tool.last",    "tools.out", "card.mem.tmp",
	                                    "card2.mem.tmp"};
	char path[128];
	(void)state;
	release();
	pcsc_rig_stop(fx.rig);
	if (getenv("TC_KEEP_WORK"))
		return 0;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", fx.work, files[i]);
		(void)unlink(path);
	}
	(void)rmdir(fx.work);
	tc_wipe(&fx.keys, sizeof(fx.keys));
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_token_personalise_and_info),
	    cmocka_unit_test(test_token_pin_tries_block_and_puk),
	    cmocka_unit_test(test_token_payment_approved),
	    cmocka_unit_test(test_token_payment_declined),
	    cmocka_unit_test(test_token_replayed_debit_cryptogram),
	    cmocka_unit_test(test_token_put_token_replay),
	    cmocka_unit_test(test_token_survives_sim_restart),
	    cmocka_unit_test(test_token_pulled_mid_debit_complete),
	    cmocka_unit_test(test_token_no_pan_or_pin_anywhere),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
