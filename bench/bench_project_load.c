/* SPDX-License-Identifier: Apache-2.0
 *
 * Benchmark: bw_project_parse() on a 100,000-tag project generated in
 * memory (a realistic mix: simulator elements, tags bound to them with
 * units, ranges, descriptions and access rules, and memory tags with
 * initial values). Prints the median of several runs and its ratio to
 * the 1 s limit. Reports; never asserts.
 */
#include "base/base.h"
#include "project/project.h"

#include <stdio.h>
#include <stdlib.h>

#define BENCH_TAGS 100000u
#define BENCH_RUNS 5
#define BENCH_LIMIT_S 1.0
#define BENCH_GROUPS 160 /* of tank, pump, valve, doser, signal: 800 elements */

static int emit_simulator(struct bw_buf *b)
{
    int rc = bw_buf_append_str(b, "\"simulator\":{\"signals\":[");
    for (unsigned g = 0; g < BENCH_GROUPS && !rc; g++)
        rc = bw_buf_printf(b,
                           "%s{\"name\":\"Area%03u.Ambient\",\"shape\":\"sine\",\"min\":5,"
                           "\"max\":25,\"period_ms\":600000}",
                           g ? "," : "", g);
    rc = rc ? rc : bw_buf_append_str(b, "],\"tanks\":[");
    for (unsigned g = 0; g < BENCH_GROUPS && !rc; g++)
        rc = bw_buf_printf(b,
                           "%s{\"name\":\"Area%03u.Tank\",\"area_m2\":50,\"height_m\":6,"
                           "\"level_m\":3}",
                           g ? "," : "", g);
    rc = rc ? rc : bw_buf_append_str(b, "],\"pumps\":[");
    for (unsigned g = 0; g < BENCH_GROUPS && !rc; g++)
        rc = bw_buf_printf(b,
                           "%s{\"name\":\"Area%03u.Pump\",\"to\":\"Area%03u.Tank\","
                           "\"flow_m3h\":120,\"pressure_bar\":2.5,\"running\":true}",
                           g ? "," : "", g, g);
    rc = rc ? rc : bw_buf_append_str(b, "],\"valves\":[");
    for (unsigned g = 0; g < BENCH_GROUPS && !rc; g++)
        rc = bw_buf_printf(b,
                           "%s{\"name\":\"Area%03u.Valve\",\"from\":\"Area%03u.Tank\","
                           "\"flow_m3h\":150,\"position_pct\":40}",
                           g ? "," : "", g, g);
    rc = rc ? rc : bw_buf_append_str(b, "],\"dosers\":[");
    for (unsigned g = 0; g < BENCH_GROUPS && !rc; g++)
        rc = bw_buf_printf(b,
                           "%s{\"name\":\"Area%03u.Doser\",\"tank\":\"Area%03u.Tank\","
                           "\"max_dose_mg_l\":2,\"rate_pct\":30}",
                           g ? "," : "", g, g);
    return rc ? rc : bw_buf_append_str(b, "]},");
}

