/* sim_session.c: the card side of the loopback wire (docs/wire.md). */
#include "sim_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "app_token.h"
#include "tc_error.h"
#include "tc_timing.h"

/* --- creation --------------------------------------------------------------- */

int tc_sim_apply_config(struct tc_sim *sim, const struct tc_sim_config *cfg, char *why, size_t cap)
{
	struct tc_t0c_config ec;

	if (tc_sim_config_engine(cfg, &ec, why, cap) != TC_OK)
		return TC_E_FORMAT;
	if (tc_t0c_configure(sim->card, &ec) != TC_OK) {
		snprintf(why, cap, "the card engine refuses this configuration");
		return TC_E_FORMAT;
	}
	sim->cfg = *cfg;
	tc_card_os_set_default(sim->os, strcmp(cfg->default_app, "none") ? cfg->default_app : NULL);
	return TC_OK;
}

static void log_transition(void *ctx, enum tc_t0c_state from, enum tc_t0c_state to, uint64_t t)
{
	const struct tc_sim *sim = ctx;
	SIM_DEBUG(&sim->log, "card %s -> %s at %llu", tc_t0c_state_name(from),
	          tc_t0c_state_name(to), (unsigned long long)t);
}

/* The token application's log lines go to the sim's info log. */
static void log_token(void *ctx, const char *line)
{
	const struct tc_sim *sim = ctx;
	SIM_INFO(&sim->log, "token: %s", line);
}

/* The deposit-token application, its memory at cfg->token_store (or in memory). */
static int add_token_app(struct tc_sim *sim, const struct tc_sim_config *cfg, char *why, size_t cap)
{
	const char *path = cfg->token_store[0] ? cfg->token_store : NULL;
	if (tc_token_card_open(path, &sim->token, why, cap) != TC_OK)
		return TC_E_FORMAT;
	tc_token_card_set_log(sim->token, log_token, sim);
	return tc_card_os_add(sim->os, tc_card_app_token(), sim->token, false);
}

struct tc_sim *tc_sim_new(const struct tc_sim_config *cfg, const struct tc_sim_log *lg, char *why,
                          size_t cap)
{
	struct tc_t0c_config ec;
	struct tc_sim *sim = calloc(1, sizeof(*sim));

	if (!sim || tc_sim_config_engine(cfg, &ec, why, cap) != TC_OK)
		goto fail;
	sim->log = *lg;
	sim->fd = -1;
	sim->os = tc_card_os_new();
	if (!sim->os || tc_card_os_add(sim->os, tc_card_app_test(), NULL, true) != TC_OK)
		goto fail;
	if (add_token_app(sim, cfg, why, cap) != TC_OK)
		goto fail;
	sim->card = tc_t0c_new(&ec, tc_card_os_ops(), sim->os);
	if (!sim->card || tc_sim_apply_config(sim, cfg, why, cap) != TC_OK)
		goto fail;
	tc_t0c_set_log(sim->card, log_transition, sim);
	sim->present = cfg->present;
	return sim;
fail:
	if (sim && !why[0])
		snprintf(why, cap, "out of memory");
	tc_sim_free(sim);
	return NULL;
}

void tc_sim_free(struct tc_sim *sim)
{
	if (!sim)
		return;
	tc_sim_detach(sim);
	tc_t0c_free(sim->card);
	tc_card_os_free(sim->os);
	tc_token_card_close(sim->token);
	free(sim);
}

void tc_sim_set_realtime(struct tc_sim *sim, bool on)
{
	sim->opt_realtime = on;
}

void tc_sim_set_no_pacing(struct tc_sim *sim, bool on)
{
	sim->no_pacing = on;
}

bool tc_sim_attached(const struct tc_sim *sim)
{
	return sim->fd >= 0;
}

int tc_sim_fd(const struct tc_sim *sim)
{
	return sim->fd;
}

int tc_sim_attach(struct tc_sim *sim, int fd, FILE *record)
{
	if (sim->fd >= 0)
		return TC_E_STATE;
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	memset(&sim->link, 0, sizeof(sim->link));
	sim->fd = fd;
	sim->record = record;
	if (record) {
		(void)fwrite(TC_WIRE_RECORD_MAGIC, 1, TC_WIRE_RECORD_MAGIC_LEN, record);
		(void)fflush(record);
	}
	(void)tc_t0c_power_off(sim->card, 0);
	return TC_OK;
}

