/* ccid_msg.c: CCID bulk and interrupt message codecs (see ccid_msg.h). */
#include "ccid_msg.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ccid_desc.h"
#include "ccid_le.h"
#include "tc_error.h"

static void set_why(char *why, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_why(char *why, size_t cap, const char *fmt, ...)
{
	va_list ap;
	if (why == NULL || cap == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(why, cap, fmt, ap);
	va_end(ap);
}

/* ---- building ------------------------------------------------------------ */

/* Header with dwLength = n, then the data. */
static int build(uint8_t *buf, size_t cap, uint8_t type, const struct ccid_addr *a,
                 const uint8_t spec[3], const uint8_t *data, size_t n)
{
	if (buf == NULL || a == NULL || (data == NULL && n > 0))
		return TC_E_INVAL;
	if (n > CCID_MSG_LEN_EXTENDED - CCID_HDR_LEN)
		return TC_E_LONG;
	if (a->max_msg_len != 0 && CCID_HDR_LEN + n > a->max_msg_len)
		return TC_E_LONG;
	if (cap < CCID_HDR_LEN + n)
		return TC_E_OVERFLOW;
	buf[0] = type;
	ccid_put32(buf + 1, (uint32_t)n);
	buf[5] = a->slot;
	buf[6] = a->seq;
	memcpy(buf + 7, spec, 3);
	if (n > 0)
		memcpy(buf + CCID_HDR_LEN, data, n);
	return (int)(CCID_HDR_LEN + n);
}

static const uint8_t no_spec[3] = {0, 0, 0};

int ccid_build_power_on(uint8_t *buf, size_t cap, const struct ccid_addr *a, uint8_t power_select)
{
	if (power_select > CCID_POWER_1V8)
		return TC_E_INVAL;
	const uint8_t spec[3] = {power_select, 0, 0};
	return build(buf, cap, CCID_PC_ICC_POWER_ON, a, spec, NULL, 0);
}

int ccid_build_power_off(uint8_t *buf, size_t cap, const struct ccid_addr *a)
{
	return build(buf, cap, CCID_PC_ICC_POWER_OFF, a, no_spec, NULL, 0);
}

int ccid_build_get_slot_status(uint8_t *buf, size_t cap, const struct ccid_addr *a)
{
	return build(buf, cap, CCID_PC_GET_SLOT_STATUS, a, no_spec, NULL, 0);
}

int ccid_build_get_parameters(uint8_t *buf, size_t cap, const struct ccid_addr *a)
{
	return build(buf, cap, CCID_PC_GET_PARAMETERS, a, no_spec, NULL, 0);
}

int ccid_build_abort(uint8_t *buf, size_t cap, const struct ccid_addr *a)
{
	return build(buf, cap, CCID_PC_ABORT, a, no_spec, NULL, 0);
}

int ccid_build_xfr_block(uint8_t *buf, size_t cap, const struct ccid_addr *a, uint8_t bwi,
                         uint16_t level_param, const uint8_t *data, size_t n)
{
	const uint8_t spec[3] = {bwi, (uint8_t)level_param, (uint8_t)(level_param >> 8)};
	return build(buf, cap, CCID_PC_XFR_BLOCK, a, spec, data, n);
}

int ccid_build_set_parameters_t0(uint8_t *buf, size_t cap, const struct ccid_addr *a,
                                 const struct ccid_t0_params *p)
{
	if (p == NULL)
		return TC_E_INVAL;
	if (p->bmTCCKST0 != 0x00 && p->bmTCCKST0 != 0x02)
		return TC_E_INVAL;
	if (p->bClockStop > 3 || (p->bmFindexDindex & 0x0Fu) == 0)
		return TC_E_INVAL;
	const uint8_t spec[3] = {0 /* bProtocolNum: T=0 */, 0, 0};
	const uint8_t data[5] = {p->bmFindexDindex, p->bmTCCKST0, p->bGuardTimeT0,
	                         p->bWaitingIntegerT0, p->bClockStop};
	return build(buf, cap, CCID_PC_SET_PARAMETERS, a, spec, data, sizeof(data));
}

int ccid_build_set_data_rate_clock(uint8_t *buf, size_t cap, const struct ccid_addr *a,
                                   uint32_t clock_khz, uint32_t rate_bps)
{
	uint8_t data[8];
	if (clock_khz == 0 || rate_bps == 0)
		return TC_E_INVAL;
	ccid_put32(data, clock_khz);
	ccid_put32(data + 4, rate_bps);
	return build(buf, cap, CCID_PC_SET_DATA_RATE_CLK, a, no_spec, data, sizeof(data));
}

int ccid_build_escape(uint8_t *buf, size_t cap, const struct ccid_addr *a, const uint8_t *data,
                      size_t n)
{
	return build(buf, cap, CCID_PC_ESCAPE, a, no_spec, data, n);
}

/* ---- names and errors ------------------------------------------------------ */

static const char *msg_name(uint8_t type)
{
	switch (type) {
	case CCID_PC_ICC_POWER_ON:
		return "IccPowerOn";
	case CCID_PC_ICC_POWER_OFF:
		return "IccPowerOff";
	case CCID_PC_GET_SLOT_STATUS:
		return "GetSlotStatus";
	case CCID_PC_XFR_BLOCK:
		return "XfrBlock";
	case CCID_PC_GET_PARAMETERS:
		return "GetParameters";
	case CCID_PC_RESET_PARAMETERS:
		return "ResetParameters";
	case CCID_PC_SET_PARAMETERS:
		return "SetParameters";
	case CCID_PC_ESCAPE:
		return "Escape";
	case CCID_PC_ICC_CLOCK:
		return "IccClock";
	case CCID_PC_T0_APDU:
		return "T0APDU";
	case CCID_PC_SECURE:
		return "Secure";
	case CCID_PC_MECHANICAL:
		return "Mechanical";
	case CCID_PC_ABORT:
		return "Abort";
	case CCID_PC_SET_DATA_RATE_CLK:
		return "SetDataRateAndClockFrequency";
	case CCID_RDR_DATA_BLOCK:
		return "DataBlock";
	case CCID_RDR_SLOT_STATUS:
		return "SlotStatus";
	case CCID_RDR_PARAMETERS:
		return "Parameters";
	case CCID_RDR_ESCAPE:
		return "Escape answer";
	case CCID_RDR_DATA_RATE_CLK:
		return "DataRateAndClockFrequency";
	default:
		return "unknown message";
	}
}

uint8_t ccid_reply_type_for(uint8_t request_type)
{
	switch (request_type) {
	case CCID_PC_ICC_POWER_ON:
	case CCID_PC_XFR_BLOCK:
	case CCID_PC_SECURE:
		return CCID_RDR_DATA_BLOCK;
	case CCID_PC_ICC_POWER_OFF:
	case CCID_PC_GET_SLOT_STATUS:
	case CCID_PC_ICC_CLOCK:
	case CCID_PC_T0_APDU:
	case CCID_PC_MECHANICAL:
	case CCID_PC_ABORT:
		return CCID_RDR_SLOT_STATUS;
	case CCID_PC_GET_PARAMETERS:
	case CCID_PC_RESET_PARAMETERS:
	case CCID_PC_SET_PARAMETERS:
		return CCID_RDR_PARAMETERS;
	case CCID_PC_ESCAPE:
		return CCID_RDR_ESCAPE;
	case CCID_PC_SET_DATA_RATE_CLK:
		return CCID_RDR_DATA_RATE_CLK;
	default:
		return 0;
	}
}

struct ccid_err_info {
	uint8_t code;
	const char *name;
	const char *text;
	int tc;
};

static const struct ccid_err_info ccid_errs[] = {
    {CCID_ERR_CMD_ABORTED, "CMD_ABORTED", "the command was aborted", TC_E_IO},
    {CCID_ERR_ICC_MUTE, "ICC_MUTE", "the card did not answer in time", TC_E_TIMEOUT},
    {CCID_ERR_XFR_PARITY_ERROR, "XFR_PARITY_ERROR", "parity error talking to the card",
     TC_E_PARITY},
    {CCID_ERR_XFR_OVERRUN, "XFR_OVERRUN", "overrun talking to the card", TC_E_IO},
    {CCID_ERR_HW_ERROR, "HW_ERROR", "reader hardware error", TC_E_IO},
    {CCID_ERR_BAD_ATR_TS, "BAD_ATR_TS", "the ATR has a bad TS", TC_E_FORMAT},
    {CCID_ERR_BAD_ATR_TCK, "BAD_ATR_TCK", "the ATR has a bad TCK", TC_E_CHECKSUM},
    {CCID_ERR_ICC_PROTOCOL_NOT_SUPPORTED, "ICC_PROTOCOL_NOT_SUPPORTED",
     "the reader does not support the card's protocol", TC_E_UNSUPPORTED},
    {CCID_ERR_ICC_CLASS_NOT_SUPPORTED, "ICC_CLASS_NOT_SUPPORTED",
     "the reader cannot supply the card's voltage class", TC_E_CLASS},
    {CCID_ERR_PROCEDURE_BYTE_CONFLICT, "PROCEDURE_BYTE_CONFLICT",
     "the card sent a wrong procedure byte", TC_E_PROTOCOL},
    {CCID_ERR_DEACTIVATED_PROTOCOL, "DEACTIVATED_PROTOCOL", "the protocol is deactivated",
     TC_E_STATE},
    {CCID_ERR_BUSY_WITH_AUTO_SEQUENCE, "BUSY_WITH_AUTO_SEQUENCE",
     "the reader is busy with its automatic sequence", TC_E_STATE},
    {CCID_ERR_PIN_TIMEOUT, "PIN_TIMEOUT", "PIN entry timed out", TC_E_TIMEOUT},
    {CCID_ERR_PIN_CANCELLED, "PIN_CANCELLED", "PIN entry cancelled", TC_E_STATE},
    {CCID_ERR_CMD_SLOT_BUSY, "CMD_SLOT_BUSY", "the slot is busy with another command", TC_E_STATE},
    {CCID_ERR_CMD_NOT_SUPPORTED, "CMD_NOT_SUPPORTED", "the reader does not support the command",
     TC_E_UNSUPPORTED},
};

static const struct ccid_err_info *err_info(uint8_t error)
{
	for (size_t i = 0; i < sizeof(ccid_errs) / sizeof(ccid_errs[0]); i++)
		if (ccid_errs[i].code == error)
			return &ccid_errs[i];
	return NULL;
}

const char *ccid_error_name(uint8_t error)
{
	const struct ccid_err_info *e = err_info(error);
	if (e)
		return e->name;
	if (error >= 0x01 && error <= 0x7F)
		return "BAD_PARAMETER";
	if (error >= 0x81 && error <= 0xC0)
		return "VENDOR";
	return "UNKNOWN";
}

const char *ccid_error_text(uint8_t error)
{
	const struct ccid_err_info *e = err_info(error);
	if (e)
		return e->text;
	if (error >= 0x01 && error <= 0x7F)
		return "the reader refused a byte of the message";
	if (error >= 0x81 && error <= 0xC0)
		return "vendor-specific reader error";
	return "unknown reader error";
}

int ccid_error_to_tc(uint8_t error, uint8_t request_type)
{
	const struct ccid_err_info *e = err_info(error);
	if (e == NULL)
		return (error >= 0x01 && error <= 0x7F) ? TC_E_INVAL : TC_E_IO;
	if (error == CCID_ERR_ICC_MUTE && request_type == CCID_PC_ICC_POWER_ON)
		return TC_E_MUTE;
	return e->tc;
}

/* ---- parsing ------------------------------------------------------------- */

/* Header, length, addressing. */
static int check_frame(const uint8_t *buf, size_t n, uint8_t want, const struct ccid_addr *a,
                       char *why, size_t cap)
{
	if (n < CCID_HDR_LEN) {
		set_why(why, cap, "CCID answer of %zu bytes, shorter than its 10-byte header", n);
		return TC_E_SHORT;
	}
	if (buf[0] != want) {
		set_why(why, cap, "CCID answer is %s (0x%02X), expected %s (0x%02X)",
		        msg_name(buf[0]), buf[0], msg_name(want), want);
		return TC_E_PROTOCOL;
	}
	uint64_t total = CCID_HDR_LEN + (uint64_t)ccid_get32(buf + 1);
	if (total > n) {
		set_why(why, cap, "CCID %s announces %llu bytes, the transfer has %zu",
		        msg_name(want), (unsigned long long)total, n);
		return TC_E_SHORT;
	}
	if (total < n) {
		set_why(why, cap, "CCID %s carries %zu bytes beyond its dwLength", msg_name(want),
		        n - (size_t)total);
		return TC_E_LONG;
	}
	if (a->max_msg_len != 0 && total > a->max_msg_len) {
		set_why(why, cap, "CCID %s of %llu bytes exceeds dwMaxCCIDMessageLength %u",
		        msg_name(want), (unsigned long long)total, (unsigned)a->max_msg_len);
		return TC_E_LONG;
	}
	if (buf[5] != a->slot || buf[6] != a->seq) {
		set_why(why, cap, "CCID %s for slot %u seq %u, expected slot %u seq %u",
		        msg_name(want), buf[5], buf[6], a->slot, a->seq);
		return TC_E_PROTOCOL;
	}
	return TC_OK;
}

static int decode_parameters(struct ccid_reply *r, char *why, size_t cap)
{
	const uint8_t *d = r->data;
	if (r->specific == 0 && r->length == 5) {
		r->u.t0 = (struct ccid_t0_params){d[0], d[1], d[2], d[3], d[4]};
		return TC_OK;
	}
	if (r->specific == 1 && r->length == 7) {
		r->u.t1 = (struct ccid_t1_params){d[0], d[1], d[2], d[3], d[4], d[5], d[6]};
		return TC_OK;
	}
	set_why(why, cap, "CCID Parameters for protocol %u with %u bytes of data", r->specific,
	        (unsigned)r->length);
	return TC_E_PROTOCOL;
}

/* The data a successful answer must carry. */
static int decode_data(struct ccid_reply *r, char *why, size_t cap)
{
	switch (r->type) {
	case CCID_RDR_SLOT_STATUS:
		if (r->length != 0) {
			set_why(why, cap, "CCID SlotStatus with %u bytes of data",
			        (unsigned)r->length);
			return TC_E_PROTOCOL;
		}
		return TC_OK;
	case CCID_RDR_PARAMETERS:
		return decode_parameters(r, why, cap);
	case CCID_RDR_DATA_RATE_CLK:
		if (r->length != 8) {
			set_why(why, cap, "CCID DataRateAndClockFrequency with %u bytes of data",
			        (unsigned)r->length);
			return TC_E_PROTOCOL;
		}
		r->u.rate.clock_khz = ccid_get32(r->data);
		r->u.rate.rate_bps = ccid_get32(r->data + 4);
		return TC_OK;
	default:
		return TC_OK;
	}
}

static int failed(const struct ccid_reply *r, uint8_t request_type, char *why, size_t cap)
{
	if (r->icc == CCID_ICC_ABSENT) {
		set_why(why, cap, "no card in slot %u (%s failed, %s 0x%02X)", r->slot,
		        msg_name(request_type), ccid_error_name(r->error), r->error);
		return TC_E_NO_CARD;
	}
	set_why(why, cap, "reader: %s (%s, bError 0x%02X) on %s, slot %u",
	        ccid_error_text(r->error), ccid_error_name(r->error), r->error,
	        msg_name(request_type), r->slot);
	return ccid_error_to_tc(r->error, request_type);
}

int ccid_reply_parse(const uint8_t *buf, size_t n, uint8_t request_type, const struct ccid_addr *a,
                     struct ccid_reply *r, char *why, size_t cap)
{
	uint8_t want = ccid_reply_type_for(request_type);
	if (buf == NULL || a == NULL || r == NULL || want == 0)
		return TC_E_INVAL;
	memset(r, 0, sizeof(*r));
	set_why(why, cap, "%s", "");
	int rc = check_frame(buf, n, want, a, why, cap);
	if (rc != TC_OK)
		return rc;
	r->type = buf[0];
	r->length = ccid_get32(buf + 1);
	r->slot = buf[5];
	r->seq = buf[6];
	r->status = buf[7];
	r->error = buf[8];
	r->specific = buf[9];
	r->icc = (enum ccid_icc)(r->status & 0x03u);
	r->cmd = (enum ccid_cmd_status)(r->status >> 6);
	r->data = buf + CCID_HDR_LEN;
	if (r->icc == CCID_ICC_RFU || r->cmd == CCID_CMD_RFU) {
		set_why(why, cap, "CCID %s with reserved bStatus 0x%02X", msg_name(want),
		        r->status);
		return TC_E_PROTOCOL;
	}
	if (r->cmd == CCID_CMD_FAILED)
		return failed(r, request_type, why, cap);
	if (r->cmd == CCID_CMD_TIME_EXT) {
		set_why(why, cap, "time extension x%u requested on slot %u", r->error, r->slot);
		return TC_OK;
	}
	return decode_data(r, why, cap);
}

/* ---- APDU chaining (extended-APDU level) ------------------------------------ */

uint16_t ccid_chain_tx_param(size_t off, size_t len, size_t total)
{
	bool first = off == 0, last = off + len >= total;
	if (first && last)
		return CCID_XFR_WHOLE;
	if (first)
		return CCID_XFR_BEGIN;
	return last ? CCID_XFR_END : CCID_XFR_MIDDLE;
}

int ccid_chain_tx_ack(const struct ccid_reply *r, char *why, size_t cap)
{
	if (r == NULL)
		return TC_E_INVAL;
	if (r->specific != CCID_CHAIN_MORE || r->length != 0) {
		set_why(why, cap,
		        "CCID chain: a piece of the command answered with %u bytes and "
		        "bChainParameter 0x%02X, expected none and 0x10 (more, please)",
		        (unsigned)r->length, r->specific);
		return TC_E_PROTOCOL;
	}
	return TC_OK;
}

void ccid_chain_init(struct ccid_chain *c, size_t limit)
{
	memset(c, 0, sizeof(*c));
	c->limit = limit;
}

static const char *chain_name(uint8_t p)
{
	switch (p) {
	case CCID_CHAIN_WHOLE:
		return "begins and ends";
	case CCID_CHAIN_BEGIN:
		return "begins, continues";
	case CCID_CHAIN_END:
		return "continues, ends";
	case CCID_CHAIN_MIDDLE:
		return "continues";
	case CCID_CHAIN_MORE:
		return "empty, more of the command expected";
	default:
		return "reserved";
	}
}

int ccid_chain_rx(struct ccid_chain *c, const struct ccid_reply *r, char *why, size_t cap)
{
	if (c == NULL || r == NULL || c->done)
		return TC_E_INVAL;
	uint8_t p = r->specific;
	bool first = c->pieces == 0;
	bool ok = first ? (p == CCID_CHAIN_WHOLE || p == CCID_CHAIN_BEGIN)
	                : (p == CCID_CHAIN_END || p == CCID_CHAIN_MIDDLE);
	if (!ok) {
		set_why(why, cap,
		        "CCID chain: response piece %u says bChainParameter 0x%02X (%s), "
		        "out of order",
		        c->pieces + 1, p, chain_name(p));
		return TC_E_PROTOCOL;
	}
	bool more = p == CCID_CHAIN_BEGIN || p == CCID_CHAIN_MIDDLE;
	if (more && r->length == 0) {
		set_why(why, cap, "CCID chain: response piece %u is empty and announces more",
		        c->pieces + 1);
		return TC_E_PROTOCOL;
	}
	if (r->length > c->limit - c->got) {
		set_why(why, cap, "CCID chain: the response exceeds %zu bytes", c->limit);
		return TC_E_LONG;
	}
	c->got += r->length;
	c->pieces++;
	c->done = !more;
	return TC_OK;
}

/* ---- interrupt-IN ------------------------------------------------------------ */

int ccid_intr_parse(const uint8_t *buf, size_t n, uint8_t max_slot_index, struct ccid_intr *out,
                    char *why, size_t cap)
{
	if (buf == NULL || out == NULL)
		return TC_E_INVAL;
	memset(out, 0, sizeof(*out));
	set_why(why, cap, "%s", "");
	out->nslots = (unsigned)max_slot_index + 1u;
	if (n < 1) {
		set_why(why, cap, "%s", "empty interrupt message");
		return TC_E_SHORT;
	}
	out->type = buf[0];
	if (buf[0] == CCID_RDR_NOTIFY_SLOT_CHANGE) {
		size_t need = 1 + (out->nslots * 2 + 7) / 8;
		if (n < need) {
			set_why(why, cap, "NotifySlotChange of %zu bytes, %u slots need %zu", n,
			        out->nslots, need);
			return TC_E_SHORT;
		}
		memcpy(out->state, buf + 1, need - 1);
		return TC_OK;
	}
	if (buf[0] == CCID_RDR_HARDWARE_ERROR) {
		if (n < 4) {
			set_why(why, cap, "HardwareError of %zu bytes, needs 4", n);
			return TC_E_SHORT;
		}
		out->slot = buf[1];
		out->seq = buf[2];
		out->hw_error = buf[3];
		if (out->slot > max_slot_index) {
			set_why(why, cap, "HardwareError for slot %u of a %u-slot reader",
			        out->slot, out->nslots);
			return TC_E_PROTOCOL;
		}
		return TC_OK;
	}
	set_why(why, cap, "unknown interrupt message 0x%02X", buf[0]);
	return TC_E_PROTOCOL;
}

bool ccid_intr_present(const struct ccid_intr *in, unsigned slot)
{
	if (in == NULL || in->type != CCID_RDR_NOTIFY_SLOT_CHANGE || slot >= in->nslots)
		return false;
	return (in->state[slot / 4] >> ((slot % 4) * 2)) & 1u;
}

bool ccid_intr_changed(const struct ccid_intr *in, unsigned slot)
{
	if (in == NULL || in->type != CCID_RDR_NOTIFY_SLOT_CHANGE || slot >= in->nslots)
		return false;
	return (in->state[slot / 4] >> ((slot % 4) * 2 + 1)) & 1u;
}
