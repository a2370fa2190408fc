/* sim_config.h: tokencard-sim configuration (key = value), pure.
 *
 * The same keys come from a file (--config), from --set key=value and from
 * the control socket (`set key=value`). docs/tokencard-sim.md lists them.
 * Errors are one sentence naming the key and what is wrong; a file's errors
 * are prefixed with "NAME:LINE: ". */
#ifndef SIM_CONFIG_H
#define SIM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tc_atr.h"
#include "tc_t0_card.h"

#define TC_SIM_ERR_LEN   200u
#define TC_SIM_LINE_MAX  512u
#define TC_SIM_NAME_MAX  32u
#define TC_SIM_MAX_LINES 10000u
#define TC_SIM_PATH_MAX  4096u /* token_store, with its NUL */

struct tc_sim_config {
	/* ATR: built from spec unless raw_atr. */
	struct tc_atr_spec spec;
	bool raw_atr;
	uint8_t atr[TC_ATR_MAX_LEN];
	size_t atr_len;
	/* Behaviour and timing. */
	uint32_t atr_delay; /* clock cycles, RST high -> TS */
	uint32_t char_spacing;
	uint32_t proc_time;
	uint32_t null_interval;
	uint32_t null_storm;
	bool one_by_one;
	enum tc_t0c_pps_mode pps;
	uint8_t pps_answer[6];
	size_t pps_answer_len;
	bool present;
	char default_app[TC_SIM_NAME_MAX + 1];
	char name[TC_SIM_NAME_MAX + 1]; /* HELLO name */
	/* The deposit-token card's memory file; empty: in memory only. Read when
	 * the card process starts (a later `set` does not reopen it). */
	char token_store[TC_SIM_PATH_MAX];
	/* Faults on purpose. */
	bool mute;
	uint8_t answer_classes; /* TC_ATR_CLASS_* the card answers at */
	uint32_t parity_tx[TC_T0C_MAX_FAULT_IDX];
	unsigned n_parity_tx;
	uint32_t parity_tx_times;
	uint32_t parity_tx_every;
	uint32_t parity_rx[TC_T0C_MAX_FAULT_IDX];
	unsigned n_parity_rx;
	uint32_t parity_rx_every;
	uint32_t remove_at; /* card character number at which the card is pulled; 0 never */
	bool wrong_proc;
	uint8_t wrong_proc_byte;
	uint32_t max_repeat;
};

/* Defaults: ATR 3B 96 96 80 1F 07 80 31 C0 82 90 00 TCK (direct, T=0, TA1 96,
 * classes A, B and C, compact-TLV historical bytes), PPS accepted,
 * atr_delay 1000, card present, testapp default, no faults. */
void tc_sim_config_init(struct tc_sim_config *c);

/* Set one key. Returns 0 or TC_E_FORMAT with why set. */
int tc_sim_config_set(struct tc_sim_config *c, const char *key, const char *value, char *why,
                      size_t cap);
/* "key=value" (spaces around key and value allowed), as --set and `set`. */
int tc_sim_config_set_arg(struct tc_sim_config *c, const char *arg, char *why, size_t cap);
/* A whole file's text (len bytes, NUL bytes refused): lines "key = value",
 * '#' starts a comment, blank lines ignored. On error err is
 * "NAME:LINE: sentence" and nothing after that line is applied. */
int tc_sim_config_parse(struct tc_sim_config *c, const char *text, size_t len, const char *name,
                        char *err, size_t cap);

/* The engine configuration (ATR built here). Returns 0 or TC_E_FORMAT with
 * why set (ATR that cannot be built). */
int tc_sim_config_engine(const struct tc_sim_config *c, struct tc_t0c_config *out, char *why,
                         size_t cap);

/* Text of the pps mode ("accept"...), of a class mask ("A,B"). */
const char *tc_sim_pps_name(enum tc_t0c_pps_mode m);

#endif
