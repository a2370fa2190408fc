/* ccid_desc.c: the CCID class descriptor (see ccid_desc.h). */
#include "ccid_desc.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "ccid_le.h"
#include "tc_error.h"
#include "tc_pps.h"
#include "tc_timing.h"

/* Where each field lives in the 54 bytes and in the struct. */
struct ccid_field {
	uint8_t off, size;
	size_t member;
};

#define F(o, s, m)                                                                                 \
	{                                                                                          \
		(o), (s), offsetof(struct ccid_desc, m)                                            \
	}
static const struct ccid_field ccid_fields[] = {
    F(0, 1, bLength),
    F(1, 1, bDescriptorType),
    F(2, 2, bcdCCID),
    F(4, 1, bMaxSlotIndex),
    F(5, 1, bVoltageSupport),
    F(6, 4, dwProtocols),
    F(10, 4, dwDefaultClock),
    F(14, 4, dwMaximumClock),
    F(18, 1, bNumClockSupported),
    F(19, 4, dwDataRate),
    F(23, 4, dwMaxDataRate),
    F(27, 1, bNumDataRatesSupported),
    F(28, 4, dwMaxIFSD),
    F(32, 4, dwSynchProtocols),
    F(36, 4, dwMechanical),
    F(40, 4, dwFeatures),
    F(44, 4, dwMaxCCIDMessageLength),
    F(48, 1, bClassGetResponse),
    F(49, 1, bClassEnvelope),
    F(50, 2, wLcdLayout),
    F(52, 1, bPINSupport),
    F(53, 1, bMaxCCIDBusySlots),
};
#undef F

#define NFIELDS (sizeof(ccid_fields) / sizeof(ccid_fields[0]))

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

static enum ccid_level level_of(uint32_t features)
{
	switch (features & CCID_FEAT_LEVEL_MASK) {
	case CCID_FEAT_LEVEL_TPDU:
		return CCID_LEVEL_TPDU;
	case CCID_FEAT_LEVEL_SHORT:
		return CCID_LEVEL_SHORT_APDU;
	case CCID_FEAT_LEVEL_EXTENDED:
		return CCID_LEVEL_EXTENDED_APDU;
	default:
		return CCID_LEVEL_CHARACTER; /* several levels: refused by check */
	}
}

int ccid_desc_decode(const uint8_t *buf, size_t n, struct ccid_desc *d)
{
	if (buf == NULL || d == NULL)
		return TC_E_INVAL;
	if (n < CCID_DESC_LEN)
		return TC_E_SHORT;
	memset(d, 0, sizeof(*d));
	for (size_t i = 0; i < NFIELDS; i++) {
		const struct ccid_field *f = &ccid_fields[i];
		unsigned char *m = (unsigned char *)d + f->member;
		const uint8_t *p = buf + f->off;
		if (f->size == 1) {
			*m = *p;
		} else if (f->size == 2) {
			uint16_t v = ccid_get16(p);
			memcpy(m, &v, sizeof(v));
		} else {
			uint32_t v = ccid_get32(p);
			memcpy(m, &v, sizeof(v));
		}
	}
	d->level = level_of(d->dwFeatures);
	d->max_msg_len = d->dwMaxCCIDMessageLength;
	return TC_OK;
}

int ccid_desc_encode(const struct ccid_desc *d, uint8_t *buf, size_t cap)
{
	if (d == NULL || buf == NULL)
		return TC_E_INVAL;
	if (cap < CCID_DESC_LEN)
		return TC_E_OVERFLOW;
	for (size_t i = 0; i < NFIELDS; i++) {
		const struct ccid_field *f = &ccid_fields[i];
		const unsigned char *m = (const unsigned char *)d + f->member;
		uint8_t *p = buf + f->off;
		if (f->size == 1) {
			*p = *m;
		} else if (f->size == 2) {
			uint16_t v;
			memcpy(&v, m, sizeof(v));
			ccid_put16(p, v);
		} else {
			uint32_t v;
			memcpy(&v, m, sizeof(v));
			ccid_put32(p, v);
		}
	}
	return CCID_DESC_LEN;
}

/* Identity, protocols and voltages. */
static int check_basics(const struct ccid_desc *d, char *why, size_t cap)
{
	if (d->bLength != CCID_DESC_LEN) {
		set_why(why, cap, "CCID descriptor bLength is %u, must be 54 (0x36)", d->bLength);
		return TC_E_FORMAT;
	}
	if (d->bDescriptorType != CCID_DESC_TYPE) {
		set_why(why, cap, "CCID descriptor type is 0x%02X, must be 0x21",
		        d->bDescriptorType);
		return TC_E_FORMAT;
	}
	if ((d->dwProtocols & (CCID_PROTO_T0 | CCID_PROTO_T1)) == 0) {
		set_why(why, cap, "reader offers neither T=0 nor T=1 (dwProtocols 0x%08X)",
		        (unsigned)d->dwProtocols);
		return TC_E_FORMAT;
	}
	if ((d->bVoltageSupport & 0x07u) == 0 && !(d->dwFeatures & CCID_FEAT_AUTO_VOLTAGE)) {
		set_why(why, cap,
		        "reader supplies no voltage (bVoltageSupport 0x%02X) and "
		        "does not select one itself",
		        d->bVoltageSupport);
		return TC_E_FORMAT;
	}
	return TC_OK;
}

