/* SPDX-License-Identifier: Apache-2.0
 *
 * store: the logging rules, which decide which of a tag's changes become
 * samples of its history (docs/internals/historian.md, "What is logged").
 * Pure: no clock, no allocation; the caller owns one struct bw_log_state
 * per tag and passes time in. Any thread, one state per thread at a time.
 *
 * Times are UTC microseconds since the epoch and must be > 0: a change
 * stamped at or before the epoch is ignored, so that next_due_us 0 can
 * mean "nothing due".
 *
 * Changes (bw_log_on_change), either mode:
 * - a change whose value is not finite (NaN, infinity) is ignored
 *   entirely: not kept, and it does not become current;
 * - a change becomes `current` when it is at least as new as the current
 *   value (an equal timestamp replaces it: the engine applied it later);
 * - a change stamped at or before the last kept sample is never kept, so
 *   the kept series is strictly increasing in time.
 *
 * On change: a change (newer than the last kept sample) is kept when
 * (a) nothing was kept yet, or (b) its quality or reason differs from the
 * last kept sample's (so a change to or from bad quality is always kept),
 * or (c) quality is not bad and its value moved past every deadband that
 * is set: more than `deadband` (absolute) and more than `deadband_percent`
 * of `span`, or of the last kept value's magnitude when span is 0 (a last
 * kept value of 0 makes that threshold 0). A deadband <= 0 is not set;
 * with neither set, any different value is kept. An equal value is never
 * kept. While bad, values are meaningless: only a change of quality or
 * reason is kept. A kept change becomes `logged`.
 *
 * Cyclic: changes are never kept (they only become current). Samples are
 * due at the multiples of period_us since the epoch, so all tags of one
 * period are logged at the same instants: the first at or after the
 * first current value, then every multiple after the last kept sample.
 * A period <= 0 logs nothing.
 *
 * Maximum interval (either mode, when max_interval_us > 0): a sample is
 * due at logged.ts_us + max_interval_us; in on-change mode a kept change
 * restarts the interval.
 *
 * Ticks (bw_log_on_tick): the earliest due time <= now is returned as a
 * sample of the current value stamped at that due time, and becomes
 * `logged`; a caller that ticks late calls again for each missed due time
 * in turn. At most BW_LOG_CATCH_UP_MAX (3600) missed due times of one
 * schedule are returned for one late tick: beyond that the oldest are
 * skipped, keeping the latest 3600 (the last one the latest due time <=
 * now). A tick stamps the value current when it runs, even at a due time
 * before that value's change; a caller that wants each due sample to
 * carry the value then in force ticks to change->ts_us - 1 before
 * passing a change.
 *
 * next_due_us is the earliest due time of either schedule (it may already
 * have passed), so a caller can sleep until the earliest across its tags;
 * 0 when nothing is due, e.g. no current value yet or an on-change rule
 * without a maximum interval.
 */
#include "store/store.h"

#include "core/core.h"

#include <math.h>

/* Most missed due times of one schedule one late tick returns. */
#define BW_LOG_CATCH_UP_MAX 3600u

void bw_log_state_init(struct bw_log_state *state)
{
    *state = (struct bw_log_state){0};
}

/* The smallest multiple of period at or after t (t > 0); false on overflow. */
static bool align_up(int64_t t, int64_t period, int64_t *out)
{
    int64_t rem = t % period;
    if (rem == 0) {
        *out = t;
        return true;
    }
    return !__builtin_add_overflow(t, period - rem, out);
}

/* The first due time of the cyclic schedule not yet logged; false: none. */
static bool cyclic_due(const struct bw_log_rule *rule, const struct bw_log_state *state,
                       int64_t *due)
{
    if (rule->mode != BW_LOG_CYCLIC || rule->period_us <= 0 || !state->have_current)
        return false;
    if (!state->have_logged) {
        /* Set when the first current value arrived: a later current
         * value must not move the first sample. */
        if (state->next_due_us > 0) {
            *due = state->next_due_us;
            return true;
        }
        return align_up(state->current.ts_us, rule->period_us, due);
    }
    int64_t after;
    if (__builtin_add_overflow(state->logged.ts_us, 1, &after))
        return false;
    return align_up(after, rule->period_us, due);
}

