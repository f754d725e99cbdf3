/* SPDX-License-Identifier: Apache-2.0
 *
 * The simulator driver: binds a device's tags to the variables of the
 * simulated plant, runs the driver thread that steps the process model
 * by the elapsed (monotonic) time and pushes the bound tags to the engine
 * at the pace of their scan classes, and takes operator writes.
 *
 * Threads: create/start/stop/destroy run on the caller's (main) thread;
 * the driver thread owns the model, the signal states and the publishing
 * bookkeeping; writers run on interface threads and only touch a pending
 * slot per binding under `lock`, which the driver thread holds only to
 * take those slots and to check for stop. Counters are atomics, so
 * status is readable from any thread.
 */
#include "drivers/internal.h"
#include "drivers/sim/sim_internal.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

/* The variables a tag can bind, as the driver computes them. */
enum sim_var {
    VAR_SIGNAL_VALUE = 0,
    VAR_TANK_LEVEL,
    VAR_TANK_VOLUME,
    VAR_TANK_LEVEL_PCT,
    VAR_TANK_CHLORINE,
    VAR_PUMP_RUNNING,
    VAR_PUMP_FLOW,
    VAR_PUMP_PRESSURE,
    VAR_VALVE_POSITION,
    VAR_VALVE_FLOW,
    VAR_DOSER_RATE,
    VAR_DOSER_DOSE,
    VAR_COUNT_
};

static const struct {
    enum bw_sim_kind kind;
    const char *name;
} var_table[VAR_COUNT_] = {
    [VAR_SIGNAL_VALUE] = {BW_SIM_SIGNAL, "value"},
    [VAR_TANK_LEVEL] = {BW_SIM_TANK, "level"},
    [VAR_TANK_VOLUME] = {BW_SIM_TANK, "volume"},
    [VAR_TANK_LEVEL_PCT] = {BW_SIM_TANK, "level_pct"},
    [VAR_TANK_CHLORINE] = {BW_SIM_TANK, "chlorine"},
    [VAR_PUMP_RUNNING] = {BW_SIM_PUMP, "running"},
    [VAR_PUMP_FLOW] = {BW_SIM_PUMP, "flow"},
    [VAR_PUMP_PRESSURE] = {BW_SIM_PUMP, "pressure"},
    [VAR_VALVE_POSITION] = {BW_SIM_VALVE, "position"},
    [VAR_VALVE_FLOW] = {BW_SIM_VALVE, "flow"},
    [VAR_DOSER_RATE] = {BW_SIM_DOSER, "rate"},
    [VAR_DOSER_DOSE] = {BW_SIM_DOSER, "dose"},
};

/* Longest model step after a stall (a suspended host, a debugger): the
 * plant pauses rather than jumping hours ahead in one go. */
#define MAX_STEP_S 10.0

struct sim_driver;

struct sim_binding {
    struct sim_driver *drv;
    uint32_t tag; /* core id */
    enum bw_type type;
    enum sim_var var;
    size_t index; /* element index within its kind */
    size_t group; /* index into sim_driver.groups */
    bool writable;
    const struct bw_project_failsafe *failsafe; /* the tag's; events 0: none */
    const char *name;                           /* the tag's */
    bool dirty; /* driver thread: written, publish on the next cycle */
    /* Guarded by sim_driver.lock: */
    bool pending;
    double pending_value;
};

struct sim_group {
    uint32_t period_ms;
    int64_t next_due_us;
    bool due;
};

struct sim_driver {
    struct bw_core *core;
    const struct bw_project *project;
    uint64_t seed;

    struct bw_sim_model model;
    struct bw_sim_walk *walks; /* one per signal */
    double *signal_values;

    struct sim_binding *bindings;
    size_t binding_count;
    struct sim_group *groups;
    size_t group_count;
    struct bw_tag_update *batch; /* binding_count entries */
    uint32_t tick_ms;

