/* SPDX-License-Identifier: Apache-2.0
 *
 * The simulator's process model: tanks, pumps, valves and chlorine
 * dosers, integrated with explicit Euler sub-steps. It owns the physics
 * only; it knows nothing of tags, threads or clocks, so it is a pure,
 * deterministic function of its state and the time step, which is what
 * makes it testable. Runs on the sim driver thread in the daemon.
 *
 * docs/internals/simulator.md gives the equations.
 */
#include "drivers/sim/sim_internal.h"

#include <math.h>
#include <string.h>

/* Scratch rows, each tank_count long. */
enum { SCR_OUT = 0, SCR_IN, SCR_MASS, SCR_ROWS };

/* Below this volume a tank counts as empty for mixing (m3). */
#define EMPTY_M3 1e-9

BW_MUST_CHECK int bw_sim_model_alloc(struct bw_sim_model *model, size_t tanks, size_t pumps,
                                     size_t valves, size_t dosers, uint64_t seed)
{
    size_t scratch_len;
    memset(model, 0, sizeof(*model));
    if (!bw_size_mul(tanks, SCR_ROWS, &scratch_len))
        return BW_ENOMEM;
    model->tanks = bw_calloc(tanks, sizeof(*model->tanks));
    model->pumps = bw_calloc(pumps, sizeof(*model->pumps));
    model->valves = bw_calloc(valves, sizeof(*model->valves));
    model->dosers = bw_calloc(dosers, sizeof(*model->dosers));
    model->scratch = bw_calloc(scratch_len, sizeof(*model->scratch));
    if (!model->tanks || !model->pumps || !model->valves || !model->dosers || !model->scratch) {
        bw_sim_model_clear(model);
        return BW_ENOMEM;
    }
    model->tank_count = tanks;
    model->pump_count = pumps;
    model->valve_count = valves;
    model->doser_count = dosers;
    bw_sim_prng_seed(&model->noise, seed);
    return BW_OK;
}

void bw_sim_model_clear(struct bw_sim_model *model)
{
    bw_free(model->tanks);
    bw_free(model->pumps);
    bw_free(model->valves);
    bw_free(model->dosers);
    bw_free(model->scratch);
    memset(model, 0, sizeof(*model));
}

static bool tank_ref_ok(const struct bw_sim_model *model, size_t index)
{
    return index == BW_SIM_NO_TANK || index < model->tank_count;
}

