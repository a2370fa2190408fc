/* tc_atr.h: the Answer to Reset (ISO/IEC 7816-3), parsed and built.
 *
 * Pure: no I/O, no allocation. Input is the ATR as logical bytes (what a UART
 * set to the card's convention delivers): TS is 0x3B (direct) or 0x3F
 * (inverse). A UART left in direct convention reads an inverse-convention TS
 * as 0x03; tc_inverse_byte() converts such raw bytes to logical ones.
 *
 * Refusals and warnings. tc_atr_parse() refuses (negative tc_err, valid =
 * false, a sentence in why) what breaks the structure or what ISO 7816-3
 * calls invalid, so that no reader could drive the card from it:
 *   - TS neither 0x3B nor 0x3F                                 TC_E_FORMAT
 *   - fewer bytes than T0/TDi/K (and the TCK rule) announce    TC_E_SHORT
 *   - more than 33 bytes announced, or bytes after the end     TC_E_LONG
 *     (including a TCK sent while only T=0 is indicated)
 *   - TCK present but XOR of T0..TCK is not 0                  TC_E_CHECKSUM
 *   - TC2 = 0 (WI RFU), T=1 IFSC 0x00 or 0xFF                  TC_E_FORMAT
 * Even when refused, out holds everything that could be decoded (raw bytes,
 * groups, derived values), so that an explainer can still show the bytes.
 * An ATR that is well formed but asks for something odd is accepted (valid =
 * true) with a bit in `warnings` (text by tc_atr_warning_text()):
 *   - TA1 FI or DI RFU: the card is unusable at those factors; Fi/Di/fmax_khz
 *     are then 0 for the RFU part and a PPS decision keeps the defaults;
 *   - a TDi announcing an RFU protocol (T=4..T=13, T=14 is kept as it is
 *     used by proprietary cards), T=15 in TD1, or protocols out of order;
 *   - TA2 naming a protocol the ATR does not offer; TA2 RFU bits b6-b7;
 *   - class indicator with no class bit; T=1 BWI > 9.
 * TB1/TB2 (programming voltage, deprecated) are kept raw and ignored. */
#ifndef TC_ATR_H
#define TC_ATR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TC_ATR_MAX_LEN    33 /* bytes including TS and TCK */
#define TC_ATR_MAX_HIST   15 /* historical bytes (K) */
#define TC_ATR_MAX_GROUPS 32 /* T0 + at most 31 TDi fit in 33 bytes */
#define TC_ATR_WHY_LEN    160

#define TC_ATR_TS_DIRECT      0x3B
#define TC_ATR_TS_INVERSE     0x3F
#define TC_ATR_TS_INVERSE_RAW 0x03 /* inverse TS as read by a direct-convention UART */

/* Bits of tc_atr_group.present (also the high nibble of T0/TDi, shifted). */
#define TC_ATR_HAS_TA 0x1
#define TC_ATR_HAS_TB 0x2
#define TC_ATR_HAS_TC 0x4
#define TC_ATR_HAS_TD 0x8

/* Class indicator bits (tc_atr.classes) */
#define TC_ATR_CLASS_A 0x1 /* 5 V */
#define TC_ATR_CLASS_B 0x2 /* 3 V */
#define TC_ATR_CLASS_C 0x4 /* 1.8 V */

/* Warning bits (tc_atr.warnings); text by tc_atr_warning_text(). */
#define TC_ATR_W_FI_RFU        0x001 /* TA1 FI nibble RFU */
#define TC_ATR_W_DI_RFU        0x002 /* TA1 DI nibble RFU */
#define TC_ATR_W_PROTO_RFU     0x004 /* a TDi announces T=4..13 */
#define TC_ATR_W_T15_IN_TD1    0x008 /* TD1 announces T=15 */
#define TC_ATR_W_PROTO_ORDER   0x010 /* protocols not in ascending order */
#define TC_ATR_W_TA2_NOT_OFFER 0x020 /* TA2 protocol not among the offered ones */
#define TC_ATR_W_TA2_RFU_BITS  0x040 /* TA2 b6 or b7 set */
#define TC_ATR_W_NO_CLASS      0x080 /* class indicator with no class bit */
#define TC_ATR_W_BWI_RFU       0x100 /* T=1 BWI > 9 */
#define TC_ATR_W_LAST          TC_ATR_W_BWI_RFU

enum tc_atr_tck {
	TC_ATR_TCK_ABSENT = 0, /* not sent: only T=0 indicated */
	TC_ATR_TCK_OK = 1,
	TC_ATR_TCK_BAD = 2,
};

enum tc_atr_edc {
	TC_ATR_EDC_LRC = 0, /* T=1 TCi b1 = 0 (default) */
	TC_ATR_EDC_CRC = 1, /* T=1 TCi b1 = 1 */
};

/* One group of interface bytes. Group 1 is announced by T0, group i > 1 by
 * TD(i-1); `proto` is the T of that TD (0 for group 1). */
struct tc_atr_group {
	uint8_t present; /* TC_ATR_HAS_* */
	uint8_t proto;
	uint8_t ta, tb, tc, td; /* raw values, 0 when absent */
	uint8_t offset;         /* offset in the ATR of the group's first byte */
};

