/* tc_wire.c: encoding and decoding of loopback wire messages (docs/wire.md). */
#include "tc_wire.h"

#include <stdio.h>
#include <string.h>

#include "tc_error.h"

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (24 - 8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

const char *tc_wire_type_name(uint8_t type)
{
	switch (type) {
	case TC_WIRE_HELLO:
		return "HELLO";
	case TC_WIRE_POWER_ON:
		return "POWER_ON";
	case TC_WIRE_POWER_OFF:
		return "POWER_OFF";
	case TC_WIRE_RST:
		return "RST";
	case TC_WIRE_CLOCK:
		return "CLOCK";
	case TC_WIRE_CHAR:
		return "CHAR";
	case TC_WIRE_ERROR:
		return "ERROR";
	case TC_WIRE_IDLE:
		return "IDLE";
	case TC_WIRE_CHARS:
		return "CHARS";
	case TC_WIRE_INSERT:
		return "INSERT";
	case TC_WIRE_REMOVE:
		return "REMOVE";
	case TC_WIRE_BYE:
		return "BYE";
	default:
		return "?";
	}
}

/* Payload length each type must have; -1 for an unknown type. HELLO and BYE
 * carry a text whose length varies. */
static int payload_len(uint8_t type, int *min)
{
	*min = -1;
	switch (type) {
	case TC_WIRE_HELLO:
		*min = 4;
		return 4 + TC_WIRE_NAME_MAX;
	case TC_WIRE_BYE:
		*min = 0;
		return TC_WIRE_NAME_MAX;
	case TC_WIRE_POWER_ON:
		return 5;
	case TC_WIRE_RST:
		return 1;
	case TC_WIRE_CLOCK:
		return 4;
	case TC_WIRE_CHAR:
		return 2;
	case TC_WIRE_CHARS:
		*min = 4 + 2;
		return 4 + 2 * TC_WIRE_MAX_RUN;
	case TC_WIRE_ERROR:
		return 4;
	case TC_WIRE_POWER_OFF:
	case TC_WIRE_IDLE:
	case TC_WIRE_INSERT:
	case TC_WIRE_REMOVE:
		return 0;
	default:
		return -1;
	}
}

static size_t text_len(const char *s)
{
	size_t n = 0;
	while (n < TC_WIRE_NAME_MAX && s[n])
		n++;
	return n;
}

static int encode_payload(const struct tc_wire_msg *m, uint8_t *p)
{
	size_t n;

	switch (m->type) {
	case TC_WIRE_HELLO:
		p[0] = m->u.hello.version;
		p[1] = m->u.hello.role;
		p[2] = m->u.hello.present;
		p[3] = m->u.hello.realtime;
		n = text_len(m->u.hello.name);
		memcpy(p + 4, m->u.hello.name, n);
		return (int)(4 + n);
	case TC_WIRE_BYE:
		n = text_len(m->u.bye.reason);
		memcpy(p, m->u.bye.reason, n);
		return (int)n;
	case TC_WIRE_POWER_ON:
		if (m->u.power_on.cls < TC_CLASS_A || m->u.power_on.cls > TC_CLASS_C)
			return TC_E_INVAL;
		p[0] = m->u.power_on.cls;
		put32(p + 1, m->u.power_on.clock_hz);
		return 5;
	case TC_WIRE_RST:
		if (m->u.rst.level > 1)
			return TC_E_INVAL;
		p[0] = m->u.rst.level;
		return 1;
	case TC_WIRE_CLOCK:
		put32(p, m->u.clock.clock_hz);
		return 4;
	case TC_WIRE_CHAR:
		if (m->u.chr.parity > 1)
			return TC_E_INVAL;
		p[0] = m->u.chr.raw;
		p[1] = m->u.chr.parity;
		return 2;
	case TC_WIRE_ERROR:
		put32(p, m->u.error.ref);
		return 4;
	case TC_WIRE_POWER_OFF:
	case TC_WIRE_IDLE:
	case TC_WIRE_INSERT:
	case TC_WIRE_REMOVE:
		return 0;
	default:
		return TC_E_INVAL;
	}
}

/* The header, shared by every type. */
static void encode_header(const struct tc_wire_msg *m, uint8_t *buf, size_t n)
{
	buf[0] = m->type;
	buf[1] = m->flags;
	put16(buf + 2, (uint16_t)n);
	put32(buf + 4, m->seq);
	put32(buf + 8, m->ack);
	put32(buf + 12, 0);
	put64(buf + 16, m->time);
}

static int encode_chars(const struct tc_wire_msg *m, uint8_t *buf, size_t cap)
{
	unsigned n = m->u.chars.n;
	size_t len = 4 + 2 * (size_t)n;

	if (n == 0 || n > TC_WIRE_MAX_RUN || !m->u.chars.pairs || m->u.chars.spacing == 0 ||
	    m->seq > UINT32_MAX - (n - 1))
		return TC_E_INVAL;
	for (unsigned i = 0; i < n; i++)
		if (m->u.chars.pairs[2 * i + 1] > 1)
			return TC_E_INVAL;
	if (cap < TC_WIRE_HDR_LEN + len)
		return TC_E_OVERFLOW;
	encode_header(m, buf, len);
	put32(buf + TC_WIRE_HDR_LEN, m->u.chars.spacing);
	memcpy(buf + TC_WIRE_HDR_LEN + 4, m->u.chars.pairs, 2 * (size_t)n);
	return (int)(TC_WIRE_HDR_LEN + len);
}

int tc_wire_encode(const struct tc_wire_msg *m, uint8_t *buf, size_t cap)
{
	uint8_t payload[TC_WIRE_MAX_PAYLOAD];

	/* CHAR is nearly all the traffic: no staging buffer for it. */
	if (m->type == TC_WIRE_CHAR && m->u.chr.parity <= 1 && cap >= TC_WIRE_HDR_LEN + 2) {
		encode_header(m, buf, 2);
		buf[TC_WIRE_HDR_LEN] = m->u.chr.raw;
		buf[TC_WIRE_HDR_LEN + 1] = m->u.chr.parity;
		return TC_WIRE_HDR_LEN + 2;
	}
	if (m->type == TC_WIRE_CHARS)
		return encode_chars(m, buf, cap);
	int n = encode_payload(m, payload);
	if (n < 0)
		return n;
	if (cap < (size_t)(TC_WIRE_HDR_LEN + n))
		return TC_E_OVERFLOW;
	encode_header(m, buf, (size_t)n);
	memcpy(buf + TC_WIRE_HDR_LEN, payload, (size_t)n);
	return TC_WIRE_HDR_LEN + n;
}

static int decode_text(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] > 0x7E)
			return TC_E_FORMAT;
	memcpy(out, p, n);
	out[n] = '\0';
	return TC_OK;
}