static double clamp(double v, double lo, double hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

/* Copies the elements' parameters; the project is not kept. */
static int model_fill(struct bw_sim_model *model, const struct bw_project *p)
{
    for (size_t i = 0; i < p->tank_count; i++) {
        struct bw_sim_tank *t = &model->tanks[i];
        if (!(p->tanks[i].area_m2 > 0.0) || !(p->tanks[i].height_m > 0.0))
            return BW_EINVAL;
        t->area_m2 = p->tanks[i].area_m2;
        t->height_m = p->tanks[i].height_m;
        t->level_m = clamp(p->tanks[i].level_m, 0.0, t->height_m);
    }
    for (size_t i = 0; i < p->pump_count; i++) {
        const struct bw_project_pump *src = &p->pumps[i];
        struct bw_sim_pump *pu = &model->pumps[i];
        if (!tank_ref_ok(model, src->from) || !tank_ref_ok(model, src->to))
            return BW_EINVAL;
        pu->from = src->from;
        pu->to = src->to;
        pu->rated_flow_m3h = src->flow_m3h;
        pu->rated_pressure_bar = src->pressure_bar;
        pu->running = src->running;
        /* A pump the project starts running is already up to speed. */
        pu->speed = src->running ? 1.0 : 0.0;
    }
    for (size_t i = 0; i < p->valve_count; i++) {
        const struct bw_project_valve *src = &p->valves[i];
        if (!tank_ref_ok(model, src->from) || !tank_ref_ok(model, src->to))
            return BW_EINVAL;
        model->valves[i].from = src->from;
        model->valves[i].to = src->to;
        model->valves[i].rated_flow_m3h = src->flow_m3h;
        model->valves[i].position_pct = clamp(src->position_pct, 0.0, 100.0);
    }
    for (size_t i = 0; i < p->doser_count; i++) {
        const struct bw_project_doser *src = &p->dosers[i];
        if (src->tank >= model->tank_count)
            return BW_EINVAL;
        model->dosers[i].tank = src->tank;
        model->dosers[i].max_dose_mg_l = src->max_dose_mg_l;
        model->dosers[i].rate_pct = clamp(src->rate_pct, 0.0, 100.0);
        model->dosers[i].decay_per_h = src->decay_per_h;
    }
    return BW_OK;
}

BW_MUST_CHECK int bw_sim_model_init(struct bw_sim_model *model, const struct bw_project *project,
                                    uint64_t seed)
{
    int rc = bw_sim_model_alloc(model, project->tank_count, project->pump_count,
                                project->valve_count, project->doser_count, seed);
    if (rc)
        return rc;
    rc = model_fill(model, project);
    if (rc)
        bw_sim_model_clear(model);
    return rc;
}

double bw_sim_tank_volume(const struct bw_sim_tank *tank)
{
    return tank->level_m * tank->area_m2;
}

double bw_sim_model_volume(const struct bw_sim_model *model)
{
    double v = 0.0;
    for (size_t i = 0; i < model->tank_count; i++)
        v += bw_sim_tank_volume(&model->tanks[i]);
    return v;
}

/* Level as a fraction of height; the outside world counts as empty. */
static double level_frac(const struct bw_sim_model *model, size_t tank)
{
    if (tank == BW_SIM_NO_TANK)
        return 0.0;
    return model->tanks[tank].level_m / model->tanks[tank].height_m;
}

static bool tank_empty(const struct bw_sim_model *model, size_t tank)
{
    return tank != BW_SIM_NO_TANK && model->tanks[tank].level_m <= 0.0;
}

/* Pump speeds follow their commands; each pump and valve asks for a flow
 * (m3/h) that the source tank may later cut back. */
static void flows_demand(struct bw_sim_model *m, double h)
{
    double ramp = h / BW_SIM_PUMP_RAMP_S;
    for (size_t i = 0; i < m->pump_count; i++) {
        struct bw_sim_pump *p = &m->pumps[i];
        /* The epsilon absorbs rounding of ramp sums (3 x 1/6 != 0.5). */
        p->speed = clamp(p->speed + (p->running ? ramp : -ramp), 0.0, 1.0);
        if (p->speed < 1e-9 || p->speed > 1.0 - 1e-9)
            p->speed = p->speed < 0.5 ? 0.0 : 1.0;
        p->flow_m3h = tank_empty(m, p->from) ? 0.0 : p->rated_flow_m3h * p->speed;
    }
    for (size_t i = 0; i < m->valve_count; i++) {
        struct bw_sim_valve *v = &m->valves[i];
        double head = 1.0;
        if (v->from != BW_SIM_NO_TANK)
            head = sqrt(clamp(level_frac(m, v->from), 0.0, 1.0));
        v->flow_m3h = v->rated_flow_m3h * v->position_pct / 100.0 * head;
    }
}

/* No tank gives more than it holds: when the outflows asked of a tank
 * exceed its volume, all of them are scaled down by the same factor. */
static void flows_limit(struct bw_sim_model *m, double hh)
{
    double *out = m->scratch + SCR_OUT * m->tank_count;
    memset(out, 0, m->tank_count * sizeof(*out));
    for (size_t i = 0; i < m->pump_count; i++)
        if (m->pumps[i].from != BW_SIM_NO_TANK)
            out[m->pumps[i].from] += m->pumps[i].flow_m3h * hh;
    for (size_t i = 0; i < m->valve_count; i++)
        if (m->valves[i].from != BW_SIM_NO_TANK)
            out[m->valves[i].from] += m->valves[i].flow_m3h * hh;
    for (size_t t = 0; t < m->tank_count; t++) {
        double have = bw_sim_tank_volume(&m->tanks[t]);
        out[t] = out[t] > have ? have / out[t] : 1.0; /* now a factor */
    }
    for (size_t i = 0; i < m->pump_count; i++)
        if (m->pumps[i].from != BW_SIM_NO_TANK)
            m->pumps[i].flow_m3h *= out[m->pumps[i].from];
    for (size_t i = 0; i < m->valve_count; i++)
        if (m->valves[i].from != BW_SIM_NO_TANK)
            m->valves[i].flow_m3h *= out[m->valves[i].from];
}

/* Books vol m3 moving from -> to, carrying the source's chlorine. */
static void transfer(struct bw_sim_model *m, size_t from, size_t to, double vol)
{
    size_t n = m->tank_count;
    double conc = 0.0;
    if (from == BW_SIM_NO_TANK) {
        m->in_m3 += vol;
    } else {
        conc = m->tanks[from].chlorine_mg_l;
        m->scratch[SCR_OUT * n + from] += vol;
    }
    if (to == BW_SIM_NO_TANK) {
        m->out_m3 += vol;
    } else {
        m->scratch[SCR_IN * n + to] += vol;
        m->scratch[SCR_MASS * n + to] += vol * conc;
    }
}

static void transfers_book(struct bw_sim_model *m, double hh)
{
    memset(m->scratch, 0, m->tank_count * SCR_ROWS * sizeof(*m->scratch));
    for (size_t i = 0; i < m->pump_count; i++)
        transfer(m, m->pumps[i].from, m->pumps[i].to, m->pumps[i].flow_m3h * hh);
    for (size_t i = 0; i < m->valve_count; i++)
        transfer(m, m->valves[i].from, m->valves[i].to, m->valves[i].flow_m3h * hh);
    /* A doser adds its dose to all water entering its tank. */
    for (size_t i = 0; i < m->doser_count; i++) {
        struct bw_sim_doser *d = &m->dosers[i];
        double in = m->scratch[SCR_IN * m->tank_count + d->tank];
        double dose = d->max_dose_mg_l * d->rate_pct / 100.0;
        d->dose_mg_l = in > 0.0 ? dose : 0.0;
        m->scratch[SCR_MASS * m->tank_count + d->tank] += in * dose;
    }
}

/* Applies the booked volumes: mixing, decay, clamping and overflow. */
static void tanks_apply(struct bw_sim_model *m, double hh)
{
    size_t n = m->tank_count;
    for (size_t t = 0; t < n; t++) {
        struct bw_sim_tank *tk = &m->tanks[t];
        double out = m->scratch[SCR_OUT * n + t], in = m->scratch[SCR_IN * n + t];
        double rest = bw_sim_tank_volume(tk) - out;
        if (rest < 0.0)
            rest = 0.0; /* rounding only: flows_limit keeps out <= volume */
        double vol = rest + in;
        double mass = tk->chlorine_mg_l * rest + m->scratch[SCR_MASS * n + t];
        tk->chlorine_mg_l = vol > EMPTY_M3 ? mass / vol : 0.0;
        double cap = tk->area_m2 * tk->height_m;
        if (vol > cap) {
            m->overflow_m3 += vol - cap;
            vol = cap;
        }
        tk->level_m = vol / tk->area_m2;
        tk->inflow_m3h = in / hh;
        tk->outflow_m3h = out / hh;
    }
    for (size_t i = 0; i < m->doser_count; i++) {
        struct bw_sim_tank *tk = &m->tanks[m->dosers[i].tank];
        tk->chlorine_mg_l *= exp(-m->dosers[i].decay_per_h * hh);
    }
}

/* Discharge pressure: proportional to speed, a little lower the more the
 * to-tank stands above the from-tank; 0 when the pump delivers nothing.
 * The transmitters add a small deterministic noise. */
static void pumps_measure(struct bw_sim_model *m)
{
    for (size_t i = 0; i < m->pump_count; i++) {
        struct bw_sim_pump *p = &m->pumps[i];
        double d = clamp(level_frac(m, p->to) - level_frac(m, p->from), -1.0, 1.0);
        p->pressure_bar = p->flow_m3h > 0.0
                              ? p->rated_pressure_bar * p->speed * (1.0 - BW_SIM_HEAD_FACTOR * d)
                              : 0.0;
        double nf = bw_sim_prng_signed(&m->noise), np = bw_sim_prng_signed(&m->noise);
        p->flow_meas_m3h = p->flow_m3h * (1.0 + BW_SIM_NOISE * nf);
        p->pressure_meas_bar = p->pressure_bar * (1.0 + BW_SIM_NOISE * np);
    }
}

void bw_sim_model_step(struct bw_sim_model *model, double dt_s)
{
    if (!(dt_s > 0.0) || !isfinite(dt_s))
        return;
    double n = ceil(dt_s / BW_SIM_MAX_SUBSTEP_S);
    double h = dt_s / n;
    for (double k = 0.0; k < n; k += 1.0) {
        double hh = h / 3600.0;
        flows_demand(model, h);
        flows_limit(model, hh);
        transfers_book(model, hh);
        tanks_apply(model, hh);
        pumps_measure(model);
        model->time_s += h;
    }
}