    pthread_t thread;
    bool thread_running; /* main thread only */
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stop; /* guarded by lock */
    int64_t start_us, last_us;
    bool clock_started;

    _Atomic int state;
    _Atomic uint64_t cycles, updates, writes, queue_full;

    const char *device;          /* the device's name */
    bw_driver_event_fn on_event; /* set before start */
    void *event_ctx;
};

/* ---- binding ---------------------------------------------------------- */

/* Accepts "level" as well as "tank.level" for the table's names. */
static bool var_name_is(const char *table_name, const char *name)
{
    const char *dot = strrchr(table_name, '.');
    return strcmp(dot ? dot + 1 : table_name, name) == 0;
}

static int var_resolve(size_t sim_var, enum sim_var *out)
{
    if (sim_var >= bw_project_sim_var_count)
        return BW_EINVAL;
    const struct bw_sim_var *v = &bw_project_sim_vars[sim_var];
    for (size_t i = 0; i < VAR_COUNT_; i++) {
        if (var_table[i].kind == v->kind && var_name_is(v->name, var_table[i].name)) {
            *out = (enum sim_var)i;
            return BW_OK;
        }
    }
    return BW_EINVAL;
}

static size_t kind_count(const struct bw_project *p, enum bw_sim_kind kind)
{
    switch (kind) {
    case BW_SIM_SIGNAL:
        return p->signal_count;
    case BW_SIM_TANK:
        return p->tank_count;
    case BW_SIM_PUMP:
        return p->pump_count;
    case BW_SIM_VALVE:
        return p->valve_count;
    case BW_SIM_DOSER:
        return p->doser_count;
    case BW_SIM_KIND_COUNT_:
        break;
    }
    return 0;
}

static bool var_writable(enum sim_var var)
{
    return var == VAR_PUMP_RUNNING || var == VAR_VALVE_POSITION || var == VAR_DOSER_RATE;
}

static size_t group_for(struct sim_driver *d, uint32_t period_ms)
{
    for (size_t g = 0; g < d->group_count; g++)
        if (d->groups[g].period_ms == period_ms)
            return g;
    d->groups[d->group_count].period_ms = period_ms;
    return d->group_count++;
}

static int sim_write(void *ctx, uint32_t tag, const struct bw_value *value,
                     struct bw_write_error *err);
static void sim_stop(void *impl);

/* Binds project tag t (which names this device) as binding b. */
static int bind_tag(struct sim_driver *d, const struct bw_project_tag *t, struct sim_binding *b)
{
    const struct bw_project *p = d->project;
    int rc = bw_core_tag_find(d->core, t->name, &b->tag);
    if (rc)
        return BW_EINVAL;
    rc = var_resolve(t->sim_var, &b->var);
    if (rc)
        return rc;
    if (var_table[b->var].kind != t->sim_kind || t->sim_index >= kind_count(p, t->sim_kind))
        return BW_EINVAL;
    if (t->type == BW_TYPE_STRING || t->scan_class >= p->scan_class_count)
        return BW_EINVAL;
    b->drv = d;
    b->type = t->type;
    b->index = t->sim_index;
    b->group = group_for(d, p->scan_classes[t->scan_class].period_ms);
    b->writable = t->access.writable;
    b->failsafe = &t->failsafe;
    b->name = t->name;
    if (b->writable && !var_writable(b->var))
        return BW_EINVAL;
    return BW_OK;
}

