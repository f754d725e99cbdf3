/* SPDX-License-Identifier: Apache-2.0
 *
 * Failed logins per source address (SR 1.11): after the policy's number
 * of failures within its window, an address is refused for one window
 * without a password being hashed. The table has a fixed size; when it is
 * full, the entry idle longest gives way, so a spray of addresses cannot
 * grow memory (it can only shorten how long an idle address is
 * remembered). Any thread.
 */
#include "security/internal.h"

#include <string.h>

#define THROTTLE_SLOTS 4096
#define ADDRESS_MAX 63

struct slot {
    char address[ADDRESS_MAX + 1];
    uint32_t failures;
    int64_t window_start_us;
    int64_t blocked_until_us;
    int64_t last_us;
};

struct sec_throttle {
    pthread_mutex_t lock;
    struct slot slots[THROTTLE_SLOTS];
};

int sec_throttle_new(struct sec_throttle **out)
{
    struct sec_throttle *t = bw_calloc(1, sizeof(*t));
    if (!t)
        return BW_ENOMEM;
    pthread_mutex_init(&t->lock, NULL);
    *out = t;
    return BW_OK;
}

void sec_throttle_free(struct sec_throttle *t)
{
    if (!t)
        return;
    pthread_mutex_destroy(&t->lock);
    bw_free(t);
}

static const char *key_of(const char *address)
{
    return address && *address ? address : "local";
}

static struct slot *find(struct sec_throttle *t, const char *address, bool create, int64_t now)
{
    struct slot *oldest = &t->slots[0];
    for (size_t i = 0; i < THROTTLE_SLOTS; i++) {
        struct slot *s = &t->slots[i];
        if (s->address[0] && strncmp(s->address, address, ADDRESS_MAX) == 0)
            return s;
        if (s->last_us < oldest->last_us)
            oldest = s;
    }
    if (!create)
        return NULL;
    memset(oldest, 0, sizeof(*oldest));
    bw_strlcpy(oldest->address, address, sizeof(oldest->address));
    oldest->window_start_us = now;
    oldest->last_us = now;
    return oldest;
}

bool sec_throttle_allows(struct sec_throttle *t, const struct bw_project_lockout_policy *policy,
                         const char *address, int64_t now_us)
{
    (void)policy;
    pthread_mutex_lock(&t->lock);
    struct slot *s = find(t, key_of(address), false, now_us);
    bool allowed = !s || s->blocked_until_us <= now_us;
    pthread_mutex_unlock(&t->lock);
    return allowed;
}

bool sec_throttle_fail(struct sec_throttle *t, const struct bw_project_lockout_policy *policy,
                       const char *address, int64_t now_us)
{
    int64_t window = (int64_t)policy->address_window_seconds * 1000000;
    pthread_mutex_lock(&t->lock);
    struct slot *s = find(t, key_of(address), true, now_us);
    s->last_us = now_us;
    if (now_us - s->window_start_us >= window) {
        s->window_start_us = now_us;
        s->failures = 0;
    }
    s->failures++;
    bool started = false;
    if (s->failures >= policy->address_max_failures && s->blocked_until_us <= now_us) {
        s->blocked_until_us = now_us + window;
        s->window_start_us = now_us + window;
        s->failures = 0;
        started = true;
    }
    pthread_mutex_unlock(&t->lock);
    return started;
}
