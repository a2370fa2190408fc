/* tc_card_store.c: the card's memory file, two slots, atomic commits.
 *
 * File: slot A then slot B, each TC_STORE_HDR_LEN bytes of header followed by
 * the image. Header (big-endian):
 *   0  "TCMS"   magic
 *   4  u8       format version (1)
 *   5  u8       slot index (0 = A, 1 = B), must match the slot's position
 *   6  u16      header length (64)
 *   8  u32      image size
 *   12 u32      reserved, 0
 *   16 u64      sequence number, >= 1
 *   24 8 bytes  reserved, 0
 *   32 32 bytes SHA-256 over header bytes 0..31 then the image
 * A commit goes to the slot not holding the current image: (1) its header is
 * zeroed, (2) the image written, (3) the header written, each step followed
 * by fsync(). A cut in (1) or (2) leaves the slot without a valid header; a
 * cut in (3) leaves a header whose check value is incomplete. The other slot
 * is never written, so open finds the old image or the new one. */
#include "tc_card_store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tc_crypto.h"
#include "tc_error.h"

#define STORE_MAGIC   "TCMS"
#define STORE_VERSION 1u
#define HDR_SUM_OFF   32u
#define SLOT_NAME(i)  ((i) ? "B" : "A")

struct tc_store {
	int fd;
	size_t size;   /* image bytes */
	uint8_t *img;  /* the committed image */
	uint8_t *work; /* the image being committed */
	int cur;       /* slot holding img */
	uint64_t seq;  /* its sequence number */
	long tear;     /* bytes left before the simulated power cut; < 0: never */
	long written;  /* bytes written through this handle */
	bool dead;     /* power was cut: every call fails */
};

/* --- helpers ------------------------------------------------------------- */

