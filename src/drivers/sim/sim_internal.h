/* SPDX-License-Identifier: Apache-2.0
 *
 * sim_internal: what the simulator's files share and what its unit tests
 * reach. Three seams: a small seeded PRNG and the signal shapes (pure
 * functions of time), the process model (tanks, pumps, valves, dosers;
 * a pure, deterministic step), and the driver thread (sim_driver.c) that
 * steps the model and publishes tags. Nothing here locks: the model and
 * the signal states belong to whoever owns them (the driver thread in the
 * daemon, the test in tests).
 */
#ifndef BW_SIM_INTERNAL_H
#define BW_SIM_INTERNAL_H

#include "base/base.h"
#include "project/project.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- PRNG: xoshiro256** seeded through splitmix64 ------------------- */

struct bw_sim_prng {
    uint64_t s[4];
};

/* Seeds the generator; every seed (0 included) gives a usable state. */
void bw_sim_prng_seed(struct bw_sim_prng *prng, uint64_t seed);
uint64_t bw_sim_prng_next(struct bw_sim_prng *prng);
/* A double uniformly distributed in [0, 1). */
double bw_sim_prng_unit(struct bw_sim_prng *prng);
/* A double uniformly distributed in [-1, 1). */
double bw_sim_prng_signed(struct bw_sim_prng *prng);

/* ---- signals: pure functions of time in milliseconds ---------------- */

/* min + (max - min) * (1 + sin(2 pi t / period)) / 2: mid-range at t = 0,
 * max at a quarter period. period_ms 0 gives the mid-range. */
double bw_sim_signal_sine(double min, double max, uint32_t period_ms, int64_t t_ms);
/* Rises linearly from min at the start of each period towards max. */
double bw_sim_signal_ramp(double min, double max, uint32_t period_ms, int64_t t_ms);
/* max for the first half of each period, min for the second. */
double bw_sim_signal_square(double min, double max, uint32_t period_ms, int64_t t_ms);
/* steps[k mod n] for t in [k * hold_ms, (k + 1) * hold_ms). n 0: 0. */
double bw_sim_signal_step(const double *steps, size_t n, uint32_t hold_ms, int64_t t_ms);

/* A random walk: one step of at most max_step every period_ms, reflected
 * at the bounds. Its value at time t depends only on the seed and t
 * (evaluations must not go back in time; an earlier t holds the value). */
struct bw_sim_walk {
    struct bw_sim_prng prng;
    double value;
    int64_t steps_done;
};

/* Longest catch-up one evaluation performs; beyond it the walk skips
 * ahead, so a suspended process cannot stall the driver on resume. */
#define BW_SIM_WALK_MAX_CATCHUP 100000

void bw_sim_walk_init(struct bw_sim_walk *walk, double min, double max, uint64_t seed);
double bw_sim_walk_eval(struct bw_sim_walk *walk, double min, double max, double max_step,
                        uint32_t period_ms, int64_t t_ms);

/* Any project signal at time t_ms; walk is used (and advanced) only for
 * the random_walk shape. */
double bw_sim_signal_eval(const struct bw_project_signal *signal, struct bw_sim_walk *walk,
                          int64_t t_ms);

/* ---- the process model ---------------------------------------------- */

/* Seconds a pump's soft starter takes from standstill to full speed (and
 * back): the speed ramps linearly, so it reaches 0 exactly. */
#define BW_SIM_PUMP_RAMP_S 3.0
/* Relative amplitude of the measurement noise on pump flow and pressure. */
#define BW_SIM_NOISE 0.005
/* Pressure falls by this fraction per unit of (to - from) level fraction. */
#define BW_SIM_HEAD_FACTOR 0.05
/* Longest integration step; longer steps are split. */
#define BW_SIM_MAX_SUBSTEP_S 0.5

struct bw_sim_tank {
    double area_m2, height_m;
    double level_m;
    double chlorine_mg_l;
    double inflow_m3h, outflow_m3h; /* during the last step */
};

struct bw_sim_pump {
    size_t from, to; /* tank index or BW_SIM_NO_TANK */
    double rated_flow_m3h, rated_pressure_bar;
    bool running;                            /* the command */
    double speed;                            /* 0..1, ramps towards the command */
    double flow_m3h;                         /* delivered during the last step */
    double pressure_bar;                     /* discharge pressure, lagged */
    double flow_meas_m3h, pressure_meas_bar; /* what the transmitters say */
};

struct bw_sim_valve {
    size_t from, to;
    double rated_flow_m3h;
    double position_pct;
    double flow_m3h; /* delivered during the last step */
};

struct bw_sim_doser {
    size_t tank;
    double max_dose_mg_l, rate_pct, decay_per_h;
    double dose_mg_l; /* added to inflow during the last step */
};

struct bw_sim_model {
    struct bw_sim_tank *tanks;
    size_t tank_count;
    struct bw_sim_pump *pumps;
    size_t pump_count;
    struct bw_sim_valve *valves;
    size_t valve_count;
    struct bw_sim_doser *dosers;
    size_t doser_count;
    struct bw_sim_prng noise;
    double time_s;
    /* Volume accounting for the balance: what entered from outside, what
     * left to outside, what overflowed (all in m3, since init). */
    double in_m3, out_m3, overflow_m3;
    /* Scratch for one step, one entry per tank (allocated at init). */
    double *scratch;
};

/* Builds the model from the project's simulator section (copies the
 * parameters; project is not kept). BW_EINVAL when an element refers to
 * a tank that does not exist, BW_ENOMEM. Free with bw_sim_model_clear. */
BW_MUST_CHECK int bw_sim_model_init(struct bw_sim_model *model, const struct bw_project *project,
                                    uint64_t seed);
/* Allocates an empty model with room for the given element counts, all
 * zeroed, for tests that build plants by hand. BW_ENOMEM. */
BW_MUST_CHECK int bw_sim_model_alloc(struct bw_sim_model *model, size_t tanks, size_t pumps,
                                     size_t valves, size_t dosers, uint64_t seed);
void bw_sim_model_clear(struct bw_sim_model *model);

/* Advances the model by dt_s seconds (<= 0 does nothing), in sub-steps of
 * at most BW_SIM_MAX_SUBSTEP_S. Deterministic: the same model and the
 * same sequence of calls give the same state. */
void bw_sim_model_step(struct bw_sim_model *model, double dt_s);

/* Volume held in tank i, m3. */
double bw_sim_tank_volume(const struct bw_sim_tank *tank);
/* Sum of all tank volumes, m3. */
double bw_sim_model_volume(const struct bw_sim_model *model);

#endif
