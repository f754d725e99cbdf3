/* SPDX-License-Identifier: Apache-2.0
 *
 * Subscriptions: report by exception, prefixes, exact loss counting for a
 * slow subscriber, wake-ups through the eventfd, the subscriber limit,
 * and removal while the engine runs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/core.h"
#include "unit/core/core_test_util.h"

#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>
#include <string.h>

static const struct bw_core_tag_def defs[] = {
    {.name = "T1.Level", .type = BW_TYPE_FLOAT},
    {.name = "T1.Temp", .type = BW_TYPE_FLOAT},
    {.name = "T2.Level", .type = BW_TYPE_FLOAT},
    {.name = "P1.Run", .type = BW_TYPE_BOOL},
};

static struct bw_core *start_core(void)
{
    struct bw_core *core;
    assert_int_equal(bw_core_new(defs, BW_ARRAY_LEN(defs), NULL, &core), BW_OK);
    assert_int_equal(bw_core_start(core), BW_OK);
    return core;
}

static void push_float(struct bw_core *core, uint32_t tag, double x)
{
    struct bw_tag_update u = float_update(tag, x, 7);
    size_t queued;
    assert_int_equal(bw_core_update_push(core, &u, 1, &queued), BW_OK);
}

static void test_changes_only_on_change(void **state)
{
    (void)state;
    struct bw_core *core = start_core();
    struct bw_sub *sub;
    assert_int_equal(bw_core_sub_new(core, 64, &sub), BW_OK);
    assert_int_equal(bw_core_sub_add_tag(sub, 0), BW_OK);
    push_float(core, 0, 1.0);
    push_float(core, 0, 1.0); /* same value and quality: no change */
    push_float(core, 0, 2.0);
    push_float(core, 2, 9.0); /* not subscribed */
    assert_true(wait_applied(core, 4));
    struct bw_tag_change ch[8];
    size_t n = bw_core_sub_poll(sub, ch, 8);
    assert_int_equal(n, 2);
    assert_int_equal(ch[0].tag, 0);
    assert_true(ch[0].v.f == 1.0);
    assert_true(ch[1].v.f == 2.0);
    assert_int_equal(ch[1].quality, BW_QUALITY_GOOD);
    assert_int_equal(ch[1].type, BW_TYPE_FLOAT);
    assert_int_equal(ch[1].source_ts_us, 7);
    assert_true(ch[1].server_ts_us > 0);
    assert_int_equal(bw_core_sub_poll(sub, ch, 8), 0);
    assert_int_equal(bw_core_sub_lost(sub), 0);
    /* A quality change with the same value is a change. */
    struct bw_tag_update bad = {.tag = 0,
                                .quality = BW_QUALITY_BAD,
                                .reason = BW_REASON_COMM_FAILURE,
                                .value = {.type = BW_TYPE_FLOAT}};
    size_t queued;
    assert_int_equal(bw_core_update_push(core, &bad, 1, &queued), BW_OK);
    assert_true(wait_applied(core, 5));
    assert_int_equal(bw_core_sub_poll(sub, ch, 8), 1);
    assert_int_equal(ch[0].quality, BW_QUALITY_BAD);
    assert_int_equal(ch[0].reason, BW_REASON_COMM_FAILURE);
    assert_true(ch[0].v.f == 2.0);
    bw_core_sub_free(sub);
    bw_core_free(core);
}

static void test_prefix_subscription(void **state)
{
    (void)state;
    struct bw_core *core = start_core();
    struct bw_sub *sub;
    assert_int_equal(bw_core_sub_new(core, 64, &sub), BW_OK);
    size_t matched = 0;
    assert_int_equal(bw_core_sub_add_prefix(sub, "T1.", &matched), BW_OK);
    assert_int_equal(matched, 2);
    for (uint32_t t = 0; t < 3; t++)
        push_float(core, t, 1.0 + t);
    assert_true(wait_applied(core, 3));
    struct bw_tag_change ch[8];
    size_t n = bw_core_sub_poll(sub, ch, 8);
    assert_int_equal(n, 2);
    assert_int_equal(ch[0].tag, 0);
    assert_int_equal(ch[1].tag, 1);
    assert_int_equal(bw_core_sub_remove_tag(sub, 1), BW_OK);
    push_float(core, 1, 5.0);
    assert_true(wait_applied(core, 4));
    assert_int_equal(bw_core_sub_poll(sub, ch, 8), 0);
    assert_int_equal(bw_core_sub_add_tag(sub, 99), BW_EINVAL);
    bw_core_sub_free(sub);
    bw_core_free(core);
}

