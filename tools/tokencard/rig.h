/* rig.h: the test rig: a private pcscd with loopback readers and their cards,
 * that never touches a system pcscd. Everything lives in one directory:
 *
 *   DIR/pcscd.comm      the PC/SC socket (export PCSCLITE_CSOCK_NAME=it)
 *   DIR/conf/readerN    reader definitions given to pcscd -c DIR/conf
 *   DIR/cardN.sock      the card of reader N (its control socket: .ctl)
 *   DIR/pids            the processes the rig started, one "role pid" a line
 *   DIR/NAME.log        what pcscd and the cards print
 *   DIR/tokenN.mem      the memory of reader N's token card (--token-card)
 *
 * pcscd runs in a private mount namespace with its own /run (it keeps its pid
 * file there) and gets its listening socket by the systemd socket-activation
 * protocol (fd 3, LISTEN_FDS, LISTEN_PID). */
#ifndef TOKENCARD_RIG_H
#define TOKENCARD_RIG_H

#include <stdbool.h>

#define RIG_MAX_READERS    16
#define RIG_MAX_EXTRA_CONF 8

struct rig_opts {
	const char *dir;  /* NULL: $TC_RIG_DIR or /tmp/tokencard-rig-UID */
	unsigned readers; /* loopback readers, 0..16 (default 1) */
	const char *card; /* card command, {} = socket path; NULL: tokencard-sim */
	const char *sockets[RIG_MAX_READERS]; /* existing card sockets instead */
	unsigned nsockets;
	const char *driver; /* libifd-tokencard.so; NULL: the build's or installed one */
	const char *extra_conf[RIG_MAX_EXTRA_CONF]; /* more reader definition files */
	unsigned nextra;
	const char *record; /* record the wire of reader N to RECORD.N */
	bool debug;         /* pcscd --debug */
	int owner;          /* stop the rig when this pid exits (0: never) */
	int wait_ms;        /* how long to wait for the readers */
	/* --token-card [STORE]: every card the rig starts runs the deposit-token
	 * application (docs/token-card.md) with its memory in a file: STORE for
	 * reader 0, STORE.N for reader N; without STORE, DIR/tokenN.mem. */
	bool token_card;
	const char *token_store;
};

/* Resolve the rig directory into out. */
void rig_dir(const char *dir, char *out, unsigned cap);

int rig_start(const struct rig_opts *o);
int rig_stop(const char *dir);
/* Restart pcscd alone, on the same socket and readers. */
int rig_restart_pcscd(const char *dir);
/* Send one control line to the card of reader n ("insert", "remove", ...);
 * prints the card's answer. */
int rig_card_command(const char *dir, unsigned n, const char *line);

#endif
