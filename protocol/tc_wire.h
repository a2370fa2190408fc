/* tc_wire.h: the loopback wire between a reader and a card process.
 *
 * What crosses the wire is what crosses the contacts: power and voltage
 * class, the clock frequency, RST edges, characters on I/O with their parity
 * bit, error signals, insertion and removal. Every message is stamped with
 * the sender's virtual time in card clock cycles. docs/wire.md is the
 * normative description; this header is its C form. This file is pure: it
 * encodes and decodes messages and record files, it does no I/O.
 *
 * Message: a 24-byte header, then `len` payload bytes. Integers big-endian.
 *   0  u8  type      enum tc_wire_type
 *   1  u8  flags     0; HELLO: TC_WIRE_HELLO_RUNS (receivers ignore unknown bits)
 *   2  u16 len       payload length (0..TC_WIRE_MAX_PAYLOAD)
 *   4  u32 seq       sender's message number, 1 for its first message
 *   8  u32 ack       seq of the last message the sender had received
 *  12  u32 reserved  0
 *  16  u64 time      sender's virtual time in clock cycles
 */
#ifndef TC_WIRE_H
#define TC_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TC_WIRE_VERSION     1
#define TC_WIRE_HDR_LEN     24
#define TC_WIRE_MAX_PAYLOAD 64 /* every type but CHARS */
#define TC_WIRE_MAX_MSG     (TC_WIRE_HDR_LEN + TC_WIRE_MAX_PAYLOAD)

/* CHARS: a run of characters at a fixed spacing in one message, sent only to
 * a peer whose HELLO had TC_WIRE_HELLO_RUNS in its flags (docs/wire.md 2.2). */
#define TC_WIRE_MAX_RUN     512
#define TC_WIRE_MAX_RUN_MSG (TC_WIRE_HDR_LEN + 4 + 2 * TC_WIRE_MAX_RUN)
#define TC_WIRE_HELLO_RUNS  0x01 /* HELLO flags: "I accept CHARS" */

enum tc_wire_type {
	TC_WIRE_HELLO = 0x01,     /* both: version, role, name (first message) */
	TC_WIRE_POWER_ON = 0x10,  /* reader: Vcc on at class, CLK at clock_hz, RST low */
	TC_WIRE_POWER_OFF = 0x11, /* reader: deactivation (RST, CLK, I/O low, Vcc off) */
	TC_WIRE_RST = 0x12,       /* reader: RST goes to level (0 low, 1 high) */
	TC_WIRE_CLOCK = 0x13,     /* reader: clock frequency changes (0 = stopped) */
	TC_WIRE_CHAR = 0x20,      /* both: one character on I/O */
	TC_WIRE_ERROR = 0x21,     /* both: error signal against the peer's CHAR `ref` */
	TC_WIRE_IDLE = 0x22,      /* both: nothing more until I hear from you */
	TC_WIRE_CHARS = 0x23,     /* both: a run of characters, one seq each (2.2) */
	TC_WIRE_INSERT = 0x30,    /* card: a card is now in the slot */
	TC_WIRE_REMOVE = 0x31,    /* card: the card left the slot */
	TC_WIRE_BYE = 0x3F,       /* both: orderly close, with a reason */
};

enum tc_wire_role {
	TC_WIRE_ROLE_READER = 1,
	TC_WIRE_ROLE_CARD = 2,
};

/* Voltage classes as on the wire and in CCID bPowerSelect. */
enum tc_wire_class {
	TC_CLASS_A = 1, /* 5 V */
	TC_CLASS_B = 2, /* 3 V */
	TC_CLASS_C = 3, /* 1.8 V */
};

#define TC_WIRE_NAME_MAX 32

/* A decoded message. Only the member of `u` that belongs to `type` is valid. */
struct tc_wire_msg {
	uint8_t type;
	uint8_t flags;
	uint32_t seq;
	uint32_t ack;
	uint64_t time;
	union {
		struct {
			uint8_t version;
			uint8_t role;     /* enum tc_wire_role */
			uint8_t present;  /* card: 1 when a card is in the slot */
			uint8_t realtime; /* reader: 1 asks wall-clock pacing */
			char name[TC_WIRE_NAME_MAX + 1];
		} hello;
		struct {
			uint8_t cls;       /* enum tc_wire_class */
			uint32_t clock_hz; /* CLK frequency */
		} power_on;
		struct {
			uint8_t level;
		} rst;
		struct {
			uint32_t clock_hz;
		} clock;
		struct {
			uint8_t raw;    /* the 8 data bits as a direct-convention UART reads them */
			uint8_t parity; /* the parity bit's line level, as sent (0 or 1) */
		} chr;
		struct {
			uint32_t ref; /* seq of the CHAR being rejected */
		} error;
		struct {
			uint32_t spacing;     /* cycles from one leading edge to the next */
			uint16_t n;           /* 1..TC_WIRE_MAX_RUN characters */
			const uint8_t *pairs; /* raw, parity of each; decoded: points into
			                       * the buffer given to tc_wire_decode() */
		} chars;
		struct {
			char reason[TC_WIRE_NAME_MAX + 1];
		} bye;
	} u;
};

/* Encode m into buf (cap >= TC_WIRE_MAX_MSG is always enough, and
 * TC_WIRE_MAX_RUN_MSG for CHARS). Returns the length, TC_E_INVAL for an
 * unknown type or a bad field, or TC_E_OVERFLOW when cap is too small. */
int tc_wire_encode(const struct tc_wire_msg *m, uint8_t *buf, size_t cap);

/* Decode one message from the front of buf. Returns the number of bytes
 * used (> 0); 0 when buf holds only part of a message (read more);
 * a negative tc_err when the bytes cannot be a message (then `why`, if not
 * NULL, receives a reason of at most `why_cap` bytes). */
int tc_wire_decode(const uint8_t *buf, size_t n, struct tc_wire_msg *m, char *why, size_t why_cap);

/* Character i (0-based) of a CHARS message as the CHAR it stands for: seq
 * + i, time + i * spacing, the same ack and flags. */
void tc_wire_run_char(const struct tc_wire_msg *run, unsigned i, struct tc_wire_msg *out);

/* Name of a message type ("CHAR"), "?" for an unknown one. */
const char *tc_wire_type_name(uint8_t type);

/* Characters and conventions. A CHAR carries the line as a direct-convention
 * receiver sees it. tc_wire_char_make() produces raw + parity for a logical
 * byte in the given convention with a correct parity bit (flip `parity` to
 * inject an error); tc_wire_char_read() gives the logical byte back and
 * whether its parity checks. */
void tc_wire_char_make(uint8_t logical, bool inverse, uint8_t *raw, uint8_t *parity);
uint8_t tc_wire_char_read(uint8_t raw, uint8_t parity, bool inverse, bool *parity_ok);

/* Record files ("tokencard trace FILE"): the magic line, then per message one
 * direction byte ('R' reader->card, 'C' card->reader) and the encoded message
 * exactly as it crossed the wire. */
#define TC_WIRE_RECORD_MAGIC     "TCWIRE1\n"
#define TC_WIRE_RECORD_MAGIC_LEN 8

#endif
