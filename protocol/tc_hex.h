/* tc_hex.h: hexadecimal text <-> bytes, for tools, traces and tests. */
#ifndef TC_HEX_H
#define TC_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Parse hex digits into out. Spaces, tabs, newlines, ':' and '-' between byte
 * pairs are ignored, as is one leading "0x" per pair. Returns the number of
 * bytes (>= 0), TC_E_FORMAT for a non-hex character or an odd digit count,
 * TC_E_OVERFLOW when more than cap bytes. On error, *bad (if not NULL) is the
 * offset of the offending character in text. */
int tc_hex_decode(const char *text, uint8_t *out, size_t cap, size_t *bad);

/* Format n bytes as upper-case hex pairs separated by sep (0 for none) into
 * out (cap bytes, NUL-terminated, truncated with "..." when too small).
 * Returns out. */
char *tc_hex_encode(const uint8_t *in, size_t n, char sep, char *out, size_t cap);

#endif
