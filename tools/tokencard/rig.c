/* rig.c: a private pcscd with loopback readers and cards (see rig.h). */
#define _GNU_SOURCE
#include "rig.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proc.h"
#include "rig_int.h"

void rig_dir(const char *dir, char *out, unsigned cap)
{
	const char *env = getenv("TC_RIG_DIR");
	if (dir && *dir)
		snprintf(out, cap, "%s", dir);
	else if (env && *env)
		snprintf(out, cap, "%s", env);
	else
		snprintf(out, cap, "/tmp/tokencard-rig-%u", (unsigned)getuid());
}

/* One rig operation at a time (start, stop, restart-pcscd, the owner
 * watchdog): an flock on DIR/lock, held by this process while it works. */
static int lock_fd = -1;

void rig_lock(const char *dir)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/lock", dir);
	lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lock_fd >= 0 && flock(lock_fd, LOCK_EX) != 0) {
		close(lock_fd);
		lock_fd = -1;
	}
}

void rig_unlock(void)
{
	if (lock_fd >= 0)
		close(lock_fd);
	lock_fd = -1;
}

void rig_forget_lock(void)
{
	/* A forked child shares the parent's lock; dropping its copy of the
	 * descriptor leaves the parent's hold intact. */
	if (lock_fd >= 0)
		close(lock_fd);
	lock_fd = -1;
}

int rig_write_pid(const char *dir, const char *role, pid_t pid)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/pids", dir);
	FILE *f = fopen(path, "a");
	if (!f)
		return -1;
	fprintf(f, "%s %ld\n", role, (long)pid);
	fclose(f);
	return 0;
}

/* Gone: no such process, or a zombie waiting for PID 1 to reap it. */
static int gone(pid_t pid)
{
	char path[64], buf[256];
	if (waitpid(pid, NULL, WNOHANG) == pid || kill(pid, 0) != 0)
		return 1;
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	const char *paren = strrchr(buf, ')');
	return paren && paren[1] == ' ' && (paren[2] == 'Z' || paren[2] == 'X');
}

static int stop_pid(pid_t pid)
{
	if (pid <= 1 || kill(pid, SIGTERM) != 0)
		return 0;
	for (int i = 0; i < 300; i++) {
		if (gone(pid))
			return 0;
		proc_sleep_ms(10);
	}
	(void)kill(pid, SIGKILL);
	(void)waitpid(pid, NULL, WNOHANG);
	return 0;
}

/* Stop every process of a role ("pcscd", "card", "watch", or NULL for all),
 * keeping the other lines of DIR/pids. */
int rig_stop_role(const char *dir, const char *only)
{
	char path[PATH_MAX], line[128], keep[4096] = "";
	snprintf(path, sizeof(path), "%s/pids", dir);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char role[32];
		long pid;
		if (sscanf(line, "%31s %ld", role, &pid) != 2)
			continue;
		if (only && strcmp(role, only) != 0) {
			strncat(keep, line, sizeof(keep) - strlen(keep) - 1);
			continue;
		}
		if ((pid_t)pid != getpid())
			(void)stop_pid((pid_t)pid);
	}
	fclose(f);
	f = fopen(path, "w");
	if (f) {
		fputs(keep, f);
		fclose(f);
	}
	return 0;
}

int rig_stop(const char *dir)
{
	rig_lock(dir);
	int rc = rig_stop_unlocked(dir);
	rig_unlock();
	return rc;
}

int rig_stop_unlocked(const char *dir)
{
	char path[PATH_MAX];
	if (rig_stop_role(dir, NULL) != 0) {
		fprintf(stderr, "tokencard rig: no rig at %s\n", dir);
		return -1;
	}
	static const char *const files[] = {"pids", "pcscd.comm", NULL};
	for (int i = 0; files[i]; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		(void)unlink(path);
	}
	for (unsigned n = 0; n < RIG_MAX_READERS; n++) {
		snprintf(path, sizeof(path), "%s/conf/reader%u", dir, n);
		(void)unlink(path);
		snprintf(path, sizeof(path), "%s/card%u.sock", dir, n);
		(void)unlink(path);
		snprintf(path, sizeof(path), "%s/card%u.sock.ctl", dir, n);
		(void)unlink(path);
	}
	for (unsigned n = 0; n < RIG_MAX_EXTRA_CONF; n++) {
		snprintf(path, sizeof(path), "%s/conf/extra%u", dir, n);
		(void)unlink(path);
	}
	snprintf(path, sizeof(path), "%s/conf", dir);
	(void)rmdir(path);
	return 0;
}

int rig_card_command(const char *dir, unsigned n, const char *line)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char reply[256];
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/card%u.sock.ctl", dir, n);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		fprintf(stderr, "tokencard rig: reader %u has no card control socket at %s: %s\n",
		        n, sa.sun_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	dprintf(fd, "%s\n", line);
	ssize_t got = 0, r;
	while (got < (ssize_t)sizeof(reply) - 1 &&
	       (r = read(fd, reply + got, sizeof(reply) - 1 - (size_t)got)) > 0) {
		got += r;
		if (memchr(reply, '\n', (size_t)got))
			break;
	}
	close(fd);
	reply[got > 0 ? got : 0] = '\0';
	printf("%s%s", reply, got > 0 && reply[got - 1] == '\n' ? "" : "\n");
	return strncmp(reply, "ok", 2) == 0 ? 0 : -1;
}
