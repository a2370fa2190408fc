/* trace_apdu.c: "tokencard trace --apdu": the T=0 TPDUs of a record merged
 * back into the APDUs they carried, as the T=0 transport layer of
 * protocol/tc_apdu.h makes them:
 *
 *   6Cxx     the same CLA INS P1 P2 with P3 = xx re-issues the command;
 *   61xx     GET RESPONSE (INS C0, P1 P2 00 00) fetches more response data;
 *   9000     after a command with data, a GET RESPONSE may follow (case 4);
 *   ENVELOPE (INS C2, P1 P2 00 00) pieces answered 9000 carry an extended
 *            command; the next piece or a GET RESPONSE continues it.
 *
 * The wire does not say which APDU an application asked for, so a GET
 * RESPONSE that an application sends on its own after a 9000 shows as part
 * of the APDU before it. */
#include <stdlib.h>
#include <string.h>

#include "tc_apdu.h"
#include "trace_int.h"

#define INS_GET_RESPONSE 0xC0u
#define INS_ENVELOPE     0xC2u
#define SHOW_MAX         256u /* bytes of a command or response printed */

enum want {
	W_NONE,     /* the APDU is complete */
	W_REISSUE,  /* 6Cxx: the command again with P3 = xx */
	W_GETRESP,  /* 61xx, or 9000 after data to the card: GET RESPONSE */
	W_ENVELOPE, /* 9000 on a piece of a command not yet whole: the next piece */
	W_LE,       /* 9000 on a whole command without Le: a 2-byte Le piece may follow */
};

struct tr_apdus {
	bool open;
	enum want want;
	uint8_t want_p3;
	uint8_t last_hdr[5];
	uint8_t cmd[TC_APDU_MAX_LEN];
	size_t ncmd;
	uint8_t resp[TC_APDU_MAX_NE];
	size_t nresp;
	bool secret, envelope;
	uint8_t sw1, sw2;
	unsigned ntpdu, nreissue, ngetresp;
	uint64_t t_start, t_end;
	unsigned count;
};

struct tr_apdus *tr_apdus_new(void)
{
	return calloc(1, sizeof(struct tr_apdus));
}

void tr_apdus_free(struct tr_apdus *a)
{
	free(a);
}

unsigned tr_apdus_count(const struct tr_apdus *a)
{
	return a ? a->count : 0;
}

static void append(uint8_t *dst, size_t *n, size_t cap, const uint8_t *src, size_t len)
{
	size_t room = cap - *n;
	size_t k = len < room ? len : room;
	memcpy(dst + *n, src, k);
	*n += k;
}

/* Which of the first SHOW_MAX bytes of d hide digits of a card number. */
static const bool *mask_of(const uint8_t *d, size_t n)
{
	static bool masked[SHOW_MAX];
	size_t shown = n > SHOW_MAX ? SHOW_MAX : n;

	memset(masked, 0, sizeof(masked));
	tr_mask_digit_runs(d, shown, masked);
	return masked;
}

/* Hex rows of 16 under an event line, from byte `from`, at most SHOW_MAX
 * bytes in all. */
static void rows(struct trace_out *o, const uint8_t *d, size_t n, size_t from, const bool *masked)
{
	char hex[64];
	size_t shown = n > SHOW_MAX ? SHOW_MAX : n;

	for (size_t at = from; at < shown; at += 16) {
		size_t len = shown - at > 16 ? 16 : shown - at;
		tr_note(o, "  %s", tr_masked_hex(d + at, masked + at, len, hex, sizeof(hex)));
	}
	if (shown < n)
		tr_note(o, "  ... %zu more bytes", n - shown);
}

static void print_command(struct tr_apdus *a, struct trace_out *o)
{
	char hex[64];
	size_t first = a->ncmd > 16 ? 16 : a->ncmd;
	const char *name = a->ncmd >= 4 ? tr_ins_name(a->cmd) : "";

	if (a->secret) {
		tr_event(o, a->t_start, 'R',
		         "APDU %s ... (%zu bytes; data not shown: PIN, PUK or key material)",
		         tr_hex(a->cmd, 4, 4, hex, sizeof(hex)), a->ncmd);
		return;
	}
	const bool *masked = mask_of(a->cmd, a->ncmd);
	tr_event(o, a->t_start, 'R', "APDU %s%s%s%s%s",
	         tr_masked_hex(a->cmd, masked, first, hex, sizeof(hex)), name[0] ? "  (" : "", name,
	         name[0] ? ")" : "", a->envelope ? "  in ENVELOPE pieces" : "");
	rows(o, a->cmd, a->ncmd, 16, masked);
}

static void print(struct tr_apdus *a, struct trace_out *o, const char *why)
{
	const char *text = tr_sw_text(a->sw1, a->sw2);

	o->quiet = false;
	print_command(a, o);
	if (why)
		tr_note(o, "-> no answer: %s", why);
	else
		tr_note(o, "-> SW %02X %02X%s%s; %zu byte%s; %u TPDU%s%s%s", a->sw1, a->sw2,
		        text[0] ? ": " : "", text, a->nresp, a->nresp == 1 ? "" : "s", a->ntpdu,
		        a->ntpdu == 1 ? "" : "s", a->nreissue ? ", re-issued after 6Cxx" : "",
		        a->ngetresp ? ", GET RESPONSE" : "");
	rows(o, a->resp, a->nresp, 0, mask_of(a->resp, a->nresp));
	o->quiet = true;
	a->count++;
	a->open = false;
}

