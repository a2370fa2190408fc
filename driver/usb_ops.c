/* usb_ops.c: the USB CCID transport's bulk messages and operations.
 *
 * One command = the message out on bulk-OUT, its answer from bulk-IN, checked
 * by ccid_reply_parse() against the request (type, slot, bSeq, lengths). A
 * time extension is read again (at most USB_MAX_TIME_EXT times); a wrong
 * bSeq is refused; a timeout sends the ABORT control request and
 * PC_to_RDR_Abort. Character-level readers serve the character operations
 * (send = XfrBlock of the characters, recv = XfrBlock asking one); TPDU and
 * APDU readers the block operations (activate, xfr, set_t0). At
 * extended-APDU level a command or response longer than one message travels
 * chained (wLevelParameter, bChainParameter; ccid_chain_* in ccid_msg.c). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "tc_error.h"
#include "tc_pps.h"
#include "tc_timing.h"
#include "usb_int.h"

struct ccid_addr usb_addr(const struct tc_link *l)
{
	struct ccid_addr a = {.slot = 0, .seq = l->seq, .max_msg_len = l->desc.max_msg_len};
	return a;
}

/* Refuse an exchange: the sentence goes to the log and to last_error. */
static void usb_refuse(struct tc_link *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void usb_refuse(struct tc_link *l, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(l->why, sizeof(l->why), fmt, ap);
	va_end(ap);
	LOG_ERR("usb %04X/%04X: %s", l->vid, l->pid, l->why);
}

/* The class request ABORT, then PC_to_RDR_Abort and its answer. */
static void usb_abort(struct tc_link *l, uint8_t seq, const char *why)
{
	uint8_t msg[CCID_HDR_LEN], in[64];
	int done = 0;
	struct ccid_addr a = {.slot = 0, .seq = seq, .max_msg_len = l->desc.max_msg_len};

	LOG_ERR("usb %04X/%04X: %s: abort (bSeq %u)", l->vid, l->pid, why, seq);
	if (why != l->why)
		snprintf(l->why, sizeof(l->why), "%s", why);
	int rc = libusb_control_transfer(
	    l->h, LIBUSB_ENDPOINT_OUT | LIBUSB_REQUEST_TYPE_CLASS | LIBUSB_RECIPIENT_INTERFACE,
	    CCID_REQ_ABORT, CCID_ABORT_WVALUE(0, seq), (uint16_t)l->ifnum, NULL, 0, l->timeout_ms);
	if (rc == LIBUSB_ERROR_NO_DEVICE || ccid_build_abort(msg, sizeof(msg), &a) < 0)
		return;
	if (libusb_bulk_transfer(l->h, l->ep_out, msg, CCID_HDR_LEN, &done, l->timeout_ms) == 0)
		(void)libusb_bulk_transfer(l->h, l->ep_in, in, sizeof(in), &done, l->timeout_ms);
}

static int read_reply(struct tc_link *l, uint8_t type, const struct ccid_addr *a,
                      struct ccid_reply *r)
{
	char why[CCID_WHY_LEN];
	for (unsigned ext = 0;; ext++) {
		int got = 0;
		int urc = libusb_bulk_transfer(l->h, l->ep_in, l->buf, (int)l->buf_cap, &got,
		                               l->timeout_ms);
		if (urc == LIBUSB_ERROR_TIMEOUT)
			usb_abort(l, a->seq, "no answer in time");
		if (urc != 0)
			return usb_err(l, urc);
		why[0] = '\0';
		int rc = ccid_reply_parse(l->buf, (size_t)got, type, a, r, why, sizeof(why));
		if (rc == TC_OK && r->cmd == CCID_CMD_TIME_EXT) {
			if (ext >= USB_MAX_TIME_EXT) {
				LOG_ERR("usb %04X/%04X: more than %u time extensions", l->vid,
				        l->pid, USB_MAX_TIME_EXT);
				return TC_E_TIMEOUT;
			}
			continue;
		}
		if (rc < 0 && r->type == 0)
			usb_refuse(l, "answer refused: %.140s", why);
		else if (rc < 0)
			LOG_INFO("usb %04X/%04X: %s", l->vid, l->pid, why);
		return rc;
	}
}

int usb_exchange(struct tc_link *l, uint8_t *tx, size_t n, struct ccid_reply *r)
{
	struct ccid_addr a = usb_addr(l);
	int done = 0;

	memset(r, 0, sizeof(*r));
	if (atomic_load(&l->gone))
		return TC_E_CLOSED;
	l->seq++;
	int urc = libusb_bulk_transfer(l->h, l->ep_out, tx, (int)n, &done, l->timeout_ms);
	if (urc == LIBUSB_ERROR_TIMEOUT)
		usb_abort(l, a.seq, "the message was not taken in time");
	if (urc != 0)
		return usb_err(l, urc);
	if ((size_t)done != n)
		return TC_E_IO;
	return read_reply(l, tx[0], &a, r);
}

int usb_slot_status(struct tc_link *l, bool *present)
{
	uint8_t msg[CCID_HDR_LEN];
	struct ccid_reply r;
	struct ccid_addr a = usb_addr(l);
	int n = ccid_build_get_slot_status(msg, sizeof(msg), &a);
	if (n < 0)
		return n;
	int rc = usb_exchange(l, msg, (size_t)n, &r);
	*present = r.type != 0 && r.icc != CCID_ICC_ABSENT;
	return rc == TC_E_NO_CARD ? TC_OK : rc;
}

/* --- activation --------------------------------------------------------- */

static int power_select(const struct tc_link *l, unsigned cls)
{
	static const uint8_t volt_bit[4] = {0, CCID_VOLT_5V, CCID_VOLT_3V, CCID_VOLT_1V8};
	if ((l->desc.dwFeatures & CCID_FEAT_AUTO_VOLTAGE) || cls == 0)
		return CCID_POWER_AUTO;
	if (cls > 3 || !(l->desc.bVoltageSupport & volt_bit[cls]))
		return TC_E_UNSUPPORTED;
	return (int)cls; /* ISO class A, B, C = bPowerSelect 1, 2, 3 */
}

static int usb_activate(struct tc_link *l, unsigned cls, uint8_t *atr, size_t cap, size_t *n)
{
	uint8_t msg[CCID_HDR_LEN];
	struct ccid_reply r;
	struct ccid_addr a = usb_addr(l);
	int sel = power_select(l, cls);

	*n = 0;
	if (sel < 0)
		return sel;
	int len = ccid_build_power_on(msg, sizeof(msg), &a, (uint8_t)sel);
	if (len < 0)
		return len;
	int rc = usb_exchange(l, msg, (size_t)len, &r);
	if (rc < 0)
		return rc;
	if (r.length == 0)
		return TC_E_MUTE;
	if (r.length > cap)
		return TC_E_LONG;
	memcpy(atr, r.data, r.length);
	*n = r.length;
	l->power_class = (unsigned)sel;
	l->params_fidi = 0x11;
	l->params_inverse = false;
	return TC_OK;
}

static int usb_power_off(struct tc_link *l)
{
	uint8_t msg[CCID_HDR_LEN];
	struct ccid_reply r;
	struct ccid_addr a = usb_addr(l);
	int n = ccid_build_power_off(msg, sizeof(msg), &a);
	l->atr_len = l->atr_pos = 0;
	l->txq_len = 0; /* characters for a card that is going away */
	if (n < 0)
		return n;
	int rc = usb_exchange(l, msg, (size_t)n, &r);
	return rc == TC_E_NO_CARD ? TC_OK : rc;
}

/* --- block exchanges ---------------------------------------------------- */

/* One XfrBlock out, its DataBlock in r (r->data points into l->buf). */
static int xfr_one(struct tc_link *l, const uint8_t *tx, size_t n, uint16_t level_param,
                   struct ccid_reply *r)
{
	struct ccid_addr a = usb_addr(l);
	int len = ccid_build_xfr_block(l->buf, l->buf_cap, &a, 0, level_param, tx, n);
	if (len == TC_E_LONG || len == TC_E_OVERFLOW) {
		usb_refuse(l, "%zu bytes exceed the reader's message length %u", n,
		           (unsigned)l->desc.max_msg_len);
		return TC_E_LONG;
	}
	if (len < 0)
		return len;
	return usb_exchange(l, l->buf, (size_t)len, r);
}

/* Below extended-APDU level: one message each way. */
static int xfr_block(struct tc_link *l, const uint8_t *tx, size_t n, uint16_t level_param,
                     uint8_t *rx, size_t cap, size_t *rlen)
{
	struct ccid_reply r;
	int rc = xfr_one(l, tx, n, level_param, &r);
	if (rc < 0)
		return rc;
	if (r.length > cap)
		return TC_E_OVERFLOW;
	if (r.length)
		memcpy(rx, r.data, r.length);
	*rlen = r.length;
	l->stats.chars_to_card += n;
	l->stats.chars_from_card += r.length;
	return TC_OK;
}

/* Extended-APDU level: the command in pieces of one message each
 * (wLevelParameter 1, 3..., 2), each but the last acknowledged by an empty
 * DataBlock asking for more; r receives the answer to the last piece. */
static int send_chained(struct tc_link *l, const uint8_t *tx, size_t n, struct ccid_reply *r)
{
	char why[CCID_WHY_LEN];
	size_t piece = l->desc.max_msg_len - CCID_HDR_LEN;
	if (n > CCID_MSG_LEN_EXTENDED - CCID_HDR_LEN) {
		usb_refuse(l, "a command APDU of %zu bytes exceeds %u", n,
		           CCID_MSG_LEN_EXTENDED - CCID_HDR_LEN);
		return TC_E_LONG;
	}
	for (size_t off = 0;; off += piece) {
		size_t len = n - off < piece ? n - off : piece;
		int rc = xfr_one(l, tx + off, len, ccid_chain_tx_param(off, len, n), r);
		if (rc < 0 || off + len >= n)
			return rc;
		if (ccid_chain_tx_ack(r, why, sizeof(why)) < 0) {
			usb_abort(l, l->seq++, why); /* the reader may be mid-chain */
			return TC_E_PROTOCOL;
		}
	}
}

/* Extended-APDU level: the response from r on, following bChainParameter with
 * empty XfrBlocks (wLevelParameter 0x10) up to CCID_CHAIN_MAX_RESP bytes.
 * A response longer than cap is read to its end (the reader stays in step)
 * and refused with TC_E_OVERFLOW. */
static int recv_chained(struct tc_link *l, struct ccid_reply *r, uint8_t *rx, size_t cap,
                        size_t *rlen)
{
	char why[CCID_WHY_LEN];
	struct ccid_chain c;
	ccid_chain_init(&c, CCID_CHAIN_MAX_RESP);
	for (;;) {
		int rc = ccid_chain_rx(&c, r, why, sizeof(why));
		if (rc < 0) {
			usb_abort(l, l->seq++, why); /* the reader may be mid-chain */
			return rc;
		}
		if (c.got <= cap && r->length)
			memcpy(rx + c.got - r->length, r->data, r->length);
		if (c.done)
			break;
		rc = xfr_one(l, NULL, 0, CCID_XFR_MORE, r);
		if (rc < 0)
			return rc;
	}
	if (c.got > cap) {
		usb_refuse(l, "a response of %zu bytes for a buffer of %zu", c.got, cap);
		return TC_E_OVERFLOW;
	}
	*rlen = c.got;
	return TC_OK;
}

static int usb_xfr(struct tc_link *l, const uint8_t *tx, size_t n, uint8_t *rx, size_t cap,
                   size_t *rlen)
{
	struct ccid_reply r;
	*rlen = 0;
	l->why[0] = '\0';
	if (l->level == TC_LEVEL_TPDU && n > 0 && tx[0] == 0xFF &&
	    (l->desc.dwFeatures & (CCID_FEAT_AUTO_PPS | CCID_FEAT_AUTO_NEGOTIATE)))
		return TC_E_UNSUPPORTED; /* the reader runs PPS itself */
	/* Chaining exists at extended-APDU level only: below it wLevelParameter
	 * is RFU (or, at character level, a count) and bChainParameter RFU. */
	if (l->level != TC_LEVEL_EXTENDED_APDU)
		return xfr_block(l, tx, n, 0, rx, cap, rlen);
	int rc = send_chained(l, tx, n, &r);
	if (rc == TC_OK)
		rc = recv_chained(l, &r, rx, cap, rlen);
	if (rc == TC_OK) {
		l->stats.chars_to_card += n;
		l->stats.chars_from_card += *rlen;
	}
	return rc;
}

static int set_parameters(struct tc_link *l, uint8_t fidi, bool inverse, unsigned N, unsigned WI)
{
	uint8_t msg[CCID_HDR_LEN + 5];
	struct ccid_reply r;
	struct ccid_addr a = usb_addr(l);
	struct ccid_t0_params p = {
	    .bmFindexDindex = fidi,
	    .bmTCCKST0 = inverse ? 0x02 : 0x00,
	    .bGuardTimeT0 = (uint8_t)(N > 255 ? 255 : N),
	    .bWaitingIntegerT0 = (uint8_t)(WI > 255 ? 255 : WI),
	    .bClockStop = 0,
	};
	int n = ccid_build_set_parameters_t0(msg, sizeof(msg), &a, &p);
	if (n < 0)
		return n;
	int rc = usb_exchange(l, msg, (size_t)n, &r);
	if (rc == TC_OK) {
		l->params_fidi = fidi;
		l->params_inverse = inverse;
	}
	return rc;
}

/* The rate to ask for: with a data-rate list (GET_DATA_RATES), the listed
 * rate nearest to the card's rate among those that may stand for it (the PPS
 * decision chose F and D so that one does); without a list, the card's. */
static uint32_t listed_rate(const struct tc_link *l, uint32_t want)
{
	uint32_t best = want, best_d = UINT32_MAX;
	for (size_t i = 0; i < l->nrates; i++) {
		uint32_t have = l->rates_bps[i];
		uint32_t d = have > want ? have - want : want - have;
		if (tc_pps_rate_near(want, have) && d < best_d) {
			best = have;
			best_d = d;
		}
	}
	return best;
}

/* SetDataRateAndClockFrequency answers with what the reader now applies:
 * a rate that cannot stand for the one asked would garble every character. */
static int check_rate_answer(struct tc_link *l, const struct ccid_reply *r, uint32_t clock_khz,
                             uint32_t rate)
{
	uint32_t got_khz = r->u.rate.clock_khz, got = r->u.rate.rate_bps;
	if (got == 0 || got == rate) {
		LOG_INFO("usb %04X/%04X: card at %u kHz, %u bps", l->vid, l->pid,
		         got_khz ? got_khz : clock_khz, got ? got : rate);
		return TC_OK;
	}
	if (!tc_pps_rate_near(rate, got)) {
		usb_refuse(l, "the reader runs the card at %u bps (%u kHz) where %u bps was asked",
		           got, got_khz, rate);
		return TC_E_PROTOCOL;
	}
	LOG_INFO("usb %04X/%04X: card at %u kHz, %u bps (%u asked)", l->vid, l->pid, got_khz, got,
	         rate);
	return TC_OK;
}

static int set_rate(struct tc_link *l, uint32_t clock_hz, uint32_t rate)
{
	uint8_t msg[CCID_HDR_LEN + 8];
	struct ccid_reply r;
	struct ccid_addr a = usb_addr(l);
	const uint32_t both = CCID_FEAT_AUTO_CLOCK | CCID_FEAT_AUTO_BAUD;
	if ((l->desc.dwFeatures & both) == both || clock_hz == 0)
		return TC_OK;
	rate = listed_rate(l, rate);
	int n = ccid_build_set_data_rate_clock(msg, sizeof(msg), &a, clock_hz / 1000u, rate);
	if (n < 0)
		return n;
	int rc = usb_exchange(l, msg, (size_t)n, &r);
	if (rc == TC_E_UNSUPPORTED) {
		LOG_INFO("usb %04X/%04X: the reader sets no data rate; left as it is", l->vid,
		         l->pid);
		return TC_OK;
	}
	if (rc == TC_OK && r.type == CCID_RDR_DATA_RATE_CLK)
		rc = check_rate_answer(l, &r, clock_hz / 1000u, rate);
	return rc;
}

static int usb_set_t0(struct tc_link *l, const struct tc_t0_settings *t)
{
	l->why[0] = '\0';
	int rc = set_parameters(l, t->fi_di, t->inverse, t->N, t->WI);
	if (rc == TC_OK)
		rc = set_rate(l, t->clock_hz, t->rate_bps);
	l->F = t->F;
	l->D = t->D;
	return rc;
}

/* --- character level ---------------------------------------------------- */

/* Reading ahead. The T=0 engine above asks one character at a time; a
 * character-level reader can be asked for several in one XfrBlock
 * (wLevelParameter = how many). Mirroring the engine's TPDU from what it
 * sends and receives, recv() asks for more than one only where T=0 says
 * exactly how many the card must send: the data after an ACK (INS) of a
 * TPDU that sends none (P3 of them, 00 = 256, as the engine counts them)
 * and the two characters that must follow them (SW1 SW2, or a NULL and
 * SW1). Other procedure bytes, PPS and anything odd: one at a time. A card
 * that breaks T=0 there (a lone ACK after all data) makes the reader wait
 * for the second character: a timeout instead of a protocol error. The
 * characters are handed out one per recv() with the times they would have
 * had, so the engine sees the same characters at the same times. */
enum { USB_T0_IDLE, USB_T0_PROC, USB_T0_ACK, USB_T0_SW2 };

static void t0_reset(struct tc_link *l)
{
	memset(&l->t0, 0, sizeof(l->t0));
	l->rxq_len = l->rxq_pos = l->txq_len = 0;
}

/* Send the characters send() holds, asking for none back. */
static int flush_tx(struct tc_link *l)
{
	uint8_t none[1];
	size_t got = 0, n = l->txq_len;
	l->txq_len = 0;
	return n ? xfr_block(l, l->txq, n, 0, none, sizeof(none), &got) : TC_OK;
}

/* The engine sends: a TPDU header, or data after an ACK. */
static void t0_on_send(struct tc_link *l, const uint8_t *b, size_t n)
{
	struct usb_t0 *t = &l->t0;
	l->rxq_len = l->rxq_pos = 0; /* whatever is left was not wanted */
	if (t->state == USB_T0_ACK) {
		t->out = true;
		t->state = USB_T0_PROC;
	} else if (n == 5 && b[0] != 0xFF) {
		*t = (struct usb_t0){
		    .state = USB_T0_PROC, .ins = b[1], .n_in_max = b[4] ? b[4] : 256};
	} else {
		t->state = USB_T0_IDLE;
	}
}

/* How many characters the card must send next (at least 1). */
static size_t t0_want(const struct tc_link *l)
{
	const struct usb_t0 *t = &l->t0;
	if (t->state != USB_T0_ACK || t->out || !t->all || t->n_in >= t->n_in_max)
		return 1;
	/* The rest of the data, then the procedure byte that must follow it:
	 * SW1 SW2 (or a NULL and SW1). */
	return t->n_in_max - t->n_in + 2;
}

/* One procedure byte from the card (state USB_T0_PROC or USB_T0_SW2). */
static void t0_on_proc(struct usb_t0 *t, uint8_t c)
{
	uint8_t hi = c & 0xF0u, ack1 = (uint8_t)~t->ins;
	if (t->state != USB_T0_PROC)
		t->state = USB_T0_IDLE; /* SW2, or anything after it */
	else if (c == 0x60)
		return; /* NULL */
	else if (hi == 0x60 || hi == 0x90)
		t->state = USB_T0_SW2;
	else if (c == t->ins || c == ack1) {
		t->all = c == t->ins;
		t->state = USB_T0_ACK;
	} else
		t->state = USB_T0_IDLE;
}

/* n characters arrived from the card: data after an ACK (all of it, or
 * one), then procedure bytes. */
static void t0_on_recv(struct tc_link *l, const uint8_t *b, size_t n)
{
	struct usb_t0 *t = &l->t0;
	size_t i = 0;
	if (t->state == USB_T0_ACK) {
		size_t data = t->all ? t->n_in_max - t->n_in : 1;
		if (t->out || t->n_in >= t->n_in_max) {
			t->state = USB_T0_IDLE;
			return;
		}
		i = n < data ? n : data;
		t->n_in += i;
		if (!t->all || t->n_in == t->n_in_max)
			t->state = USB_T0_PROC;
	} else if (t->state == USB_T0_PROC && n != 1) {
		t->state = USB_T0_IDLE; /* only read ahead after data */
		return;
	}
	for (; i < n && t->state != USB_T0_IDLE; i++)
		t0_on_proc(t, b[i]);
}

/* One XfrBlock for the characters t0_want() says (at most a message's and
 * rxq's worth); the first in *b, the rest in rxq. */
static int fetch(struct tc_link *l, uint8_t *b)
{
	size_t got = 0, want = t0_want(l), room = l->desc.max_msg_len - CCID_HDR_LEN;
	if (want > room)
		want = room;
	if (want > sizeof(l->rxq))
		want = sizeof(l->rxq);
	size_t n = l->txq_len;
	l->txq_len = 0;
	int rc = xfr_block(l, n ? l->txq : NULL, n, (uint16_t)want, l->rxq, want, &got);
	if (rc == TC_OK && got != want)
		rc = TC_E_PROTOCOL;
	if (rc < 0) {
		l->t0.state = USB_T0_IDLE;
		return rc;
	}
	t0_on_recv(l, l->rxq, got);
	*b = l->rxq[0];
	l->rxq_pos = 1;
	l->rxq_len = got;
	return TC_OK;
}

static int usb_power_on(struct tc_link *l, unsigned cls, uint32_t clock_hz)
{
	l->clock_hz = clock_hz;
	l->F = 372;
	l->D = 1;
	l->inverse = false;
	l->sent_since_rst = false;
	l->rst_edge = l->now;
	t0_reset(l);
	if (!atomic_load(&l->present))
		return TC_E_NO_CARD;
	int rc = usb_activate(l, cls, l->atr, sizeof(l->atr), &l->atr_len);
	l->atr_pos = 0;
	return rc == TC_E_MUTE ? TC_OK : rc; /* a mute card: recv() times out */
}

static int usb_set_rst(struct tc_link *l, int level, uint64_t *edge_time)
{
	l->now += 400;
	*edge_time = l->now;
	if (level) {
		l->rst_edge = l->now;
		l->sent_since_rst = false;
		t0_reset(l);
		if (l->atr_pos > 0) { /* a warm reset: the reader activates again */
			(void)usb_power_off(l);
			return usb_power_on(l, l->power_class, l->clock_hz);
		}
	}
	return TC_OK;
}

static int usb_set_params(struct tc_link *l, bool inverse, unsigned F, unsigned D)
{
	int fi = tc_fi_nibble(F), di = tc_di_nibble(D);
	if (fi < 0 || di < 0)
		return TC_E_INVAL;
	l->F = F;
	l->D = D;
	l->inverse = inverse;
	uint8_t fidi = (uint8_t)(fi << 4 | di);
	if (fidi == l->params_fidi && inverse == l->params_inverse)
		return TC_OK;
	int rc = flush_tx(l); /* what was sent goes at the old parameters */
	return rc < 0 ? rc : set_parameters(l, fidi, inverse, 0, 10);
}

/* The characters wait in txq for the recv() that follows, so that one
 * XfrBlock carries them and asks for the card's answer (wLevelParameter). */
static int usb_send(struct tc_link *l, const uint8_t *bytes, size_t n, uint64_t start,
                    uint64_t spacing)
{
	int rc = TC_OK;
	if (start > l->now)
		l->now = start;
	l->sent_since_rst = true;
	t0_on_send(l, bytes, n);
	if (l->txq_len + n > sizeof(l->txq))
		rc = flush_tx(l); /* then txq is empty */
	if (rc == TC_OK && n > sizeof(l->txq)) {
		uint8_t none[1];
		size_t got = 0;
		rc = xfr_block(l, bytes, n, 0, none, sizeof(none), &got);
	} else if (rc == TC_OK) {
		memcpy(l->txq + l->txq_len, bytes, n);
		l->txq_len += n;
	}
	if (n > 0)
		l->now += (n - 1) * spacing + tc_etu_to_clk(l->F, l->D, 12);
	return rc;
}

static int usb_recv(struct tc_link *l, uint64_t deadline, struct tc_rx *rx)
{
	uint8_t b = 0;
	int rc = TC_E_TIMEOUT;

	if (l->atr_pos < l->atr_len) {
		b = l->atr[l->atr_pos++];
		rc = TC_OK;
	} else if (l->rxq_pos < l->rxq_len) {
		b = l->rxq[l->rxq_pos++];
		rc = TC_OK;
	} else if (l->sent_since_rst) {
		rc = fetch(l, &b);
	}
	if (rc == TC_E_TIMEOUT || rc == TC_E_MUTE) {
		if (deadline > l->now)
			l->now = deadline;
		return TC_E_TIMEOUT;
	}
	if (rc < 0)
		return rc;
	uint64_t t = l->atr_pos == 1 && l->atr_len ? l->rst_edge + 1000 : l->now;
	l->now = t + tc_etu_to_clk(l->F, l->D, 12);
	memset(rx, 0, sizeof(*rx));
	rx->kind = TC_RX_CHAR;
	rx->byte = b;
	rx->parity_ok = true; /* the reader repeats and checks parity itself */
	rx->time = t;
	return TC_OK;
}

static int usb_signal_error(struct tc_link *l, uint32_t id, uint64_t time)
{
	(void)l;
	(void)id;
	(void)time;
	return TC_E_UNSUPPORTED;
}

static int usb_set_clock(struct tc_link *l, uint32_t clock_hz)
{
	l->clock_hz = clock_hz;
	l->why[0] = '\0';
	int rc = flush_tx(l);
	return rc < 0 ? rc : set_rate(l, clock_hz, tc_baud(clock_hz, l->F, l->D));
}

static uint64_t usb_now(const struct tc_link *l)
{
	return l->now;
}

static void usb_stats(const struct tc_link *l, struct tc_link_stats *out)
{
	*out = l->stats;
}

static enum tc_level usb_level(const struct tc_link *l)
{
	return l->level;
}

static const char *usb_last_error(const struct tc_link *l)
{
	return l->why;
}

const struct tc_transport tc_transport_usb = {
    .name = "usb",
    .open = usb_open,
    .close = usb_close,
    .power_on = usb_power_on,
    .power_off = usb_power_off,
    .set_rst = usb_set_rst,
    .set_params = usb_set_params,
    .send = usb_send,
    .recv = usb_recv,
    .signal_error = usb_signal_error,
    .set_clock = usb_set_clock,
    .now = usb_now,
    .presence = usb_presence,
    .event_fd = usb_event_fd,
    .stats = usb_stats,
    .level = usb_level,
    .last_error = usb_last_error,
    .activate = usb_activate,
    .xfr = usb_xfr,
    .set_t0 = usb_set_t0,
    .caps = usb_caps,
};