/* Clock and data-rate ranges. */
static int check_ranges(const struct ccid_desc *d, char *why, size_t cap)
{
	if (d->dwDefaultClock == 0 || d->dwMaximumClock == 0) {
		set_why(why, cap, "zero clock: default %u kHz, maximum %u kHz",
		        (unsigned)d->dwDefaultClock, (unsigned)d->dwMaximumClock);
		return TC_E_FORMAT;
	}
	if (d->dwDefaultClock > d->dwMaximumClock) {
		set_why(why, cap, "default clock %u kHz above the maximum %u kHz",
		        (unsigned)d->dwDefaultClock, (unsigned)d->dwMaximumClock);
		return TC_E_FORMAT;
	}
	if (d->dwDataRate == 0 || d->dwMaxDataRate == 0) {
		set_why(why, cap, "zero data rate: default %u bps, maximum %u bps",
		        (unsigned)d->dwDataRate, (unsigned)d->dwMaxDataRate);
		return TC_E_FORMAT;
	}
	if (d->dwDataRate > d->dwMaxDataRate) {
		set_why(why, cap, "default data rate %u bps above the maximum %u bps",
		        (unsigned)d->dwDataRate, (unsigned)d->dwMaxDataRate);
		return TC_E_FORMAT;
	}
	return TC_OK;
}

/* Exchange level and message length. */
static int check_level(struct ccid_desc *d, char *why, size_t cap)
{
	uint32_t lv = d->dwFeatures & CCID_FEAT_LEVEL_MASK;
	if (lv != 0 && (lv & (lv - 1)) != 0) {
		set_why(why, cap, "several exchange levels at once (dwFeatures 0x%08X)",
		        (unsigned)d->dwFeatures);
		return TC_E_FORMAT;
	}
	d->level = level_of(d->dwFeatures);
	uint32_t min =
	    d->level == CCID_LEVEL_EXTENDED_APDU ? CCID_MSG_LEN_SHORT_APDU : CCID_MSG_LEN_MIN;
	if (d->dwMaxCCIDMessageLength < min) {
		set_why(why, cap, "dwMaxCCIDMessageLength %u below the minimum %u for %s level",
		        (unsigned)d->dwMaxCCIDMessageLength, (unsigned)min,
		        ccid_level_name(d->level));
		return TC_E_FORMAT;
	}
	d->max_msg_len = d->dwMaxCCIDMessageLength;
	if (d->max_msg_len > CCID_MSG_LEN_EXTENDED) {
		d->max_msg_len = CCID_MSG_LEN_EXTENDED;
		d->warnings |= CCID_WARN_MSG_LEN_CLAMP;
	}
	return TC_OK;
}

static unsigned collect_warnings(const struct ccid_desc *d)
{
	unsigned w = 0;
	if (d->bcdCCID != 0x0100 && d->bcdCCID != 0x0110)
		w |= CCID_WARN_BCD;
	if (d->bVoltageSupport & ~0x07u)
		w |= CCID_WARN_VOLT_RFU;
	if (d->dwProtocols & ~(uint32_t)(CCID_PROTO_T0 | CCID_PROTO_T1))
		w |= CCID_WARN_PROTO_RFU;
	if (d->dwFeatures & ~CCID_FEAT_KNOWN)
		w |= CCID_WARN_FEAT_RFU;
	if (d->bMaxCCIDBusySlots == 0 || d->bMaxCCIDBusySlots > (unsigned)d->bMaxSlotIndex + 1u)
		w |= CCID_WARN_BUSY_SLOTS;
	if ((d->dwProtocols & CCID_PROTO_T1) && (d->dwMaxIFSD == 0 || d->dwMaxIFSD > 254))
		w |= CCID_WARN_IFSD;
	return w;
}

int ccid_desc_check(struct ccid_desc *d, char *why, size_t cap)
{
	int rc;
	if (d == NULL)
		return TC_E_INVAL;
	set_why(why, cap, "%s", "");
	d->warnings = 0;
	rc = check_basics(d, why, cap);
	if (rc != TC_OK)
		return rc;
	rc = check_ranges(d, why, cap);
	if (rc != TC_OK)
		return rc;
	rc = check_level(d, why, cap);
	if (rc != TC_OK)
		return rc;
	d->warnings |= collect_warnings(d);
	return TC_OK;
}