static bool is_getresp(const struct tr_tpdu *t)
{
	return t->hdr[1] == INS_GET_RESPONSE && t->hdr[2] == 0 && t->hdr[3] == 0;
}

static bool is_envelope(const struct tr_tpdu *t)
{
	return t->hdr[1] == INS_ENVELOPE && t->hdr[2] == 0 && t->hdr[3] == 0;
}

static bool continues(const struct tr_apdus *a, const struct tr_tpdu *t)
{
	switch (a->want) {
	case W_REISSUE:
		return memcmp(t->hdr, a->last_hdr, 4) == 0 && t->hdr[4] == a->want_p3;
	case W_GETRESP:
		return is_getresp(t);
	case W_ENVELOPE:
		return is_envelope(t);
	case W_LE:
		return is_envelope(t) && t->nto == 2;
	case W_NONE:
		return false;
	}
	return false;
}

static void start(struct tr_apdus *a, const struct tr_tpdu *t)
{
	a->open = true;
	a->envelope = is_envelope(t);
	a->ncmd = a->nresp = 0;
	if (!a->envelope)
		append(a->cmd, &a->ncmd, sizeof(a->cmd), t->hdr, 5);
	append(a->cmd, &a->ncmd, sizeof(a->cmd), t->to, t->nto);
	append(a->resp, &a->nresp, sizeof(a->resp), t->from, t->nfrom);
	a->secret = t->secret;
	a->ntpdu = 1;
	a->nreissue = a->ngetresp = 0;
	a->t_start = t->t_start;
}

static void merge(struct tr_apdus *a, const struct tr_tpdu *t)
{
	a->ntpdu++;
	if (a->want == W_REISSUE) {
		a->nreissue++;
		a->nresp = 0; /* what the re-issued command answers is the answer */
		append(a->resp, &a->nresp, sizeof(a->resp), t->from, t->nfrom);
	} else if (is_getresp(t)) {
		a->ngetresp++;
		append(a->resp, &a->nresp, sizeof(a->resp), t->from, t->nfrom);
	} else { /* the next ENVELOPE piece */
		append(a->cmd, &a->ncmd, sizeof(a->cmd), t->to, t->nto);
		a->secret = a->secret || t->secret;
	}
}

/* An extended command carried in ENVELOPE pieces: what its encoding says is
 * still to come. 0: whole (with Le when it has one); 1: whole up to its data,
 * a Le may follow; 2: more data to come. A command that is not an extended
 * encoding counts as whole. */
static int envelope_left(const struct tr_apdus *a)
{
	if (a->ncmd < 7 || a->cmd[4] != 0)
		return a->ncmd < 7 ? 2 : 0;
	size_t need = 7 + ((size_t)a->cmd[5] << 8 | a->cmd[6]);
	if (a->ncmd < need)
		return 2;
	return a->ncmd == need ? 1 : 0;
}

/* What may follow a TPDU that ended with this SW. */
static enum want next_want(const struct tr_apdus *a, const struct tr_tpdu *t)
{
	if (t->sw1 == 0x6C && t->nto == 0 && a->nreissue == 0)
		return W_REISSUE;
	if (t->sw1 == 0x61)
		return W_GETRESP;
	if (t->sw1 == 0x90 && t->sw2 == 0x00 && a->envelope && is_envelope(t)) {
		int left = envelope_left(a);
		if (left == 2)
			return W_ENVELOPE;
		if (left == 1) /* 3E, or 4E whose Le has not come yet */
			return t->nto == 255 ? W_LE : W_NONE;
		return W_GETRESP; /* 4E answered 9000 */
	}
	if (t->sw1 == 0x90 && t->sw2 == 0x00 && t->nto > 0 && a->ngetresp == 0)
		return W_GETRESP; /* a case 4 command answered 9000 */
	return W_NONE;
}

void tr_apdus_tpdu(struct tr_apdus *a, struct trace_out *o, const struct tr_tpdu *t)
{
	if (a->open && continues(a, t)) {
		merge(a, t);
	} else {
		if (a->open)
			print(a, o, NULL);
		start(a, t);
	}
	memcpy(a->last_hdr, t->hdr, 5);
	a->sw1 = t->sw1;
	a->sw2 = t->sw2;
	a->t_end = t->t_end;
	a->want = next_want(a, t);
	a->want_p3 = t->sw2;
	if (a->want == W_NONE)
		print(a, o, NULL);
}

void tr_apdus_end(struct tr_apdus *a, struct trace_out *o, const struct tr_tpdu *partial,
                  const char *why)
{
	if (a->open)
		print(a, o, NULL); /* what it had is its answer */
	if (partial) {
		start(a, partial);
		print(a, o, why);
	}
}