static int decode_chars(struct tc_wire_msg *m, const uint8_t *p, size_t n, char *why,
                        size_t why_cap)
{
	if ((n - 4) % 2 != 0) {
		snprintf(why, why_cap, "CHARS payload is %zu bytes; it must be 4 + 2 per character",
		         n);
		return TC_E_FORMAT;
	}
	m->u.chars.spacing = get32(p);
	m->u.chars.n = (uint16_t)((n - 4) / 2);
	m->u.chars.pairs = p + 4;
	if (m->u.chars.spacing == 0) {
		snprintf(why, why_cap, "CHARS spacing is 0 cycles");
		return TC_E_FORMAT;
	}
	if (m->seq > UINT32_MAX - (m->u.chars.n - 1u)) {
		snprintf(why, why_cap, "CHARS of %u characters from seq %u runs past seq 2^32-1",
		         m->u.chars.n, m->seq);
		return TC_E_FORMAT;
	}
	for (unsigned i = 0; i < m->u.chars.n; i++) {
		if (m->u.chars.pairs[2 * i + 1] > 1) {
			snprintf(why, why_cap,
			         "CHARS character %u has parity bit %u, neither 0 nor 1", i,
			         m->u.chars.pairs[2 * i + 1]);
			return TC_E_FORMAT;
		}
	}
	return TC_OK;
}

