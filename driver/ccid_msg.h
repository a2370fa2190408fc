/* ccid_msg.h: the CCID bulk and interrupt messages (CCID specification 1.1,
 * chapter 6) as pure codecs: no I/O, no clock.
 *
 * Every bulk message has a 10-byte header: bMessageType, dwLength (the bytes
 * after the header, little-endian), bSlot, bSeq, and three bytes whose meaning
 * depends on the message. The driver sends a PC_to_RDR message on bulk-OUT
 * and reads the one RDR_to_PC answer on bulk-IN, which carries the same bSlot
 * and bSeq; bStatus (b0-1 card, b6-7 command) and bError say how it went.
 *
 * The builders write a whole message into buf and return its length, or
 * TC_E_OVERFLOW (cap too small), TC_E_INVAL (a field out of range), TC_E_LONG
 * (more than max_msg_len). ccid_reply_parse() checks an answer against the
 * request and maps a failed command to a tc_err with a sentence. */
#ifndef TC_CCID_MSG_H
#define TC_CCID_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CCID_HDR_LEN 10u

/* bMessageType, bulk-OUT */
#define CCID_PC_ICC_POWER_ON      0x62
#define CCID_PC_ICC_POWER_OFF     0x63
#define CCID_PC_GET_SLOT_STATUS   0x65
#define CCID_PC_XFR_BLOCK         0x6F
#define CCID_PC_GET_PARAMETERS    0x6C
#define CCID_PC_RESET_PARAMETERS  0x6D
#define CCID_PC_SET_PARAMETERS    0x61
#define CCID_PC_ESCAPE            0x6B
#define CCID_PC_ICC_CLOCK         0x6E
#define CCID_PC_T0_APDU           0x6A
#define CCID_PC_SECURE            0x69
#define CCID_PC_MECHANICAL        0x71
#define CCID_PC_ABORT             0x72
#define CCID_PC_SET_DATA_RATE_CLK 0x73

/* bMessageType, bulk-IN */
#define CCID_RDR_DATA_BLOCK    0x80
#define CCID_RDR_SLOT_STATUS   0x81
#define CCID_RDR_PARAMETERS    0x82
#define CCID_RDR_ESCAPE        0x83
#define CCID_RDR_DATA_RATE_CLK 0x84

/* bMessageType, interrupt-IN */
#define CCID_RDR_NOTIFY_SLOT_CHANGE 0x50
#define CCID_RDR_HARDWARE_ERROR     0x51

/* Class-specific control request ABORT (bmRequestType 0x21), sent together
 * with PC_to_RDR_Abort; wValue = bSeq << 8 | bSlot. */
#define CCID_REQ_ABORT               0x01
#define CCID_REQ_GET_CLOCK_FREQS     0x02
#define CCID_REQ_GET_DATA_RATES      0x03
#define CCID_ABORT_WVALUE(slot, seq) ((uint16_t)(((unsigned)(seq) << 8) | (unsigned)(slot)))

/* bPowerSelect: 0 lets the reader choose; otherwise the ISO class. */
#define CCID_POWER_AUTO 0
#define CCID_POWER_5V   1
#define CCID_POWER_3V   2
#define CCID_POWER_1V8  3

/* bmICCStatus (bStatus b0-1) */
enum ccid_icc {
	CCID_ICC_ACTIVE = 0,   /* present and active */
	CCID_ICC_INACTIVE = 1, /* present, not activated */
	CCID_ICC_ABSENT = 2,
	CCID_ICC_RFU = 3,
};

/* bmCommandStatus (bStatus b6-7) */
enum ccid_cmd_status {
	CCID_CMD_OK = 0,
	CCID_CMD_FAILED = 1,   /* bError says why */
	CCID_CMD_TIME_EXT = 2, /* time extension: bError = multiplier of BWT/WWT */
	CCID_CMD_RFU = 3,
};

/* bError when the command failed (slot error register). 0x01..0x7F: index
 * of the message byte the reader refused; 0x81..0xC0: vendor-specific. */
#define CCID_ERR_CMD_ABORTED                0xFF
#define CCID_ERR_ICC_MUTE                   0xFE
#define CCID_ERR_XFR_PARITY_ERROR           0xFD
#define CCID_ERR_XFR_OVERRUN                0xFC
#define CCID_ERR_HW_ERROR                   0xFB
#define CCID_ERR_BAD_ATR_TS                 0xF8
#define CCID_ERR_BAD_ATR_TCK                0xF7
#define CCID_ERR_ICC_PROTOCOL_NOT_SUPPORTED 0xF6
#define CCID_ERR_ICC_CLASS_NOT_SUPPORTED    0xF5
#define CCID_ERR_PROCEDURE_BYTE_CONFLICT    0xF4
#define CCID_ERR_DEACTIVATED_PROTOCOL       0xF3
#define CCID_ERR_BUSY_WITH_AUTO_SEQUENCE    0xF2
#define CCID_ERR_PIN_TIMEOUT                0xF0
#define CCID_ERR_PIN_CANCELLED              0xEF
#define CCID_ERR_CMD_SLOT_BUSY              0xE0
#define CCID_ERR_CMD_NOT_SUPPORTED          0x00

