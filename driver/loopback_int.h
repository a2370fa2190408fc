/* loopback_int.h: private state of a loopback link (loopback.c only). */
#ifndef TC_LOOPBACK_INT_H
#define TC_LOOPBACK_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "tc_wire.h"
#include "transport.h"

/* How long the card process may take to answer a message, in wall time. The
 * virtual clock decides every protocol timeout; this only catches a card
 * process that hangs or died without closing its socket. */
#define LB_WALL_TIMEOUT_MS 5000

struct tc_link {
	int fd;
	bool present;      /* card in the slot, as the card process says */
	bool realtime;     /* pace messages to the wall clock */
	bool inverse;      /* convention in force */
	unsigned F, D;     /* etu in force */
	uint64_t char_clk; /* 10 etu (one character on I/O) at F, D, in clock cycles */
	uint32_t clock_hz;

	uint64_t now;      /* virtual time, clock cycles */
	uint64_t rst_time; /* last RST edge */
	uint8_t rst_level;

	uint32_t seq;         /* our last message number */
	uint32_t peer_seq;    /* last card message processed: our ack */
	uint32_t last_action; /* docs/wire.md section 4 */
	uint32_t last_hard;
	uint32_t send_first; /* seq of the first CHAR of the last send() */
	uint32_t send_n;
	bool peer_idle; /* a current IDLE from the card */

	struct tc_wire_msg held; /* a current CHAR stamped after a deadline */
	bool has_held;

	/* CHARS (docs/wire.md 2.2): `runs` when the card accepts them and nothing
	 * paces the wire; a received run is handed out one CHAR at a time. */
	bool runs;
	struct tc_wire_msg run; /* the CHARS being handed out; pairs -> run_pairs */
	unsigned run_next;      /* its next character */
	uint8_t run_pairs[2 * TC_WIRE_MAX_RUN];

	uint8_t in[16384]; /* a whole burst of the card (256 data bytes: about 7 KB) */
	size_t in_len;     /* bytes in in[], from in[0] */
	size_t in_off;     /* the next undecoded byte: in[in_off..in_len) is pending */
	uint8_t out[8192];
	size_t out_len;

	uint64_t pace_origin_clk;
	uint64_t pace_origin_ns;

	char path[108]; /* the card's socket */
	char record_path[256];
	FILE *record;
	struct tc_link_stats stats;
};

int lb_flush(struct tc_link *l);

#endif
