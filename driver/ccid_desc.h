/* ccid_desc.h: the USB CCID class descriptor ("Smart Card Device Class
 * Descriptor", CCID specification 1.1, table 5.1-1), decoded and checked.
 *
 * Pure: no I/O. The descriptor is 54 (0x36) bytes of type 0x21, all fields
 * little-endian. The USB transport finds it in the interface's extra
 * descriptors and hands the bytes here; ccid_desc_parse() refuses one that the
 * driver cannot use, with a sentence saying why. A reader whose descriptor is
 * known to lie gets its fix from ccid_quirks.h between ccid_desc_decode() and
 * ccid_desc_check().
 *
 * Every function returns a tc_err (0 or negative, tc_error.h). */
#ifndef TC_CCID_DESC_H
#define TC_CCID_DESC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CCID_DESC_LEN  0x36 /* bLength */
#define CCID_DESC_TYPE 0x21 /* bDescriptorType (class-specific) */
#define CCID_WHY_LEN   160

/* CCID message header (10 bytes) + the largest short APDU (4 + 1 + 255 + 1). */
#define CCID_MSG_LEN_SHORT_APDU (10u + 261u)
/* CCID message header + the largest extended APDU and its response. */
#define CCID_MSG_LEN_EXTENDED (10u + 65544u)
/* Below this nothing but bare headers would fit: the largest fixed-size
 * command, SetDataRateAndClockFrequency, is 10 + 8 bytes. */
#define CCID_MSG_LEN_MIN 18u

/* bVoltageSupport */
#define CCID_VOLT_5V  0x01u
#define CCID_VOLT_3V  0x02u
#define CCID_VOLT_1V8 0x04u

/* dwProtocols */
#define CCID_PROTO_T0 0x0001u
#define CCID_PROTO_T1 0x0002u

/* dwFeatures */
#define CCID_FEAT_AUTO_CONF_ATR   0x00000002u /* parameters from the ATR */
#define CCID_FEAT_AUTO_ACTIVATION 0x00000004u /* activates the card on insertion */
#define CCID_FEAT_AUTO_VOLTAGE    0x00000008u /* selects the voltage itself */
#define CCID_FEAT_AUTO_CLOCK      0x00000010u /* changes the clock per parameters */
#define CCID_FEAT_AUTO_BAUD       0x00000020u /* changes the baud rate per parameters */
#define CCID_FEAT_AUTO_NEGOTIATE  0x00000040u /* negotiates (PPS, resets) itself */
#define CCID_FEAT_AUTO_PPS        0x00000080u /* PPS per the active parameters */
#define CCID_FEAT_CLOCK_STOP      0x00000100u /* can stop the card's clock */
#define CCID_FEAT_NAD_NOT_ZERO    0x00000200u /* T=1: NAD other than 00 accepted */
#define CCID_FEAT_AUTO_IFSD       0x00000400u /* T=1: IFSD exchange done itself */
#define CCID_FEAT_LEVEL_TPDU      0x00010000u
#define CCID_FEAT_LEVEL_SHORT     0x00020000u
#define CCID_FEAT_LEVEL_EXTENDED  0x00040000u
#define CCID_FEAT_LEVEL_MASK      0x00070000u
#define CCID_FEAT_USB_WAKEUP      0x00100000u /* wake-up signalling on insertion/removal */
#define CCID_FEAT_KNOWN           0x001707FEu

/* bPINSupport */
#define CCID_PIN_VERIFY 0x01u
#define CCID_PIN_MODIFY 0x02u

/* The exchange level: who runs ISO 7816-3 (ccid_desc.level). */
enum ccid_level {
	CCID_LEVEL_CHARACTER = 0, /* the driver sends characters (and runs T=0) */
	CCID_LEVEL_TPDU,          /* the driver sends TPDUs, the reader the characters */
	CCID_LEVEL_SHORT_APDU,    /* the reader takes short APDUs */
	CCID_LEVEL_EXTENDED_APDU, /* the reader takes short and extended APDUs */
};

/* Oddities that do not stop the driver; ccid_desc_describe() names them. */
#define CCID_WARN_BCD           0x0001u /* bcdCCID neither 1.00 nor 1.10 */
#define CCID_WARN_VOLT_RFU      0x0002u /* bVoltageSupport bits 3-7 set */
#define CCID_WARN_PROTO_RFU     0x0004u /* dwProtocols bits 2-31 set */
#define CCID_WARN_FEAT_RFU      0x0008u /* unknown dwFeatures bits set */
#define CCID_WARN_BUSY_SLOTS    0x0010u /* bMaxCCIDBusySlots 0 or > slots */
#define CCID_WARN_IFSD          0x0020u /* T=1 with dwMaxIFSD 0 or > 254 */
#define CCID_WARN_MSG_LEN_CLAMP 0x0040u /* dwMaxCCIDMessageLength above the spec */

