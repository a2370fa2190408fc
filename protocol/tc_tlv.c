/* tc_tlv.c: BER-TLV parse and build (see tc_tlv.h). */
#include "tc_tlv.h"

#include <string.h>

#include "tc_error.h"

static int fail(struct tc_tlv_error *err, size_t offset, const char *what, int rc)
{
	if (err) {
		err->offset = offset;
		err->what = what;
	}
	return rc;
}

/* Tag bytes at buf[0..n): sets *tag and *len. */
static int parse_tag(const uint8_t *buf, size_t n, size_t base, uint32_t *tag, size_t *len,
                     struct tc_tlv_error *err)
{
	uint32_t t = buf[0];
	size_t i = 1;

	if (buf[0] == 0x00 || buf[0] == 0xFF)
		return fail(err, base, "tag byte 00 or FF (padding) where a tag is expected",
		            TC_E_FORMAT);
	if ((buf[0] & 0x1F) == 0x1F) {
		for (;;) {
			if (i >= n)
				return fail(err, base + i, "input ends inside a multi-byte tag",
				            TC_E_SHORT);
			if (i == 1 && buf[1] == 0x80)
				return fail(err, base + 1, "tag number with leading zero bits",
				            TC_E_FORMAT);
			if (i >= TC_TLV_MAX_TAG_LEN)
				return fail(err, base, "tag longer than three bytes",
				            TC_E_UNSUPPORTED);
			t = t << 8 | buf[i];
			if (!(buf[i++] & 0x80))
				break;
		}
	}
	*tag = t;
	*len = i;
	return TC_OK;
}

static int parse_len(const uint8_t *buf, size_t n, size_t base, size_t *len, size_t *used,
                     struct tc_tlv_error *err)
{
	size_t k, v = 0;

	if (n == 0)
		return fail(err, base, "input ends before the length", TC_E_SHORT);
	if (buf[0] < 0x80) {
		*len = buf[0];
		*used = 1;
		return TC_OK;
	}
	if (buf[0] == 0x80)
		return fail(err, base, "indefinite length (80) is not supported", TC_E_UNSUPPORTED);
	k = buf[0] & 0x7Fu;
	if (k > 3)
		return fail(err, base, "length field of more than three bytes", TC_E_UNSUPPORTED);
	if (n < 1 + k)
		return fail(err, base + n, "input ends inside the length field", TC_E_SHORT);
	for (size_t i = 1; i <= k; i++)
		v = v << 8 | buf[i];
	if (buf[1] == 0 || (k == 1 && v < 0x80))
		return fail(err, base, "length in the long form is not minimal", TC_E_FORMAT);
	*len = v;
	*used = 1 + k;
	return TC_OK;
}

static int parse_at(const uint8_t *buf, size_t n, size_t base, struct tc_tlv *out,
                    struct tc_tlv_error *err)
{
	size_t tl, ll, len;
	uint32_t tag;
	int rc;

	if (n == 0)
		return fail(err, base, "input ends where a tag is expected", TC_E_SHORT);
	rc = parse_tag(buf, n, base, &tag, &tl, err);
	if (rc != TC_OK)
		return rc;
	rc = parse_len(buf + tl, n - tl, base + tl, &len, &ll, err);
	if (rc != TC_OK)
		return rc;
	if (len > n - tl - ll)
		return fail(err, base + tl, "value runs past the end of the input", TC_E_SHORT);
	memset(out, 0, sizeof(*out));
	out->tag = tag;
	out->tag_len = tl;
	out->cls = (enum tc_tlv_class)(buf[0] >> 6);
	out->constructed = (buf[0] & 0x20) != 0;
	out->hdr_len = tl + ll;
	out->len = len;
	out->value = len ? buf + tl + ll : NULL;
	out->offset = base;
	return TC_OK;
}