static void test_slow_subscriber_loses_oldest_counted(void **state)
{
    (void)state;
    struct bw_core *core = start_core();
    struct bw_sub *slow, *fast;
    assert_int_equal(bw_core_sub_new(core, 16, &slow), BW_OK);
    assert_int_equal(bw_core_sub_new(core, 1024, &fast), BW_OK);
    assert_int_equal(bw_core_sub_add_tag(slow, 0), BW_OK);
    assert_int_equal(bw_core_sub_add_tag(fast, 0), BW_OK);
    for (int i = 1; i <= 100; i++)
        push_float(core, 0, i);
    assert_true(wait_applied(core, 100));
    struct bw_tag_change ch[128];
    size_t n = bw_core_sub_poll(slow, ch, 128);
    assert_int_equal(n, 16);
    assert_int_equal(bw_core_sub_lost(slow), 84);
    /* What is left is the newest, in order. */
    for (size_t i = 0; i < n; i++)
        assert_true(ch[i].v.f == (double)(85 + i));
    /* The other subscriber lost nothing and the engine never waited. */
    assert_int_equal(bw_core_sub_poll(fast, ch, 128), 100);
    assert_int_equal(bw_core_sub_lost(fast), 0);
    struct bw_core_stats st;
    bw_core_stats_get(core, &st);
    assert_int_equal(st.subscriber_lost, 84);
    assert_int_equal(st.changes_published, 200);
    assert_int_equal(st.subscribers, 2);
    bw_core_sub_free(slow);
    bw_core_sub_free(fast);
    bw_core_free(core);
}

/* A slow reader racing the engine: whatever it receives is in order and
 * never twice, and what it receives plus what it was told it lost is
 * exactly what the engine published to it. */
struct lap {
    struct bw_core *core;
    struct bw_sub *sub;
    atomic_bool done; /* every update is applied */
    uint64_t received;
    long disorder;
};

#define LAP_UPDATES 200000

static void *lap_reader(void *arg)
{
    struct lap *l = arg;
    double last = 0.0;
    for (unsigned round = 0;; round++) {
        bool done = atomic_load(&l->done);
        struct bw_tag_change ch[5];
        size_t n = bw_core_sub_poll(l->sub, ch, 5);
        for (size_t i = 0; i < n; i++) {
            if (!(ch[i].v.f > last))
                l->disorder++;
            last = ch[i].v.f;
        }
        l->received += n;
        if (done && n == 0)
            break; /* nothing more will come */
        if (round % 4 == 0) {
            struct timespec ts = {0, 100000}; /* fall behind: ~20 per 100 us */
            nanosleep(&ts, NULL);
        }
    }
    return NULL;
}

static void test_loss_count_exact_while_racing(void **state)
{
    (void)state;
    struct lap l = {.core = start_core()};
    assert_int_equal(bw_core_sub_new(l.core, 16, &l.sub), BW_OK);
    assert_int_equal(bw_core_sub_add_tag(l.sub, 0), BW_OK);
    pthread_t reader;
    assert_int_equal(pthread_create(&reader, NULL, lap_reader, &l), 0);
    struct bw_tag_update batch[64];
    for (int k = 1; k <= LAP_UPDATES;) {
        int n = 0;
        for (; n < 64 && k + n <= LAP_UPDATES; n++)
            batch[n] = float_update(0, (double)(k + n), k + n);
        size_t queued = 0;
        int rc = bw_core_update_push(l.core, batch, (size_t)n, &queued);
        assert_true(rc == BW_OK || rc == BW_EFULL);
        k += (int)queued;
        if (rc == BW_EFULL)
            sched_yield();
    }
    assert_true(wait_applied(l.core, LAP_UPDATES));
    atomic_store(&l.done, true);
    pthread_join(reader, NULL);

    struct bw_core_stats st;
    bw_core_stats_get(l.core, &st);
    assert_int_equal(st.changes_published, LAP_UPDATES); /* every value differs */
    uint64_t lost = bw_core_sub_lost(l.sub);
    assert_int_equal(l.disorder, 0);
    assert_int_equal(l.received + lost, LAP_UPDATES);
    assert_int_equal(st.subscriber_lost, lost);
    /* The reader really was lapped, and still got the newest ring-full. */
    assert_true(lost > 0);
    assert_true(l.received >= 16);
    bw_core_sub_free(l.sub);
    bw_core_free(l.core);
}

static void test_eventfd_wakes_reader(void **state)
{
    (void)state;
    struct bw_core *core = start_core();
    struct bw_sub *sub;
    assert_int_equal(bw_core_sub_new(core, 64, &sub), BW_OK);
    assert_int_equal(bw_core_sub_add_tag(sub, 3), BW_OK);
    struct bw_tag_change ch[4];
    assert_int_equal(bw_core_sub_poll(sub, ch, 4), 0); /* drained: armed */
    struct pollfd pfd = {.fd = bw_core_sub_fd(sub), .events = POLLIN};
    assert_int_equal(poll(&pfd, 1, 0), 0);
    struct bw_tag_update u = {
        .tag = 3, .quality = BW_QUALITY_GOOD, .value = {.type = BW_TYPE_BOOL, .v.b = true}};
    size_t queued;
    assert_int_equal(bw_core_update_push(core, &u, 1, &queued), BW_OK);
    assert_true(bw_core_sub_wait(sub, 5000));
    assert_int_equal(bw_core_sub_poll(sub, ch, 4), 1);
    assert_true(ch[0].v.b);

    /* The engine counts an update as applied only after it has signalled
     * its subscribers: once it has, a wait consumes the signal and the
     * next one does not wake for the same change. */
    u.value.v.b = false;
    assert_int_equal(bw_core_update_push(core, &u, 1, &queued), BW_OK);
    assert_true(wait_applied(core, 2));
    assert_true(bw_core_sub_wait(sub, 5000));
    assert_int_equal(bw_core_sub_poll(sub, ch, 4), 1);
    assert_false(ch[0].v.b);
    assert_false(bw_core_sub_wait(sub, 20)); /* nothing new: times out */
    bw_core_sub_free(sub);
    bw_core_free(core);
}

