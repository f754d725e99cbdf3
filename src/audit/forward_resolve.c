/* SPDX-License-Identifier: Apache-2.0
 *
 * Waiting and name resolution for the forwarder's connection
 * (forward_tls.c). Every wait polls a descriptor together with the
 * forwarder's wake descriptor, against a deadline, so that a stop request
 * ends it at once. A name lookup runs on a helper thread of its own that
 * the forwarder can walk away from when the lookup hangs. Forwarder
 * thread (and the short-lived lookup threads); never logs.
 */
#include "audit/forward_internal.h"

#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* ---- waiting ------------------------------------------------------------ */

/* Waits until fd reports one of events (or an error or hang-up), at most
 * until deadline_us, unless wake_fd becomes readable first. BW_OK (with
 * *revents), BW_ETIMEOUT, BW_ESTATE (woken), BW_EIO. */
int bw_audit_fwd_wait(int fd, short events, int64_t deadline_us, int wake_fd, short *revents)
{
    for (;;) {
        int64_t left_us = deadline_us - bw_clock_monotonic_us();
        if (left_us <= 0)
            return BW_ETIMEOUT;
        int64_t ms = (left_us + 999) / 1000;
        struct pollfd p[2] = {{.fd = fd, .events = events}, {.fd = wake_fd, .events = POLLIN}};
        int n = poll(p, wake_fd >= 0 ? 2 : 1, ms > INT_MAX ? INT_MAX : (int)ms);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return BW_EIO;
        if (wake_fd >= 0 && p[1].revents)
            return BW_ESTATE;
        if (p[0].revents) {
            if (revents)
                *revents = p[0].revents;
            return BW_OK;
        }
    }
}

/* ---- name resolution ------------------------------------------------- */

/* One lookup on a helper thread of its own, so that the forwarder can
 * walk away from a lookup that hangs (a dead DNS server takes tens of
 * seconds). Two references, the caller's and the helper's; whoever drops
 * the last frees the lookup and its result. (getaddrinfo_a would do the
 * same with threads of glibc's own, which ThreadSanitizer cannot see.) */
struct lookup {
    char host[256];
    char service[8];
    int done_fd; /* eventfd, readable once the helper is done */
    int gai;
    struct addrinfo *result;
    _Atomic bool done;
    _Atomic int refs;
};

static void lookup_unref(struct lookup *l)
{
    if (atomic_fetch_sub_explicit(&l->refs, 1, memory_order_acq_rel) == 1) {
        if (l->result)
            freeaddrinfo(l->result);
        close(l->done_fd);
        bw_free(l);
    }
}

static void *lookup_main(void *arg)
{
    struct lookup *l = arg;
    /* No AI_ADDRCONFIG: it hides 127.0.0.1 on a host with loopback only. */
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    l->gai = getaddrinfo(l->host, l->service, &hints, &l->result);
    atomic_store_explicit(&l->done, true, memory_order_release);
    uint64_t one = 1;
    while (write(l->done_fd, &one, sizeof(one)) < 0 && errno == EINTR)
        ;
    lookup_unref(l);
    return NULL;
}

/* Resolves host:port into *out (free with freeaddrinfo), giving up at
 * the deadline or when wake_fd becomes readable. */
int bw_audit_fwd_resolve(const char *host, uint16_t port, int64_t deadline_us, int wake_fd,
                         struct addrinfo **out, char *err, size_t errlen)
{
    struct lookup *l = bw_calloc(1, sizeof(*l));
    if (!l)
        return BW_ENOMEM;
    if (bw_strlcpy(l->host, host, sizeof(l->host)) >= sizeof(l->host)) {
        bw_free(l);
        bw_audit_fwd_set_err(err, errlen, "host name too long");
        return BW_EINVAL;
    }
    (void)snprintf(l->service, sizeof(l->service), "%u", (unsigned)port);
    l->done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (l->done_fd < 0) {
        bw_free(l);
        bw_audit_fwd_set_err(err, errlen, "eventfd: %s", strerror(errno));
        return BW_EIO;
    }
    atomic_init(&l->done, false);
    atomic_init(&l->refs, 2);
    pthread_attr_t attr;
    pthread_t thread;
    int prc = pthread_attr_init(&attr);
    if (!prc) {
        (void)pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        prc = pthread_create(&thread, &attr, lookup_main, l);
        pthread_attr_destroy(&attr);
    }
    if (prc) {
        close(l->done_fd);
        bw_free(l);
        bw_audit_fwd_set_err(err, errlen, "cannot start a name lookup: %s", strerror(prc));
        return BW_EIO;
    }
    int rc = bw_audit_fwd_wait(l->done_fd, POLLIN, deadline_us, wake_fd, NULL);
    if (!rc && !atomic_load_explicit(&l->done, memory_order_acquire))
        rc = BW_EIO; /* cannot happen: the helper sets done first */
    if (rc == BW_ETIMEOUT)
        bw_audit_fwd_set_err(err, errlen, "resolving %s timed out", host);
    if (!rc && l->gai != 0) {
        bw_audit_fwd_set_err(err, errlen, "cannot resolve %s: %s", host, gai_strerror(l->gai));
        rc = BW_EIO;
    }
    if (!rc) {
        *out = l->result;
        l->result = NULL;
    }
    lookup_unref(l);
    return rc;
}
