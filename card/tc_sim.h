/* tc_sim.h: one simulated card on the loopback wire (docs/wire.md).
 *
 * struct tc_sim is the card in its slot: configuration, card OS, T=0 card
 * engine, presence. A reader connection is attached to it as a file
 * descriptor; tc_sim_pump() reads what the reader sent (without blocking),
 * answers, and tells when the connection is over. Everything is on the
 * virtual clock; with realtime (option or the reader's HELLO) each message
 * is held back until the wall clock, counted from POWER_ON, reaches its
 * time. The caller owns sockets and the process; this module never exits.
 *
 * Wire decisions (where docs/wire.md leaves a choice):
 *  - The card sends IDLE once it has handled all the reader's messages that
 *    have arrived, when any of them was an action (CHAR, ERROR, POWER_ON,
 *    POWER_OFF, RST, CLOCK) or it sent something; never in answer to IDLE.
 *  - A message before HELLO, a second HELLO, or a HELLO with role 2 ends the
 *    link with BYE; version other than 1: BYE "version".
 *  - INSERT, REMOVE from a reader are ignored (logged).
 *  - ERROR is current when ack >= the card's latest ERROR and ref is the
 *    latest transmission of a character of the card's current burst.
 *  - Removed card: POWER_ON, RST, CHAR are ignored; the card sends nothing
 *    but INSERT (on `insert`). After INSERT it is unpowered until POWER_ON.
 *  - remove_at fires once; set it again to pull the card again. */
#ifndef TC_SIM_H
#define TC_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "sim_config.h"
#include "sim_log.h"

#define TC_SIM_STATUS_LEN 256u

struct tc_sim;

/* Create the card from cfg (copied). NULL with why set on a bad config. */
struct tc_sim *tc_sim_new(const struct tc_sim_config *cfg, const struct tc_sim_log *lg, char *why,
                          size_t cap);
void tc_sim_free(struct tc_sim *sim);
void tc_sim_set_realtime(struct tc_sim *sim, bool on);
/* Never pace, whatever the reader's HELLO asks (tests, fuzzing). */
void tc_sim_set_no_pacing(struct tc_sim *sim, bool on);

/* A reader connected on fd (made non-blocking here; the sim closes it on
 * detach). record: a stream the session's messages are recorded to (the
 * magic is written here), or NULL. Returns 0 or TC_E_STATE when a reader is
 * already attached. */
int tc_sim_attach(struct tc_sim *sim, int fd, FILE *record);
/* Handle what has arrived. 0: the link goes on; TC_E_CLOSED: it is over
 * (peer closed, BYE either way); call tc_sim_detach() then. */
int tc_sim_pump(struct tc_sim *sim);
/* Forget the connection: close fd, the card behaves as powered off. */
void tc_sim_detach(struct tc_sim *sim);
bool tc_sim_attached(const struct tc_sim *sim);
int tc_sim_fd(const struct tc_sim *sim);

/* One control command line ("remove", "insert", "set key=value", "status").
 * reply gets "ok", "error: reason" or the status line (no newline).
 * Returns 0 or TC_E_FORMAT. */
int tc_sim_control(struct tc_sim *sim, const char *line, char *reply, size_t cap);

#endif
