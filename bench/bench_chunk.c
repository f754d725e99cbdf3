/* SPDX-License-Identifier: Apache-2.0
 *
 * Chunk codec throughput and size: 10,000 tags x 1,000 samples (10
 * million) of process data cut into chunks of 60 samples (a minute at a
 * 1 s cadence, as the historian closes them), encoded with
 * bw_chunk_encode() and decoded with bw_chunk_decode(). Prints samples/s
 * for each direction (median of three rounds; only the codec calls are
 * timed, not making the data) and the average bytes a sample, in all and
 * per kind of tag:
 *
 * - analog (70% of the tags): a slow sine over minutes plus measurement
 *   noise, so every sample is a new arbitrary double;
 * - integral (15%): a counter that steps by 0, 1 or 2;
 * - boolean (15%): a state that flips about every 200 s.
 *
 * Every tag goes bad for a few samples about every 2,000 (quality and
 * reason change, value held). Two data sets: timestamps on an exact 1 s
 * cadence (a cyclic log), and with +-1 ms of poll jitter (source
 * timestamps from a device). No targets; the figures are for reading.
 *
 *   bench_chunk [TAGS]
 */
#include "core/core.h"
#include "store/store.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define DEFAULT_TAGS 10000u
#define SAMPLES 1000u
#define CHUNK 60u
#define CHUNKS ((SAMPLES + CHUNK - 1) / CHUNK)
#define ROUNDS 3
#define EPOCH_2026 1767225600000000ll

enum kind { ANALOG, INTEGRAL, BOOLEAN, KINDS };
static const char *const KIND_NAMES[KINDS] = {"analog", "integral", "boolean"};

static unsigned tags = DEFAULT_TAGS;

static struct bw_sample samples[SAMPLES];
static struct bw_sample decoded[CHUNK];
static uint8_t encoded[CHUNKS][CHUNK * BW_CHUNK_SAMPLE_MAX + 16u];
static size_t encoded_len[CHUNKS];

