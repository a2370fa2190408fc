/* sim_main.c: tokencard-sim, one simulated card on the loopback wire.
 *
 *   tokencard-sim --socket PATH [--config FILE] [--set key=value]...
 *                 [--realtime] [--record FILE] [--once]
 *
 * Listens on the Unix socket PATH for one reader at a time and on PATH.ctl
 * for control commands (one line each, answered with one line). Exits on
 * SIGINT/SIGTERM, or with --once when the first reader has gone. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "sim_serial.h"
#include "tc_error.h"
#include "tc_sim.h"

#define MAX_CONFIG_FILE (1u << 20)
#define MAX_CTL_CLIENTS 4
#define CTL_LINE_MAX    600

/* The one global: the signal handler's flag. */
static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

struct options {
	const char *socket_path;
	const char *record_path;
	bool realtime, once;
	struct sim_serial_opts serial; /* --serial PATH --lines PATH (docs/serial.md) */
};

struct ctl_client {
	int fd;
	char buf[CTL_LINE_MAX];
	size_t n;
};

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: tokencard-sim --socket PATH [--config FILE] [--set key=value]...\n"
	        "                     [--realtime] [--record FILE] [--once]\n"
	        "       tokencard-sim --serial LINK --lines PATH [--serial-reset rts|dtr[-inv]]\n"
	        "                     [--config FILE] [--set key=value]...\n");
}

static int load_config_file(struct tc_sim_config *cfg, const char *path)
{
	char err[TC_SIM_ERR_LEN + 80];
	FILE *f = fopen(path, "rb");

	if (!f) {
		fprintf(stderr, "tokencard-sim: cannot open %s: %s\n", path, strerror(errno));
		return -1;
	}
	char *text = malloc(MAX_CONFIG_FILE);
	size_t n = text ? fread(text, 1, MAX_CONFIG_FILE, f) : 0;
	(void)fclose(f);
	int rc = text ? tc_sim_config_parse(cfg, text, n, path, err, sizeof(err)) : TC_E_NOMEM;
	free(text);
	if (rc != TC_OK) {
		fprintf(stderr, "tokencard-sim: %s\n", rc == TC_E_NOMEM ? "out of memory" : err);
		return -1;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct options *o, struct tc_sim_config *cfg)
{
	char why[TC_SIM_ERR_LEN];

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool has_next = i + 1 < argc;
		if (!strcmp(a, "--realtime")) {
			o->realtime = true;
		} else if (!strcmp(a, "--once")) {
			o->once = true;
		} else if (!strcmp(a, "--socket") && has_next) {
			o->socket_path = argv[++i];
		} else if (!strcmp(a, "--serial") && has_next) {
			o->serial.link_path = argv[++i];
		} else if (!strcmp(a, "--lines") && has_next) {
			o->serial.lines_path = argv[++i];
		} else if (!strcmp(a, "--serial-reset") && has_next) {
			const char *v = argv[++i];
			o->serial.reset_dtr = !strncmp(v, "dtr", 3);
			o->serial.reset_inv = strstr(v, "-inv") != NULL;
		} else if (!strcmp(a, "--record") && has_next) {
			o->record_path = argv[++i];
		} else if (!strcmp(a, "--config") && has_next) {
			if (load_config_file(cfg, argv[++i]) != 0)
				return -1;
		} else if (!strcmp(a, "--set") && has_next) {
			if (tc_sim_config_set_arg(cfg, argv[++i], why, sizeof(why)) != TC_OK) {
				fprintf(stderr, "tokencard-sim: --set %s: %s\n", argv[i], why);
				return -1;
			}
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			exit(0);
		} else {
			fprintf(stderr, "tokencard-sim: unknown or incomplete option '%s'\n", a);
			usage(stderr);
			return -1;
		}
	}
	if (!o->socket_path && !(o->serial.link_path && o->serial.lines_path)) {
		usage(stderr);
		return -1;
	}
	return 0;
}

/* Listen on path, removing a stale socket file first. The socket is bound
 * under PATH.new and renamed once it listens, so that whoever waits for
 * PATH to appear never finds it refusing connections. */
