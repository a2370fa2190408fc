/* tc_sw.c: the ISO/IEC 7816-4 status word table (see tc_sw.h). */
#include "tc_sw.h"

#include <stdio.h>

/* How the low bits of a status word fill in the text. */
enum sw_param {
	SW_PARAM_NONE,    /* text as is, tail empty */
	SW_PARAM_BYTES,   /* SW2 is a byte count, 00 meaning 256 */
	SW_PARAM_COUNTER, /* low nibble of SW2 is a counter 0..15 */
	SW_PARAM_QUERY,   /* SW2 is a query of the card, in hex */
};

struct sw_entry {
	uint16_t lo, hi; /* status words lo..hi (inclusive) */
	enum sw_param param;
	const char *text; /* the meaning, or what comes before the parameter */
	const char *tail; /* what comes after the parameter */
};

/* Exact values and ranges first; the per-SW1 group fallbacks are in group[]. */
static const struct sw_entry table[] = {
    {0x9000, 0x9000, SW_PARAM_NONE, "normal processing, no further qualification", ""},
    {0x6100, 0x61FF, SW_PARAM_BYTES, "normal processing: ", " data bytes still available"},
    {0x6200, 0x6200, SW_PARAM_NONE, "warning, memory unchanged: no information given", ""},
    {0x6202, 0x6280, SW_PARAM_QUERY, "warning, memory unchanged: triggering by the card (query ",
     ")"},
    {0x6281, 0x6281, SW_PARAM_NONE, "warning: part of returned data may be corrupted", ""},
    {0x6282, 0x6282, SW_PARAM_NONE,
     "warning: end of file or record reached before reading Ne bytes", ""},
    {0x6283, 0x6283, SW_PARAM_NONE, "warning: selected file deactivated", ""},
    {0x6284, 0x6284, SW_PARAM_NONE,
     "warning: file control information not formatted per ISO 7816-4", ""},
    {0x6285, 0x6285, SW_PARAM_NONE, "warning: selected file in termination state", ""},
    {0x6286, 0x6286, SW_PARAM_NONE, "warning: no input data available from a sensor on the card",
     ""},
    {0x6300, 0x6300, SW_PARAM_NONE, "warning, memory changed: no information given", ""},
    {0x6381, 0x6381, SW_PARAM_NONE, "warning: file filled up by the last write", ""},
    {0x63C0, 0x63CF, SW_PARAM_COUNTER, "warning: counter ", " (meaning depends on the command)"},
    {0x6400, 0x6400, SW_PARAM_NONE, "execution error, memory unchanged", ""},
    {0x6401, 0x6401, SW_PARAM_NONE, "execution error: immediate response required by the card", ""},
    {0x6402, 0x6480, SW_PARAM_QUERY,
     "execution error, memory unchanged: triggering by the card (query ", ")"},
    {0x6500, 0x6500, SW_PARAM_NONE, "execution error, memory changed: no information given", ""},
    {0x6581, 0x6581, SW_PARAM_NONE, "execution error: memory failure", ""},
    {0x6600, 0x6600, SW_PARAM_NONE, "execution error: security-related issue", ""},
    {0x6700, 0x6700, SW_PARAM_NONE, "wrong length", ""},
    {0x6800, 0x6800, SW_PARAM_NONE, "functions in CLA not supported: no information given", ""},
    {0x6881, 0x6881, SW_PARAM_NONE, "logical channel not supported", ""},
    {0x6882, 0x6882, SW_PARAM_NONE, "secure messaging not supported", ""},
    {0x6883, 0x6883, SW_PARAM_NONE, "last command of the chain expected", ""},
    {0x6884, 0x6884, SW_PARAM_NONE, "command chaining not supported", ""},
    {0x6900, 0x6900, SW_PARAM_NONE, "command not allowed: no information given", ""},
    {0x6981, 0x6981, SW_PARAM_NONE, "command incompatible with file structure", ""},
    {0x6982, 0x6982, SW_PARAM_NONE, "security status not satisfied", ""},
    {0x6983, 0x6983, SW_PARAM_NONE, "authentication method blocked", ""},
    {0x6984, 0x6984, SW_PARAM_NONE, "reference data not usable", ""},
    {0x6985, 0x6985, SW_PARAM_NONE, "conditions of use not satisfied", ""},
    {0x6986, 0x6986, SW_PARAM_NONE, "command not allowed (no current EF)", ""},
    {0x6987, 0x6987, SW_PARAM_NONE, "expected secure messaging data objects missing", ""},
    {0x6988, 0x6988, SW_PARAM_NONE, "incorrect secure messaging data objects", ""},
    {0x6A00, 0x6A00, SW_PARAM_NONE, "wrong parameters P1-P2: no information given", ""},
    {0x6A80, 0x6A80, SW_PARAM_NONE, "incorrect parameters in the command data field", ""},
    {0x6A81, 0x6A81, SW_PARAM_NONE, "function not supported", ""},
    {0x6A82, 0x6A82, SW_PARAM_NONE, "file or application not found", ""},
    {0x6A83, 0x6A83, SW_PARAM_NONE, "record not found", ""},
    {0x6A84, 0x6A84, SW_PARAM_NONE, "not enough memory space in the file", ""},
    {0x6A85, 0x6A85, SW_PARAM_NONE, "Nc inconsistent with TLV structure", ""},
    {0x6A86, 0x6A86, SW_PARAM_NONE, "incorrect parameters P1-P2", ""},
    {0x6A87, 0x6A87, SW_PARAM_NONE, "Nc inconsistent with parameters P1-P2", ""},
    {0x6A88, 0x6A88, SW_PARAM_NONE, "referenced data or reference data not found", ""},
    {0x6A89, 0x6A89, SW_PARAM_NONE, "file already exists", ""},
    {0x6A8A, 0x6A8A, SW_PARAM_NONE, "DF name already exists", ""},
    {0x6B00, 0x6B00, SW_PARAM_NONE, "wrong parameters P1-P2", ""},
    {0x6C00, 0x6CFF, SW_PARAM_BYTES, "wrong Le field: ", " data bytes available (exact Le)"},
    {0x6D00, 0x6D00, SW_PARAM_NONE, "instruction code not supported or invalid", ""},
    {0x6E00, 0x6E00, SW_PARAM_NONE, "class not supported", ""},
    {0x6F00, 0x6F00, SW_PARAM_NONE, "no precise diagnosis", ""},
};