int tc_tlv_parse(const uint8_t *buf, size_t n, struct tc_tlv *out, struct tc_tlv_error *err)
{
	if (!out || (!buf && n))
		return fail(err, 0, "invalid argument", TC_E_INVAL);
	return parse_at(buf, n, 0, out, err);
}

void tc_tlv_iter_init(struct tc_tlv_iter *it, const uint8_t *buf, size_t n)
{
	it->buf = buf;
	it->n = buf ? n : 0;
	it->off = 0;
	it->base = 0;
}

void tc_tlv_iter_into(struct tc_tlv_iter *it, const struct tc_tlv *t)
{
	it->buf = t->value;
	it->n = t->value ? t->len : 0;
	it->off = 0;
	it->base = t->offset + t->hdr_len;
}

int tc_tlv_iter_next(struct tc_tlv_iter *it, struct tc_tlv *out, struct tc_tlv_error *err)
{
	int rc;

	if (it->off >= it->n)
		return 0;
	rc = parse_at(it->buf + it->off, it->n - it->off, it->base + it->off, out, err);
	if (rc != TC_OK)
		return rc;
	it->off += out->hdr_len + out->len;
	return 1;
}

static int validate_level(struct tc_tlv_iter *it, unsigned depth, struct tc_tlv_error *err)
{
	struct tc_tlv t;
	int rc;

	while ((rc = tc_tlv_iter_next(it, &t, err)) == 1) {
		struct tc_tlv_iter sub;
		if (!t.constructed)
			continue;
		if (depth >= TC_TLV_MAX_DEPTH)
			return fail(err, t.offset, "constructed objects nested too deep",
			            TC_E_LIMIT);
		tc_tlv_iter_into(&sub, &t);
		rc = validate_level(&sub, depth + 1, err);
		if (rc != TC_OK)
			return rc;
	}
	return rc;
}

int tc_tlv_validate(const uint8_t *buf, size_t n, struct tc_tlv_error *err)
{
	struct tc_tlv_iter it;

	if (!buf && n)
		return fail(err, 0, "invalid argument", TC_E_INVAL);
	tc_tlv_iter_init(&it, buf, n);
	return validate_level(&it, 0, err);
}

int tc_tlv_find(const uint8_t *buf, size_t n, uint32_t tag, struct tc_tlv *out,
                struct tc_tlv_error *err)
{
	struct tc_tlv_iter it;
	struct tc_tlv t;
	bool found = false;
	int rc;

	if (!out || (!buf && n))
		return fail(err, 0, "invalid argument", TC_E_INVAL);
	tc_tlv_iter_init(&it, buf, n);
	while ((rc = tc_tlv_iter_next(&it, &t, err)) == 1) {
		if (!found && t.tag == tag) {
			*out = t;
			found = true;
		}
	}
	if (rc < 0)
		return rc;
	return found ? 1 : 0;
}

size_t tc_tlv_tag_size(uint32_t tag)
{
	uint8_t b[4] = {(uint8_t)(tag >> 24), (uint8_t)(tag >> 16), (uint8_t)(tag >> 8),
	                (uint8_t)tag};
	size_t start = 0, len, used;
	uint32_t back;

	while (start < 3 && b[start] == 0)
		start++;
	len = 4 - start;
	if (len > TC_TLV_MAX_TAG_LEN)
		return 0;
	if (parse_tag(b + start, len, 0, &back, &used, NULL) != TC_OK || used != len)
		return 0;
	return len;
}

size_t tc_tlv_len_size(size_t len)
{
	if (len < 0x80)
		return 1;
	if (len <= 0xFF)
		return 2;
	if (len <= 0xFFFF)
		return 3;
	if (len <= TC_TLV_MAX_LEN)
		return 4;
	return 0;
}

/* --- building ---------------------------------------------------------------- */

void tc_tlv_builder_init(struct tc_tlv_builder *b, uint8_t *buf, size_t cap)
{
	memset(b, 0, sizeof(*b));
	b->buf = buf;
	b->cap = buf ? cap : 0;
}