int ccid_desc_parse(const uint8_t *buf, size_t n, struct ccid_desc *d, char *why, size_t cap)
{
	int rc = ccid_desc_decode(buf, n, d);
	if (rc == TC_E_SHORT)
		set_why(why, cap, "CCID descriptor of %zu bytes, needs 54", n);
	else if (rc != TC_OK)
		set_why(why, cap, "%s", "no descriptor");
	if (rc != TC_OK)
		return rc;
	return ccid_desc_check(d, why, cap);
}

const char *ccid_level_name(enum ccid_level level)
{
	switch (level) {
	case CCID_LEVEL_CHARACTER:
		return "character";
	case CCID_LEVEL_TPDU:
		return "TPDU";
	case CCID_LEVEL_SHORT_APDU:
		return "short APDU";
	case CCID_LEVEL_EXTENDED_APDU:
		return "extended APDU";
	}
	return "unknown";
}

/* Appends to a bounded buffer; never overflows, stops when full. */
struct ccid_sbuf {
	char *p;
	size_t cap, len;
};

static void sb_add(struct ccid_sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_add(struct ccid_sbuf *b, const char *fmt, ...)
{
	va_list ap;
	if (b->len + 1 >= b->cap)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	b->len += (size_t)n;
	if (b->len >= b->cap)
		b->len = b->cap - 1;
}

static void describe_flags(struct ccid_sbuf *b, const struct ccid_desc *d)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} autos[] = {
	    {CCID_FEAT_AUTO_CONF_ATR, "atr-conf"}, {CCID_FEAT_AUTO_ACTIVATION, "activation"},
	    {CCID_FEAT_AUTO_VOLTAGE, "voltage"},   {CCID_FEAT_AUTO_CLOCK, "clock"},
	    {CCID_FEAT_AUTO_BAUD, "baud"},         {CCID_FEAT_AUTO_NEGOTIATE, "negotiation"},
	    {CCID_FEAT_AUTO_PPS, "pps"},           {CCID_FEAT_AUTO_IFSD, "ifsd"},
	};
	sb_add(b, ", auto:");
	unsigned any = 0;
	for (size_t i = 0; i < sizeof(autos) / sizeof(autos[0]); i++) {
		if (d->dwFeatures & autos[i].bit) {
			sb_add(b, " %s", autos[i].name);
			any++;
		}
	}
	if (!any)
		sb_add(b, " none");
	if (d->bPINSupport & (CCID_PIN_VERIFY | CCID_PIN_MODIFY))
		sb_add(b, ", PIN pad%s%s", d->bPINSupport & CCID_PIN_VERIFY ? " verify" : "",
		       d->bPINSupport & CCID_PIN_MODIFY ? " modify" : "");
	if (d->wLcdLayout)
		sb_add(b, ", LCD %ux%u", d->wLcdLayout >> 8, d->wLcdLayout & 0xFFu);
}

static void describe_warnings(struct ccid_sbuf *b, unsigned w)
{
	static const char *const names[] = {
	    "bcdCCID",           "voltage RFU bits", "protocol RFU bits",      "unknown features",
	    "bMaxCCIDBusySlots", "dwMaxIFSD",        "message length clamped",
	};
	if (w == 0)
		return;
	sb_add(b, "; warnings:");
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (w & (1u << i))
			sb_add(b, " [%s]", names[i]);
}

static const char *const volts[] = {"5V", "3V", "1.8V"};
static const char *const protos[] = {"T=0", "T=1"};

/* " 5V/3V" for the bits set among the first n, " none" when none is. */
static void describe_bits(struct ccid_sbuf *b, uint32_t bits, const char *const *names, unsigned n)
{
	const char *sep = " ";
	for (unsigned i = 0; i < n; i++) {
		if (bits & (1u << i)) {
			sb_add(b, "%s%s", sep, names[i]);
			sep = "/";
		}
	}
	sb_add(b, "%s", sep[0] == ' ' ? " none," : ",");
}

