/* rig_start.c: starting the rig: cards, reader definitions, pcscd. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <winscard.h>

#include "proc.h"
#include "rig_int.h"

#ifndef TC_RIG_PRELOAD
#define TC_RIG_PRELOAD ""
#endif
#ifndef TC_INSTALLED_DRIVER
#define TC_INSTALLED_DRIVER "/usr/lib/pcsc/drivers/serial/libifd-tokencard.so"
#endif

static int listen_socket(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path))
		return -1;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	(void)unlink(path);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || chmod(path, 0666) != 0 ||
	    listen(fd, 64) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		(void)write(fd, text, strlen(text));
		close(fd);
	}
}

/* A private mount namespace with its own /run, where pcscd keeps its pid
 * file; a user namespace first when we are not root. */
static int private_run(void)
{
	uid_t uid = getuid();
	gid_t gid = getgid();
	if (unshare(CLONE_NEWNS) != 0) {
		char map[64];
		if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0)
			return -1;
		write_file("/proc/self/setgroups", "deny");
		snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
		write_file("/proc/self/uid_map", map);
		snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
		write_file("/proc/self/gid_map", map);
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		return -1;
	if (mount("tmpfs", "/run", "tmpfs", 0, "mode=0755") != 0)
		return -1;
	return mkdir("/run/pcscd", 0755);
}

static void exec_pcscd(const char *dir, int lfd, const char *preload, int debug)
{
	char conf[PATH_MAX], pid[32];
	snprintf(conf, sizeof(conf), "%s/conf", dir);
	if (lfd != 3) {
		(void)dup2(lfd, 3);
		close(lfd);
	}
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	setenv("LISTEN_FDS", "1", 1);
	setenv("LISTEN_PID", pid, 1);
	if (preload && *preload) {
		setenv("LD_PRELOAD", preload, 1);
		setenv("ASAN_OPTIONS", "detect_leaks=0", 1);
	}
	if (private_run() != 0) {
		fprintf(stderr, "tokencard rig: no private /run for pcscd: %s\n", strerror(errno));
		_exit(126);
	}
	if (debug)
		execlp("pcscd", "pcscd", "--foreground", "--debug", "-c", conf, (char *)NULL);
	else
		execlp("pcscd", "pcscd", "--foreground", "-c", conf, (char *)NULL);
	fprintf(stderr, "tokencard rig: cannot run pcscd: %s\n", strerror(errno));
	_exit(127);
}

int rig_spawn_pcscd(const char *dir, const char *preload, int debug)
{
	char sock[PATH_MAX];
	snprintf(sock, sizeof(sock), "%s/pcscd.comm", dir);
	int lfd = listen_socket(sock);
	if (lfd < 0) {
		fprintf(stderr, "tokencard rig: cannot listen on %s: %s\n", sock, strerror(errno));
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		close(lfd);
		return -1;
	}
	if (pid == 0) {
		char logs[PATH_MAX];
		snprintf(logs, sizeof(logs), "%s/pcscd.log", dir);
		int fd = open(logs, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			(void)dup2(fd, 1);
			(void)dup2(fd, 2);
			close(fd);
		}
		(void)setsid();
		exec_pcscd(dir, lfd, preload, debug);
	}
	close(lfd);
	return rig_write_pid(dir, "pcscd", pid);
}

static unsigned count_readers(void)
{
	SCARDCONTEXT ctx;
	char buf[4096];
	DWORD len = sizeof(buf);
	unsigned n = 0;
	if (SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx) != SCARD_S_SUCCESS)
		return 0;
	if (SCardListReaders(ctx, NULL, buf, &len) == SCARD_S_SUCCESS)
		for (char *p = buf; *p; p += strlen(p) + 1)
			n++;
	(void)SCardReleaseContext(ctx);
	return n;
}

int rig_wait_readers(const char *dir, unsigned want, int ms)
{
	char sock[PATH_MAX];
	snprintf(sock, sizeof(sock), "%s/pcscd.comm", dir);
	setenv("PCSCLITE_CSOCK_NAME", sock, 1);
	for (int t = 0; t < ms; t += 20) {
		if (count_readers() >= want)
			return 0;
		proc_sleep_ms(20);
	}
	fprintf(stderr,
	        "tokencard rig: pcscd did not show %u reader(s) within %d ms; see %s/pcscd.log\n",
	        want, ms, dir);
	return -1;
}

static int resolve_driver(const struct rig_opts *o, char *out, size_t cap)
{
	char self[PATH_MAX];
	if (o->driver) {
		if (!realpath(o->driver, out) || cap < PATH_MAX)
			return -1;
		return 0;
	}
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		char *slash = strrchr(self, '/');
		if (slash) {
			snprintf(slash, sizeof(self) - (size_t)(slash - self), "%s",
			         "/../driver/libifd-tokencard.so");
			if (realpath(self, out))
				return 0;
		}
	}
	snprintf(out, cap, "%s", TC_INSTALLED_DRIVER);
	return access(out, R_OK);
}

/* --token-card: the card command gets the deposit-token application and the
 * memory file of reader n. The command is split at spaces: no space in the
 * path. */
static int token_card_args(const char *dir, const struct rig_opts *o, unsigned n, char *card,
                           size_t cap)
{
	char store[PATH_MAX], cwd[PATH_MAX];
	size_t len = strlen(card);
	if (!o->token_card)
		return 0;
	if (!o->token_store)
		snprintf(store, sizeof(store), "%s/token%u.mem", dir, n);
	else if (o->token_store[0] == '/' || !getcwd(cwd, sizeof(cwd)))
		snprintf(store, sizeof(store), n ? "%s.%u" : "%s", o->token_store, n);
	else
		snprintf(store, sizeof(store), n ? "%s/%s.%u" : "%s/%s", cwd, o->token_store, n);
	if (strchr(store, ' ')) {
		fprintf(stderr, "tokencard rig: --token-card: no space allowed in '%s'\n", store);
		return -1;
	}
	if ((size_t)snprintf(card + len, cap - len, " --set default_app=token --set token_store=%s",
	                     store) >= cap - len) {
		fprintf(stderr, "tokencard rig: --token-card: card command too long\n");
		return -1;
	}
	return 0;
}

