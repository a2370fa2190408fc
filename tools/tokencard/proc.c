/* proc.c: starting the card processes and daemons the tool needs. */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROC_MAX_ARGS 32

void proc_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	(void)nanosleep(&ts, NULL);
}

void proc_default_card(char *out, size_t cap)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		char *slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			static const char *const rel[] = {"../card/tokencard-sim", "tokencard-sim"};
			for (size_t i = 0; i < 2; i++) {
				char cand[PATH_MAX + 32];
				snprintf(cand, sizeof(cand), "%s/%s", self, rel[i]);
				if (access(cand, X_OK) == 0) {
					snprintf(out, cap, "%s --socket {}", cand);
					return;
				}
			}
		}
	}
	snprintf(out, cap, "tokencard-sim --socket {}");
}

/* Split cmd at spaces into argv, replacing "{}" by sock. */
static int build_argv(char *buf, size_t cap, const char *cmd, const char *sock, char **argv)
{
	size_t o = 0;
	int argc = 0;
	for (const char *p = cmd; *p && o + 1 < cap;) {
		if (p[0] == '{' && p[1] == '}') {
			size_t l = strlen(sock);
			if (o + l + 1 >= cap)
				return -1;
			memcpy(buf + o, sock, l);
			o += l;
			p += 2;
		} else {
			buf[o++] = *p++;
		}
	}
	buf[o] = '\0';
	char *save = NULL;
	for (char *tok = strtok_r(buf, " ", &save); tok && argc < PROC_MAX_ARGS - 1;
	     tok = strtok_r(NULL, " ", &save))
		argv[argc++] = tok;
	argv[argc] = NULL;
	return argc;
}

static void redirect(const char *logdir, const char *logname)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s.log", logdir, logname);
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null >= 0)
		(void)dup2(null, 0);
	if (fd >= 0) {
		(void)dup2(fd, 1);
		(void)dup2(fd, 2);
	}
	(void)setsid();
}

int proc_spawn(const char *cmd, const char *sock, const char *logdir, const char *logname,
               pid_t *pid)
{
	char buf[4096];
	char *argv[PROC_MAX_ARGS];
	if (build_argv(buf, sizeof(buf), cmd, sock, argv) <= 0) {
		fprintf(stderr, "tokencard: bad command '%s'\n", cmd);
		return -1;
	}
	pid_t p = fork();
	if (p < 0)
		return -1;
	if (p == 0) {
		if (logdir)
			redirect(logdir, logname);
		execvp(argv[0], argv);
		fprintf(stderr, "tokencard: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	*pid = p;
	return 0;
}

int proc_wait_socket(const char *path, pid_t pid, int ms)
{
	for (int t = 0; t < ms; t += 10) {
		struct stat st;
		if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode))
			return 0;
		int status;
		if (pid > 0 && waitpid(pid, &status, WNOHANG) == pid) {
			fprintf(stderr, "tokencard: the process for %s exited before listening\n",
			        path);
			return -1;
		}
		proc_sleep_ms(10);
	}
	fprintf(stderr, "tokencard: no socket at %s after %d ms\n", path, ms);
	return -1;
}
