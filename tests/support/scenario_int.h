/* scenario_int.h: what scenario.c (running) and scenario_parse.c (reading)
 * share: the items of a scenario and the runner's state. */
#ifndef TC_SCENARIO_INT_H
#define TC_SCENARIO_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scenario.h"
#include "tc_apdu.h"
#include "tc_t0.h"

#define SC_MAX_FILE  (4u << 20)
#define SC_MAX_BYTES (TC_APDU_MAX_LEN + 16u) /* one line's bytes */
#define SC_MAX_WIRE  (1u << 20)              /* reader characters per scenario */
#define SC_MAX_STEPS (1u << 22)              /* engine actions per command */
#define SC_CARD_GAP  12u                     /* etu between a card line's bytes */
#define SC_KEY_MAX   32u

enum item_kind {
	IT_NAME,
	IT_PARAM,
	IT_OPTION,
	IT_TPDU,
	IT_APDU,
	IT_READER,
	IT_CARD,
	IT_MUTE,
	IT_SIGERR,
	IT_EXPECT
};

/* A delay: etu + clk + wt x WT + gt x GT (etu >= 0 after summing). */
struct delay {
	int64_t etu, clk, wt, gt;
};

struct item {
	enum item_kind kind;
	int line;
	bool consumed;
	bool has_delay, has_every, parity_error;
	struct delay delay, every;
	uint8_t *bytes;
	size_t n;
	size_t index;
	char key[SC_KEY_MAX];
	char *arg; /* the words after the key, joined by single spaces */
};

struct wire_char {
	uint64_t t;    /* leading edge */
	uint64_t prev; /* leading edge of the character before it on the line */
};

struct runner {
	const char *name;
	struct item *items;
	size_t n_items;
	struct scenario_result *res;
	bool failed;

	struct tc_t0r_params params;
	unsigned flags, max_chain;
	struct tc_t0r *e;

	uint64_t now, edge;
	uint64_t half_etu21; /* 10.5 etu in clocks */
	struct wire_char *wire;
	uint8_t *wire_b;
	size_t wire_n, wire_checked;
	uint64_t wait_deadline;

	/* outcome of the last command */
	bool have_outcome, error_checked;
	int line;
	int rc;
	const char *reason;
	uint8_t *resp; /* data + SW */
	size_t resp_len;
	bool t_begin_set;
	uint64_t t_begin, t_end;
	struct tc_t0r_stats sum;
	unsigned tpdus;
};

/* Record the first failure of a run (later ones are dropped). */
void __attribute__((format(printf, 3, 4)))
sc_fail(struct runner *r, int line, const char *fmt, ...);
/* A delay in clock cycles at the runner's current parameters. */
int sc_eval_delay(const struct runner *r, const struct delay *d, uint64_t *out);
/* Small parsers that the runner uses too. */
int sc_parse_u64(const char *s, uint64_t *v);
int sc_parse_delay(const char *s, struct delay *d);
int sc_parse_hex_token(const char *tok, uint8_t *buf, size_t *n);
/* Parse the scenario text (modified in place) into r->items. */
int sc_load(struct runner *r, char *text);

#endif
