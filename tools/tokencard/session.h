/* session.h: a card on the loopback wire for the tool's commands: start a
 * card process (tokencard-sim or any program that speaks docs/wire.md) on a
 * private socket, open the driver's reader core on it, and stop it all. */
#ifndef TOKENCARD_SESSION_H
#define TOKENCARD_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "slot.h"

struct session {
	char dir[256];    /* private directory holding the socket */
	char socket[300]; /* the card's socket */
	pid_t card_pid;   /* 0 when we did not start the card */
	struct tc_slot *slot;
};

struct session_opts {
	const char *socket;   /* use a card already listening here */
	const char *card_cmd; /* command line; "{}" becomes the socket path */
	const char *record;   /* record the wire to this file */
	const char *argv0;    /* to find tokencard-sim beside the tool */
	bool no_pps;          /* reader that offers only Fd/Dd */
	bool realtime;        /* pace the wire like a physical one */
};

/* Start the card (unless opts->socket) and open the slot. Prints the reason
 * to stderr on failure. */
int session_start(struct session *s, const struct session_opts *opts);
void session_stop(struct session *s);

/* Exchange one APDU given as bytes; prints nothing. */
int session_apdu(struct session *s, const uint8_t *apdu, size_t n, uint8_t *resp, size_t cap,
                 size_t *resp_len);

/* A short meaning of a status word ("success", "wrong length"...). */
const char *sw_meaning(uint8_t sw1, uint8_t sw2);

#endif
