/* sim_wire.c: handling the reader's messages (docs/wire.md sections 2-5). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "sim_int.h"
#include "tc_error.h"

static double wall_now(void)
{
	struct timespec ts;
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void send_card_char(struct tc_sim *sim, const struct tc_t0c_out *o)
{
	struct tc_sim_link *l = &sim->link;
	uint8_t raw, parity;
	uint32_t seq;

	if (o->burst != l->burst_no) {
		l->burst_no = o->burst;
		l->nburst = 0;
	}
	tc_wire_char_make(o->byte, tc_t0c_inverse(sim->card), &raw, &parity);
	if (o->bad_parity)
		parity ^= 1u;
	if (tc_sim_send_char(sim, o->time, raw, parity, &seq) != TC_OK)
		return;
	l->tx_chars++;
	if (o->index < TC_T0C_MAX_BURST) {
		l->burst_seq[o->index] = seq;
		if (o->index >= l->nburst)
			l->nburst = o->index + 1;
	}
	/* "now" covers the character itself */
	uint64_t end = o->time + tc_t0c_etu_clk(sim->card, 10);
	if (end > l->now)
		l->now = end;
}

/* Send what the card engine queued: characters, error signals. */
static void flush_card(struct tc_sim *sim)
{
	struct tc_sim_link *l = &sim->link;
	struct tc_t0c_out o;

	while (tc_t0c_next(sim->card, &o)) {
		l->need_idle = true;
		if (o.kind == TC_T0C_OUT_SIGNAL) {
			struct tc_wire_msg m = {.type = TC_WIRE_ERROR, .time = o.time};
			m.u.error.ref = l->rx_char_seq;
			(void)tc_sim_send(sim, &m);
			continue;
		}
		if (sim->cfg.remove_at && o.tx_no == sim->cfg.remove_at) {
			sim->cfg.remove_at = 0; /* once */
			tc_sim_do_remove(sim, o.time);
			return;
		}
		send_card_char(sim, &o);
	}
}

static bool class_answered(const struct tc_sim *sim, uint8_t cls)
{
	return cls >= 1 && cls <= 3 && (sim->cfg.answer_classes & (1u << (cls - 1)));
}

static void on_power_on(struct tc_sim *sim, const struct tc_wire_msg *m)
{
	struct tc_sim_link *l = &sim->link;

	l->cls = m->u.power_on.cls;
	l->clock_hz = m->u.power_on.clock_hz;
	l->paced = true;
	l->base_wall = wall_now();
	l->base_cycles = m->time;
	if (!sim->present) {
		SIM_INFO(&sim->log, "POWER_ON with no card in the slot: ignored");
		return;
	}
	l->powered = true;
	l->class_refused = !class_answered(sim, l->cls);
	if (l->class_refused)
		SIM_INFO(&sim->log, "powered at class %c, which this card does not answer at",
		         'A' + l->cls - 1);
	(void)tc_t0c_power_on(sim->card, m->time);
}

static void on_clock(struct tc_sim *sim, const struct tc_wire_msg *m)
{
	struct tc_sim_link *l = &sim->link;

	if (l->paced) {
		if (l->clock_hz && m->time > l->base_cycles)
			l->base_wall += (double)(m->time - l->base_cycles) / (double)l->clock_hz;
		else if (!l->clock_hz)
			l->base_wall = wall_now();
		l->base_cycles = m->time;
	}
	l->clock_hz = m->u.clock.clock_hz;
}

static void on_rst(struct tc_sim *sim, const struct tc_wire_msg *m)
{
	struct tc_sim_link *l = &sim->link;

	if (!l->powered || !sim->present)
		return;
	if (m->u.rst.level && l->class_refused)
		return; /* a card that does not work at this voltage stays mute */
	if (tc_t0c_rst(sim->card, m->u.rst.level != 0, m->time) != TC_OK)
		SIM_DEBUG(&sim->log, "RST %u ignored in state %s", m->u.rst.level,
		          tc_t0c_state_name(tc_t0c_state(sim->card)));
}