static void set_err(struct tc_tlv_builder *b, int rc)
{
	if (b->err == 0)
		b->err = rc;
}

static size_t write_len(uint8_t *p, size_t len)
{
	size_t k = tc_tlv_len_size(len);

	if (k == 1) {
		p[0] = (uint8_t)len;
		return 1;
	}
	p[0] = (uint8_t)(0x80u | (k - 1));
	for (size_t i = 1; i < k; i++)
		p[i] = (uint8_t)(len >> (8 * (k - 1 - i)));
	return k;
}

static void write_tag(uint8_t *p, uint32_t tag, size_t tl)
{
	for (size_t i = 0; i < tl; i++)
		p[i] = (uint8_t)(tag >> (8 * (tl - 1 - i)));
}

void tc_tlv_put(struct tc_tlv_builder *b, uint32_t tag, const void *v, size_t len)
{
	size_t tl = tc_tlv_tag_size(tag), ll = tc_tlv_len_size(len);

	if (b->err)
		return;
	if (tl == 0 || ll == 0 || (!v && len)) {
		set_err(b, TC_E_INVAL);
		return;
	}
	if (b->cap - b->len < tl + ll || b->cap - b->len - tl - ll < len) {
		set_err(b, TC_E_OVERFLOW);
		return;
	}
	write_tag(b->buf + b->len, tag, tl);
	b->len += tl;
	b->len += write_len(b->buf + b->len, len);
	if (len)
		memmove(b->buf + b->len, v, len);
	b->len += len;
}

void tc_tlv_put_uint(struct tc_tlv_builder *b, uint32_t tag, uint64_t v, size_t width)
{
	uint8_t tmp[8];

	if (width == 0 || width > 8 || (width < 8 && v >> (8 * width))) {
		set_err(b, TC_E_INVAL);
		return;
	}
	for (size_t i = 0; i < width; i++)
		tmp[i] = (uint8_t)(v >> (8 * (width - 1 - i)));
	tc_tlv_put(b, tag, tmp, width);
}

void tc_tlv_open(struct tc_tlv_builder *b, uint32_t tag)
{
	size_t tl = tc_tlv_tag_size(tag);

	if (b->err)
		return;
	if (tl == 0 || !((tag >> (8 * (tl - 1))) & 0x20)) {
		set_err(b, TC_E_INVAL);
		return;
	}
	if (b->depth >= TC_TLV_MAX_DEPTH) {
		set_err(b, TC_E_LIMIT);
		return;
	}
	if (b->cap - b->len < tl + 1) {
		set_err(b, TC_E_OVERFLOW);
		return;
	}
	/* Tag and a one-byte length for now; close() widens it when needed. */
	write_tag(b->buf + b->len, tag, tl);
	b->len += tl + 1;
	b->open[b->depth] = b->len;
	b->open_tag[b->depth] = tag;
	b->depth++;
}

void tc_tlv_close(struct tc_tlv_builder *b)
{
	size_t start, len, ll;

	if (b->err)
		return;
	if (b->depth == 0) {
		set_err(b, TC_E_STATE);
		return;
	}
	start = b->open[--b->depth];
	len = b->len - start;
	ll = tc_tlv_len_size(len);
	if (ll == 0) {
		set_err(b, TC_E_LIMIT);
		return;
	}
	if (ll > 1) {
		if (b->cap - b->len < ll - 1) {
			set_err(b, TC_E_OVERFLOW);
			return;
		}
		memmove(b->buf + start + ll - 1, b->buf + start, len);
		b->len += ll - 1;
	}
	write_len(b->buf + start - 1, len);
}

int tc_tlv_finish(struct tc_tlv_builder *b)
{
	if (b->err)
		return b->err;
	if (b->depth)
		return TC_E_STATE;
	return (int)b->len;
}