/* Start the card of reader n (unless an existing socket was given) and write
 * its reader definition. */
static int start_reader(const char *dir, const struct rig_opts *o, unsigned n, const char *driver)
{
	char sock[PATH_MAX], conf[PATH_MAX], name[16], text[PATH_MAX * 3], card[1024],
	    rec[PATH_MAX];
	if (n < o->nsockets) {
		snprintf(sock, sizeof(sock), "%s", o->sockets[n]);
	} else {
		pid_t pid;
		snprintf(sock, sizeof(sock), "%s/card%u.sock", dir, n);
		snprintf(name, sizeof(name), "card%u", n);
		if (o->card)
			snprintf(card, sizeof(card), "%s", o->card);
		else
			proc_default_card(card, sizeof(card));
		if (token_card_args(dir, o, n, card, sizeof(card)) != 0)
			return -1;
		if (proc_spawn(card, sock, dir, name, &pid) != 0)
			return -1;
		(void)rig_write_pid(dir, "card", pid);
		if (proc_wait_socket(sock, pid, 5000) != 0)
			return -1;
	}
	rec[0] = '\0';
	if (o->record)
		snprintf(rec, sizeof(rec), ":record=%s.%u", o->record, n);
	snprintf(conf, sizeof(conf), "%s/conf/reader%u", dir, n);
	snprintf(text, sizeof(text),
	         "FRIENDLYNAME \"tokencard loopback %u\"\nDEVICENAME loopback:%s%s\n"
	         "LIBPATH %s\nCHANNELID %u\n",
	         n, sock, rec, driver, n);
	write_file(conf, text);
	return 0;
}

/* Stop the rig when the owner process exits, for tests that are killed. */
static void start_watch(const char *dir, int owner)
{
	pid_t pid = fork();
	if (pid != 0) {
		if (pid > 0)
			(void)rig_write_pid(dir, "watch", pid);
		return;
	}
	rig_forget_lock();
	(void)setsid();
	while (kill(owner, 0) == 0 || errno != ESRCH)
		proc_sleep_ms(200);
	(void)rig_stop(dir);
	_exit(0);
}

static int copy_extra(const char *dir, const struct rig_opts *o)
{
	for (unsigned i = 0; i < o->nextra; i++) {
		char dst[PATH_MAX], buf[4096];
		FILE *in = fopen(o->extra_conf[i], "r");
		if (!in) {
			fprintf(stderr, "tokencard rig: cannot read %s\n", o->extra_conf[i]);
			return -1;
		}
		size_t n = fread(buf, 1, sizeof(buf) - 1, in);
		fclose(in);
		buf[n] = '\0';
		snprintf(dst, sizeof(dst), "%s/conf/extra%u", dir, i);
		write_file(dst, buf);
	}
	return 0;
}

int rig_start(const struct rig_opts *o)
{
	char dir[PATH_MAX - 64], path[PATH_MAX], driver[PATH_MAX];
	rig_dir(o->dir, dir, sizeof(dir));
	unsigned readers = o->nsockets > o->readers ? o->nsockets : o->readers;
	if (readers > RIG_MAX_READERS)
		return -1;
	if (resolve_driver(o, driver, sizeof(driver)) != 0) {
		fprintf(stderr, "tokencard rig: no driver library (give --driver PATH)\n");
		return -1;
	}
	(void)mkdir(dir, 0700);
	rig_lock(dir);
	snprintf(path, sizeof(path), "%s/pids", dir);
	if (access(path, F_OK) == 0)
		(void)rig_stop_unlocked(dir); /* a rig left behind by a killed run */
	snprintf(path, sizeof(path), "%s/conf", dir);
	(void)mkdir(path, 0700);
	if (o->owner > 0)
		start_watch(dir, o->owner);
	for (unsigned n = 0; n < readers; n++)
		if (start_reader(dir, o, n, driver) != 0)
			goto fail;
	if (copy_extra(dir, o) != 0 || rig_spawn_pcscd(dir, TC_RIG_PRELOAD, o->debug) != 0 ||
	    rig_wait_readers(dir, readers + o->nextra, o->wait_ms > 0 ? o->wait_ms : 10000) != 0)
		goto fail;
	printf("PCSCLITE_CSOCK_NAME=%s/pcscd.comm\n", dir);
	rig_unlock();
	return 0;
fail:
	(void)rig_stop_unlocked(dir);
	rig_unlock();
	return -1;
}

int rig_restart_pcscd(const char *dir)
{
	unsigned n = 0;
	char path[PATH_MAX];
	/* The readers to wait for: the rig's own and those of --reader-conf. */
	for (unsigned i = 0; i < RIG_MAX_READERS; i++) {
		snprintf(path, sizeof(path), "%s/conf/reader%u", dir, i);
		n += access(path, F_OK) == 0;
	}
	for (unsigned i = 0; i < RIG_MAX_EXTRA_CONF; i++) {
		snprintf(path, sizeof(path), "%s/conf/extra%u", dir, i);
		n += access(path, F_OK) == 0;
	}
	rig_lock(dir);
	(void)rig_stop_role(dir, "pcscd");
	int rc = rig_spawn_pcscd(dir, TC_RIG_PRELOAD, 0);
	if (rc == 0)
		rc = rig_wait_readers(dir, n, 10000);
	rig_unlock();
	return rc;
}
