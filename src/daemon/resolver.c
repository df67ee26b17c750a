/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libsystemd's sd-resolve is not public API in Debian's libsystemd, so a
 * plain thread runs getaddrinfo and signals an eventfd. The thread owns
 * its copies of the names and the results until it signals; the loop
 * joins it before reading them, so no lock is needed.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"
#include "resolver.h"
#include "whitelist.h"

struct resolver {
	int efd;
	sd_event_source *io;
	resolver_done_fn *done;
	void *ctx;
	pthread_t thread;
	bool running;
	struct resolver_result *v;
	size_t n;
};

static void resolver_results_free(struct resolver *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].name);
		free(r->v[i].addrs);
	}
	free(r->v);
	r->v = NULL;
	r->n = 0;
}

static void *resolver_thread(void *arg)
{
	struct resolver *r = arg;
	uint64_t one = 1;

	for (size_t i = 0; i < r->n; i++)
		r->v[i].error = whitelist_lookup_name(r->v[i].name, &r->v[i].addrs,
						      &r->v[i].naddrs);
	while (write(r->efd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
	return NULL;
}

static void resolver_join(struct resolver *r)
{
	if (r->running) {
		pthread_join(r->thread, NULL);
		r->running = false;
	}
}

static int resolver_on_done(sd_event_source *es, int fd, uint32_t revents, void *userdata)
{
	struct resolver *r = userdata;
	uint64_t count;

	if (read(fd, &count, sizeof(count)) < 0)
		return 0;
	resolver_join(r);
	r->done(r->ctx, r->v, r->n);
	resolver_results_free(r);
	return 0;
}

struct resolver *resolver_new(sd_event *ev, resolver_done_fn *done, void *ctx)
{
	struct resolver *r = calloc(1, sizeof(*r));
	int rc;

	if (!r) {
		log_error("resolver: out of memory");
		return NULL;
	}
	r->done = done;
	r->ctx = ctx;
	r->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r->efd < 0) {
		log_error("resolver: eventfd: %s", strerror(errno));
		free(r);
		return NULL;
	}
	rc = sd_event_add_io(ev, &r->io, r->efd, EPOLLIN, resolver_on_done, r);
	if (rc < 0) {
		log_error("resolver: cannot add to the event loop: %s", strerror(-rc));
		close(r->efd);
		free(r);
		return NULL;
	}
	return r;
}

void resolver_free(struct resolver *r)
{
	if (!r)
		return;
	resolver_join(r);
	resolver_results_free(r);
	sd_event_source_disable_unref(r->io);
	close(r->efd);
	free(r);
}

int resolver_start(struct resolver *r, char *const *names, size_t n)
{
	int rc;

	if (r->running)
		return 1;
	if (n == 0)
		return 0;
	r->v = calloc(n, sizeof(*r->v));
	if (!r->v) {
		log_error("resolver: out of memory");
		return -1;
	}
	for (r->n = 0; r->n < n; r->n++) {
		r->v[r->n].name = strdup(names[r->n]);
		if (!r->v[r->n].name) {
			log_error("resolver: out of memory");
			resolver_results_free(r);
			return -1;
		}
	}
	rc = pthread_create(&r->thread, NULL, resolver_thread, r);
	if (rc != 0) {
		log_error("resolver: cannot start a thread: %s", strerror(rc));
		resolver_results_free(r);
		return -1;
	}
	r->running = true;
	return 0;
}