static int listen_unix(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;

	if (strlen(path) + 4 >= sizeof(sa.sun_path)) {
		fprintf(stderr, "tokencard-sim: socket path too long: %s\n", path);
		return -1;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s.new", path);
	if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		(void)unlink(path);
	if (stat(sa.sun_path, &st) == 0 && S_ISSOCK(st.st_mode))
		(void)unlink(sa.sun_path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 4) != 0 ||
	    rename(sa.sun_path, path) != 0) {
		fprintf(stderr, "tokencard-sim: cannot listen on %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			(void)close(fd);
		return -1;
	}
	return fd;
}

static void ctl_input(struct tc_sim *sim, struct ctl_client *c)
{
	ssize_t r = read(c->fd, c->buf + c->n, sizeof(c->buf) - 1 - c->n);
	if (r <= 0) {
		(void)close(c->fd);
		c->fd = -1;
		return;
	}
	c->n += (size_t)r;
	char *nl;
	while ((nl = memchr(c->buf, '\n', c->n)) != NULL) {
		char reply[TC_SIM_STATUS_LEN + 64];
		*nl = '\0';
		(void)tc_sim_control(sim, c->buf, reply, sizeof(reply));
		size_t used = (size_t)(nl - c->buf) + 1;
		memmove(c->buf, nl + 1, c->n - used);
		c->n -= used;
		size_t len = strlen(reply);
		reply[len++] = '\n';
		if (write(c->fd, reply, len) != (ssize_t)len)
			break;
	}
	if (c->n >= sizeof(c->buf) - 1) {
		(void)!write(c->fd, "error: line too long\n", 21);
		c->n = 0;
	}
}

static void ctl_accept(int lfd, struct ctl_client *clients)
{
	int fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		return;
	for (int i = 0; i < MAX_CTL_CLIENTS; i++)
		if (clients[i].fd < 0) {
			clients[i].fd = fd;
			clients[i].n = 0;
			return;
		}
	(void)!write(fd, "error: too many control connections\n", 36);
	(void)close(fd);
}

static FILE *open_record(const char *path)
{
	if (!path)
		return NULL;
	FILE *f = fopen(path, "wb");
	if (!f)
		fprintf(stderr, "tokencard-sim: cannot write %s: %s\n", path, strerror(errno));
	return f;
}

/* Accept a reader: attach it, or refuse it when one is already attached. */
static void reader_accept(struct tc_sim *sim, int lfd, const struct options *o, FILE **rec)
{
	int fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		return;
	if (tc_sim_attached(sim)) {
		(void)close(fd); /* one reader at a time */
		return;
	}
	if (*rec)
		(void)fclose(*rec);
	*rec = open_record(o->record_path);
	(void)tc_sim_attach(sim, fd, *rec);
}

struct loop {
	struct tc_sim *sim;
	const struct options *o;
	int lfd, cfd;
	struct ctl_client clients[MAX_CTL_CLIENTS];
	FILE *rec;
};

/* One round of poll. Returns false when the process should end. */
static bool loop_once(struct loop *L)
{
	struct pollfd p[3 + MAX_CTL_CLIENTS];
	int n = 0;

	p[n++] = (struct pollfd){.fd = L->lfd, .events = POLLIN};
	p[n++] = (struct pollfd){.fd = L->cfd, .events = POLLIN};
	p[n++] = (struct pollfd){.fd = tc_sim_fd(L->sim), .events = POLLIN};
	for (int i = 0; i < MAX_CTL_CLIENTS; i++)
		p[n++] = (struct pollfd){.fd = L->clients[i].fd, .events = POLLIN};
	if (poll(p, (nfds_t)n, 1000) < 0)
		return errno == EINTR;
	if (p[2].fd >= 0 && p[2].revents && tc_sim_pump(L->sim) != TC_OK) {
		tc_sim_detach(L->sim);
		if (L->o->once)
			return false;
	}
	for (int i = 0; i < MAX_CTL_CLIENTS; i++)
		if (p[3 + i].fd >= 0 && p[3 + i].revents)
			ctl_input(L->sim, &L->clients[i]);
	if (p[1].revents)
		ctl_accept(L->cfd, L->clients);
	if (p[0].revents)
		reader_accept(L->sim, L->lfd, L->o, &L->rec);
	return true;
}

int main(int argc, char **argv)
{
	struct options o = {0};
	struct tc_sim_config cfg;
	struct tc_sim_log lg;
	char why[TC_SIM_ERR_LEN], ctl_path[256];

	tc_sim_log_init(&lg);
	tc_sim_config_init(&cfg);
	if (parse_args(argc, argv, &o, &cfg) != 0)
		return 2;
	struct tc_sim *sim = tc_sim_new(&cfg, &lg, why, sizeof(why));
	if (!sim) {
		fprintf(stderr, "tokencard-sim: %s\n", why);
		return 2;
	}
	tc_sim_set_realtime(sim, o.realtime);
	if (o.serial.link_path && o.serial.lines_path) {
		struct sigaction ss = {.sa_handler = on_signal};
		(void)sigaction(SIGINT, &ss, NULL);
		(void)sigaction(SIGTERM, &ss, NULL);
		(void)signal(SIGPIPE, SIG_IGN);
		int src = sim_serial_run(sim, &o.serial, &stop_requested);
		tc_sim_free(sim);
		return src;
	}
	snprintf(ctl_path, sizeof(ctl_path), "%s.ctl", o.socket_path);
	/* control first: once PATH exists, everything is ready */
	struct loop L = {.sim = sim, .o = &o, .cfd = listen_unix(ctl_path)};
	L.lfd = L.cfd >= 0 ? listen_unix(o.socket_path) : -1;
	if (L.lfd < 0 || L.cfd < 0) {
		if (L.cfd >= 0)
			(void)close(L.cfd);
		tc_sim_free(sim);
		return 1;
	}
	for (int i = 0; i < MAX_CTL_CLIENTS; i++)
		L.clients[i].fd = -1;
	struct sigaction sa = {.sa_handler = on_signal};
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)signal(SIGPIPE, SIG_IGN);
	SIM_INFO(&lg, "listening on %s (control %s)", o.socket_path, ctl_path);
	while (!stop_requested && loop_once(&L))
		;
	for (int i = 0; i < MAX_CTL_CLIENTS; i++)
		if (L.clients[i].fd >= 0)
			(void)close(L.clients[i].fd);
	tc_sim_free(sim);
	if (L.rec)
		(void)fclose(L.rec);
	(void)close(L.lfd);
	(void)close(L.cfd);
	(void)unlink(o.socket_path);
	(void)unlink(ctl_path);
	return 0;
}