/* Returns false for a stale CHAR (dropped without effect). */
static bool on_char(struct tc_sim *sim, const struct tc_wire_msg *m)
{
	struct tc_sim_link *l = &sim->link;
	bool ok;

	if (m->ack < l->last_action) {
		SIM_DEBUG(&sim->log, "stale CHAR seq %u (ack %u < %u)", m->seq, m->ack,
		          l->last_action);
		return false;
	}
	uint64_t end = m->time + tc_t0c_etu_clk(sim->card, 10);
	if (end > l->now)
		l->now = end;
	if (!l->powered)
		return true;
	l->rx_chars++;
	l->rx_char_seq = m->seq;
	uint8_t b =
	    tc_wire_char_read(m->u.chr.raw, m->u.chr.parity, tc_t0c_inverse(sim->card), &ok);
	(void)tc_t0c_on_char(sim->card, b, ok, m->time);
	return true;
}

/* Returns false for a stale ERROR. */
static bool on_error(struct tc_sim *sim, const struct tc_wire_msg *m)
{
	struct tc_sim_link *l = &sim->link;
	unsigned idx = TC_T0C_MAX_BURST;

	for (unsigned i = 0;
	     m->ack >= l->last_hard && m->u.error.ref > l->last_hard && i < l->nburst; i++)
		if (l->burst_seq[i] == m->u.error.ref)
			idx = i;
	if (idx == TC_T0C_MAX_BURST) {
		SIM_DEBUG(&sim->log, "stale ERROR seq %u ref %u", m->seq, m->u.error.ref);
		return false;
	}
	/* what the card sent after the interruption never happened (section 4) */
	l->now = m->time;
	if (tc_t0c_on_error(sim->card, idx, m->time) == TC_E_PARITY)
		SIM_INFO(&sim->log, "character rejected beyond the repetition limit: card silent");
	return true;
}

/* TC_WIRE_RUNS=0: neither accept nor send CHARS (to compare both wires). */
static bool runs_off(void)
{
	const char *e = getenv("TC_WIRE_RUNS");
	return e && strcmp(e, "0") == 0;
}

static int on_hello(struct tc_sim *sim, const struct tc_wire_msg *m)
{
	struct tc_sim_link *l = &sim->link;

	if (l->hello_done)
		return tc_sim_send_bye(sim, "second HELLO");
	if (m->u.hello.version != TC_WIRE_VERSION)
		return tc_sim_send_bye(sim, "version");
	if (m->u.hello.role != TC_WIRE_ROLE_READER)
		return tc_sim_send_bye(sim, "HELLO role is not reader");
	l->hello_done = true;
	l->peer_realtime = m->u.hello.realtime != 0;
	/* runs only where nothing paces the wire: pacing is per message */
	l->runs = (m->flags & TC_WIRE_HELLO_RUNS) && !runs_off() && !l->peer_realtime &&
	          !sim->opt_realtime;
	SIM_INFO(&sim->log, "reader '%s' connected%s", m->u.hello.name,
	         l->peer_realtime ? " (realtime)" : "");
	struct tc_wire_msg h = {.type = TC_WIRE_HELLO, .time = 0};
	h.flags = runs_off() ? 0 : TC_WIRE_HELLO_RUNS;
	h.u.hello.version = TC_WIRE_VERSION;
	h.u.hello.role = TC_WIRE_ROLE_CARD;
	h.u.hello.present = sim->present ? 1 : 0;
	snprintf(h.u.hello.name, sizeof(h.u.hello.name), "%s", sim->cfg.name);
	return tc_sim_send(sim, &h);
}

static int dispatch(struct tc_sim *sim, const struct tc_wire_msg *m)
{
	struct tc_sim_link *l = &sim->link;

	switch ((enum tc_wire_type)m->type) {
	case TC_WIRE_HELLO:
		return on_hello(sim, m);
	case TC_WIRE_BYE:
		SIM_INFO(&sim->log, "reader said BYE: %s", m->u.bye.reason);
		l->dead = true;
		return TC_E_CLOSED;
	case TC_WIRE_POWER_ON:
		on_power_on(sim, m);
		break;
	case TC_WIRE_POWER_OFF:
		l->powered = false;
		(void)tc_t0c_power_off(sim->card, m->time);
		break;
	case TC_WIRE_RST:
		on_rst(sim, m);
		break;
	case TC_WIRE_CLOCK:
		on_clock(sim, m);
		break;
	case TC_WIRE_CHAR:
		if (!on_char(sim, m))
			return TC_OK;
		break;
	case TC_WIRE_ERROR:
		if (!on_error(sim, m))
			return TC_OK;
		break;
	case TC_WIRE_IDLE:
		if (m->ack >= l->last_action && m->time > l->now)
			l->now = m->time;
		return TC_OK;
	case TC_WIRE_INSERT:
	case TC_WIRE_REMOVE:
	case TC_WIRE_CHARS: /* expanded by drain_input(); never reaches here */
		SIM_INFO(&sim->log, "%s from the reader ignored", tc_wire_type_name(m->type));
		return TC_OK;
	}
	l->need_idle = true;
	return TC_OK;
}

