/* tc_error.h: the one error enum of the tokencard protocol library.
 *
 * 0 is success, every error is negative. tc_errname() gives the symbol,
 * tc_strerror() a sentence; both are kept in step with the enum by a unit test.
 * errno is translated to TC_E_IO once, at the transport edge. */
#ifndef TC_ERROR_H
#define TC_ERROR_H

enum tc_err {
	TC_OK = 0,
	TC_E_INVAL = -1,       /* invalid argument from the caller */
	TC_E_NOMEM = -2,       /* out of memory */
	TC_E_SHORT = -3,       /* input ends before it should */
	TC_E_LONG = -4,        /* input longer than the format allows */
	TC_E_FORMAT = -5,      /* input malformed */
	TC_E_CHECKSUM = -6,    /* TCK, PCK or another check value wrong */
	TC_E_UNSUPPORTED = -7, /* valid, but not supported here */
	TC_E_TIMEOUT = -8,     /* a waiting time expired */
	TC_E_PARITY = -9,      /* parity errors beyond the repetition limit */
	TC_E_PROTOCOL = -10,   /* the peer broke the protocol (bad procedure byte...) */
	TC_E_NO_CARD = -11,    /* no card, or the card was removed */
	TC_E_MUTE = -12,       /* the card did not answer to reset */
	TC_E_IO = -13,         /* transport I/O error */
	TC_E_PPS_FAILED = -14, /* PPS refused or answered wrongly */
	TC_E_CLOSED = -15,     /* the peer closed the link */
	TC_E_LIMIT = -16,      /* a fixed limit (chain, retries, buffer) reached */
	TC_E_STATE = -17,      /* call not valid in the current state */
	TC_E_CLASS = -18,      /* no voltage class acceptable to card and reader */
	TC_E_OVERFLOW = -19,   /* result does not fit the caller's buffer */
	TC_E_CRYPTO = -20,     /* the cryptographic library failed */
	TC_E_TORN = -21,       /* the card's memory lost power in a write */
	TC_E_CORRUPT = -22,    /* stored data fails its integrity check */
};

/* Lowest (most negative) code; for iteration in tests. */
#define TC_ERR_LAST TC_E_CORRUPT

/* "TC_E_TIMEOUT"; "TC_E_UNKNOWN" for a code outside the enum. */
const char *tc_errname(int err);
/* "a waiting time expired"; never NULL. */
const char *tc_strerror(int err);

#endif
