/* pcsc_rig.h: a harness for integration tests that talk to a private pcscd
 * (running the real driver) through libpcsclite, as applications do.
 *
 * The rig is started with the tokencard tool (`TC_TOOL rig start --dir D
 * --owner PID ...`, TC_TOOL from the environment, else beside TC_SIM), in a
 * fresh mkdtemp directory, and PCSCLITE_CSOCK_NAME is set to its socket.
 * libpcsclite reads that variable once, so a process has one rig directory:
 * pcsc_rig_restart() starts a rig with other options in the same directory.
 * The --owner watchdog stops the rig if the test process is killed.
 *
 * The helpers below the rig never call cmocka: they return a status and a
 * sentence, so that test threads may use them. */
#ifndef PCSC_RIG_H
#define PCSC_RIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <winscard.h>

#define PCSC_RIG_MAX_READERS 4u
#define PCSC_RIG_WHY_LEN     256u
#define PCSC_READER_NAME_LEN 128u

/* The reader test application of tokencard-sim (card/app_test.c). */
#define TESTAPP_CLA      0x80u
#define TESTAPP_INS_C1   0x30u /* case 1 */
#define TESTAPP_INS_C3   0x32u /* case 3 */
#define TESTAPP_INS_C2   0x34u /* case 2: P1P2 bytes 00 01 02 ... */
#define TESTAPP_INS_C4   0x36u /* case 4: the P1P2 bytes after GET RESPONSE */
#define TESTAPP_INS_TIME 0x38u /* time request: P2 x 1000 etu */

struct pcsc_rig_opts {
	unsigned readers;        /* 1..PCSC_RIG_MAX_READERS */
	const char *card_config; /* tokencard-sim config text for every card, or NULL */
	bool realtime;           /* cards paced on the wall clock (tokencard-sim --realtime) */
	/* The deposit-token card (`rig start --token-card STORE`): its memory file
	 * (reader N > 0: STORE.N), or NULL for the configured application. */
	const char *token_store;
	const char *card_args; /* more tokencard-sim arguments ("--record F"), or NULL */
};

struct pcsc_rig;

/* Start a rig; prints why to stderr on failure (NULL). */
struct pcsc_rig *pcsc_rig_start(const struct pcsc_rig_opts *o);
/* Stop the rig and start one with other options, in the same directory. */
int pcsc_rig_restart(struct pcsc_rig *r, const struct pcsc_rig_opts *o);
/* Stop the rig, remove its directory (kept when TC_KEEP_RIG is set), free. */
void pcsc_rig_stop(struct pcsc_rig *r);
const char *pcsc_rig_dir(const struct pcsc_rig *r);

/* Send one control line to the card of reader n (`tokencard rig card`);
 * reply (may be NULL) gets the card's answer line. 0 when it said "ok" (or
 * answered `status`). */
int pcsc_rig_card(struct pcsc_rig *r, unsigned n, const char *line, char *reply, size_t cap);
/* The value of key in the card's `status` line ("F" -> "372"). */
int pcsc_rig_card_status(struct pcsc_rig *r, unsigned n, const char *key, char *out, size_t cap);
/* `tokencard rig insert N` / `remove N`. */
int pcsc_rig_insert(struct pcsc_rig *r, unsigned n);
int pcsc_rig_remove(struct pcsc_rig *r, unsigned n);
/* `tokencard rig restart-pcscd`: returns when pcscd lists the readers again. */
int pcsc_rig_restart_pcscd(struct pcsc_rig *r);

/* ---- PC/SC helpers ------------------------------------------------------ */

/* The PC/SC name of loopback reader n ("tokencard loopback N ..."). */
LONG pcsc_reader_name(SCARDCONTEXT ctx, unsigned n, char *out, size_t cap);
/* Wait until the reader's state has all bits of want (SCARD_STATE_PRESENT,
 * SCARD_STATE_EMPTY...), at most timeout_ms. *state gets the last state. */
LONG pcsc_wait_state(SCARDCONTEXT ctx, const char *reader, DWORD want, int timeout_ms,
                     DWORD *state);
/* Milliseconds on the monotonic clock. */
long long pcsc_now_ms(void);

/* One APDU on a T=0 connection; *sw gets SW1 SW2 and data/ndata the data
 * (may be NULL when none is expected). */
LONG pcsc_apdu(SCARDHANDLE h, const uint8_t *apdu, size_t n, uint8_t *data, size_t cap,
               size_t *ndata, uint16_t *sw);
/* SELECT the reader test application; 0 when it answers 9000. */
int testapp_select(SCARDHANDLE h, char *why, size_t cap);
/* One test application case (1..4) of length len (case 2, 4: 1..256; case
 * 3: 1..255; case 1: ignored), checked: 0 when right, else why says what. */
int testapp_case(SCARDHANDLE h, int kase, unsigned len, char *why, size_t cap);
/* The time request 80 38 00 xy; 0 when 9000. */
int testapp_time(SCARDHANDLE h, uint8_t xy, char *why, size_t cap);

#endif
