/* tc_hex.c: hexadecimal text <-> bytes. */
#include "tc_hex.h"

#include "tc_error.h"

static int nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int is_sep(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ':' || c == '-';
}

int tc_hex_decode(const char *text, uint8_t *out, size_t cap, size_t *bad)
{
	size_t n = 0;
	size_t i = 0;

	while (text[i]) {
		if (is_sep(text[i])) {
			i++;
			continue;
		}
		if (text[i] == '0' && (text[i + 1] == 'x' || text[i + 1] == 'X') &&
		    nibble(text[i + 2]) >= 0 && nibble(text[i + 3]) >= 0) {
			i += 2;
		}
		int hi = nibble(text[i]);
		int lo = hi < 0 ? -1 : nibble(text[i + 1]);
		if (hi < 0 || lo < 0) {
			if (bad)
				*bad = hi < 0 ? i : i + 1;
			return TC_E_FORMAT;
		}
		if (n >= cap) {
			if (bad)
				*bad = i;
			return TC_E_OVERFLOW;
		}
		out[n++] = (uint8_t)(hi << 4 | lo);
		i += 2;
	}
	return (int)n;
}

char *tc_hex_encode(const uint8_t *in, size_t n, char sep, char *out, size_t cap)
{
	static const char digits[] = "0123456789ABCDEF";
	size_t per = sep ? 3 : 2;
	size_t o = 0;

	if (cap == 0)
		return out;
	for (size_t i = 0; i < n; i++) {
		if (o + per + 4 > cap && i + 1 < n) {
			if (o + 4 <= cap) {
				out[o++] = '.';
				out[o++] = '.';
				out[o++] = '.';
			}
			break;
		}
		if (o + 3 > cap)
			break;
		if (sep && i > 0)
			out[o++] = sep;
		out[o++] = digits[in[i] >> 4];
		out[o++] = digits[in[i] & 15];
	}
	out[o < cap ? o : cap - 1] = '\0';
	return out;
}
