/* tc_card_store.h: the simulated card's memory, a file, updated atomically.
 *
 * The store holds one image of a fixed size (the card application's data).
 * tc_store_commit() replaces it as a whole: if power is lost at any byte of
 * any write, the next tc_store_open() finds either the old image or the new,
 * never a mix. Two slots (A, B), each a header (sequence number, SHA-256 over
 * header and image) and the image; a commit invalidates the older slot,
 * writes its image, then its header, with fsync() between the steps; open
 * takes the valid slot with the higher sequence number. docs/token-card.md,
 * "Card memory", gives the layout.
 *
 * Errors: TC_E_INVAL (argument), TC_E_NOMEM, TC_E_IO (system call; errno is
 * kept), TC_E_FORMAT (the file is not a card memory of this size),
 * TC_E_CORRUPT (no slot passes its check), TC_E_TORN (simulated power loss:
 * the store stays dead until closed and reopened). */
#ifndef TC_CARD_STORE_H
#define TC_CARD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TC_STORE_MAX_SIZE (1u << 20) /* largest image */
#define TC_STORE_HDR_LEN  64u        /* bytes of each slot's header */
#define TC_STORE_ERR_LEN  160u       /* room for an error sentence */

struct tc_store; /* opaque */

/* Open the memory file at path holding an image of size bytes (1..MAX).
 * An absent file is created (atomically, via a temporary file and rename)
 * holding an all-zero image. An existing file must be a card memory of that
 * image size. */
int tc_store_open(const char *path, size_t size, struct tc_store **out);

/* The same, with a one-sentence reason in err (err_len bytes) on failure
 * ("card.mem: file is 100 bytes, expected 4224 for a 2048-byte image"). */
int tc_store_open_msg(const char *path, size_t size, struct tc_store **out, char *err,
                      size_t err_len);

/* Copy the first n (<= size) bytes of the committed image into buf. */
int tc_store_read(struct tc_store *s, void *buf, size_t n);

/* Replace the image with buf (n <= size bytes; the rest becomes zero). */
int tc_store_commit(struct tc_store *s, const void *buf, size_t n);

/* Image size, and the sequence number of the committed image (1 when new). */
size_t tc_store_size(const struct tc_store *s);
uint64_t tc_store_seq(const struct tc_store *s);

/* Close; NULL allowed. A dead (torn) store closes without writing. */
void tc_store_close(struct tc_store *s);

/* Tear testing: after n more bytes written the store "loses power": the
 * write stops there, the call returns TC_E_TORN and every later call fails
 * until reopened. n < 0 disables (the default). */
void tc_store_tear_after(struct tc_store *s, long n);

/* Bytes written through this handle since open (counting torn writes). */
long tc_store_bytes_written(const struct tc_store *s);

/* The loader, pure: parse a whole memory file (file, flen bytes) for an
 * image of size bytes; copy the current image into img (size bytes) and its
 * sequence number into *seq, and the slot it came from (0 = A, 1 = B) into
 * *slot (either may be NULL). This is what tc_store_open() runs on the file
 * read from disk, and what the fuzz target drives. */
int tc_store_parse(const uint8_t *file, size_t flen, size_t size, uint8_t *img, uint64_t *seq,
                   int *slot, char *err, size_t err_len);

/* Bytes of a memory file for an image of size bytes. */
size_t tc_store_file_len(size_t size);

#endif
