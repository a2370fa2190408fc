/* tc_tlv.h: BER-TLV data objects (ISO/IEC 7816-4 section 5.2, ASN.1 BER).
 *
 * A tag is kept as its bytes read as a big-endian number: 0x5A, 0x5F20,
 * 0x9F36, 0xDF8101. Tags are 1 to 3 bytes (ISO 7816-4 uses at most three);
 * lengths are definite, 1 to 4 bytes on the wire (short form 00..7F, 81 xx,
 * 82 xx xx, 83 xx xx xx), so a value holds at most 16 MiB - 1 bytes.
 *
 * The parser is strict, so that every object has exactly one encoding
 * (objects are MAC'd as bytes):
 *  - tag: 1F followed by bytes with b8 set then one without; the first
 *    subsequent byte is not 80 (leading zero bits); at most three bytes;
 *    tag numbers below 31 in the long form (9F02, BF0C) are accepted, as
 *    EMV and ISO 7816-6 use them;
 *    tag byte 00 or FF (ISO padding) is refused, not skipped;
 *  - length: indefinite form (80) refused; long form must be minimal
 *    (81 05 is refused, 81 80 accepted); more than three length bytes
 *    refused; the value must fit in what is left of the input.
 * Errors are TC_E_SHORT (input ends inside the object), TC_E_FORMAT
 * (encoding rule broken), TC_E_UNSUPPORTED (valid BER beyond the limits
 * above: indefinite length, tag of four or more bytes, length of four or
 * more bytes), TC_E_LIMIT (nesting deeper than TC_TLV_MAX_DEPTH), and come
 * with a struct tc_tlv_error naming the offset and the rule.
 *
 * The builder writes into a caller's buffer, keeps the first error, and
 * nests constructed objects (tc_tlv_open / tc_tlv_close) with the length
 * fixed up at close. Pure: no allocation, no I/O. */
#ifndef TC_TLV_H
#define TC_TLV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TC_TLV_MAX_TAG_LEN 3u
#define TC_TLV_MAX_LEN     0xFFFFFFu /* largest value length (three length bytes) */
#define TC_TLV_MAX_DEPTH   8u        /* nesting of constructed objects */

/* Tag classes (bits 8-7 of the first tag byte). */
enum tc_tlv_class {
	TC_TLV_UNIVERSAL = 0,
	TC_TLV_APPLICATION = 1,
	TC_TLV_CONTEXT = 2,
	TC_TLV_PRIVATE = 3,
};

/* One data object found in an input. */
struct tc_tlv {
	uint32_t tag;
	size_t tag_len;
	enum tc_tlv_class cls;
	bool constructed;     /* b6 of the first tag byte */
	const uint8_t *value; /* points into the input; NULL when len == 0 */
	size_t len;
	size_t hdr_len; /* tag and length bytes */
	size_t offset;  /* of the tag byte in the input given to the parser */
};

/* Why a parse failed: the offset of the offending byte in the whole input
 * and a constant sentence ("length 81 05 is not minimal"). */
struct tc_tlv_error {
	size_t offset;
	const char *what;
};

/* Parse the one object that starts at buf[0]; buf holds n bytes (what
 * follows the object is not looked at). Returns 0 or a negative tc_err
 * with err set (err may be NULL). */
int tc_tlv_parse(const uint8_t *buf, size_t n, struct tc_tlv *out, struct tc_tlv_error *err);

/* Walking the objects of one level, one after the other. */
struct tc_tlv_iter {
	const uint8_t *buf;
	size_t n, off;
	size_t base; /* offset of buf in the outermost input, for errors */
};

/* Start a walk over buf[0..n). */
void tc_tlv_iter_init(struct tc_tlv_iter *it, const uint8_t *buf, size_t n);
/* Start a walk over the value of the object t (offsets in errors keep
 * counting from the input t was found in). */
void tc_tlv_iter_into(struct tc_tlv_iter *it, const struct tc_tlv *t);
/* Next object: 1 with *out set, 0 at the end, negative tc_err on error
 * (offsets in err and out->offset count from the outermost input). */
int tc_tlv_iter_next(struct tc_tlv_iter *it, struct tc_tlv *out, struct tc_tlv_error *err);

/* Check that buf[0..n) is a sequence of well-formed objects, descending
 * into every constructed one, at most TC_TLV_MAX_DEPTH levels deep. */
int tc_tlv_validate(const uint8_t *buf, size_t n, struct tc_tlv_error *err);

/* First object with this tag at the top level of buf[0..n) (not nested),
 * parsing the whole level: 1 and *out set when found, 0 when absent,
 * negative tc_err when the level is malformed (even after the object). */
int tc_tlv_find(const uint8_t *buf, size_t n, uint32_t tag, struct tc_tlv *out,
                struct tc_tlv_error *err);

/* Bytes of the tag (1..3), or 0 when tag is not a valid tag number in the
 * rules above. */
size_t tc_tlv_tag_size(uint32_t tag);
/* Bytes the length field takes for a value of len bytes (1..4), 0 if too long. */
size_t tc_tlv_len_size(size_t len);

/* --- building ---------------------------------------------------------------- */

struct tc_tlv_builder {
	uint8_t *buf;
	size_t cap, len;
	int err; /* first error: TC_E_OVERFLOW, TC_E_INVAL, TC_E_LIMIT, TC_E_STATE */
	size_t open[TC_TLV_MAX_DEPTH]; /* value offsets of open constructed objects */
	uint32_t open_tag[TC_TLV_MAX_DEPTH];
	size_t depth;
};

void tc_tlv_builder_init(struct tc_tlv_builder *b, uint8_t *buf, size_t cap);
/* Append a primitive object (or a constructed one whose value the caller
 * encoded already). v may be NULL when len is 0. */
void tc_tlv_put(struct tc_tlv_builder *b, uint32_t tag, const void *v, size_t len);
/* Convenience: unsigned big-endian values of width bytes (1..8). */
void tc_tlv_put_uint(struct tc_tlv_builder *b, uint32_t tag, uint64_t v, size_t width);
/* Open a constructed object (tag must have b6 set in its first byte);
 * objects appended until tc_tlv_close() become its value. */
void tc_tlv_open(struct tc_tlv_builder *b, uint32_t tag);
void tc_tlv_close(struct tc_tlv_builder *b);
/* Bytes written, or the first error (an object still open: TC_E_STATE). */
int tc_tlv_finish(struct tc_tlv_builder *b);

#endif
