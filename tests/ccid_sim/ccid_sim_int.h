/* ccid_sim_int.h: private state of the simulated CCID reader. */
#ifndef TC_CCID_SIM_INT_H
#define TC_CCID_SIM_INT_H

#include <glib.h>
#include <pthread.h>
#include <umockdev.h>

#include "ccid_sim.h"
#include "slot.h"

#define SIM_MAX_MSG   (10u + 65544u)
#define SIM_QUEUE_LEN 8

struct sim_msg {
	size_t n;
	uint8_t *b;
};

/* A submitted URB and its buffer, as the handler resolved them. */
struct sim_urb {
	UMockdevIoctlData *urb;
	UMockdevIoctlData *buf;
	bool discarded;
	unsigned gen; /* the plug generation of the file descriptor that submitted it */
	struct sim_urb *next;
};

struct ccid_sim {
	struct ccid_sim_opts o;
	char devname[96];
	char devnode[32];
	char syspath[128];
	UMockdevTestbed *tb;
	UMockdevIoctlBase *handler;

	pthread_mutex_t lock; /* everything below */
	struct sim_urb *urbs; /* pending, oldest first */
	struct sim_msg bulk_in[SIM_QUEUE_LEN];
	unsigned bulk_n;
	struct sim_msg intr_in[SIM_QUEUE_LEN];
	unsigned intr_n;
	bool gone;        /* unplugged: every ioctl fails with ENODEV */
	bool plugged;     /* the device is in the testbed (ccid_sim_plug) */
	unsigned gen;     /* plug generation: 1 at start, +1 at every plug */
	unsigned cur_gen; /* generation of the client whose ioctl runs now */

	/* The reader's card side. */
	struct tc_slot *card;
	uint8_t rsp[SIM_MAX_MSG];
	struct sim_chain *chain; /* ccid_sim_reader.c: extended-APDU chaining */
	struct ccid_sim_counts counts;
};

/* ccid_sim_reader.c: answer one bulk-OUT message; queues the answers. Called
 * with s->lock held. */
void sim_reader_message(struct ccid_sim *s, const uint8_t *msg, size_t n);
int sim_reader_open(struct ccid_sim *s);
void sim_reader_close(struct ccid_sim *s);
/* Queue a message for bulk-IN or interrupt-IN (copied). */
void sim_queue(struct sim_msg *q, unsigned *n, const uint8_t *b, size_t len);

#endif