struct ccid_desc {
	uint8_t bLength;
	uint8_t bDescriptorType;
	uint16_t bcdCCID;
	uint8_t bMaxSlotIndex;
	uint8_t bVoltageSupport;
	uint32_t dwProtocols;
	uint32_t dwDefaultClock; /* kHz */
	uint32_t dwMaximumClock; /* kHz */
	uint8_t bNumClockSupported;
	uint32_t dwDataRate;    /* bps */
	uint32_t dwMaxDataRate; /* bps */
	uint8_t bNumDataRatesSupported;
	uint32_t dwMaxIFSD;
	uint32_t dwSynchProtocols;
	uint32_t dwMechanical;
	uint32_t dwFeatures;
	uint32_t dwMaxCCIDMessageLength;
	uint8_t bClassGetResponse;
	uint8_t bClassEnvelope;
	uint16_t wLcdLayout; /* lines << 8 | characters per line; 0: no LCD */
	uint8_t bPINSupport;
	uint8_t bMaxCCIDBusySlots;

	/* Derived by ccid_desc_check(). */
	enum ccid_level level;
	uint32_t max_msg_len; /* dwMaxCCIDMessageLength, clamped to the spec */
	unsigned warnings;    /* CCID_WARN_* */
};

/* Decode the first 54 bytes of buf into d without judging them (level and
 * max_msg_len are derived, warnings cleared). TC_E_SHORT when n < 54. */
int ccid_desc_decode(const uint8_t *buf, size_t n, struct ccid_desc *d);

/* Judge a decoded descriptor: TC_OK (warnings set), or TC_E_FORMAT with a
 * sentence in why (cap bytes, may be NULL) for a wrong bLength or type, no
 * protocol, no voltage, a zero or inverted clock or data rate range, several
 * exchange levels at once, or a message length below the minimum of the
 * exchange level. */
int ccid_desc_check(struct ccid_desc *d, char *why, size_t cap);

/* ccid_desc_decode() then ccid_desc_check(); TC_E_SHORT as decode. */
int ccid_desc_parse(const uint8_t *buf, size_t n, struct ccid_desc *d, char *why, size_t cap);

/* Encode d back into 54 bytes (for the simulated reader and tests).
 * Returns 54, or TC_E_OVERFLOW when cap < 54. */
int ccid_desc_encode(const struct ccid_desc *d, uint8_t *buf, size_t cap);

/* --- clock and data-rate lists, and what they give the PPS decision ------- */

/* bNumClockSupported and bNumDataRatesSupported are bytes. */
#define CCID_MAX_LIST 255u

/* One answer of the class request GET_CLOCK_FREQUENCIES (kHz) or
 * GET_DATA_RATES (bps): n bytes of little-endian dwords. Entries that are 0
 * or above max (dwMaximumClock, dwMaxDataRate) are dropped (*dropped counts
 * them); the rest go to out sorted ascending, duplicates removed, at most
 * cap (the highest kept). TC_OK with *count >= 1, or TC_E_FORMAT with a
 * sentence in why for an empty answer, a length not a multiple of 4, more
 * than 255 entries, or no usable entry. what names the list ("clock",
 * "data rate"). */
int ccid_list_parse(const uint8_t *buf, size_t n, uint32_t max, const char *what, uint32_t *out,
                    size_t cap, size_t *count, unsigned *dropped, char *why, size_t whycap);

struct tc_reader_caps;
/* Narrow caps (tc_pps.h) to this reader: dwDefaultClock is the default
 * clock, dwMaximumClock and dwMaxDataRate the limits, the protocols of
 * dwProtocols; a clock list (nclocks > 0, ascending as ccid_list_parse
 * gives it) becomes caps' clock list (its highest TC_PPS_MAX_CLOCKS not
 * above the maximum); a data-rate list (nrates > 0) keeps only the
 * FI/DI pairs whose rate at the clock the decision would use
 * (tc_pps_clock_khz) is within TC_PPS_RATE_TOLERANCE_PCT of a listed rate. */
void ccid_desc_caps(const struct ccid_desc *d, const uint32_t *clocks_khz, size_t nclocks,
                    const uint32_t *rates, size_t nrates, struct tc_reader_caps *caps);

/* "TPDU", "short APDU", ... never NULL. */
const char *ccid_level_name(enum ccid_level level);

/* One line for the log: "CCID 1.10, 1 slot, 5V/3V/1.8V, T=0/T=1, clock
 * 4000-8000 kHz, 10752-600000 bps, TPDU level, auto: clock baud, max message
 * 271, IFSD 248; warnings: ...". Truncated to cap; returns out. */
char *ccid_desc_describe(const struct ccid_desc *d, char *out, size_t cap);

#endif