/* Indexed by SW1 - 0x60: the group a status word not in table[] belongs to. */
static const char *const group[16] = {
    [0x2] = "warning, memory unchanged",
    [0x3] = "warning, memory changed",
    [0x4] = "execution error, memory unchanged",
    [0x5] = "execution error, memory changed",
    [0x6] = "execution error, security-related",
    [0x7] = "wrong length",
    [0x8] = "functions in CLA not supported",
    [0x9] = "command not allowed",
    [0xA] = "wrong parameters P1-P2",
    [0xB] = "wrong parameters P1-P2",
    [0xD] = "instruction code not supported or invalid",
    [0xE] = "class not supported",
    [0xF] = "no precise diagnosis",
};

enum tc_sw_kind tc_sw_kind(uint16_t sw)
{
	unsigned sw1 = sw >> 8;
	if (sw == 0x9000 || sw1 == 0x61)
		return TC_SW_KIND_NORMAL;
	if (sw1 == 0x62 || sw1 == 0x63)
		return TC_SW_KIND_WARNING;
	if (sw1 >= 0x64 && sw1 <= 0x66)
		return TC_SW_KIND_EXEC_ERROR;
	if (sw1 >= 0x67 && sw1 <= 0x6F)
		return TC_SW_KIND_CHECK_ERROR;
	if ((sw1 & 0xF0) == 0x90)
		return TC_SW_KIND_PROPRIETARY;
	return TC_SW_KIND_INVALID;
}

const char *tc_sw_kind_name(enum tc_sw_kind kind)
{
	switch (kind) {
	case TC_SW_KIND_NORMAL:
		return "normal processing";
	case TC_SW_KIND_WARNING:
		return "warning";
	case TC_SW_KIND_EXEC_ERROR:
		return "execution error";
	case TC_SW_KIND_CHECK_ERROR:
		return "checking error";
	case TC_SW_KIND_PROPRIETARY:
		return "proprietary";
	case TC_SW_KIND_INVALID:
		return "invalid status word";
	}
	return "invalid status word";
}

static const struct sw_entry *lookup(uint16_t sw)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (sw >= table[i].lo && sw <= table[i].hi)
			return &table[i];
	return NULL;
}

/* A status word ISO 7816-4 does not list: say which group it falls in. */
static void describe_unlisted(uint16_t sw, char *buf, size_t n)
{
	unsigned sw1 = sw >> 8, sw2 = sw & 0xFF;
	enum tc_sw_kind kind = tc_sw_kind(sw);
	if (kind == TC_SW_KIND_PROPRIETARY)
		(void)snprintf(buf, n, "proprietary (not defined by ISO 7816-4)");
	else if (kind == TC_SW_KIND_INVALID || group[sw1 - 0x60] == NULL)
		(void)snprintf(buf, n, "invalid status word (SW1 %02X)", sw1);
	else
		(void)snprintf(buf, n, "%s (SW2 %02X not defined by ISO 7816-4)", group[sw1 - 0x60],
		               sw2);
}

const char *tc_sw_meaning(uint16_t sw, char *buf, size_t n)
{
	if (buf == NULL || n == 0)
		return "";
	const struct sw_entry *e = lookup(sw);
	unsigned sw2 = sw & 0xFF;
	if (e == NULL) {
		describe_unlisted(sw, buf, n);
		return buf;
	}
	switch (e->param) {
	case SW_PARAM_NONE:
		(void)snprintf(buf, n, "%s", e->text);
		break;
	case SW_PARAM_BYTES:
		(void)snprintf(buf, n, "%s%u%s", e->text, sw2 == 0 ? 256u : sw2, e->tail);
		break;
	case SW_PARAM_COUNTER:
		(void)snprintf(buf, n, "%s%u%s", e->text, sw2 & 0x0Fu, e->tail);
		break;
	case SW_PARAM_QUERY:
		(void)snprintf(buf, n, "%s%02X%s", e->text, sw2, e->tail);
		break;
	}
	return buf;
}

int tc_sw_of(const uint8_t *resp, size_t len)
{
	if (resp == NULL || len < 2)
		return -1;
	return (resp[len - 2] << 8) | resp[len - 1];
}
