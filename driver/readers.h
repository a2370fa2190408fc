/* readers.h: the driver's table of readers, indexed by Lun >> 16. */
#ifndef TC_READERS_H
#define TC_READERS_H

#include <pthread.h>
#include <stdatomic.h>

#include "slot.h"

#define TC_MAX_READERS  16
#define TC_RECONNECT_MS 200 /* retry a vanished card process this often */

struct tc_reader {
	unsigned long lun;
	char devicename[256];
	pthread_mutex_t io; /* serialises the use of slot */
	struct tc_slot *slot;
	int stop_fd;             /* eventfd: stops a waiting polling thread */
	int wake_fd;             /* eventfd: a pcscd call on the slot ended */
	atomic_int busy;         /* pcscd calls in or waiting for the slot */
	atomic_bool was_present; /* presence last reported to pcscd */
};

/* Open the reader and enter it in the table. Slot numbers other than 0 are
 * refused (one slot per reader). */
int readers_add(unsigned long lun, const char *devicename);
/* Close it and take it out of the table. */
void readers_remove(unsigned long lun);
/* The reader for lun with its I/O lock held, or NULL. */
struct tc_reader *readers_lock(unsigned long lun);
void readers_unlock(struct tc_reader *r);
/* The polling thread's wait: up to timeout_ms (< 0: no limit) until the
 * card's presence differs from what was last reported to pcscd: TC_OK,
 * TC_E_TIMEOUT, TC_E_CLOSED when readers_stop_events() was called. It reads
 * the transport only while no pcscd call uses the slot, so data traffic of
 * an exchange never wakes it. */
int readers_wait_event(unsigned long lun, int timeout_ms);
int readers_stop_events(unsigned long lun);

#endif