void tc_wire_run_char(const struct tc_wire_msg *run, unsigned i, struct tc_wire_msg *out)
{
	memset(out, 0, sizeof(*out));
	out->type = TC_WIRE_CHAR;
	out->flags = run->flags;
	out->seq = run->seq + i;
	out->ack = run->ack;
	out->time = run->time + (uint64_t)i * run->u.chars.spacing;
	const uint8_t *pair = run->u.chars.pairs + 2 * (size_t)i;
	out->u.chr.raw = pair[0];
	out->u.chr.parity = pair[1];
}

static int decode_payload(struct tc_wire_msg *m, const uint8_t *p, size_t n, char *why,
                          size_t why_cap)
{
	switch (m->type) {
	case TC_WIRE_HELLO:
		m->u.hello.version = p[0];
		m->u.hello.role = p[1];
		m->u.hello.present = p[2];
		m->u.hello.realtime = p[3];
		if (decode_text(p + 4, n - 4, m->u.hello.name) != TC_OK) {
			snprintf(why, why_cap, "HELLO name is not printable ASCII");
			return TC_E_FORMAT;
		}
		if (p[1] != TC_WIRE_ROLE_READER && p[1] != TC_WIRE_ROLE_CARD) {
			snprintf(why, why_cap, "HELLO role %u is neither 1 (reader) nor 2 (card)",
			         p[1]);
			return TC_E_FORMAT;
		}
		return TC_OK;
	case TC_WIRE_BYE:
		if (decode_text(p, n, m->u.bye.reason) != TC_OK) {
			snprintf(why, why_cap, "BYE reason is not printable ASCII");
			return TC_E_FORMAT;
		}
		return TC_OK;
	case TC_WIRE_POWER_ON:
		m->u.power_on.cls = p[0];
		m->u.power_on.clock_hz = get32(p + 1);
		if (p[0] < TC_CLASS_A || p[0] > TC_CLASS_C) {
			snprintf(why, why_cap, "POWER_ON class %u is not 1 (A), 2 (B) or 3 (C)",
			         p[0]);
			return TC_E_FORMAT;
		}
		return TC_OK;
	case TC_WIRE_RST:
		m->u.rst.level = p[0];
		if (p[0] > 1) {
			snprintf(why, why_cap, "RST level %u is neither 0 nor 1", p[0]);
			return TC_E_FORMAT;
		}
		return TC_OK;
	case TC_WIRE_CLOCK:
		m->u.clock.clock_hz = get32(p);
		return TC_OK;
	case TC_WIRE_CHAR:
		m->u.chr.raw = p[0];
		m->u.chr.parity = p[1];
		if (p[1] > 1) {
			snprintf(why, why_cap, "CHAR parity bit %u is neither 0 nor 1", p[1]);
			return TC_E_FORMAT;
		}
		return TC_OK;
	case TC_WIRE_ERROR:
		m->u.error.ref = get32(p);
		return TC_OK;
	case TC_WIRE_CHARS:
		return decode_chars(m, p, n, why, why_cap);
	default:
		return TC_OK;
	}
}

/* The header's fields into a cleared m. */
static void decode_header(const uint8_t *buf, struct tc_wire_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->type = buf[0];
	m->flags = buf[1];
	m->seq = get32(buf + 4);
	m->ack = get32(buf + 8);
	m->time = get64(buf + 16);
}

/* A whole, well-formed CHAR: the common case, decoded without the general
 * checks (which would reach the same verdict). Returns false to fall back. */