static int bind_all(struct sim_driver *d, size_t device)
{
    const struct bw_project *p = d->project;
    size_t n = 0;
    for (size_t i = 0; i < p->tag_count; i++)
        n += p->tags[i].device == device;
    d->bindings = bw_calloc(n, sizeof(*d->bindings));
    d->batch = bw_calloc(n, sizeof(*d->batch));
    /* At most one group per distinct period, so never more than n. */
    d->groups = bw_calloc(n, sizeof(*d->groups));
    if (!d->bindings || !d->batch || !d->groups)
        return BW_ENOMEM;
    /* The thread ticks at the shortest of the device's and its tags'
     * periods. */
    d->tick_ms = p->scan_classes[p->devices[device].scan_class].period_ms;
    for (size_t i = 0; i < p->tag_count; i++) {
        if (p->tags[i].device != device)
            continue;
        struct sim_binding *b = &d->bindings[d->binding_count];
        int rc = bind_tag(d, &p->tags[i], b);
        if (rc)
            return rc;
        d->binding_count++;
        if (d->groups[b->group].period_ms < d->tick_ms)
            d->tick_ms = d->groups[b->group].period_ms;
    }
    /* Writers last: the core cannot forget a writer, so none is handed
     * over until nothing else can fail. */
    for (size_t i = 0; i < d->binding_count; i++) {
        struct sim_binding *b = &d->bindings[i];
        if (!b->writable)
            continue;
        int rc = bw_core_tag_set_writer(d->core, b->tag, sim_write, b);
        if (rc)
            return rc;
    }
    return BW_OK;
}

/* ---- life cycle ---------------------------------------------------- */

static void sim_destroy(void *impl)
{
    struct sim_driver *d = impl;
    if (!d)
        return;
    sim_stop(d);
    bw_sim_model_clear(&d->model);
    bw_free(d->walks);
    bw_free(d->signal_values);
    bw_free(d->bindings);
    bw_free(d->groups);
    bw_free(d->batch);
    pthread_cond_destroy(&d->wake);
    pthread_mutex_destroy(&d->lock);
    bw_free(d);
}

static int sync_init(struct sim_driver *d)
{
    pthread_condattr_t attr;
    if (pthread_mutex_init(&d->lock, NULL))
        return BW_ENOMEM;
    if (pthread_condattr_init(&attr)) {
        pthread_mutex_destroy(&d->lock);
        return BW_ENOMEM;
    }
    /* Sleep on the monotonic clock so a wall-clock step cannot stall us. */
    int err = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    if (!err)
        err = pthread_cond_init(&d->wake, &attr);
    pthread_condattr_destroy(&attr);
    if (err) {
        pthread_mutex_destroy(&d->lock);
        return BW_ENOMEM;
    }
    return BW_OK;
}

static int signals_init(struct sim_driver *d)
{
    size_t n = d->project->signal_count;
    d->walks = bw_calloc(n, sizeof(*d->walks));
    d->signal_values = bw_calloc(n, sizeof(*d->signal_values));
    if (!d->walks || !d->signal_values)
        return BW_ENOMEM;
    /* Each walk gets its own stream, derived from the device seed. */
    struct bw_sim_prng seeds;
    bw_sim_prng_seed(&seeds, d->seed ^ UINT64_C(0x5349474E414C5321));
    for (size_t i = 0; i < n; i++) {
        const struct bw_project_signal *s = &d->project->signals[i];
        bw_sim_walk_init(&d->walks[i], s->min, s->max, bw_sim_prng_next(&seeds));
        d->signal_values[i] = bw_sim_signal_eval(s, &d->walks[i], 0);
    }
    return BW_OK;
}

static int sim_create(const struct bw_project *project, size_t device, struct bw_core *core,
                      void **impl)
{
    struct sim_driver *d = bw_calloc(1, sizeof(*d));
    if (!d)
        return BW_ENOMEM;
    if (sync_init(d)) {
        bw_free(d);
        return BW_ENOMEM;
    }
    d->core = core;
    d->project = project;
    d->seed = project->devices[device].sim_seed;
    d->device = project->devices[device].name;
    atomic_init(&d->state, BW_DRIVER_STOPPED);
    int rc = project->devices[device].scan_class < project->scan_class_count ? BW_OK : BW_EINVAL;
    if (!rc)
        rc = bw_sim_model_init(&d->model, project, d->seed);
    if (!rc)
        rc = signals_init(d);
    if (!rc)
        rc = bind_all(d, device);
    if (rc) {
        sim_destroy(d);
        return rc;
    }
    *impl = d;
    return BW_OK;
}