/* HardwareError bHardwareErrorCode */
#define CCID_HW_OVERCURRENT 0x01

/* The T=0 protocol data structure of Get/SetParameters (5 bytes). */
struct ccid_t0_params {
	uint8_t bmFindexDindex;    /* FI << 4 | DI, as TA1 */
	uint8_t bmTCCKST0;         /* 0x00 direct convention, 0x02 inverse */
	uint8_t bGuardTimeT0;      /* extra guard time N (TC1) */
	uint8_t bWaitingIntegerT0; /* WI (TC2) */
	uint8_t bClockStop;        /* 0 none, 1 low, 2 high, 3 either */
};

/* The T=1 structure (7 bytes); only decoded, this driver does not run T=1. */
struct ccid_t1_params {
	uint8_t bmFindexDindex;
	uint8_t bmTCCKST1; /* 0x10 | b1 (CRC) | b2 (inverse) */
	uint8_t bGuardTimeT1;
	uint8_t bmWaitingIntegersT1; /* BWI << 4 | CWI */
	uint8_t bClockStop;
	uint8_t bIFSC;
	uint8_t bNadValue;
};

/* Where a request goes. */
struct ccid_addr {
	uint8_t slot;
	uint8_t seq;
	uint32_t max_msg_len; /* the reader's, ccid_desc.max_msg_len; 0: no limit */
};

int ccid_build_power_on(uint8_t *buf, size_t cap, const struct ccid_addr *a, uint8_t power_select);
int ccid_build_power_off(uint8_t *buf, size_t cap, const struct ccid_addr *a);
int ccid_build_get_slot_status(uint8_t *buf, size_t cap, const struct ccid_addr *a);
int ccid_build_get_parameters(uint8_t *buf, size_t cap, const struct ccid_addr *a);
int ccid_build_abort(uint8_t *buf, size_t cap, const struct ccid_addr *a);
/* bBWI extends the block waiting time (T=1); wLevelParameter tells APDU
 * chaining (short/extended levels) or the expected answer size (character
 * level); 0 for TPDU level. */
int ccid_build_xfr_block(uint8_t *buf, size_t cap, const struct ccid_addr *a, uint8_t bwi,
                         uint16_t level_param, const uint8_t *data, size_t n);
int ccid_build_set_parameters_t0(uint8_t *buf, size_t cap, const struct ccid_addr *a,
                                 const struct ccid_t0_params *p);
int ccid_build_set_data_rate_clock(uint8_t *buf, size_t cap, const struct ccid_addr *a,
                                   uint32_t clock_khz, uint32_t rate_bps);
int ccid_build_escape(uint8_t *buf, size_t cap, const struct ccid_addr *a, const uint8_t *data,
                      size_t n);

/* The RDR_to_PC message a request is answered by, 0 for an unknown request. */
uint8_t ccid_reply_type_for(uint8_t request_type);

/* An answer, decoded. data points into the parsed buffer. */
struct ccid_reply {
	uint8_t type;
	uint32_t length; /* dwLength */
	uint8_t slot, seq;
	uint8_t status, error; /* bStatus, bError */
	uint8_t specific;      /* bChainParameter / bClockStatus / bProtocolNum / RFU */
	enum ccid_icc icc;
	enum ccid_cmd_status cmd;
	const uint8_t *data;
	/* Decoded data, for Parameters and DataRateAndClockFrequency. */
	union {
		struct ccid_t0_params t0;
		struct ccid_t1_params t1;
		struct {
			uint32_t clock_khz, rate_bps;
		} rate;
	} u;
};

/* Check an answer read from bulk-IN against the request it answers
 * (request_type, a's slot, seq and max_msg_len).
 *  - TC_E_SHORT: fewer than 10 bytes, or fewer than 10 + dwLength;
 *  - TC_E_LONG: bytes beyond dwLength, or more than max_msg_len;
 *  - TC_E_PROTOCOL: wrong message type, slot or sequence number, RFU status,
 *    or a data length the message type does not allow;
 *  - a time extension: TC_OK with r->cmd == CCID_CMD_TIME_EXT (read again);
 *  - a failed command: the tc_err of ccid_error_to_tc() (TC_E_NO_CARD when
 *    the card is absent), r filled;
 *  - TC_OK otherwise.
 * r->type is 0 when the frame itself was refused (the first three cases),
 * the answer's type when the reader reported a failed command.
 * why (cap bytes, may be NULL) receives a sentence for every failure. */