struct totals {
    double encode_s, decode_s;
    uint64_t bytes[KINDS], samples[KINDS];
    uint64_t failures; /* calls that did not return BW_OK (none expected) */
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t next_u64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static enum kind kind_of(unsigned tag)
{
    unsigned k = tag % 20;
    return k < 14 ? ANALOG : k < 17 ? INTEGRAL : BOOLEAN;
}

/* The samples of one tag, the same in every round. */
static void make_tag(unsigned tag, bool jitter)
{
    uint64_t rng = tag * 2654435761ull + (jitter ? 1 : 0);
    double base = 10.0 + (double)(tag % 97) * 3.7, amp = 0.5 + (double)(tag % 13);
    double period = 600.0 + (double)(tag % 50) * 60.0;
    double value = (double)(tag % 1000) * 17.0;
    unsigned bad_left = 0;
    for (unsigned i = 0; i < SAMPLES; i++) {
        int64_t ts = EPOCH_2026 + (int64_t)tag * 1000 + (int64_t)i * 1000000;
        if (jitter)
            ts += (int64_t)(next_u64(&rng) % 2001) - 1000;
        uint64_t r = next_u64(&rng);
        if (bad_left == 0 && r % 2000 == 0)
            bad_left = 5;
        if (bad_left == 0) {
            switch (kind_of(tag)) {
            case ANALOG:
                value = base + amp * sin(2.0 * M_PI * (double)i / period) +
                        amp * 1e-3 * (double)((int64_t)(r >> 32 & 0x7FF) - 1024) / 1024.0;
                break;
            case INTEGRAL:
                value += (double)((r >> 32) % 3u); /* a step of 0, 1 or 2 */
                break;
            default:
                if ((r >> 32) % 200 == 0)
                    value = value != 0.0 ? 0.0 : 1.0;
                break;
            }
        }
        samples[i] = (struct bw_sample){
            .ts_us = ts,
            .value = value,
            .quality = (uint8_t)(bad_left ? BW_QUALITY_BAD : BW_QUALITY_GOOD),
            .reason = (uint8_t)(bad_left ? BW_REASON_COMM_FAILURE : BW_REASON_NONE)};
        if (bad_left)
            bad_left--;
    }
}

static volatile uint64_t sink; /* keeps the decoding from being optimised away */

static void run_tag(unsigned tag, struct totals *t)
{
    double t0 = now_s();
    for (unsigned c = 0; c < CHUNKS; c++) {
        size_t n = c + 1 < CHUNKS ? CHUNK : SAMPLES - c * CHUNK;
        if (bw_chunk_encode(&samples[c * CHUNK], n, encoded[c], sizeof(encoded[c]),
                            &encoded_len[c]) != BW_OK)
            t->failures++;
    }
    double t1 = now_s();
    uint64_t check = 0;
    for (unsigned c = 0; c < CHUNKS; c++) {
        size_t n = 0;
        if (bw_chunk_decode(encoded[c], encoded_len[c], decoded, CHUNK, &n) != BW_OK)
            t->failures++;
        check += (uint64_t)decoded[n ? n - 1 : 0].ts_us;
    }
    double t2 = now_s();
    sink += check;
    t->encode_s += t1 - t0;
    t->decode_s += t2 - t1;
    enum kind k = kind_of(tag);
    for (unsigned c = 0; c < CHUNKS; c++)
        t->bytes[k] += encoded_len[c];
    t->samples[k] += SAMPLES;
}

static double median3(const double v[3])
{
    double a = v[0], b = v[1], c = v[2];
    if ((a <= b && b <= c) || (c <= b && b <= a))
        return b;
    if ((b <= a && a <= c) || (c <= a && a <= b))
        return a;
    return c;
}

static void run_set(bool jitter)
{
    const char *name = jitter ? "1 s +-1 ms jitter" : "exact 1 s cadence";
    double enc[ROUNDS], dec[ROUNDS];
    struct totals t = {0};
    for (int r = 0; r < ROUNDS; r++) {
        t = (struct totals){0};
        for (unsigned tag = 0; tag < tags; tag++) {
            make_tag(tag, jitter);
            run_tag(tag, &t);
        }
        double total = (double)tags * SAMPLES;
        enc[r] = total / t.encode_s;
        dec[r] = total / t.decode_s;
    }
    uint64_t bytes = 0, n = 0;
    for (int k = 0; k < KINDS; k++) {
        bytes += t.bytes[k];
        n += t.samples[k];
    }
    printf("chunk [%s]: encode median %.0f samples/s (rounds %.0f %.0f %.0f)\n", name, median3(enc),
           enc[0], enc[1], enc[2]);
    printf("chunk [%s]: decode median %.0f samples/s (rounds %.0f %.0f %.0f)\n", name, median3(dec),
           dec[0], dec[1], dec[2]);
    printf("chunk [%s]: %.2f bytes/sample overall (%llu bytes for %llu samples)", name,
           (double)bytes / (double)n, (unsigned long long)bytes, (unsigned long long)n);
    for (int k = 0; k < KINDS; k++)
        if (t.samples[k])
            printf("; %s %.2f", KIND_NAMES[k], (double)t.bytes[k] / (double)t.samples[k]);
    printf("\n");
    if (t.failures)
        printf("chunk [%s]: %llu codec calls failed\n", name, (unsigned long long)t.failures);
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        uint64_t n;
        if (bw_parse_u64(argv[1], strlen(argv[1]), 1000000u, &n) != BW_OK || n == 0) {
            fprintf(stderr, "usage: bench_chunk [TAGS]\n");
            return 2;
        }
        tags = (unsigned)n;
    }
    printf("chunk: %u tags x %u samples, chunks of %u samples, %d rounds\n", tags, SAMPLES, CHUNK,
           ROUNDS);
    run_set(false);
    run_set(true);
    return 0;
}