static void sim_status(const void *impl, struct bw_driver_status *out)
{
    const struct sim_driver *d = impl;
    out->state = (enum bw_driver_state)atomic_load(&d->state);
    out->cycles = atomic_load(&d->cycles);
    out->updates = atomic_load(&d->updates);
    out->writes = atomic_load(&d->writes);
    out->queue_full = atomic_load(&d->queue_full);
}

/* ---- writes (interface threads) ------------------------------------ */

static int sim_write(void *ctx, uint32_t tag, const struct bw_value *value,
                     struct bw_write_error *err)
{
    (void)err;
    struct sim_binding *b = ctx;
    double v;
    if (!b || !value || tag != b->tag)
        return BW_EINVAL;
    switch (value->type) {
    case BW_TYPE_BOOL:
        v = value->v.b ? 1.0 : 0.0;
        break;
    case BW_TYPE_INT:
        v = (double)value->v.i;
        break;
    case BW_TYPE_FLOAT:
        v = value->v.f;
        break;
    default:
        return BW_ETYPE;
    }
    if (!isfinite(v))
        return BW_ERANGE;
    /* Position and rate are percentages whatever the tag's own range. */
    if (b->var != VAR_PUMP_RUNNING && (v < 0.0 || v > 100.0))
        return BW_ERANGE;
    pthread_mutex_lock(&b->drv->lock);
    b->pending = true;
    b->pending_value = v;
    pthread_mutex_unlock(&b->drv->lock);
    atomic_fetch_add(&b->drv->writes, 1);
    return BW_OK;
}

/* Driver thread: moves the pending writes into the model. */
static void writes_apply(struct sim_driver *d)
{
    bool any = false;
    pthread_mutex_lock(&d->lock);
    for (size_t i = 0; i < d->binding_count; i++) {
        struct sim_binding *b = &d->bindings[i];
        if (!b->pending)
            continue;
        b->pending = false;
        b->dirty = true;
        any = true;
        if (b->var == VAR_PUMP_RUNNING)
            d->model.pumps[b->index].running = b->pending_value != 0.0;
        else if (b->var == VAR_VALVE_POSITION)
            d->model.valves[b->index].position_pct = b->pending_value;
        else if (b->var == VAR_DOSER_RATE)
            d->model.dosers[b->index].rate_pct = b->pending_value;
    }
    pthread_mutex_unlock(&d->lock);
    if (!any)
        return;
    /* Another binding of the same variable must show the write too. */
    for (size_t i = 0; i < d->binding_count; i++) {
        struct sim_binding *b = &d->bindings[i];
        if (!var_writable(b->var) || b->dirty)
            continue;
        for (size_t j = 0; j < d->binding_count; j++)
            if (d->bindings[j].dirty && d->bindings[j].var == b->var &&
                d->bindings[j].index == b->index)
                b->dirty = true;
    }
}

/* ---- the driver thread --------------------------------------------- */

static double var_value(const struct sim_driver *d, const struct sim_binding *b)
{
    const struct bw_sim_model *m = &d->model;
    size_t i = b->index;
    switch (b->var) {
    case VAR_SIGNAL_VALUE:
        return d->signal_values[i];
    case VAR_TANK_LEVEL:
        return m->tanks[i].level_m;
    case VAR_TANK_VOLUME:
        return bw_sim_tank_volume(&m->tanks[i]);
    case VAR_TANK_LEVEL_PCT:
        return 100.0 * m->tanks[i].level_m / m->tanks[i].height_m;
    case VAR_TANK_CHLORINE:
        return m->tanks[i].chlorine_mg_l;
    case VAR_PUMP_RUNNING:
        return m->pumps[i].running ? 1.0 : 0.0;
    case VAR_PUMP_FLOW:
        return m->pumps[i].flow_meas_m3h;
    case VAR_PUMP_PRESSURE:
        return m->pumps[i].pressure_meas_bar;
    case VAR_VALVE_POSITION:
        return m->valves[i].position_pct;
    case VAR_VALVE_FLOW:
        return m->valves[i].flow_m3h;
    case VAR_DOSER_RATE:
        return m->dosers[i].rate_pct;
    case VAR_DOSER_DOSE:
        return m->dosers[i].dose_mg_l;
    case VAR_COUNT_:
        break;
    }
    return 0.0;
}