char *ccid_desc_describe(const struct ccid_desc *d, char *out, size_t cap)
{
	struct ccid_sbuf b = {out, cap, 0};
	if (out == NULL || cap == 0)
		return out;
	out[0] = '\0';
	if (d == NULL)
		return out;
	sb_add(&b, "CCID %x.%02x, %u slot%s,", d->bcdCCID >> 8, d->bcdCCID & 0xFFu,
	       d->bMaxSlotIndex + 1u, d->bMaxSlotIndex ? "s" : "");
	describe_bits(&b, d->bVoltageSupport, volts, 3);
	describe_bits(&b, d->dwProtocols, protos, 2);
	sb_add(&b, " clock %u-%u kHz (%u listed), %u-%u bps (%u listed)",
	       (unsigned)d->dwDefaultClock, (unsigned)d->dwMaximumClock, d->bNumClockSupported,
	       (unsigned)d->dwDataRate, (unsigned)d->dwMaxDataRate, d->bNumDataRatesSupported);
	sb_add(&b, ", %s level, max message %u, IFSD %u", ccid_level_name(level_of(d->dwFeatures)),
	       (unsigned)d->dwMaxCCIDMessageLength, (unsigned)d->dwMaxIFSD);
	describe_flags(&b, d);
	describe_warnings(&b, d->warnings);
	return out;
}

/* --- clock and data-rate lists ---------------------------------------------- */

/* Insert v into the sorted list out[0..*n) of at most cap entries (the
 * highest kept); duplicates ignored. */
static void sorted_insert(uint32_t *out, size_t cap, size_t *n, uint32_t v)
{
	size_t i = 0;
	while (i < *n && out[i] < v)
		i++;
	if (i < *n && out[i] == v)
		return;
	if (*n < cap) {
		memmove(out + i + 1, out + i, (*n - i) * sizeof(*out));
		out[i] = v;
		(*n)++;
	} else if (i > 0) { /* full: drop the lowest */
		memmove(out, out + 1, (i - 1) * sizeof(*out));
		out[i - 1] = v;
	}
}

int ccid_list_parse(const uint8_t *buf, size_t n, uint32_t max, const char *what, uint32_t *out,
                    size_t cap, size_t *count, unsigned *dropped, char *why, size_t whycap)
{
	*count = 0;
	*dropped = 0;
	if (buf == NULL || out == NULL || cap == 0 || n == 0) {
		set_why(why, whycap, "empty %s list", what);
		return TC_E_FORMAT;
	}
	if (n % 4u != 0) {
		set_why(why, whycap, "%s list of %zu bytes, not a whole number of dwords", what, n);
		return TC_E_FORMAT;
	}
	if (n / 4u > CCID_MAX_LIST) {
		set_why(why, whycap, "%s list of %zu entries, more than %u", what, n / 4u,
		        CCID_MAX_LIST);
		return TC_E_FORMAT;
	}
	for (size_t i = 0; i < n; i += 4) {
		uint32_t v = ccid_get32(buf + i);
		if (v == 0 || v > max)
			(*dropped)++;
		else
			sorted_insert(out, cap, count, v);
	}
	if (*count == 0) {
		set_why(why, whycap, "no usable entry in the %s list (%u zero or above %u)", what,
		        *dropped, (unsigned)max);
		return TC_E_FORMAT;
	}
	set_why(why, whycap, "%s", "");
	return TC_OK;
}

struct rate_list {
	const struct tc_reader_caps *caps;
	const uint32_t *rates;
	size_t n;
};

/* Whether pair FI/DI runs at a listed rate at the clock of the decision. */
static bool rate_listed(const void *ctx, unsigned fi, unsigned di)
{
	const struct rate_list *r = ctx;
	unsigned clk = tc_pps_clock_khz(r->caps, tc_fmax_khz(fi));
	uint32_t rate = tc_baud(clk * 1000u, tc_fi(fi), tc_di(di));
	for (size_t i = 0; i < r->n; i++)
		if (tc_pps_rate_near(rate, r->rates[i]))
			return true;
	return false;
}

void ccid_desc_caps(const struct ccid_desc *d, const uint32_t *clocks_khz, size_t nclocks,
                    const uint32_t *rates, size_t nrates, struct tc_reader_caps *caps)
{
	if (d->dwMaximumClock && d->dwMaximumClock < caps->max_clock_khz)
		caps->max_clock_khz = d->dwMaximumClock;
	if (d->dwDefaultClock && d->dwDefaultClock <= caps->max_clock_khz)
		caps->default_clock_khz = d->dwDefaultClock;
	if (d->dwMaxDataRate && (caps->max_baud == 0 || d->dwMaxDataRate < caps->max_baud))
		caps->max_baud = d->dwMaxDataRate;
	caps->protocols &= (uint16_t)(d->dwProtocols & (CCID_PROTO_T0 | CCID_PROTO_T1));
	if (clocks_khz && nclocks > 0) {
		caps->nclocks = 0;
		for (size_t i = nclocks; i-- > 0 && caps->nclocks < TC_PPS_MAX_CLOCKS;)
			if (clocks_khz[i] <= caps->max_clock_khz)
				caps->clocks_khz[caps->nclocks++] = clocks_khz[i];
	}
	if (rates && nrates > 0) {
		struct rate_list r = {caps, rates, nrates};
		tc_pps_caps_keep(caps, rate_listed, &r);
	}
}
