/* ccid_sim_reader.c: the simulated reader's CCID side: each bulk-OUT message
 * answered in front of the card, which is a tokencard-sim reached through
 * the driver's reader core over the loopback wire.
 *
 * Character level passes characters (send, then wLevelParameter characters
 * back), TPDU level runs the T=0 engine on one TPDU (or passes a PPS), the
 * APDU levels hand the APDU to the core's whole APDU layer. At extended-APDU
 * level a command or response longer than one message (max_msg_len - 10
 * bytes of data) travels chained: wLevelParameter 1, 3..., 2 for the
 * command, each piece but the last acknowledged with an empty DataBlock of
 * bChainParameter 0x10; bChainParameter 1, 3..., 2 for the response, each
 * piece after the first asked for with an empty XfrBlock of wLevelParameter
 * 0x10. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccid_le.h"
#include "ccid_msg.h"
#include "ccid_sim_int.h"
#include "slot_int.h"
#include "tc_error.h"
#include "tc_timing.h"

#define ST_ACTIVE   0x00
#define ST_INACTIVE 0x01
#define ST_ABSENT   0x02
#define ST_FAILED   0x40
#define ST_TIME_EXT 0x80

/* Extended-APDU chaining: the command being collected, the response being
 * handed out. */
struct sim_chain {
	uint8_t cmd[SIM_MAX_MSG];
	size_t cmd_len;
	bool cmd_open;
	uint8_t rsp[SIM_MAX_MSG];
	size_t rsp_len, rsp_off;
	unsigned rsp_pieces;
	bool rsp_open;
};

