/* sim_ctl.c: control commands (remove, insert, set key=value, status). */
#include <string.h>

#include "sim_int.h"
#include "tc_error.h"

static int reply_error(char *reply, size_t cap, const char *why)
{
	snprintf(reply, cap, "error: %s", why);
	return TC_E_FORMAT;
}

static void status(const struct tc_sim *sim, char *reply, size_t cap)
{
	const struct tc_sim_link *l = &sim->link;
	unsigned F, D;

	tc_t0c_factors(sim->card, &F, &D);
	snprintf(reply, cap,
	         "present=%s reader=%s powered=%s class=%c clock=%u state=%s F=%u D=%u app=%s "
	         "tx=%u rx=%u pps=%s",
	         sim->present ? "yes" : "no", sim->fd >= 0 ? "yes" : "no",
	         l->powered ? "yes" : "no", l->cls >= 1 && l->cls <= 3 ? 'A' + l->cls - 1 : '-',
	         l->clock_hz, tc_t0c_state_name(tc_t0c_state(sim->card)), F, D,
	         tc_card_os_selected(sim->os)[0] ? tc_card_os_selected(sim->os) : "none",
	         l->tx_chars, l->rx_chars, tc_sim_pps_name(sim->cfg.pps));
}

static int do_set(struct tc_sim *sim, const char *arg, char *reply, size_t cap)
{
	struct tc_sim_config next = sim->cfg;
	char why[TC_SIM_ERR_LEN];

	if (tc_sim_config_set_arg(&next, arg, why, sizeof(why)) != TC_OK)
		return reply_error(reply, cap, why);
	if (tc_sim_apply_config(sim, &next, why, sizeof(why)) != TC_OK)
		return reply_error(reply, cap, why);
	snprintf(reply, cap, "ok");
	return TC_OK;
}

int tc_sim_control(struct tc_sim *sim, const char *line, char *reply, size_t cap)
{
	char cmd[TC_SIM_LINE_MAX];
	size_t n = strlen(line);

	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '))
		n--;
	while (n > 0 && *line == ' ') {
		line++;
		n--;
	}
	if (n >= sizeof(cmd))
		return reply_error(reply, cap, "command too long");
	memcpy(cmd, line, n);
	cmd[n] = '\0';
	SIM_INFO(&sim->log, "control: %s", cmd);
	if (!strcmp(cmd, "status")) {
		status(sim, reply, cap);
		return TC_OK;
	}
	if (!strcmp(cmd, "remove") || !strcmp(cmd, "insert")) {
		if (cmd[0] == 'r' ? !sim->present : sim->present)
			return reply_error(reply, cap,
			                   sim->present ? "card already inserted"
			                                : "card already removed");
		if (cmd[0] == 'r')
			tc_sim_do_remove(sim, sim->link.now);
		else
			tc_sim_do_insert(sim);
		snprintf(reply, cap, "ok");
		return TC_OK;
	}
	if (!strncmp(cmd, "set ", 4))
		return do_set(sim, cmd + 4, reply, cap);
	return reply_error(reply, cap, "unknown command (remove, insert, set key=value, status)");
}