static void test_subscriber_limit_and_free_while_running(void **state)
{
    (void)state;
    struct bw_core *core = start_core();
    struct bw_sub *subs[BW_CORE_MAX_SUBSCRIBERS];
    for (int i = 0; i < BW_CORE_MAX_SUBSCRIBERS; i++) {
        assert_int_equal(bw_core_sub_new(core, 16, &subs[i]), BW_OK);
        assert_int_equal(bw_core_sub_add_prefix(subs[i], "", NULL), BW_OK);
    }
    struct bw_sub *extra = (void *)1;
    assert_int_equal(bw_core_sub_new(core, 16, &extra), BW_EFULL);
    assert_null(extra);
    /* Free half of them while updates flow. */
    for (int round = 0; round < 200; round++)
        push_float(core, (uint32_t)(round % 3), round);
    for (int i = 0; i < BW_CORE_MAX_SUBSCRIBERS; i += 2)
        bw_core_sub_free(subs[i]);
    assert_true(wait_applied(core, 200));
    struct bw_core_stats st;
    bw_core_stats_get(core, &st);
    assert_int_equal(st.subscribers, BW_CORE_MAX_SUBSCRIBERS / 2);
    assert_int_equal(bw_core_sub_new(core, 16, &extra), BW_OK);
    bw_core_sub_free(extra);
    for (int i = 1; i < BW_CORE_MAX_SUBSCRIBERS; i += 2)
        bw_core_sub_free(subs[i]);
    bw_core_sub_free(NULL);
    bw_core_free(core);
}

/* Subscribers come and go on several threads while updates flow; each
 * one must only ever receive the tag it subscribed to, even when it
 * reuses the index of one just freed. */
struct churn {
    struct bw_core *core;
    atomic_bool stop;
    atomic_long wrong;
    atomic_long received;
};

static void *churn_producer(void *arg)
{
    struct churn *c = arg;
    for (int64_t k = 0; !atomic_load(&c->stop); k++) {
        struct bw_tag_update u[2] = {float_update(0, (double)k, k), float_update(1, (double)k, k)};
        size_t queued;
        if (bw_core_update_push(c->core, u, 2, &queued) == BW_EFULL)
            sched_yield();
    }
    return NULL;
}

static void *churn_subscriber(void *arg)
{
    struct churn *c = arg;
    for (uint32_t round = 0; !atomic_load(&c->stop); round++) {
        uint32_t want = round % 2;
        struct bw_sub *sub;
        if (bw_core_sub_new(c->core, 64, &sub) != BW_OK)
            continue; /* all 64 taken for a moment: try again */
        if (bw_core_sub_add_tag(sub, want) != BW_OK)
            atomic_fetch_add(&c->wrong, 1);
        for (int i = 0; i < 3; i++) {
            struct bw_tag_change ch[64];
            size_t n = bw_core_sub_poll(sub, ch, 64);
            for (size_t k = 0; k < n; k++) {
                if (ch[k].tag != want)
                    atomic_fetch_add(&c->wrong, 1);
            }
            atomic_fetch_add(&c->received, (long)n);
            (void)bw_core_sub_wait(sub, 1);
        }
        bw_core_sub_free(sub);
    }
    return NULL;
}

static void test_reused_index_gets_only_its_tags(void **state)
{
    (void)state;
    struct churn c = {.core = start_core()};
    pthread_t producer, subscribers[4];
    assert_int_equal(pthread_create(&producer, NULL, churn_producer, &c), 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&subscribers[i], NULL, churn_subscriber, &c), 0);
    struct timespec ts = {1, 0};
    nanosleep(&ts, NULL);
    atomic_store(&c.stop, true);
    pthread_join(producer, NULL);
    for (int i = 0; i < 4; i++)
        pthread_join(subscribers[i], NULL);
    bw_core_free(c.core);
    assert_true(atomic_load(&c.received) > 100);
    assert_int_equal(atomic_load(&c.wrong), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_changes_only_on_change),
        cmocka_unit_test(test_prefix_subscription),
        cmocka_unit_test(test_slow_subscriber_loses_oldest_counted),
        cmocka_unit_test(test_loss_count_exact_while_racing),
        cmocka_unit_test(test_eventfd_wakes_reader),
        cmocka_unit_test(test_subscriber_limit_and_free_while_running),
        cmocka_unit_test(test_reused_index_gets_only_its_tags),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
