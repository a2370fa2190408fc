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
	if (r->stop_fd < 0) {
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
	if (r)
		pthread_mutex_lock(&r->io);
	return r;
}

void readers_unlock(struct tc_reader *r)
{
	pthread_mutex_unlock(&r->io);
}

int readers_wait_event(unsigned long lun, int timeout_ms)
{
	unsigned idx = (unsigned)(lun >> 16);
	struct tc_reader *r;

	if (idx >= TC_MAX_READERS)
		return TC_E_INVAL;
	pthread_mutex_lock(&table_lock);
	r = table[idx];
	pthread_mutex_unlock(&table_lock);
	if (!r)
		return TC_E_INVAL;
	struct pollfd p[2] = {{.fd = r->stop_fd, .events = POLLIN}, {.fd = -1, .events = POLLIN}};
	pthread_mutex_lock(&r->io);
	p[1].fd = tc_slot_event_fd(r->slot);
	pthread_mutex_unlock(&r->io);
	/* Disconnected from the card process: look again soon. */
	if (p[1].fd < 0 && (timeout_ms < 0 || timeout_ms > TC_RECONNECT_MS))
		timeout_ms = TC_RECONNECT_MS;
	int n;
	do
		n = poll(p, 2, timeout_ms);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return TC_E_IO;
	if (p[0].revents & POLLIN) {
		uint64_t v;
		(void)read(r->stop_fd, &v, sizeof(v));
		return TC_E_CLOSED;
	}
	return n == 0 && p[1].fd >= 0 ? TC_E_TIMEOUT : TC_OK;
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