static struct bw_value value_as(enum bw_type type, double v)
{
    struct bw_value out = {.type = type};
    if (type == BW_TYPE_BOOL) {
        out.v.b = v != 0.0;
    } else if (type == BW_TYPE_INT) {
        /* Saturate: llround of an out-of-range double is undefined. */
        if (v >= 9.2e18)
            out.v.i = INT64_MAX;
        else if (v <= -9.2e18)
            out.v.i = INT64_MIN;
        else
            out.v.i = (int64_t)llround(v);
    } else {
        out.type = BW_TYPE_FLOAT;
        out.v.f = v;
    }
    return out;
}

/* Marks the groups whose period has come round; a group that fell more
 * than one period behind is re-phased rather than published in a burst. */
static void groups_due(struct sim_driver *d, int64_t now_us)
{
    for (size_t g = 0; g < d->group_count; g++) {
        struct sim_group *gr = &d->groups[g];
        int64_t period_us = (int64_t)gr->period_ms * 1000;
        gr->due = now_us >= gr->next_due_us;
        if (!gr->due)
            continue;
        gr->next_due_us += period_us;
        if (gr->next_due_us <= now_us)
            gr->next_due_us = now_us + period_us;
    }
}

static void publish(struct sim_driver *d)
{
    int64_t ts = bw_clock_realtime_us();
    size_t n = 0;
    for (size_t i = 0; i < d->binding_count; i++) {
        struct sim_binding *b = &d->bindings[i];
        if (!d->groups[b->group].due && !b->dirty)
            continue;
        d->batch[n++] = (struct bw_tag_update){
            .tag = b->tag,
            .quality = BW_QUALITY_GOOD,
            .reason = BW_REASON_NONE,
            .source_ts_us = ts,
            .value = value_as(b->type, var_value(d, b)),
        };
        b->dirty = false;
    }
    if (n == 0)
        return;
    size_t queued = 0;
    int rc = bw_core_update_push(d->core, d->batch, n, &queued);
    atomic_fetch_add(&d->updates, queued);
    if (rc == BW_EFULL) {
        /* The engine is behind; this cycle's remainder is dropped and the
         * next due cycle sends fresh values. */
        atomic_fetch_add(&d->queue_full, 1);
        atomic_store(&d->state, BW_DRIVER_DEGRADED);
    } else if (rc) {
        atomic_store(&d->state, BW_DRIVER_FAILED);
    } else {
        atomic_store(&d->state, BW_DRIVER_CONNECTED);
    }
}

static void cycle(struct sim_driver *d)
{
    int64_t now = bw_clock_monotonic_us();
    double dt = (double)(now - d->last_us) / 1e6;
    d->last_us = now;
    if (dt > MAX_STEP_S)
        dt = MAX_STEP_S;
    writes_apply(d);
    bw_sim_model_step(&d->model, dt);
    int64_t t_ms = (now - d->start_us) / 1000;
    for (size_t i = 0; i < d->project->signal_count; i++)
        d->signal_values[i] = bw_sim_signal_eval(&d->project->signals[i], &d->walks[i], t_ms);
    groups_due(d, now);
    publish(d);
    atomic_fetch_add(&d->cycles, 1);
}