int ccid_reply_parse(const uint8_t *buf, size_t n, uint8_t request_type, const struct ccid_addr *a,
                     struct ccid_reply *r, char *why, size_t cap);

/* wLevelParameter of an XfrBlock at extended-APDU level (CCID 1.1, 6.1.4):
 * where this message's piece of the command APDU lies. */
#define CCID_XFR_WHOLE  0x0000u /* the command APDU begins and ends here */
#define CCID_XFR_BEGIN  0x0001u /* begins here, continues in the next XfrBlock */
#define CCID_XFR_END    0x0002u /* continues and ends here */
#define CCID_XFR_MIDDLE 0x0003u /* continues, and continues in the next XfrBlock */
#define CCID_XFR_MORE   0x0010u /* empty: the next piece of the response, please */

/* bChainParameter of a DataBlock at extended-APDU level: the same for the
 * response APDU. */
#define CCID_CHAIN_WHOLE  0x00u
#define CCID_CHAIN_BEGIN  0x01u
#define CCID_CHAIN_END    0x02u
#define CCID_CHAIN_MIDDLE 0x03u
#define CCID_CHAIN_MORE   0x10u /* empty: the next piece of the command, please */

/* The longest response APDU a chain may carry: 65 536 data bytes, SW1 SW2. */
#define CCID_CHAIN_MAX_RESP 65538u

/* wLevelParameter for the piece [off, off + len) of a command of total
 * bytes (CCID_XFR_WHOLE when it is all of it). */
uint16_t ccid_chain_tx_param(size_t off, size_t len, size_t total);
/* The answer to a piece of a command that is not its last: it must be an
 * empty DataBlock with bChainParameter CCID_CHAIN_MORE. TC_OK, or
 * TC_E_PROTOCOL with a sentence in why. */
int ccid_chain_tx_ack(const struct ccid_reply *r, char *why, size_t cap);

/* A response APDU arriving in chained DataBlocks. */
struct ccid_chain {
	size_t got;      /* bytes so far, the last piece included */
	size_t limit;    /* most bytes accepted */
	unsigned pieces; /* DataBlocks so far */
	bool done;       /* the last piece was seen */
};

void ccid_chain_init(struct ccid_chain *c, size_t limit);
/* One successful DataBlock r of the response (its r->length bytes are the
 * piece, at offset c->got - r->length afterwards): TC_OK, c->done when the
 * response is complete; TC_E_PROTOCOL for a bChainParameter out of order
 * (a first piece that says "continues", a later one that says "begins",
 * an unknown value or CCID_CHAIN_MORE) or an empty piece announcing more;
 * TC_E_LONG past c->limit. why receives a sentence for every failure. */
int ccid_chain_rx(struct ccid_chain *c, const struct ccid_reply *r, char *why, size_t cap);

/* "ICC_MUTE", "CMD_SLOT_BUSY", "BAD_PARAMETER" (0x01..0x7F), "VENDOR"
 * (0x81..0xC0), "UNKNOWN"; never NULL. */
const char *ccid_error_name(uint8_t error);
/* A sentence: "the card did not answer (ICC_MUTE)". Never NULL. */
const char *ccid_error_text(uint8_t error);
/* The tc_err for a failed command's bError; request_type tells a mute card
 * at power-on (TC_E_MUTE) from one that stops answering (TC_E_TIMEOUT). */
int ccid_error_to_tc(uint8_t error, uint8_t request_type);

/* An interrupt-IN message. */
struct ccid_intr {
	uint8_t type; /* CCID_RDR_NOTIFY_SLOT_CHANGE or CCID_RDR_HARDWARE_ERROR */
	unsigned nslots;
	uint8_t state[64]; /* NotifySlotChange: bmSlotICCState, 2 bits per slot */
	uint8_t slot, seq; /* HardwareError */
	uint8_t hw_error;  /* HardwareError: bHardwareErrorCode */
};

/* Parse an interrupt-IN transfer for a reader of max_slot_index + 1 slots.
 * TC_E_SHORT when the slot bitmap or HardwareError is cut, TC_E_PROTOCOL for
 * another message type or a HardwareError naming a slot that does not exist.
 * Bytes past the message are ignored (readers may pad to the packet size). */
int ccid_intr_parse(const uint8_t *buf, size_t n, uint8_t max_slot_index, struct ccid_intr *out,
                    char *why, size_t cap);
bool ccid_intr_present(const struct ccid_intr *in, unsigned slot);
bool ccid_intr_changed(const struct ccid_intr *in, unsigned slot);

#endif
