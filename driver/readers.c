/* readers.c: the driver's one table of readers. pcscd names a reader only by
 * its Lun, so the table is the one piece of global state the PC/SC API forces
 * on the driver: static here, reached only through these functions, guarded by
 * one mutex. Each reader also has its own I/O lock that serialises the use of
 * its slot (power, transmit, presence) between pcscd's threads. */
#include "readers.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "tc_error.h"

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tc_reader *table[TC_MAX_READERS];

int readers_add(unsigned long lun, const char *devicename)
{
	unsigned idx = (unsigned)(lun >> 16);
	struct tc_reader *r;
	int rc;

	if (idx >= TC_MAX_READERS || (lun & 0xFFFFu) != 0)
		return TC_E_INVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return TC_E_NOMEM;
	r->lun = lun;
	r->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	r->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r->stop_fd < 0 || r->wake_fd < 0) {
		if (r->stop_fd >= 0)
			close(r->stop_fd);
		if (r->wake_fd >= 0)
			close(r->wake_fd);
		free(r);
		return TC_E_IO;
	}
	snprintf(r->devicename, sizeof(r->devicename), "%s", devicename);
	pthread_mutex_init(&r->io, NULL);
	rc = tc_slot_open(&r->slot, devicename, NULL);
	if (rc < 0) {
		LOG_ERR("cannot open %s: %s", devicename, tc_strerror(rc));
		goto fail;
	}
	pthread_mutex_lock(&table_lock);
	if (table[idx]) {
		pthread_mutex_unlock(&table_lock);
		rc = TC_E_STATE;
		goto fail;
	}
	table[idx] = r;
	pthread_mutex_unlock(&table_lock);
	return TC_OK;
fail:
	tc_slot_close(r->slot);
	close(r->stop_fd);
	close(r->wake_fd);
	pthread_mutex_destroy(&r->io);
	free(r);
	return rc;
}

void readers_remove(unsigned long lun)
{
	unsigned idx = (unsigned)(lun >> 16);
	struct tc_reader *r = NULL;

	if (idx >= TC_MAX_READERS)
		return;
	pthread_mutex_lock(&table_lock);
	r = table[idx];
	table[idx] = NULL;
	pthread_mutex_unlock(&table_lock);
	if (!r)
		return;
	pthread_mutex_lock(&r->io);
	tc_slot_close(r->slot);
	pthread_mutex_unlock(&r->io);
	pthread_mutex_destroy(&r->io);
	close(r->stop_fd);
	close(r->wake_fd);
	free(r);
}

struct tc_reader *readers_lock(unsigned long lun)
{
	unsigned idx = (unsigned)(lun >> 16);
	struct tc_reader *r;

	if (idx >= TC_MAX_READERS || (lun & 0xFFFFu) != 0)
		return NULL;
	pthread_mutex_lock(&table_lock);
	r = table[idx];
	pthread_mutex_unlock(&table_lock);
	/* pcscd closes a channel only after its calls on that Lun are over,
	 * so r stays valid once found. */
	if (r) {
		atomic_fetch_add(&r->busy, 1);
		pthread_mutex_lock(&r->io);
	}
	return r;
}

void readers_unlock(struct tc_reader *r)
{
	pthread_mutex_unlock(&r->io);
	if (atomic_fetch_sub(&r->busy, 1) == 1) {
		uint64_t one = 1;
		(void)write(r->wake_fd, &one, sizeof(one));
	}
}

static struct tc_reader *find(unsigned long lun)
{
	unsigned idx = (unsigned)(lun >> 16);
	struct tc_reader *r = NULL;
	if (idx < TC_MAX_READERS) {
		pthread_mutex_lock(&table_lock);
		r = table[idx];
		pthread_mutex_unlock(&table_lock);
	}
	return r;
}

/* Read the transport without waiting, if no pcscd call holds the slot.
 * Returns 1 when the presence differs from what pcscd was told. */
static int check_presence(struct tc_reader *r, int *fd)
{
	bool present;
	if (atomic_load(&r->busy) || pthread_mutex_trylock(&r->io) != 0)
		return 0;
	int rc = tc_slot_presence(r->slot, 0, &present);
	*fd = tc_slot_event_fd(r->slot);
	pthread_mutex_unlock(&r->io);
	return rc == TC_OK && present != atomic_load(&r->was_present);
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int readers_wait_event(unsigned long lun, int timeout_ms)
{
	struct tc_reader *r = find(lun);
	int fd = -1;
	if (!r)
		return TC_E_INVAL;
	int64_t end = timeout_ms < 0 ? INT64_MAX : mono_ms() + timeout_ms;
	for (;;) {
		if (check_presence(r, &fd))
			return TC_OK;
		int64_t left = end == INT64_MAX ? TC_RECONNECT_MS : end - mono_ms();
		if (left <= 0)
			return TC_E_TIMEOUT;
		/* Disconnected from the card process: look again soon. */
		if ((fd < 0 || end == INT64_MAX) && left > TC_RECONNECT_MS)
			left = TC_RECONNECT_MS;
		struct pollfd p[3] = {{.fd = r->stop_fd, .events = POLLIN},
		                      {.fd = r->wake_fd, .events = POLLIN},
		                      {.fd = atomic_load(&r->busy) ? -1 : fd, .events = POLLIN}};
		if (poll(p, 3, (int)left) < 0 && errno != EINTR)
			return TC_E_IO;
		uint64_t v;
		if (p[0].revents & POLLIN) {
			(void)read(r->stop_fd, &v, sizeof(v));
			return TC_E_CLOSED;
		}
		if (p[1].revents & POLLIN)
			(void)read(r->wake_fd, &v, sizeof(v));
	}
}

int readers_stop_events(unsigned long lun)
{
	unsigned idx = (unsigned)(lun >> 16);
	int rc = TC_E_INVAL;

	if (idx >= TC_MAX_READERS)
		return rc;
	pthread_mutex_lock(&table_lock);
	if (table[idx]) {
		uint64_t one = 1;
		rc = write(table[idx]->stop_fd, &one, sizeof(one)) == sizeof(one) ? TC_OK : TC_E_IO;
	}
	pthread_mutex_unlock(&table_lock);
	return rc;
}