static bool decode_char_fast(const uint8_t *buf, size_t n, struct tc_wire_msg *m)
{
	if (n < TC_WIRE_HDR_LEN + 2 || buf[0] != TC_WIRE_CHAR || buf[2] != 0 || buf[3] != 2 ||
	    buf[TC_WIRE_HDR_LEN + 1] > 1)
		return false;
	if (get32(buf + 4) == 0)
		return false;
	decode_header(buf, m);
	m->u.chr.raw = buf[TC_WIRE_HDR_LEN];
	m->u.chr.parity = buf[TC_WIRE_HDR_LEN + 1];
	return true;
}

/* Everything but a well-formed CHAR: every check, with the reason. Kept out
 * of line so that the CHAR path needs no stack frame. */
__attribute__((noinline)) static int
decode_general(const uint8_t *buf, size_t n, struct tc_wire_msg *m, char *why, size_t why_cap)
{
	char scratch[8];
	int min;

	if (!why || why_cap == 0) {
		why = scratch;
		why_cap = sizeof(scratch);
	}
	if (n < TC_WIRE_HDR_LEN)
		return 0;
	size_t len = (size_t)buf[2] << 8 | buf[3];
	int max = payload_len(buf[0], &min);
	if (max < 0) {
		snprintf(why, why_cap, "unknown message type 0x%02X", buf[0]);
		return TC_E_FORMAT;
	}
	if (min < 0)
		min = max;
	if (len < (size_t)min || len > (size_t)max) {
		snprintf(why, why_cap, "%s payload is %zu bytes; it must be %d..%d",
		         tc_wire_type_name(buf[0]), len, min, max);
		return TC_E_FORMAT;
	}
	if (n < TC_WIRE_HDR_LEN + len)
		return 0;
	decode_header(buf, m);
	if (m->seq == 0) {
		snprintf(why, why_cap, "%s has seq 0; seq starts at 1", tc_wire_type_name(m->type));
		return TC_E_FORMAT;
	}
	int rc = decode_payload(m, buf + TC_WIRE_HDR_LEN, len, why, why_cap);
	if (rc < 0)
		return rc;
	return (int)(TC_WIRE_HDR_LEN + len);
}

int tc_wire_decode(const uint8_t *buf, size_t n, struct tc_wire_msg *m, char *why, size_t why_cap)
{
	if (why && why_cap)
		why[0] = '\0';
	if (decode_char_fast(buf, n, m))
		return TC_WIRE_HDR_LEN + 2;
	return decode_general(buf, n, m, why, why_cap);
}

/* Bit order reversed, a nibble at a time. */
static uint8_t bit_reverse(uint8_t b)
{
	static const uint8_t rev4[16] = {0x0, 0x8, 0x4, 0xC, 0x2, 0xA, 0x6, 0xE,
	                                 0x1, 0x9, 0x5, 0xD, 0x3, 0xB, 0x7, 0xF};
	return (uint8_t)(rev4[b & 0x0F] << 4 | rev4[b >> 4]);
}

/* 1 when b has an odd number of ones (so the even-parity bit is 1). */
static uint8_t even_parity_bit(uint8_t b)
{
	unsigned v = b;
	v ^= v >> 4;
	v ^= v >> 2;
	v ^= v >> 1;
	return (uint8_t)(v & 1u);
}

void tc_wire_char_make(uint8_t logical, bool inverse, uint8_t *raw, uint8_t *parity)
{
	uint8_t p = even_parity_bit(logical);
	if (inverse) {
		*raw = bit_reverse((uint8_t)~logical);
		*parity = (uint8_t)(p ^ 1u);
	} else {
		*raw = logical;
		*parity = p;
	}
}

uint8_t tc_wire_char_read(uint8_t raw, uint8_t parity, bool inverse, bool *parity_ok)
{
	uint8_t logical = inverse ? (uint8_t)~bit_reverse(raw) : raw;
	uint8_t p = inverse ? (uint8_t)((parity & 1u) ^ 1u) : (uint8_t)(parity & 1u);
	if (parity_ok)
		*parity_ok = even_parity_bit(logical) == p;
	return logical;
}
