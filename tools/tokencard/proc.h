/* proc.h: starting the card processes and daemons the tool needs. */
#ifndef TOKENCARD_PROC_H
#define TOKENCARD_PROC_H

#include <sys/types.h>

/* Run cmd (split at spaces; "{}" becomes sock) in the background. With
 * logdir, its output goes to logdir/logname.log and it gets its own session. */
int proc_spawn(const char *cmd, const char *sock, const char *logdir, const char *logname,
               pid_t *pid);
/* Wait up to ms for a Unix socket file at path; fails early when pid exits. */
int proc_wait_socket(const char *path, pid_t pid, int ms);
/* The default card command: tokencard-sim beside the tool, else on PATH. */
void proc_default_card(char *out, size_t cap);
void proc_sleep_ms(int ms);

#endif