uint32_t ccid_sim_hash(const uint8_t *b, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

void sim_queue(struct sim_msg *q, unsigned *n, const uint8_t *b, size_t len)
{
	if (*n == SIM_QUEUE_LEN)
		return;
	q[*n].b = malloc(len ? len : 1);
	if (!q[*n].b)
		return;
	memcpy(q[*n].b, b, len);
	q[*n].n = len;
	(*n)++;
}

/* Queue an RDR_to_PC answer. */
static void reply(struct ccid_sim *s, uint8_t type, uint8_t seq, uint8_t status, uint8_t error,
                  uint8_t spec, const uint8_t *data, size_t n)
{
	uint8_t *m = s->rsp;
	m[0] = type;
	m[1] = (uint8_t)n;
	m[2] = (uint8_t)(n >> 8);
	m[3] = (uint8_t)(n >> 16);
	m[4] = (uint8_t)(n >> 24);
	m[5] = 0;
	m[6] = seq;
	m[7] = status;
	m[8] = error;
	m[9] = spec;
	if (n)
		memmove(m + 10, data, n);
	sim_queue(s->bulk_in, &s->bulk_n, m, 10 + n);
}

/* dwMaxCCIDMessageLength as the descriptor says it (ccid_sim_usb.c). */
static size_t max_msg(const struct ccid_sim *s)
{
	size_t m = s->o.max_msg_len                         ? s->o.max_msg_len
	           : s->o.level == CCID_LEVEL_EXTENDED_APDU ? CCID_MSG_LEN_EXTENDED
	                                                    : CCID_MSG_LEN_SHORT_APDU;
	return m > SIM_MAX_MSG ? SIM_MAX_MSG : m;
}

static void chain_reset(struct ccid_sim *s)
{
	s->chain->cmd_open = s->chain->rsp_open = false;
	s->chain->cmd_len = s->chain->rsp_len = s->chain->rsp_off = 0;
}

static uint8_t icc_state(struct ccid_sim *s)
{
	bool present = false;
	(void)tc_slot_presence(s->card, 0, &present);
	if (!present)
		return ST_ABSENT;
	return tc_slot_powered(s->card) ? ST_ACTIVE : ST_INACTIVE;
}

static uint8_t error_of(int rc)
{
	switch (rc) {
	case TC_E_PARITY:
		return CCID_ERR_XFR_PARITY_ERROR;
	case TC_E_TIMEOUT:
	case TC_E_MUTE:
	case TC_E_NO_CARD:
		return CCID_ERR_ICC_MUTE;
	case TC_E_PROTOCOL:
		return CCID_ERR_PROCEDURE_BYTE_CONFLICT;
	default:
		return CCID_ERR_HW_ERROR;
	}
}

static void power_on(struct ccid_sim *s, uint8_t seq, uint8_t sel)
{
	static const uint8_t class_bit[4] = {0x7, TC_ATR_CLASS_A, TC_ATR_CLASS_B, TC_ATR_CLASS_C};
	uint8_t atr[TC_ATR_MAX_LEN];
	size_t n = 0;

	s->counts.power_on++;
	s->counts.last_power_select = sel;
	chain_reset(s);
	if (sel > 3) {
		reply(s, CCID_RDR_DATA_BLOCK, seq, ST_FAILED | icc_state(s), 7, 0, NULL, 0);
		return;
	}
	if (tc_slot_powered(s->card))
		(void)tc_slot_power_down(s->card);
	(void)icc_state(s); /* take an INSERT the card process sent */
	s->card->cfg.classes = class_bit[sel];
	int rc = tc_slot_power_up(s->card, false, atr, &n);
	if (rc < 0) {
		reply(s, CCID_RDR_DATA_BLOCK, seq, ST_FAILED | icc_state(s), error_of(rc), 0, NULL,
		      0);
		return;
	}
	/* Below APDU level the host negotiates; the core must not. */
	if (s->o.level < CCID_LEVEL_SHORT_APDU)
		s->card->protocol_set = true;
	reply(s, CCID_RDR_DATA_BLOCK, seq, ST_ACTIVE, 0, 0, atr, n);
}

static void set_parameters(struct ccid_sim *s, uint8_t seq, const uint8_t *d, size_t n,
                           uint8_t proto)
{
	struct tc_slot *c = s->card;
	s->counts.set_params++;
	if (proto != 0 || n != 5 || !tc_fi(d[0] >> 4) || !tc_di(d[0] & 15)) {
		reply(s, CCID_RDR_PARAMETERS, seq, ST_FAILED | icc_state(s), 10, 0, NULL, 0);
		return;
	}
	s->counts.last_fidi = d[0];
	if (s->o.level < CCID_LEVEL_SHORT_APDU && tc_slot_powered(c)) {
		c->F = tc_fi(d[0] >> 4);
		c->D = tc_di(d[0] & 15);
		c->N = d[2];
		c->WI = d[3] ? d[3] : 10;
		(void)c->tr->set_params(c->link, (d[1] & 2) != 0, c->F, c->D);
		(void)slot_t0_setup(c);
	}
	reply(s, CCID_RDR_PARAMETERS, seq, icc_state(s), 0, 0, d, 5);
}

static void set_rate(struct ccid_sim *s, uint8_t seq, const uint8_t *d, size_t n)
{
	struct tc_slot *c = s->card;
	s->counts.set_rate++;
	if (n != 8) {
		reply(s, CCID_RDR_DATA_RATE_CLK, seq, ST_FAILED | icc_state(s), 1, 0, NULL, 0);
		return;
	}
	s->counts.last_clock_khz = ccid_get32(d);
	s->counts.last_rate = ccid_get32(d + 4);
	if (s->o.level < CCID_LEVEL_SHORT_APDU && tc_slot_powered(c)) {
		(void)c->tr->set_clock(c->link, ccid_get32(d) * 1000u);
		c->clock_khz = ccid_get32(d);
	}
	uint8_t applied[8];
	memcpy(applied, d, 8);
	if (s->o.rate_answer)
		ccid_put32(applied + 4, s->o.rate_answer);
	reply(s, CCID_RDR_DATA_RATE_CLK, seq, icc_state(s), 0, 0, applied, 8);
}

/* Character level: send the characters, then read `want` of them. */
static int pass_chars(struct ccid_sim *s, const uint8_t *d, size_t n, size_t want, uint8_t *out,
                      size_t *got)
{
	struct tc_slot *c = s->card;
	uint64_t wait = tc_etu_to_clk(c->F, c->D, tc_t0_wt_etu(c->WI, c->D));
	*got = 0;
	if (n > 0) {
		uint64_t start = c->tr->now(c->link) + tc_etu_to_clk(c->F, c->D, 12);
		int rc = c->tr->send(c->link, d, n, start,
		                     tc_etu_to_clk(c->F, c->D, tc_guard_etu(c->N, 0)));
		if (rc < 0)
			return rc;
	}
	while (*got < want) {
		struct tc_rx rx;
		int rc = c->tr->recv(c->link, c->tr->now(c->link) + wait, &rx);
		if (rc < 0)
			return rc;
		if (rx.kind == TC_RX_CHAR)
			out[(*got)++] = rx.byte;
	}
	return TC_OK;
}

/* A PPS through a TPDU-level reader: the request out, the answer back. */
static int pass_pps(struct ccid_sim *s, const uint8_t *d, size_t n, uint8_t *out, size_t *got)
{
	size_t g2 = 0;
	int rc = pass_chars(s, d, n, 2, out, got);
	if (rc < 0)
		return rc;
	size_t more = 1;
	for (unsigned bit = 4; bit <= 6; bit++)
		more += (out[1] >> bit) & 1u;
	rc = pass_chars(s, NULL, 0, more, out + 2, &g2);
	*got += g2;
	return rc;
}

static int exchange(struct ccid_sim *s, const uint8_t *d, size_t n, uint16_t level_param,
                    uint8_t *out, size_t *got)
{
	struct tc_slot *c = s->card;
	switch (s->o.level) {
	case CCID_LEVEL_CHARACTER:
		return pass_chars(s, d, n, level_param, out, got);
	case CCID_LEVEL_TPDU:
		if (n >= 3 && d[0] == 0xFF)
			return pass_pps(s, d, n, out, got);
		if (n < 5 || (n > 5 && n != 5u + d[4]))
			return TC_E_INVAL;
		return slot_run_tpdu(c, d, n > 5 ? d + 5 : NULL, out, 258, got);
	case CCID_LEVEL_SHORT_APDU:
	case CCID_LEVEL_EXTENDED_APDU:
	default:
		s->counts.last_apdu_len = (uint32_t)n;
		s->counts.last_apdu_hash = ccid_sim_hash(d, n);
		return tc_slot_transmit(c, d, n, out, SIM_MAX_MSG - 10, got);
	}
}

/* Time extensions, then the DataBlock (bSeq + 1 with wrong_seq). */
static void data_block(struct ccid_sim *s, uint8_t seq, uint8_t status, uint8_t error,
                       uint8_t chain, const uint8_t *d, size_t n)
{
	for (unsigned i = 0; i < s->o.time_ext; i++) {
		reply(s, CCID_RDR_DATA_BLOCK, seq, ST_TIME_EXT | ST_ACTIVE, 1, 0, NULL, 0);
		s->counts.time_ext++;
	}
	if (s->o.wrong_seq)
		seq++;
	reply(s, CCID_RDR_DATA_BLOCK, seq, status, error, chain, d, n);
}

/* The next piece of the response: all of it when it fits one message (or
 * below extended-APDU level, where nothing is chained). */
static void send_piece(struct ccid_sim *s, uint8_t seq)
{
	struct sim_chain *ch = s->chain;
	size_t room = s->o.level == CCID_LEVEL_EXTENDED_APDU ? max_msg(s) - 10 : SIM_MAX_MSG;
	size_t left = ch->rsp_len - ch->rsp_off;
	size_t n = left < room ? left : room;
	bool first = ch->rsp_pieces == 0, last = n == left;
	uint8_t chain = first ? (last ? CCID_CHAIN_WHOLE : CCID_CHAIN_BEGIN)
	                      : (last ? CCID_CHAIN_END : CCID_CHAIN_MIDDLE);
	const uint8_t *d = ch->rsp + ch->rsp_off;

	if (s->o.bad_chain == 1 && ch->rsp_pieces == 1)
		chain = CCID_CHAIN_BEGIN;
	ch->rsp_off += n;
	ch->rsp_pieces++;
	if (s->o.bad_chain == 3 && chain == CCID_CHAIN_END) {
		chain = CCID_CHAIN_MIDDLE; /* and over again */
		ch->rsp_off = 0;
	}
	ch->rsp_open = chain == CCID_CHAIN_BEGIN || chain == CCID_CHAIN_MIDDLE;
	if (chain != CCID_CHAIN_WHOLE)
		s->counts.chain_out++;
	data_block(s, seq, ST_ACTIVE, 0, chain, d, n);
}

/* A chaining step out of order: bError names wLevelParameter (byte 8). */
static bool chain_refuse(struct ccid_sim *s, uint8_t seq, uint16_t lp, uint8_t error)
{
	fprintf(stderr,
	        "ccid_sim: XfrBlock wLevelParameter 0x%04X refused (command %s, response %s)\n", lp,
	        s->chain->cmd_open ? "open" : "closed", s->chain->rsp_open ? "open" : "closed");
	chain_reset(s);
	data_block(s, seq, ST_FAILED | icc_state(s), error, 0, NULL, 0);
	return true;
}

/* A piece of a chained command: acknowledged, or (the last one) the whole
 * command in *d, *n to run. */
static bool command_piece(struct ccid_sim *s, uint8_t seq, const uint8_t **d, size_t *n,
                          uint16_t lp)
{
	struct sim_chain *ch = s->chain;
	bool begin = lp == CCID_XFR_BEGIN;
	if (ch->rsp_open || begin == ch->cmd_open)
		return chain_refuse(s, seq, lp, 8);
	if (begin)
		ch->cmd_len = 0;
	if (*n > CCID_MSG_LEN_EXTENDED - 10 - ch->cmd_len)
		return chain_refuse(s, seq, lp, CCID_ERR_XFR_OVERRUN);
	if (*n)
		memcpy(ch->cmd + ch->cmd_len, *d, *n);
	ch->cmd_len += *n;
	s->counts.chain_in++;
	if (lp != CCID_XFR_END) {
		ch->cmd_open = true;
		data_block(s, seq, ST_ACTIVE, 0, s->o.bad_chain == 2 ? 0 : CCID_CHAIN_MORE, NULL,
		           0);
		return true;
	}
	ch->cmd_open = false;
	*d = ch->cmd;
	*n = ch->cmd_len;
	return false;
}

/* Extended-APDU level: true when the message was answered here, false when
 * the command in *d, *n (collected from its pieces) is to be run. */
static bool chain_step(struct ccid_sim *s, uint8_t seq, const uint8_t **d, size_t *n, uint16_t lp)
{
	switch (lp) {
	case CCID_XFR_WHOLE:
		if (s->chain->cmd_open || s->chain->rsp_open)
			return chain_refuse(s, seq, lp, 8);
		return false;
	case CCID_XFR_MORE:
		if (!s->chain->rsp_open || *n != 0)
			return chain_refuse(s, seq, lp, 8);
		send_piece(s, seq);
		return true;
	case CCID_XFR_BEGIN:
	case CCID_XFR_MIDDLE:
	case CCID_XFR_END:
		return command_piece(s, seq, d, n, lp);
	default:
		return chain_refuse(s, seq, lp, 8);
	}
}

static void xfr_block(struct ccid_sim *s, uint8_t seq, const uint8_t *d, size_t n,
                      uint16_t level_param)
{
	struct sim_chain *ch = s->chain;
	size_t got = 0;

	s->counts.xfr++;
	if (s->o.unplug_at_xfr && s->counts.xfr == s->o.unplug_at_xfr) {
		s->gone = true; /* no answer: the device left the bus */
		return;
	}
	if (s->o.silent_at_xfr && s->counts.xfr == s->o.silent_at_xfr)
		return; /* the reader hangs: the host times out and aborts */
	if (!tc_slot_powered(s->card)) {
		reply(s, CCID_RDR_DATA_BLOCK, seq, ST_FAILED | icc_state(s), CCID_ERR_ICC_MUTE, 0,
		      NULL, 0);
		return;
	}
	if (s->o.level == CCID_LEVEL_EXTENDED_APDU && chain_step(s, seq, &d, &n, level_param))
		return;
	int rc = exchange(s, d, n, level_param, ch->rsp, &got);
	if (rc < 0) {
		if (rc != TC_E_PARITY)
			(void)tc_slot_power_down(s->card);
		chain_reset(s);
		data_block(s, seq, ST_FAILED | icc_state(s), error_of(rc), 0, NULL, 0);
		return;
	}
	ch->rsp_len = got;
	ch->rsp_off = 0;
	ch->rsp_pieces = 0;
	send_piece(s, seq);
}

void sim_reader_message(struct ccid_sim *s, const uint8_t *msg, size_t n)
{
	if (n < 10 || n != 10u + ccid_get32(msg + 1)) {
		fprintf(stderr, "ccid_sim: bulk-OUT message of %zu bytes refused\n", n);
		return;
	}
	uint8_t seq = msg[6];
	const uint8_t *d = msg + 10;
	size_t dn = n - 10;
	if (n > max_msg(s)) { /* bError 1: dwLength */
		fprintf(stderr, "ccid_sim: %zu-byte message above dwMaxCCIDMessageLength %zu\n", n,
		        max_msg(s));
		s->counts.too_long++;
		reply(s,
		      ccid_reply_type_for(msg[0]) ? ccid_reply_type_for(msg[0])
		                                  : CCID_RDR_SLOT_STATUS,
		      seq, ST_FAILED | icc_state(s), 1, 0, NULL, 0);
		return;
	}
	switch (msg[0]) {
	case CCID_PC_ICC_POWER_ON:
		power_on(s, seq, msg[7]);
		break;
	case CCID_PC_ICC_POWER_OFF:
		s->counts.power_off++;
		chain_reset(s);
		if (tc_slot_powered(s->card))
			(void)tc_slot_power_down(s->card);
		reply(s, CCID_RDR_SLOT_STATUS, seq, icc_state(s), 0, 0, NULL, 0);
		break;
	case CCID_PC_GET_SLOT_STATUS:
		s->counts.slot_status++;
		reply(s, CCID_RDR_SLOT_STATUS, seq, icc_state(s), 0, 0, NULL, 0);
		break;
	case CCID_PC_XFR_BLOCK:
		xfr_block(s, seq, d, dn, (uint16_t)(msg[8] | msg[9] << 8));
		break;
	case CCID_PC_SET_PARAMETERS:
		set_parameters(s, seq, d, dn, msg[7]);
		break;
	case CCID_PC_SET_DATA_RATE_CLK:
		set_rate(s, seq, d, dn);
		break;
	case CCID_PC_ABORT:
		s->counts.aborts++;
		chain_reset(s);
		reply(s, CCID_RDR_SLOT_STATUS, seq, icc_state(s), 0, 0, NULL, 0);
		break;
	default: /* CMD_NOT_SUPPORTED */
		reply(s,
		      ccid_reply_type_for(msg[0]) ? ccid_reply_type_for(msg[0])
		                                  : CCID_RDR_SLOT_STATUS,
		      seq, ST_FAILED | icc_state(s), 0, 0, NULL, 0);
		break;
	}
}

int sim_reader_open(struct ccid_sim *s)
{
	char name[160];
	struct tc_reader_config cfg;
	tc_reader_config_default(&cfg);
	/* Below APDU level the host's TPDUs go to the card as they are. */
	cfg.raw_tpdu = s->o.level < CCID_LEVEL_SHORT_APDU;
	snprintf(name, sizeof(name), "loopback:%s", s->o.card_socket);
	int rc = tc_slot_open(&s->card, name, &cfg);
	if (rc < 0)
		return rc;
	s->chain = calloc(1, sizeof(*s->chain));
	if (!s->chain) {
		tc_slot_close(s->card);
		s->card = NULL;
		return TC_E_NOMEM;
	}
	return TC_OK;
}

void sim_reader_close(struct ccid_sim *s)
{
	tc_slot_close(s->card);
	s->card = NULL;
	free(s->chain);
	s->chain = NULL;
}
