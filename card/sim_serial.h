/* sim_serial.h: tokencard-sim's serial front end (docs/serial.md): the card
 * behind a pty as a Phoenix reader would present it, with the modem lines
 * and parity marks on a side channel socket. */
#ifndef SIM_SERIAL_H
#define SIM_SERIAL_H

#include <signal.h>

#include "tc_sim.h"

struct sim_serial_opts {
	const char *link_path;  /* symlink made to the pty's slave */
	const char *lines_path; /* side channel socket; PATH.ctl takes control commands */
	bool reset_dtr;         /* RST on DTR instead of RTS */
	bool reset_inv;         /* line asserted = RST high */
};

/* Serve until *stop is set. 0, or 1 when the pty or sockets cannot be made. */
int sim_serial_run(struct tc_sim *sim, const struct sim_serial_opts *o,
                   volatile sig_atomic_t *stop);

#endif