/* The maximum-interval due time; false: none. */
static bool max_interval_due(const struct bw_log_rule *rule, const struct bw_log_state *state,
                             int64_t *due)
{
    if (rule->max_interval_us <= 0 || !state->have_logged || !state->have_current)
        return false;
    return !__builtin_add_overflow(state->logged.ts_us, rule->max_interval_us, due);
}

/* Of the due times first, first + step, ... that are <= now, the one to
 * log next: the first, unless more than BW_LOG_CATCH_UP_MAX are, then
 * the first of the latest BW_LOG_CATCH_UP_MAX. False when first > now. */
static bool catch_up(int64_t first, int64_t step, int64_t now, int64_t *due)
{
    if (first > now)
        return false;
    /* now >= first: the difference fits in 64 unsigned bits. */
    uint64_t later = ((uint64_t)now - (uint64_t)first) / (uint64_t)step;
    if (later >= BW_LOG_CATCH_UP_MAX)
        first += (int64_t)((later - BW_LOG_CATCH_UP_MAX + 1) * (uint64_t)step);
    *due = first;
    return true;
}

static int64_t next_due(const struct bw_log_rule *rule, const struct bw_log_state *state)
{
    int64_t cyc = 0, max = 0;
    bool have_cyc = cyclic_due(rule, state, &cyc);
    bool have_max = max_interval_due(rule, state, &max);
    if (have_cyc && have_max)
        return cyc < max ? cyc : max;
    if (have_cyc)
        return cyc;
    return have_max ? max : 0;
}

/* Whether an on-change rule keeps change, given the last kept sample. */
static bool differs(const struct bw_log_rule *rule, const struct bw_sample *logged,
                    const struct bw_sample *change)
{
    if (change->quality != logged->quality || change->reason != logged->reason)
        return true;
    if (change->quality == BW_QUALITY_BAD)
        return false;
    double moved = fabs(change->value - logged->value);
    if (moved == 0)
        return false;
    if (rule->deadband > 0 && !(moved > rule->deadband))
        return false;
    if (rule->deadband_percent > 0) {
        double base = rule->span > 0 ? rule->span : fabs(logged->value);
        if (!(moved > rule->deadband_percent * base / 100.0))
            return false;
    }
    return true;
}

/* A change: true when kept (*out set). rule, state, change and out are
 * borrowed; out is written only when true is returned. */
bool bw_log_on_change(const struct bw_log_rule *rule, struct bw_log_state *state,
                      const struct bw_sample *given, struct bw_sample *out)
{
    /* A bad value means nothing; one that is not a number is kept as 0,
     * so that the change of quality is still recorded. */
    struct bw_sample bad_value = *given;
    const struct bw_sample *change = given;
    if (given->quality == BW_QUALITY_BAD && !isfinite(given->value)) {
        bad_value.value = 0;
        change = &bad_value;
    }
    if (!isfinite(change->value) || change->ts_us <= 0)
        return false;
    bool newer = !state->have_current || change->ts_us >= state->current.ts_us;
    bool keep = false;
    if (rule->mode == BW_LOG_ON_CHANGE)
        keep = !state->have_logged ||
               (change->ts_us > state->logged.ts_us && differs(rule, &state->logged, change));
    if (!newer && !keep)
        return false;
    if (newer) {
        state->current = *change;
        state->have_current = true;
    }
    if (keep) {
        state->logged = *change;
        state->have_logged = true;
        *out = *change;
    }
    state->next_due_us = next_due(rule, state);
    return keep;
}

/* Time passes: true when a cyclic or maximum-interval sample is due at or
 * before now_us (*out set, stamped at its due time). rule, state and out
 * are borrowed; out is written only when true is returned. */
bool bw_log_on_tick(const struct bw_log_rule *rule, struct bw_log_state *state, int64_t now_us,
                    struct bw_sample *out)
{
    int64_t first, due = 0;
    bool have = false;
    if (cyclic_due(rule, state, &first))
        have = catch_up(first, rule->period_us, now_us, &due);
    int64_t max_due;
    if (max_interval_due(rule, state, &first) &&
        catch_up(first, rule->max_interval_us, now_us, &max_due) && (!have || max_due < due)) {
        due = max_due;
        have = true;
    }
    if (!have)
        return false;
    state->logged = state->current;
    state->logged.ts_us = due;
    state->have_logged = true;
    state->next_due_us = next_due(rule, state);
    *out = state->logged;
    return true;
}
