/* sim_int.h: private to tc_sim (sim_session.c, sim_wire.c, sim_ctl.c). */
#ifndef SIM_INT_H
#define SIM_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "tc_card_os.h"
#include "tc_sim.h"
#include "tc_t0_card.h"
#include "tc_wire.h"

#define SIM_INBUF  4096u
#define SIM_OUTBUF 32768u /* one burst of the card, batched into one write */

/* State of one reader connection. */
struct tc_sim_link {
	bool hello_done, dead;
	bool peer_realtime;
	uint32_t seq;         /* our last seq */
	uint32_t ack;         /* the reader's last seq we processed */
	uint32_t last_action; /* our latest CHAR or ERROR */
	uint32_t last_hard;   /* our latest ERROR */
	uint64_t now;
	bool need_idle; /* a reader action or our output since our last IDLE */
	bool sent_since_idle;
	/* Power and clock. */
	bool powered;
	bool class_refused; /* powered at a class the card does not answer at */
	uint8_t cls;
	uint32_t clock_hz;
	/* Realtime pacing base (set at POWER_ON, moved at CLOCK). */
	bool paced;
	double base_wall;
	uint64_t base_cycles;
	/* The reader's last current CHAR (target of our error signal). */
	uint32_t rx_char_seq;
	/* seq of the latest transmission of each character of our burst. */
	uint32_t burst_no;
	uint32_t burst_seq[TC_T0C_MAX_BURST];
	unsigned nburst;
	uint8_t in[SIM_INBUF];
	size_t nin;
	/* Messages encoded but not written yet: everything the card says in
	 * answer to what has arrived goes out in one write (tc_sim_flush). */
	uint8_t out[SIM_OUTBUF];
	size_t nout;
	uint32_t rx_msgs, tx_chars, rx_chars;
	/* CHARS (docs/wire.md 2.2): on when the reader's HELLO accepts them and
	 * neither side paces the wire; characters gathered into a run that
	 * tc_sim_send() and tc_sim_flush() encode before anything else. */
	bool runs;
	unsigned run_n;
	uint32_t run_seq, run_ack; /* seq of the first character; the ack of all */
	uint64_t run_time, run_spacing;
	uint8_t run_pairs[2 * TC_WIRE_MAX_RUN];
};

struct tc_sim {
	struct tc_sim_config cfg;
	struct tc_sim_log log;
	struct tc_card_os *os;
	struct tc_token_card *token; /* the deposit-token application (app_token.h) */
	struct tc_t0c *card;
	bool present;
	bool opt_realtime;
	bool no_pacing;
	int fd;
	FILE *record;
	struct tc_sim_link link;
};

int tc_sim_apply_config(struct tc_sim *sim, const struct tc_sim_config *cfg, char *why, size_t cap);
int tc_sim_send(struct tc_sim *sim, struct tc_wire_msg *m);
int tc_sim_flush(struct tc_sim *sim);
/* Queue one character of the card's burst at time t (CHAR, or part of a
 * CHARS run); *seq receives its seq. */
int tc_sim_send_char(struct tc_sim *sim, uint64_t t, uint8_t raw, uint8_t parity, uint32_t *seq);
int tc_sim_send_simple(struct tc_sim *sim, uint8_t type, uint64_t t);
int tc_sim_send_bye(struct tc_sim *sim, const char *reason);
void tc_sim_do_remove(struct tc_sim *sim, uint64_t t);
void tc_sim_do_insert(struct tc_sim *sim);

#endif
