/* cmd_pcsc.h: what the PC/SC commands of tokencard (readers, apdu, watch)
 * share. They talk to pcscd through the PC/SC client library like any
 * application, so PCSCLITE_CSOCK_NAME points them at a private pcscd (the
 * rig). */
#ifndef TOKENCARD_CMD_PCSC_H
#define TOKENCARD_CMD_PCSC_H

#include <stddef.h>
#include <winscard.h>

#define PCSC_MAX_READERS 32   /* more than pcscd's PCSCLITE_MAX_READERS_CONTEXTS */
#define PCSC_NAMES_CAP   8192 /* the multi-string of reader names */

struct pcsc_readers {
	char buf[PCSC_NAMES_CAP];
	const char *name[PCSC_MAX_READERS];
	size_t n;
};

/* Print "tokencard WHO: CALL: pcsc message (0x...)" to stderr, with a hint
 * when pcscd is not reachable. */
void pcsc_report(const char *who, const char *call, LONG rv);

/* SCardEstablishContext; 0, or -1 after pcsc_report(). */
int pcsc_open(const char *who, SCARDCONTEXT *ctx);

/* List the readers into r; no reader is not an error (r->n = 0). Returns
 * SCARD_S_SUCCESS or the PC/SC error. */
LONG pcsc_list(SCARDCONTEXT ctx, struct pcsc_readers *r);

/* The reader SPEC names: an index in the list ("0"), the exact name, or a
 * part of exactly one name. NULL after a message on stderr. */
const char *pcsc_pick(const struct pcsc_readers *r, const char *spec, const char *who);

/* The card state flags of a reader state ("present, in use"; "empty"...). */
const char *pcsc_state_text(DWORD state, char *buf, size_t n);

#endif
