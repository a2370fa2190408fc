/* demo.h: the steps of "tokencard demo", shared by its two paths: through
 * pcscd (the default) and straight through the driver's reader core. */
#ifndef TOKENCARD_DEMO_H
#define TOKENCARD_DEMO_H

#include <stddef.h>

struct demo_step {
	const char *what;
	const char *apdu; /* hex */
};

extern const struct demo_step demo_steps[];
extern const size_t demo_nsteps;

/* Through a private pcscd (tokencard rig), recording the wire to `record`. */
int demo_pcsc(const char *record, const char *card_cmd);

#endif