void tc_sim_detach(struct tc_sim *sim)
{
	if (sim->fd >= 0) {
		(void)tc_sim_flush(sim); /* a BYE, a REMOVE still queued */
		(void)close(sim->fd);
	}
	sim->link.nout = 0;
	sim->fd = -1;
	if (sim->record)
		(void)fflush(sim->record);
	sim->record = NULL;
	sim->link.powered = false;
	(void)tc_t0c_power_off(sim->card, sim->link.now);
}

/* --- sending ---------------------------------------------------------------- */

static double wall_now(void)
{
	struct timespec ts;
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Realtime: hold a message back until the wall clock reaches its time; what
 * is queued before it goes out first, on its own time. */
static void pace(struct tc_sim *sim, uint64_t t)
{
	const struct tc_sim_link *l = &sim->link;

	if (sim->no_pacing || !(sim->opt_realtime || l->peer_realtime) || !l->paced ||
	    l->clock_hz == 0 || t <= l->base_cycles)
		return;
	double due = l->base_wall + (double)(t - l->base_cycles) / (double)l->clock_hz;
	double wait = due - wall_now();
	if (wait <= 0)
		return;
	if (wait > 60.0)
		wait = 60.0; /* a bound: a paced wire never stalls the process for long */
	(void)tc_sim_flush(sim);
	struct timespec ts = {(time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9)};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void record(struct tc_sim *sim, char dir, const uint8_t *buf, size_t n)
{
	if (!sim->record)
		return;
	(void)fputc(dir, sim->record);
	(void)fwrite(buf, 1, n, sim->record);
}

static int write_all(struct tc_sim *sim, const uint8_t *buf, size_t n)
{
	size_t off = 0;

	while (off < n) {
		ssize_t w = send(sim->fd, buf + off, n - off, MSG_NOSIGNAL);
		if (w > 0) {
			off += (size_t)w;
			continue;
		}
		if (w < 0 && (errno == EINTR))
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd p = {.fd = sim->fd, .events = POLLOUT};
			if (poll(&p, 1, 5000) > 0)
				continue;
		}
		return TC_E_IO;
	}
	return TC_OK;
}

/* Encode a numbered message into the output queue (written first when it
 * is full) and the record. */
static int queue_encoded(struct tc_sim *sim, const struct tc_wire_msg *m)
{
	struct tc_sim_link *l = &sim->link;
	size_t room = m->type == TC_WIRE_CHARS ? TC_WIRE_MAX_RUN_MSG : TC_WIRE_MAX_MSG;

	if (l->nout + room > sizeof(l->out) && tc_sim_flush(sim) != TC_OK)
		return TC_E_CLOSED;
	int n = tc_wire_encode(m, l->out + l->nout, sizeof(l->out) - l->nout);
	if (n < 0)
		return n;
	record(sim, 'C', l->out + l->nout, (size_t)n);
	l->nout += (size_t)n;
	SIM_DEBUG(&sim->log, "-> %s seq %u ack %u t %llu", tc_wire_type_name(m->type), m->seq,
	          m->ack, (unsigned long long)m->time);
	return TC_OK;
}

/* Encode the characters gathered into a run: one CHARS, or a plain CHAR
 * when the run holds one character. */
static int flush_run(struct tc_sim *sim)
{
	struct tc_sim_link *l = &sim->link;
	struct tc_wire_msg m = {.type = TC_WIRE_CHARS, .seq = l->run_seq, .ack = l->run_ack};

	if (l->run_n == 0)
		return TC_OK;
	m.time = l->run_time;
	if (l->run_n == 1) {
		m.type = TC_WIRE_CHAR;
		m.u.chr.raw = l->run_pairs[0];
		m.u.chr.parity = l->run_pairs[1];
	} else {
		m.u.chars.spacing = (uint32_t)l->run_spacing;
		m.u.chars.n = (uint16_t)l->run_n;
		m.u.chars.pairs = l->run_pairs;
	}
	l->run_n = 0;
	return queue_encoded(sim, &m);
}

/* Does a character at t continue the run being gathered? */
static bool run_continues(const struct tc_sim_link *l, uint64_t t)
{
	if (l->run_n == 0 || l->run_n >= TC_WIRE_MAX_RUN || l->ack != l->run_ack)
		return false;
	if (l->run_n == 1)
		return t > l->run_time && t - l->run_time <= UINT32_MAX;
	return t == l->run_time + l->run_n * l->run_spacing;
}

int tc_sim_send_char(struct tc_sim *sim, uint64_t t, uint8_t raw, uint8_t parity, uint32_t *seq)
{
	struct tc_sim_link *l = &sim->link;

	if (!l->runs) {
		struct tc_wire_msg m = {.type = TC_WIRE_CHAR, .time = t};
		m.u.chr.raw = raw;
		m.u.chr.parity = parity;
		int rc = tc_sim_send(sim, &m);
		*seq = m.seq;
		return rc;
	}
	if (l->dead)
		return TC_E_CLOSED;
	if (t < l->now)
		t = l->now;
	if (!run_continues(l, t)) {
		int rc = flush_run(sim);
		if (rc != TC_OK)
			return rc;
		l->run_time = t;
		l->run_seq = l->seq + 1;
		l->run_ack = l->ack;
	} else if (l->run_n == 1) {
		l->run_spacing = t - l->run_time;
	}
	uint8_t *pair = l->run_pairs + 2 * (size_t)l->run_n;
	pair[0] = raw;
	pair[1] = parity;
	l->run_n++;
	*seq = ++l->seq;
	l->now = t;
	l->last_action = *seq;
	l->sent_since_idle = true;
	return TC_OK;
}

/* Write what is queued, in one send() when the socket takes it. */
int tc_sim_flush(struct tc_sim *sim)
{
	struct tc_sim_link *l = &sim->link;
	if (l->run_n > 0 && !l->dead && flush_run(sim) != TC_OK)
		l->dead = true;
	size_t n = l->nout;

	l->nout = 0;
	if (n == 0 || l->dead || sim->fd < 0)
		return l->dead ? TC_E_CLOSED : TC_OK;
	if (write_all(sim, l->out, n) != TC_OK) {
		l->dead = true;
		return TC_E_CLOSED;
	}
	return TC_OK;
}

/* Stamp, number and queue one message; keeps "now" and the last actions.
 * The queue is written by tc_sim_flush(): at the end of tc_sim_pump(), after
 * a control command, before a realtime wait, and when it is full. */
int tc_sim_send(struct tc_sim *sim, struct tc_wire_msg *m)
{
	struct tc_sim_link *l = &sim->link;

	if (l->dead)
		return TC_E_CLOSED;
	if (l->run_n > 0 && flush_run(sim) != TC_OK) /* the run goes first */
		return TC_E_CLOSED;
	if (m->time < l->now && m->type != TC_WIRE_HELLO)
		m->time = l->now;
	m->seq = ++l->seq;
	m->ack = l->ack;
	pace(sim, m->time);
	int rc = queue_encoded(sim, m);
	if (rc != TC_OK)
		return rc;
	if (m->time > l->now)
		l->now = m->time;
	if (m->type == TC_WIRE_CHAR || m->type == TC_WIRE_ERROR)
		l->last_action = m->seq;
	if (m->type == TC_WIRE_ERROR)
		l->last_hard = m->seq;
	l->sent_since_idle = m->type != TC_WIRE_IDLE;
	return TC_OK;
}

int tc_sim_send_simple(struct tc_sim *sim, uint8_t type, uint64_t t)
{
	struct tc_wire_msg m = {.type = type, .time = t};
	return tc_sim_send(sim, &m);
}

int tc_sim_send_bye(struct tc_sim *sim, const char *reason)
{
	struct tc_wire_msg m = {.type = TC_WIRE_BYE, .time = sim->link.now};

	SIM_INFO(&sim->log, "BYE to the reader: %s", reason);
	snprintf(m.u.bye.reason, sizeof(m.u.bye.reason), "%.32s", reason);
	if (tc_sim_send(sim, &m) == TC_OK)
		(void)tc_sim_flush(sim);
	sim->link.dead = true;
	return TC_E_CLOSED;
}

/* The card leaves the slot (control `remove` or remove_at). */
void tc_sim_do_remove(struct tc_sim *sim, uint64_t t)
{
	sim->present = false;
	sim->link.powered = false;
	(void)tc_t0c_power_off(sim->card, t);
	struct tc_t0c_out o;
	while (tc_t0c_next(sim->card, &o))
		;
	if (sim->fd >= 0 && sim->link.hello_done &&
	    tc_sim_send_simple(sim, TC_WIRE_REMOVE, t) == TC_OK)
		(void)tc_sim_flush(sim);
	SIM_INFO(&sim->log, "card removed");
}

void tc_sim_do_insert(struct tc_sim *sim)
{
	sim->present = true;
	if (sim->fd >= 0 && sim->link.hello_done &&
	    tc_sim_send_simple(sim, TC_WIRE_INSERT, sim->link.now) == TC_OK)
		(void)tc_sim_flush(sim);
	SIM_INFO(&sim->log, "card inserted");
}
