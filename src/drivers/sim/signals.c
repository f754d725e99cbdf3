/* SPDX-License-Identifier: Apache-2.0
 *
 * The simulator's signal generators and its PRNG. Every shape is a pure
 * function of time in milliseconds (the random walk also of its seeded
 * generator state), so tests can ask for a value at any instant and the
 * same seed always gives the same plant. Runs on the sim driver thread in
 * the daemon; holds no global state.
 *
 * The PRNG is xoshiro256** (Blackman and Vigna) seeded through
 * splitmix64: small, fast, well distributed, and ours (rand() keeps
 * hidden global state and is banned).
 */
#include "drivers/sim/sim_internal.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void bw_sim_prng_seed(struct bw_sim_prng *prng, uint64_t seed)
{
    uint64_t x = seed;
    for (size_t i = 0; i < 4; i++)
        prng->s[i] = splitmix64(&x);
}

uint64_t bw_sim_prng_next(struct bw_sim_prng *prng)
{
    uint64_t *s = prng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double bw_sim_prng_unit(struct bw_sim_prng *prng)
{
    /* The top 53 bits fill a double's mantissa exactly. */
    return (double)(bw_sim_prng_next(prng) >> 11) * 0x1.0p-53;
}

double bw_sim_prng_signed(struct bw_sim_prng *prng)
{
    return 2.0 * bw_sim_prng_unit(prng) - 1.0;
}

/* t mod period, always in [0, period), also for negative t. */
static int64_t phase_ms(int64_t t_ms, uint32_t period_ms)
{
    int64_t r = t_ms % (int64_t)period_ms;
    return r < 0 ? r + (int64_t)period_ms : r;
}

/* floor(t / period), also for negative t. */
static int64_t cycle_index(int64_t t_ms, uint32_t period_ms)
{
    int64_t q = t_ms / (int64_t)period_ms;
    return (t_ms % (int64_t)period_ms < 0) ? q - 1 : q;
}

double bw_sim_signal_sine(double min, double max, uint32_t period_ms, int64_t t_ms)
{
    if (period_ms == 0)
        return (min + max) / 2.0;
    double x = (double)phase_ms(t_ms, period_ms) / (double)period_ms;
    return min + (max - min) * (1.0 + sin(2.0 * M_PI * x)) / 2.0;
}

double bw_sim_signal_ramp(double min, double max, uint32_t period_ms, int64_t t_ms)
{
    if (period_ms == 0)
        return min;
    double x = (double)phase_ms(t_ms, period_ms) / (double)period_ms;
    return min + (max - min) * x;
}

double bw_sim_signal_square(double min, double max, uint32_t period_ms, int64_t t_ms)
{
    if (period_ms == 0)
        return max;
    /* Compare doubled phase with the period so odd periods split evenly. */
    return 2 * phase_ms(t_ms, period_ms) < (int64_t)period_ms ? max : min;
}

double bw_sim_signal_step(const double *steps, size_t n, uint32_t hold_ms, int64_t t_ms)
{
    if (!steps || n == 0)
        return 0.0;
    if (hold_ms == 0)
        return steps[0];
    int64_t k = cycle_index(t_ms, hold_ms) % (int64_t)n;
    if (k < 0)
        k += (int64_t)n;
    return steps[k];
}

void bw_sim_walk_init(struct bw_sim_walk *walk, double min, double max, uint64_t seed)
{
    bw_sim_prng_seed(&walk->prng, seed);
    walk->value = (min + max) / 2.0;
    walk->steps_done = 0;
}

/* Keeps v inside [min, max] by reflecting at the bounds, so the walk
 * does not stick to an edge. */
static double reflect(double v, double min, double max)
{
    if (v > max)
        v = max - (v - max);
    if (v < min)
        v = min + (min - v);
    if (v > max)
        v = max;
    return v;
}

double bw_sim_walk_eval(struct bw_sim_walk *walk, double min, double max, double max_step,
                        uint32_t period_ms, int64_t t_ms)
{
    if (period_ms == 0 || t_ms < 0)
        return walk->value;
    int64_t target = t_ms / (int64_t)period_ms;
    if (target - walk->steps_done > BW_SIM_WALK_MAX_CATCHUP)
        walk->steps_done = target - BW_SIM_WALK_MAX_CATCHUP;
    while (walk->steps_done < target) {
        double v = walk->value + max_step * bw_sim_prng_signed(&walk->prng);
        walk->value = reflect(v, min, max);
        walk->steps_done++;
    }
    return walk->value;
}

double bw_sim_signal_eval(const struct bw_project_signal *signal, struct bw_sim_walk *walk,
                          int64_t t_ms)
{
    switch (signal->shape) {
    case BW_SHAPE_SINE:
        return bw_sim_signal_sine(signal->min, signal->max, signal->period_ms, t_ms);
    case BW_SHAPE_RAMP:
        return bw_sim_signal_ramp(signal->min, signal->max, signal->period_ms, t_ms);
    case BW_SHAPE_SQUARE:
        return bw_sim_signal_square(signal->min, signal->max, signal->period_ms, t_ms);
    case BW_SHAPE_RANDOM_WALK: {
        double step =
            signal->max_step > 0.0 ? signal->max_step : (signal->max - signal->min) / 50.0;
        return bw_sim_walk_eval(walk, signal->min, signal->max, step, signal->period_ms, t_ms);
    }
    case BW_SHAPE_STEP:
        return bw_sim_signal_step(signal->steps, signal->step_count, signal->period_ms, t_ms);
    }
    return signal->min;
}