static void *sim_thread(void *arg)
{
    struct sim_driver *d = arg;
    pthread_mutex_lock(&d->lock);
    while (!d->stop) {
        pthread_mutex_unlock(&d->lock);
        cycle(d);
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += (long)(d->tick_ms % 1000) * 1000000L;
        until.tv_sec += (time_t)(d->tick_ms / 1000) + until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        pthread_mutex_lock(&d->lock);
        while (!d->stop && pthread_cond_timedwait(&d->wake, &d->lock, &until) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&d->lock);
    return NULL;
}

static int sim_start(void *impl)
{
    struct sim_driver *d = impl;
    if (d->thread_running)
        return BW_ESTATE;
    int64_t now = bw_clock_monotonic_us();
    /* A restart resumes the plant where it stopped, without a jump. */
    if (!d->clock_started) {
        d->start_us = now;
        d->clock_started = true;
    }
    d->last_us = now;
    for (size_t g = 0; g < d->group_count; g++)
        d->groups[g].next_due_us = now;
    d->stop = false;
    atomic_store(&d->state, BW_DRIVER_CONNECTED);
    if (pthread_create(&d->thread, NULL, sim_thread, d)) {
        atomic_store(&d->state, BW_DRIVER_FAILED);
        return BW_EIO;
    }
    d->thread_running = true;
    return BW_OK;
}

static void sim_event(struct sim_driver *d, enum bw_driver_event_kind kind,
                      const struct sim_binding *b, const char *detail)
{
    if (!d->on_event)
        return;
    struct bw_driver_event ev = {.kind = kind,
                                 .device = d->device,
                                 .tag = b->name,
                                 .detail = detail,
                                 .value = &b->failsafe->value};
    d->on_event(d->event_ctx, &ev);
}

/* The simulated process takes a fail-safe value as it takes an operator
 * write: it is applied on the driver thread's next step (or at once when
 * the thread has stopped), and it cannot fail. */
static void sim_failsafe(void *impl, enum bw_failsafe_event event)
{
    struct sim_driver *d = impl;
    static const char *const names[] = {"communication loss", "shutdown", "integrity violation",
                                        "island mode"};
    unsigned bit = (unsigned)__builtin_ctz((unsigned)event);
    const char *why = bit < BW_ARRAY_LEN(names) ? names[bit] : "?";
    for (size_t i = 0; i < d->binding_count; i++) {
        struct sim_binding *b = &d->bindings[i];
        if (!(b->failsafe->events & (uint32_t)event))
            continue;
        sim_event(d, BW_DRIVER_EV_FAILSAFE_TRIGGERED, b, why);
        struct bw_write_error err;
        if (sim_write(b, b->tag, &b->failsafe->value, &err) == BW_OK)
            sim_event(d, BW_DRIVER_EV_FAILSAFE_WRITTEN, b, "applied by the simulator");
    }
}

static void sim_set_events(void *impl, bw_driver_event_fn fn, void *ctx)
{
    struct sim_driver *d = impl;
    d->on_event = fn;
    d->event_ctx = ctx;
}

static void sim_stop(void *impl)
{
    struct sim_driver *d = impl;
    if (!d->thread_running)
        return;
    sim_failsafe(d, BW_FAILSAFE_SHUTDOWN);
    pthread_mutex_lock(&d->lock);
    d->stop = true;
    pthread_cond_signal(&d->wake);
    pthread_mutex_unlock(&d->lock);
    pthread_join(d->thread, NULL);
    d->thread_running = false;
    writes_apply(d); /* the shutdown fail-safe values, into the model */
    atomic_store(&d->state, BW_DRIVER_STOPPED);
}

const struct bw_driver_ops bw_driver_sim_ops = {
    .name = "sim",
    .create = sim_create,
    .start = sim_start,
    .stop = sim_stop,
    .destroy = sim_destroy,
    .status = sim_status,
    .set_events = sim_set_events,
    .failsafe = sim_failsafe,
};