static void put_be(uint8_t *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static uint64_t get_be(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

static int fail(int rc, char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(int rc, char *err, size_t err_len, const char *fmt, ...)
{
	va_list ap;

	if (err && err_len) {
		va_start(ap, fmt);
		vsnprintf(err, err_len, fmt, ap);
		va_end(ap);
	}
	return rc;
}

size_t tc_store_file_len(size_t size)
{
	return 2u * (TC_STORE_HDR_LEN + size);
}

static size_t slot_off(size_t size, int slot)
{
	return slot ? TC_STORE_HDR_LEN + size : 0;
}

/* Header fields (bytes 0..31) for slot, then the check value over them and img. */
static int make_header(uint8_t hdr[TC_STORE_HDR_LEN], int slot, size_t size, uint64_t seq,
                       const uint8_t *img)
{
	struct tc_buf parts[2];

	memset(hdr, 0, TC_STORE_HDR_LEN);
	memcpy(hdr, STORE_MAGIC, 4);
	hdr[4] = STORE_VERSION;
	hdr[5] = (uint8_t)slot;
	put_be(hdr + 6, TC_STORE_HDR_LEN, 2);
	put_be(hdr + 8, size, 4);
	put_be(hdr + 16, seq, 8);
	parts[0] = (struct tc_buf){hdr, HDR_SUM_OFF};
	parts[1] = (struct tc_buf){img, size};
	return tc_sha256_parts(parts, 2, hdr + HDR_SUM_OFF);
}

/* --- the loader (pure) --------------------------------------------------- */

enum slot_state { SLOT_EMPTY, SLOT_BAD, SLOT_OK };

/* Check one slot; *why says what is wrong with a bad one. */
static enum slot_state check_slot(const uint8_t *file, size_t size, int slot, uint64_t *seq,
                                  const char **why)
{
	const uint8_t *hdr = file + slot_off(size, slot);
	uint8_t want[TC_STORE_HDR_LEN];
	static const uint8_t zero[8];

	*why = "no header";
	if (memcmp(hdr, STORE_MAGIC, 4) != 0)
		return SLOT_EMPTY;
	*why = "unknown format version or header length";
	if (hdr[4] != STORE_VERSION || get_be(hdr + 6, 2) != TC_STORE_HDR_LEN)
		return SLOT_BAD;
	*why = "header of the other slot";
	if (hdr[5] != slot)
		return SLOT_BAD;
	*why = "image size differs from the file's";
	if (get_be(hdr + 8, 4) != size)
		return SLOT_BAD;
	*why = "reserved bytes not zero or sequence number 0";
	*seq = get_be(hdr + 16, 8);
	if (get_be(hdr + 12, 4) != 0 || memcmp(hdr + 24, zero, 8) != 0 || *seq == 0)
		return SLOT_BAD;
	*why = "check value wrong (torn or damaged)";
	if (make_header(want, slot, size, *seq, hdr + TC_STORE_HDR_LEN) != TC_OK)
		return SLOT_BAD;
	if (memcmp(want + HDR_SUM_OFF, hdr + HDR_SUM_OFF, TC_STORE_HDR_LEN - HDR_SUM_OFF) != 0)
		return SLOT_BAD;
	return SLOT_OK;
}

/* The wrong length: say what the file seems to hold. */
static int bad_length(const uint8_t *file, size_t flen, size_t size, char *err, size_t err_len)
{
	if (flen >= TC_STORE_HDR_LEN && memcmp(file, STORE_MAGIC, 4) == 0)
		return fail(TC_E_FORMAT, err, err_len,
		            "file is %zu bytes, expected %zu for a %zu-byte image (its header says "
		            "%lu bytes)",
		            flen, tc_store_file_len(size), size,
		            (unsigned long)get_be(file + 8, 4));
	return fail(TC_E_FORMAT, err, err_len,
	            "not a card memory file: %zu bytes, expected %zu for a %zu-byte image", flen,
	            tc_store_file_len(size), size);
}

int tc_store_parse(const uint8_t *file, size_t flen, size_t size, uint8_t *img, uint64_t *seq,
                   int *slot, char *err, size_t err_len)
{
	enum slot_state st[2];
	uint64_t sq[2] = {0, 0};
	const char *why[2];
	int pick;

	if ((!file && flen) || !img || size == 0 || size > TC_STORE_MAX_SIZE)
		return fail(TC_E_INVAL, err, err_len, "invalid argument");
	if (flen != tc_store_file_len(size))
		return bad_length(file, flen, size, err, err_len);
	for (int i = 0; i < 2; i++)
		st[i] = check_slot(file, size, i, &sq[i], &why[i]);
	if (st[0] == SLOT_EMPTY && st[1] == SLOT_EMPTY)
		return fail(TC_E_FORMAT, err, err_len, "not a card memory file: no slot header");
	if (st[0] != SLOT_OK && st[1] != SLOT_OK)
		return fail(TC_E_CORRUPT, err, err_len,
		            "card memory corrupt: slot A: %s; slot B: %s", why[0], why[1]);
	if (st[0] == SLOT_OK && st[1] == SLOT_OK && sq[0] == sq[1])
		return fail(TC_E_CORRUPT, err, err_len,
		            "card memory corrupt: both slots carry sequence number %llu",
		            (unsigned long long)sq[0]);
	if (st[0] == SLOT_OK && st[1] == SLOT_OK)
		pick = sq[1] > sq[0];
	else
		pick = st[1] == SLOT_OK;
	memcpy(img, file + slot_off(size, pick) + TC_STORE_HDR_LEN, size);
	if (seq)
		*seq = sq[pick];
	if (slot)
		*slot = pick;
	return TC_OK;
}

/* --- writes: every byte goes through store_write ------------------------- */

static int store_write(struct tc_store *s, size_t off, const uint8_t *p, size_t n)
{
	size_t allow = n, done = 0;
	bool cut = false;

	if (s->dead)
		return TC_E_TORN;
	if (s->tear >= 0 && (unsigned long)s->tear < n) {
		allow = (size_t)s->tear;
		cut = true;
	}
	while (done < allow) {
		ssize_t r = pwrite(s->fd, p + done, allow - done, (off_t)(off + done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return TC_E_IO;
		done += (size_t)r;
		s->written += (long)r;
	}
	if (s->tear >= 0)
		s->tear -= (long)allow;
	if (cut) {
		s->dead = true;
		return TC_E_TORN;
	}
	return TC_OK;
}

static int store_sync(struct tc_store *s)
{
	if (s->dead)
		return TC_E_TORN;
	return fsync(s->fd) == 0 ? TC_OK : TC_E_IO;
}

int tc_store_commit(struct tc_store *s, const void *buf, size_t n)
{
	static const uint8_t blank[TC_STORE_HDR_LEN];
	uint8_t hdr[TC_STORE_HDR_LEN];
	int slot, rc;
	size_t off;

	if (!s || (n > 0 && !buf))
		return TC_E_INVAL;
	if (s->dead)
		return TC_E_TORN;
	if (n > s->size)
		return TC_E_OVERFLOW;
	if (s->seq == UINT64_MAX)
		return TC_E_LIMIT;
	slot = !s->cur;
	off = slot_off(s->size, slot);
	memset(s->work, 0, s->size);
	if (n)
		memcpy(s->work, buf, n);
	rc = make_header(hdr, slot, s->size, s->seq + 1, s->work);
	if (rc != TC_OK)
		return rc;
	rc = store_write(s, off, blank, sizeof(blank));
	if (rc == TC_OK)
		rc = store_sync(s);
	if (rc == TC_OK)
		rc = store_write(s, off + TC_STORE_HDR_LEN, s->work, s->size);
	if (rc == TC_OK)
		rc = store_sync(s);
	if (rc == TC_OK)
		rc = store_write(s, off, hdr, sizeof(hdr));
	if (rc == TC_OK)
		rc = store_sync(s);
	if (rc != TC_OK)
		return rc;
	memcpy(s->img, s->work, s->size);
	s->cur = slot;
	s->seq++;
	return TC_OK;
}

/* --- open, create, close --------------------------------------------------- */

static int sync_dir_of(const char *path)
{
	char *dir = strdup(path);
	char *slash;
	int fd, rc;

	if (!dir)
		return TC_E_NOMEM;
	slash = strrchr(dir, '/');
	if (!slash) { /* path is not empty: dir has room for "." */
		dir[0] = '.';
		dir[1] = '\0';
	} else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	fd = open(dir, O_RDONLY | O_CLOEXEC);
	free(dir);
	if (fd < 0)
		return TC_E_IO;
	rc = fsync(fd) == 0 || errno == EINVAL ? TC_OK : TC_E_IO;
	close(fd);
	return rc;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	size_t done = 0;

	while (done < n) {
		ssize_t r = write(fd, p + done, n - done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return TC_E_IO;
		done += (size_t)r;
	}
	return TC_OK;
}

/* A blank memory (zero image, sequence 1 in slot A), written to a temporary
 * file and renamed into place, so a cut leaves no half-made file at path. */
static int create_blank(const char *path, size_t size, char *err, size_t err_len)
{
	size_t flen = tc_store_file_len(size), plen = strlen(path) + 16;
	uint8_t *file = calloc(1, flen);
	char *tmp = malloc(plen);
	int fd = -1, rc = TC_E_NOMEM;

	if (!file || !tmp)
		goto out;
	snprintf(tmp, plen, "%s.tmp%ld", path, (long)getpid());
	rc = make_header(file, 0, size, 1, file + TC_STORE_HDR_LEN);
	if (rc != TC_OK)
		goto out;
	rc = TC_E_IO;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		goto out;
	if (write_all(fd, file, flen) != TC_OK || fsync(fd) != 0 || close(fd) != 0) {
		fd = -1;
		(void)unlink(tmp);
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		(void)unlink(tmp);
		goto out;
	}
	rc = sync_dir_of(path);
out:
	if (rc == TC_E_IO)
		(void)fail(rc, err, err_len, "%s: cannot create: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	free(file);
	free(tmp);
	return rc;
}

static int read_all(int fd, uint8_t *p, size_t n)
{
	size_t done = 0;

	while (done < n) {
		ssize_t r = pread(fd, p + done, n - done, (off_t)done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return TC_E_IO;
		if (r == 0)
			return TC_E_SHORT;
		done += (size_t)r;
	}
	return TC_OK;
}

/* Read and parse the open file s->fd into s. */
static int load(struct tc_store *s, const char *path, char *err, size_t err_len)
{
	size_t flen = tc_store_file_len(s->size);
	struct stat st;
	uint8_t *file = NULL;
	int rc;

	if (fstat(s->fd, &st) != 0)
		return fail(TC_E_IO, err, err_len, "%s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return fail(TC_E_FORMAT, err, err_len, "%s: not a regular file", path);
	if ((unsigned long long)st.st_size != flen) {
		/* Say what the file seems to hold when it has our header. */
		uint8_t head[16] = {0};
		if (st.st_size >= (off_t)sizeof(head) &&
		    read_all(s->fd, head, sizeof(head)) == TC_OK &&
		    memcmp(head, STORE_MAGIC, 4) == 0)
			return fail(TC_E_FORMAT, err, err_len,
			            "%s: file is %lld bytes, expected %zu: %s (its header says a "
			            "%lu-byte image)",
			            path, (long long)st.st_size, flen,
			            get_be(head + 8, 4) == s->size ? "truncated or extended"
			                                           : "made for another image size",
			            (unsigned long)get_be(head + 8, 4));
		return fail(TC_E_FORMAT, err, err_len,
		            "%s: not a card memory file (%lld bytes, expected %zu for a %zu-byte "
		            "image)",
		            path, (long long)st.st_size, flen, s->size);
	}
	file = malloc(flen);
	if (!file)
		return fail(TC_E_NOMEM, err, err_len, "%s: out of memory", path);
	rc = read_all(s->fd, file, flen);
	if (rc != TC_OK) {
		(void)fail(rc, err, err_len, "%s: cannot read: %s", path,
		           rc == TC_E_IO ? strerror(errno) : "file shrank");
		goto out;
	}
	rc = tc_store_parse(file, flen, s->size, s->img, &s->seq, &s->cur, err, err_len);
	if (rc != TC_OK && err && err_len) {
		char why[TC_STORE_ERR_LEN];
		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, err_len, "%s: %s", path, why);
	}
out:
	free(file);
	return rc;
}

static int open_file(const char *path, size_t size, int *fd, char *err, size_t err_len)
{
	int rc;

	*fd = open(path, O_RDWR | O_CLOEXEC);
	if (*fd < 0 && errno == ENOENT) {
		rc = create_blank(path, size, err, err_len);
		if (rc != TC_OK)
			return rc;
		*fd = open(path, O_RDWR | O_CLOEXEC);
	}
	if (*fd < 0)
		return fail(TC_E_IO, err, err_len, "%s: %s", path, strerror(errno));
	struct flock lk = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	if (fcntl(*fd, F_SETLK, &lk) != 0) {
		rc = fail(errno == EACCES || errno == EAGAIN ? TC_E_STATE : TC_E_IO, err, err_len,
		          "%s: in use by another process (%s)", path, strerror(errno));
		close(*fd);
		*fd = -1;
		return rc;
	}
	return TC_OK;
}

int tc_store_open_msg(const char *path, size_t size, struct tc_store **out, char *err,
                      size_t err_len)
{
	struct tc_store *s;
	int rc;

	if (err && err_len)
		err[0] = '\0';
	if (!out)
		return fail(TC_E_INVAL, err, err_len, "invalid argument");
	*out = NULL;
	if (!path || !*path || size == 0 || size > TC_STORE_MAX_SIZE)
		return fail(TC_E_INVAL, err, err_len, "card memory: image size must be 1..%u bytes",
		            TC_STORE_MAX_SIZE);
	s = calloc(1, sizeof(*s));
	if (!s)
		return fail(TC_E_NOMEM, err, err_len, "out of memory");
	s->fd = -1;
	s->size = size;
	s->tear = -1;
	s->img = calloc(1, size);
	s->work = calloc(1, size);
	rc = s->img && s->work ? TC_OK : fail(TC_E_NOMEM, err, err_len, "out of memory");
	if (rc == TC_OK)
		rc = open_file(path, size, &s->fd, err, err_len);
	if (rc == TC_OK)
		rc = load(s, path, err, err_len);
	if (rc != TC_OK) {
		tc_store_close(s);
		return rc;
	}
	*out = s;
	return TC_OK;
}

int tc_store_open(const char *path, size_t size, struct tc_store **out)
{
	return tc_store_open_msg(path, size, out, NULL, 0);
}

int tc_store_read(struct tc_store *s, void *buf, size_t n)
{
	if (!s || (n > 0 && !buf))
		return TC_E_INVAL;
	if (s->dead)
		return TC_E_TORN;
	if (n > s->size)
		return TC_E_OVERFLOW;
	if (n)
		memcpy(buf, s->img, n);
	return TC_OK;
}

size_t tc_store_size(const struct tc_store *s)
{
	return s ? s->size : 0;
}

uint64_t tc_store_seq(const struct tc_store *s)
{
	return s ? s->seq : 0;
}

void tc_store_close(struct tc_store *s)
{
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	if (s->img)
		tc_wipe(s->img, s->size);
	if (s->work)
		tc_wipe(s->work, s->size);
	free(s->img);
	free(s->work);
	free(s);
}

void tc_store_tear_after(struct tc_store *s, long n)
{
	if (s)
		s->tear = n < 0 ? -1 : n;
}

long tc_store_bytes_written(const struct tc_store *s)
{
	return s ? s->written : 0;
}