struct tc_atr {
	bool valid;
	int err;                     /* 0 or the tc_err returned */
	char why[TC_ATR_WHY_LEN];    /* reason when refused; "" when valid */
	uint32_t warnings;           /* TC_ATR_W_* */
	uint8_t raw[TC_ATR_MAX_LEN]; /* the first min(len, 33) bytes */
	size_t len;                  /* input length */
	size_t expected_len;         /* length announced by T0/TDi/K/TCK; 0 if unknown */

	uint8_t ts;
	bool inverse;
	uint8_t t0;
	unsigned ngroups; /* groups decoded (>= 1 once T0 is read) */
	struct tc_atr_group group[TC_ATR_MAX_GROUPS];

	/* Transmission factors from TA1 (defaults FI = DI = 1 when absent). */
	bool ta1_present;
	uint8_t fi_nibble, di_nibble;
	unsigned Fi;       /* 372 default; 0 when FI is RFU */
	unsigned Di;       /* 1 default; 0 when DI is RFU */
	unsigned fmax_khz; /* 5000 default; 0 when FI is RFU */

	unsigned N;  /* TC1, extra guard time (0 default; 255 = minimum) */
	unsigned WI; /* TC2, T=0 waiting time integer (10 default) */

	uint16_t protocols;      /* bit T for each offered T (T=0 by default); bit 15: T=15 seen */
	unsigned first_protocol; /* T of TD1, 0 when TD1 absent */

	/* Specific mode (TA2 present): b8 cannot change, b5 implicit, b1-b4 T. */
	bool specific_mode;
	bool can_change_mode; /* b8 = 0 */
	bool implicit_params; /* b5 = 1: TA1 is not the parameters in force */
	unsigned specific_protocol;

	/* T=15 global bytes: class indicator and clock stop. */
	bool has_class;
	uint8_t classes;     /* TC_ATR_CLASS_* */
	unsigned clock_stop; /* b8-b7: 0 none, 1 low, 2 high, 3 no preference */

	struct {
		unsigned ifsc; /* TA(i>=3) after T=1, 32 default */
		unsigned bwi;  /* TB high nibble, 4 default */
		unsigned cwi;  /* TB low nibble, 13 default */
		enum tc_atr_edc edc;
	} t1;

	enum tc_atr_tck tck;
	uint8_t tck_value; /* the TCK byte when present */

	uint8_t hist[TC_ATR_MAX_HIST];
	unsigned nhist;
	uint8_t hist_offset; /* offset of the first historical byte */
};

/* Parameters for tc_atr_build(). Zero-initialise, then set what you need. */
struct tc_atr_spec {
	bool inverse; /* TS 0x3F instead of 0x3B */
	bool ta1_present;
	uint8_t fi_nibble, di_nibble;
	bool tc1_present;
	uint8_t N;
	bool tc2_present;
	uint8_t WI;       /* 1..255 */
	bool ta2_present; /* specific mode */
	bool ta2_cannot_change;
	bool ta2_implicit;
	uint8_t ta2_protocol;
	uint16_t protocols; /* bit 0 T=0, bit 1 T=1; 0 means T=0 alone */
	unsigned ifsc;      /* T=1 TA3: 1..254; 0 means the default 32 */
	uint8_t bwi, cwi;   /* T=1 TB3 nibbles (emitted when T=1 is offered) */
	bool edc_crc;       /* T=1 TC3 = 0x01 (emitted only when set) */
	bool has_class;     /* T=15 group with the class indicator */
	uint8_t classes;    /* TC_ATR_CLASS_* */
	uint8_t clock_stop; /* 0..3 */
	uint8_t hist[TC_ATR_MAX_HIST];
	unsigned nhist;
	bool bad_tck; /* emit a deliberately wrong TCK (forces a TCK even for T=0 alone) */
};

/* Logical byte of a byte read by a direct-convention UART from a card in
 * inverse convention: bit-reverse of the complement. An involution;
 * tc_inverse_byte(0x03) == 0x3F. */
uint8_t tc_inverse_byte(uint8_t raw);

/* Parse and validate an ATR of len logical bytes. Never reads beyond len.
 * Returns 0 (out->valid) or a negative tc_err with out->why set (see the top
 * of this file). TC_E_INVAL when atr or out is NULL. */
int tc_atr_parse(const uint8_t *atr, size_t len, struct tc_atr *out);

/* Build an ATR from spec into out (cap bytes). Returns its length, TC_E_INVAL
 * for an impossible spec (WI 0, IFSC 255, K > 15, protocol other than T=0/1,
 * clock stop > 3, TA2 protocol > 15), TC_E_OVERFLOW when cap is too small.
 * Layout: TA1 TC1 TD1 | TA2 TC2 [TD2] | [T=1: TA3 TB3 [TC3]] | [T=15: TA]
 * | historical | TCK (when anything but T=0 alone is indicated, or bad_tck). */
int tc_atr_build(const struct tc_atr_spec *spec, uint8_t *out, size_t cap);

/* Sentence for one TC_ATR_W_* bit; "" for an unknown bit. */
const char *tc_atr_warning_text(uint32_t bit);

/* Clock stop indicator value 0..3 as text ("not supported", "state L", ...). */
const char *tc_atr_clock_stop_name(unsigned clock_stop);

#endif
