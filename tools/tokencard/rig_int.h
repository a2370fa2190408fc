/* rig_int.h: shared between rig.c and rig_start.c. */
#ifndef TOKENCARD_RIG_INT_H
#define TOKENCARD_RIG_INT_H

#include <sys/types.h>

#include "rig.h"

/* Serialise rig operations on DIR (flock on DIR/lock); a forked child that
 * must not hold the lock calls rig_forget_lock(). */
void rig_lock(const char *dir);
void rig_unlock(void);
void rig_forget_lock(void);
/* rig_stop() for a caller that holds the lock. */
int rig_stop_unlocked(const char *dir);
/* Append "role pid" to DIR/pids. */
int rig_write_pid(const char *dir, const char *role, pid_t pid);
/* Stop the processes of one role (NULL: all) listed in DIR/pids. */
int rig_stop_role(const char *dir, const char *only);
/* Start pcscd on DIR/conf with its socket at DIR/pcscd.comm. */
int rig_spawn_pcscd(const char *dir, const char *preload, int debug);
/* Wait until pcscd lists `want` readers. */
int rig_wait_readers(const char *dir, unsigned want, int ms);

#endif