/* Tag i: bound to one of the group's variables, or a memory tag. */
static int emit_tag(struct bw_buf *b, unsigned i)
{
    static const char *const bound[][4] = {
        /* address suffix, type, unit, access */
        {"Tank.level", "float", "m", ""},
        {"Tank.level_pct", "float", "%", ""},
        {"Pump.running", "bool", "", ",\"access\":{\"write\":{\"level\":200,\"areas\":[1,2]}}"},
        {"Pump.flow", "float", "m3/h", ""},
        {"Valve.position", "float", "%",
         ",\"access\":{\"read\":{\"level\":10,\"areas\":[1]},\"write\":{\"level\":100,"
         "\"areas\":[1],\"permission\":\"override\"}}"},
        {"Doser.dose", "float", "mg/l", ""},
        {"Ambient.value", "float", "degC", ""},
    };
    unsigned g = i % BENCH_GROUPS, k = i % 10;
    const char *sep = i ? "," : "";
    if (k < BW_ARRAY_LEN(bound)) {
        const char *const *v = bound[k];
        return bw_buf_printf(b,
                             "%s{\"name\":\"Area%03u.T%06u\",\"type\":\"%s\",\"unit\":\"%s\","
                             "\"description\":\"Area %u measurement %u from the field\","
                             "\"device\":\"sim%u\",\"address\":\"Area%03u.%s\"%s%s}",
                             sep, g, i, v[1], v[2], g, i, i % 4, g, v[0],
                             v[1][0] == 'f' ? ",\"min\":0,\"max\":1000" : "", v[3]);
    }
    return bw_buf_printf(b,
                         "%s{\"name\":\"Area%03u.Setpoint%06u\",\"type\":\"float\",\"unit\":\"m\","
                         "\"description\":\"Operator setpoint %u\",\"min\":0,\"max\":10,"
                         "\"initial\":%u.5,\"access\":{\"write\":{\"level\":50,\"areas\":[%u]}}}",
                         sep, g, i, i, i % 10, 1 + g % 31);
}

static int generate(struct bw_buf *b)
{
    int rc = bw_buf_append_str(b, "{\"format\":1,\"name\":\"bench\",\"description\":\"100k tags\","
                                  "\"scan_classes\":[{\"name\":\"fast\",\"period_ms\":250},"
                                  "{\"name\":\"slow\",\"period_ms\":5000}],\"devices\":[");
    for (unsigned d = 0; d < 4 && !rc; d++)
        rc = bw_buf_printf(b, "%s{\"name\":\"sim%u\",\"driver\":\"sim\",\"scan_class\":\"%s\"}",
                           d ? "," : "", d, d % 2 ? "slow" : "fast");
    rc = rc ? rc : bw_buf_append_str(b, "],");
    rc = rc ? rc : emit_simulator(b);
    rc = rc ? rc : bw_buf_append_str(b, "\"tags\":[");
    for (unsigned i = 0; i < BENCH_TAGS && !rc; i++)
        rc = emit_tag(b, i);
    return rc ? rc : bw_buf_append_str(b, "]}");
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(void)
{
    struct bw_buf b;
    bw_buf_init(&b, BW_PROJECT_MAX_FILE_BYTES);
    if (generate(&b) != BW_OK) {
        fprintf(stderr, "project_load: cannot generate the project\n");
        bw_buf_clear(&b);
        return 1;
    }
    double runs[BENCH_RUNS];
    size_t tags = 0;
    for (int r = 0; r < BENCH_RUNS; r++) {
        struct bw_project *p = NULL;
        struct bw_project_errors errors = {0};
        int64_t t0 = bw_clock_monotonic_us();
        int rc = bw_project_parse(b.data, b.len, &p, &errors);
        runs[r] = (double)(bw_clock_monotonic_us() - t0) / 1e6;
        if (rc != BW_OK) {
            fprintf(stderr, "project_load: parse failed: %s (%s: %s)\n", bw_strerror(rc),
                    errors.count ? errors.items[0].path : "",
                    errors.count ? errors.items[0].reason : "");
            bw_project_errors_clear(&errors);
            bw_buf_clear(&b);
            return 1;
        }
        tags = p->tag_count;
        bw_project_free(p);
    }
    qsort(runs, BENCH_RUNS, sizeof(runs[0]), cmp_double);
    double median = runs[BENCH_RUNS / 2];
    printf("project_load: %.1f MB of JSON, best %.2f s, worst %.2f s\n", (double)b.len / 1e6,
           runs[0], runs[BENCH_RUNS - 1]);
    printf("project_load: %zu tags in %.2f s (limit %.2f s, ratio %.2f)\n", tags, median,
           BENCH_LIMIT_S, median / BENCH_LIMIT_S);
    bw_buf_clear(&b);
    return 0;
}