static int handle(struct tc_sim *sim, const struct tc_wire_msg *m)
{
	struct tc_sim_link *l = &sim->link;

	l->ack = m->seq;
	l->rx_msgs++;
	SIM_DEBUG(&sim->log, "<- %s seq %u ack %u t %llu", tc_wire_type_name(m->type), m->seq,
	          m->ack, (unsigned long long)m->time);
	if (!l->hello_done && m->type != TC_WIRE_HELLO)
		return tc_sim_send_bye(sim, "HELLO first");
	/* "now" moves with current messages; CHAR, ERROR and IDLE may be stale */
	if (m->type == TC_WIRE_CLOCK && m->time > l->now)
		l->now = m->time;
	/* power and reset interrupt the card: its later stamps never happened */
	if (m->type == TC_WIRE_POWER_ON || m->type == TC_WIRE_POWER_OFF || m->type == TC_WIRE_RST)
		l->now = m->time;
	int rc = dispatch(sim, m);
	if (rc == TC_OK)
		flush_card(sim);
	return l->dead ? TC_E_CLOSED : rc;
}

/* Decode and handle every complete message in the input buffer. */
static int drain_input(struct tc_sim *sim)
{
	struct tc_sim_link *l = &sim->link;
	size_t off = 0;
	int rc = TC_OK;

	while (rc == TC_OK && off < l->nin) {
		struct tc_wire_msg m;
		char why[96];
		int n = tc_wire_decode(l->in + off, l->nin - off, &m, why, sizeof(why));
		if (n == 0)
			break;
		if (n < 0) {
			SIM_INFO(&sim->log, "malformed message from the reader: %s", why);
			return tc_sim_send_bye(sim, why);
		}
		if (sim->record) {
			(void)fputc('R', sim->record);
			(void)fwrite(l->in + off, 1, (size_t)n, sim->record);
		}
		off += (size_t)n;
		if (m.type != TC_WIRE_CHARS) {
			rc = handle(sim, &m);
			continue;
		}
		/* a run is its characters, one after the other (wire.md 2.2) */
		for (unsigned i = 0; i < m.u.chars.n && rc == TC_OK; i++) {
			struct tc_wire_msg c;
			tc_wire_run_char(&m, i, &c);
			rc = handle(sim, &c);
		}
	}
	memmove(l->in, l->in + off, l->nin - off);
	l->nin -= off;
	return rc;
}

int tc_sim_pump(struct tc_sim *sim)
{
	struct tc_sim_link *l = &sim->link;
	int rc = TC_OK;

	if (sim->fd < 0 || l->dead)
		return TC_E_CLOSED;
	for (;;) {
		ssize_t r = recv(sim->fd, l->in + l->nin, sizeof(l->in) - l->nin, 0);
		if (r == 0)
			return TC_E_CLOSED;
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break; /* EAGAIN: all that has arrived is in */
		l->nin += (size_t)r;
		rc = drain_input(sim);
		if (rc != TC_OK)
			break;
	}
	if (rc == TC_OK && (errno != EAGAIN && errno != EWOULDBLOCK))
		rc = TC_E_CLOSED;
	/* A removed card sends nothing but INSERT (section 5.7). */
	if (rc == TC_OK && l->need_idle) {
		l->need_idle = false;
		if (sim->present)
			rc = tc_sim_send_simple(sim, TC_WIRE_IDLE, l->now);
	}
	/* everything the card said in answer goes out in one write */
	if (tc_sim_flush(sim) != TC_OK)
		rc = TC_E_CLOSED;
	if (sim->record)
		(void)fflush(sim->record);
	return rc == TC_OK ? TC_OK : TC_E_CLOSED;
}
