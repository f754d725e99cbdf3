/* SPDX-License-Identifier: Apache-2.0
 *
 * The Modbus TCP driver against a real Modbus TCP server on loopback
 * (support_mbserver.c, built on libmodbus's server API): every data type
 * and order as the engine sees it, the number of requests the planner
 * makes, writes with read-back, pipelining, each fault the server can
 * play (exception, late answer, wrong transaction or unit id, malformed
 * answer, connection closed mid-answer, server gone) with the qualities,
 * device state, statistics and events it must give, recovery, fail-safe
 * outputs on communication loss, integrity violation and shutdown, and a
 * dead device that does not slow a live one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/core.h"
#include "drivers/drivers.h"
#include "project/project.h"
#include "unit/drivers/support_mbserver.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_EVENTS 64

struct fx {
    struct mbs *srv;
    struct bw_project *project;
    struct bw_core *core;
    struct bw_driver *driver;
    pthread_mutex_t lock;
    struct {
        enum bw_driver_event_kind kind;
        char tag[64];
        char detail[160];
    } events[MAX_EVENTS];
    size_t event_count;
};

static void on_event(void *ctx, const struct bw_driver_event *ev)
{
    struct fx *f = ctx;
    pthread_mutex_lock(&f->lock);
    if (f->event_count < MAX_EVENTS) {
        f->events[f->event_count].kind = ev->kind;
        snprintf(f->events[f->event_count].tag, 64, "%s", ev->tag ? ev->tag : "");
        snprintf(f->events[f->event_count].detail, 160, "%s", ev->detail);
        f->event_count++;
    }
    pthread_mutex_unlock(&f->lock);
}

static size_t events_of(struct fx *f, enum bw_driver_event_kind kind)
{
    pthread_mutex_lock(&f->lock);
    size_t n = 0;
    for (size_t i = 0; i < f->event_count; i++)
        n += f->events[i].kind == kind;
    pthread_mutex_unlock(&f->lock);
    return n;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Waits up to 5 s for cond. */
#define WAIT_FOR(cond)                                                                             \
    do {                                                                                           \
        int waited_ = 0;                                                                           \
        while (!(cond) && waited_ < 5000) {                                                        \
            sleep_ms(5);                                                                           \
            waited_ += 5;                                                                          \
        }                                                                                          \
        if (!(cond))                                                                               \
            fail_msg("timed out waiting for %s", #cond);                                           \
    } while (0)

static struct mbs *server(void)
{
    struct mbs_config cfg = {
        .coils = 64, .discrete_inputs = 64, .holding = 1000, .input_registers = 100, .unit_id = 1};
    struct mbs *s = NULL;
    assert_int_equal(mbs_start(&cfg, &s), 0);
    return s;
}

/* The response timeout of the next fixture's device. */
static uint32_t fx_timeout_ms = 200;

/* A project with one modbus device on the fixture's server; params are
 * extra device parameters (",'key':value..."), tags the tag list. */
static void fx_start(struct fx *f, struct mbs *srv, uint32_t period_ms, const char *params,
                     const char *tags)
{
    memset(f, 0, sizeof(*f));
    pthread_mutex_init(&f->lock, NULL);
    f->srv = srv;
    size_t size = strlen(tags) + strlen(params) + 1024;
    char *text = malloc(size);
    assert_non_null(text);
    snprintf(text, size,
             "{\"format\":1,\"name\":\"t\",\"scan_classes\":[{\"name\":\"f\",\"period_ms\":%u}],"
             "\"devices\":[{\"name\":\"plc\",\"driver\":\"modbus\",\"scan_class\":\"f\","
             "\"parameters\":{\"host\":\"127.0.0.1\",\"port\":%u,\"timeout_ms\":%u,"
             "\"retries\":0,\"backoff_min_ms\":20,\"backoff_max_ms\":100%s}}],\"tags\":[%s]}",
             period_ms, srv ? mbs_port(srv) : 1, fx_timeout_ms, params, tags);
    fx_timeout_ms = 200;
    for (char *p = text; *p; p++)
        if (*p == '\'')
            *p = '"';
    struct bw_project_errors errors = {0};
    int rc = bw_project_parse(text, strlen(text), &f->project, &errors);
    for (size_t i = 0; i < errors.count; i++)
        fprintf(stderr, "%s: %s\n", errors.items[i].path, errors.items[i].reason);
    bw_project_errors_clear(&errors);
    free(text);
    assert_int_equal(rc, BW_OK);
}

/* Builds the engine and the driver and starts both. */
static void fx_run(struct fx *f)
{
    const struct bw_project *p = f->project;
    struct bw_core_tag_def *defs = calloc(p->tag_count, sizeof(*defs));
    assert_non_null(defs);
    for (size_t i = 0; i < p->tag_count; i++)
        defs[i] = (struct bw_core_tag_def){.name = p->tags[i].name,
                                           .type = p->tags[i].type,
                                           .writable = p->tags[i].access.writable};
    assert_int_equal(bw_core_new(defs, p->tag_count, NULL, &f->core), BW_OK);
    free(defs);
    assert_int_equal(bw_driver_new(p, 0, f->core, &f->driver), BW_OK);
    bw_driver_set_events(f->driver, on_event, f);
    assert_int_equal(bw_core_start(f->core), BW_OK);
    assert_int_equal(bw_driver_start(f->driver), BW_OK);
}

static void fx_stop(struct fx *f)
{
    bw_driver_stop(f->driver);
    bw_driver_free(f->driver);
    bw_core_free(f->core);
    bw_project_free(f->project);
    if (f->srv)
        mbs_free(f->srv);
    pthread_mutex_destroy(&f->lock);
}

static struct bw_tag_state tag(struct fx *f, const char *name)
{
    uint32_t id;
    assert_int_equal(bw_core_tag_find(f->core, name, &id), BW_OK);
    struct bw_tag_state st;
    assert_int_equal(bw_core_tag_read(f->core, id, &st), BW_OK);
    return st;
}

static bool tag_good(struct fx *f, const char *name)
{
    return tag(f, name).quality == BW_QUALITY_GOOD;
}

static bool tag_reason(struct fx *f, const char *name, enum bw_quality_reason reason)
{
    struct bw_tag_state st = tag(f, name);
    return st.quality == BW_QUALITY_BAD && st.reason == reason;
}

static bool tag_int(struct fx *f, const char *name, int64_t v)
{
    struct bw_tag_state st = tag(f, name);
    return st.quality == BW_QUALITY_GOOD && st.v.i == v;
}

static struct bw_driver_status status(struct fx *f)
{
    struct bw_driver_status st;
    bw_driver_status_get(f->driver, &st);
    return st;
}

static void set_float32(struct mbs *s, uint16_t addr, float v)
{
    uint32_t bits;
    memcpy(&bits, &v, 4);
    mbs_set_holding(s, addr, (uint16_t)(bits >> 16));
    mbs_set_holding(s, (uint16_t)(addr + 1), (uint16_t)bits);
}

/* ---- values --------------------------------------------------------- */

static void test_types_and_orders(void **state)
{
    (void)state;
    struct fx f;
    struct mbs *s = server();
    fx_start(&f, s, 10, "",
             "{'name':'i16','type':'int','device':'plc','address':'holding:0'},"
             "{'name':'u16','type':'int','device':'plc','address':'holding:1',"
             "'modbus':{'type':'uint16'}},"
             "{'name':'i32','type':'int','device':'plc','address':'holding:2',"
             "'modbus':{'type':'int32'}},"
             "{'name':'u32sw','type':'int','device':'plc','address':'holding:4',"
             "'modbus':{'type':'uint32','word_order':'little'}},"
             "{'name':'f32','type':'float','device':'plc','address':'holding:6'},"
             "{'name':'f64','type':'float','device':'plc','address':'holding:8',"
             "'modbus':{'type':'float64'}},"
             "{'name':'bsw','type':'int','device':'plc','address':'holding:12',"
             "'modbus':{'type':'uint16','byte_order':'little'}},"
             "{'name':'bit5','type':'bool','device':'plc','address':'holding:13.5'},"
             "{'name':'lvl','type':'float','device':'plc','address':'input:0',"
             "'modbus':{'type':'int16','scale':{'raw_min':0,'raw_max':27648,'eu_min':0,"
             "'eu_max':100}}},"
             "{'name':'txt','type':'string','device':'plc','address':'holding:20',"
             "'modbus':{'type':'string','length':4}},"
             "{'name':'c3','type':'bool','device':'plc','address':'coil:3'},"
             "{'name':'d9','type':'bool','device':'plc','address':'discrete:9'}");
    mbs_set_holding(s, 0, 0xFFFE); /* -2 */
    mbs_set_holding(s, 1, 0xFFFE); /* 65534 */
    mbs_set_holding(s, 2, 0xFFFF); /* -100000 = 0xFFFE7960 */
    mbs_set_holding(s, 2, 0xFFFE);
    mbs_set_holding(s, 3, 0x7960);
    mbs_set_holding(s, 4, 0x5678); /* low word first: 0x12345678 */
    mbs_set_holding(s, 5, 0x1234);
    set_float32(s, 6, 123.456f);
    double d = -2.5e10;
    uint64_t b64;
    memcpy(&b64, &d, 8);
    for (int i = 0; i < 4; i++)
        mbs_set_holding(s, (uint16_t)(8 + i), (uint16_t)(b64 >> (48 - 16 * i)));
    mbs_set_holding(s, 12, 0x3412); /* bytes swapped: 0x1234 */
    mbs_set_holding(s, 13, 1u << 5);
    mbs_set_input(s, 0, 13824); /* half of 27648: 50 % */
    mbs_set_holding(s, 20, ('O' << 8) | 'K');
    mbs_set_holding(s, 21, ('!' << 8));
    mbs_set_coil(s, 3, true);
    mbs_set_discrete(s, 9, true);
    fx_run(&f);
    WAIT_FOR(tag_good(&f, "d9") && tag_good(&f, "txt"));
    assert_true(tag_int(&f, "i16", -2));
    assert_true(tag_int(&f, "u16", 65534));
    assert_true(tag_int(&f, "i32", -100000));
    assert_true(tag_int(&f, "u32sw", 0x12345678));
    assert_true(tag(&f, "f32").v.f == (double)123.456f);
    assert_true(tag(&f, "f64").v.f == -2.5e10);
    assert_true(tag_int(&f, "bsw", 0x1234));
    assert_true(tag(&f, "bit5").v.b);
    assert_true(fabs(tag(&f, "lvl").v.f - 50.0) < 1e-9);
    struct bw_tag_state t = tag(&f, "txt");
    assert_string_equal(t.str, "OK!");
    assert_true(tag(&f, "c3").v.b);
    assert_true(tag(&f, "d9").v.b);
    /* A change reaches the engine on a following cycle. */
    mbs_set_holding(s, 0, 7);
    mbs_set_holding(s, 13, 0);
    WAIT_FOR(tag_int(&f, "i16", 7) && !tag(&f, "bit5").v.b);
    assert_int_equal(status(&f).state, BW_DRIVER_CONNECTED);
    fx_stop(&f);
}

static void test_not_finite_is_bad(void **state)
{
    (void)state;
    struct fx f;
    struct mbs *s = server();
    fx_start(&f, s, 10, "", "{'name':'f','type':'float','device':'plc','address':'holding:0'}");
    set_float32(s, 0, NAN);
    fx_run(&f);
    WAIT_FOR(tag_reason(&f, "f", BW_REASON_SENSOR_FAILURE));
    set_float32(s, 0, 1.5f);
    WAIT_FOR(tag_good(&f, "f"));
    fx_stop(&f);
}

/* ---- planning ------------------------------------------------------- */

static char *many_tags(size_t n, size_t stride)
{
    char *out = calloc(n, 96);
    assert_non_null(out);
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += (size_t)sprintf(
            out + len, "%s{'name':'t%zu','type':'int','device':'plc','address':'holding:%zu'}",
            i ? "," : "", i, i * stride);
    return out;
}

/* The requests of whole cycles in the server's log, as (address,
 * quantity) pairs; returns how many reads of holding registers. */
static size_t holding_reads(struct mbs *s, struct mbs_request *log, size_t max)
{
    size_t n = mbs_log_get(s, log, max), k = 0;
    for (size_t i = 0; i < n; i++)
        if (log[i].function == 3)
            log[k++] = log[i];
    return k;
}

static void test_planner_request_count(void **state)
{
    (void)state;
    struct fx f;
    struct mbs *s = server();
    char *tags = many_tags(300, 1);
    fx_start(&f, s, 50, "", tags);
    free(tags);
    fx_run(&f);
    WAIT_FOR(status(&f).cycles >= 3);
    struct mbs_request log[64];
    size_t n = holding_reads(s, log, 64);
    assert_true(n >= 9);
    /* 300 contiguous registers: 125 + 125 + 50, every cycle. */
    for (size_t i = 0; i + 3 <= n; i += 3) {
        assert_int_equal(log[i].address, 0);
        assert_int_equal(log[i].quantity, 125);
        assert_int_equal(log[i + 1].address, 125);
        assert_int_equal(log[i + 1].quantity, 125);
        assert_int_equal(log[i + 2].address, 250);
        assert_int_equal(log[i + 2].quantity, 50);
    }
    fx_stop(&f);
}

static void test_planner_gaps(void **state)
{
    (void)state;
    struct fx f;
    struct mbs *s = server();
    /* 0, 5, 10: gaps of 4 bridged (max_gap 8) -> one read of 11; then
     * 100: a gap of 89 -> a read of its own. */
    fx_start(&f, s, 50, "",
             "{'name':'a','type':'int','device':'plc','address':'holding:0'},"
             "{'name':'b','type':'int','device':'plc','address':'holding:5'},"
             "{'name':'c','type':'int','device':'plc','address':'holding:10'},"
             "{'name':'d','type':'int','device':'plc','address':'holding:100'}");
    fx_run(&f);
    WAIT_FOR(status(&f).cycles >= 2);
    struct mbs_request log[16];
    size_t n = holding_reads(s, log, 16);
    assert_true(n >= 4);
    assert_int_equal(log[0].address, 0);
    assert_int_equal(log[0].quantity, 11);
    assert_int_equal(log[1].address, 100);
    assert_int_equal(log[1].quantity, 1);
    fx_stop(&f);
}

static void test_bridged_gap_without_addresses_is_split(void **state)
{
    (void)state;
    struct fx f;
    struct mbs *s = server(); /* 1000 holding registers: 998..1000 bridges past the end */
    fx_start(&f, s, 20, "",
             "{'name':'a','type':'int','device':'plc','address':'holding:995'},"
             "{'name':'b','type':'int','device':'plc','address':'holding:1003'}");
    fx_run(&f);
    /* The bridged read is refused (illegal data address); the driver
     * reads each tag alone from then on: a is good, b stays bad. */
    WAIT_FOR(tag_good(&f, "a"));
    WAIT_FOR(tag_reason(&f, "b", BW_REASON_CONFIG_ERROR));
    assert_true(status(&f).errors[BW_DRIVER_ERR_EXCEPTION] >= 1);
    assert_int_equal(status(&f).state, BW_DRIVER_DEGRADED);
    fx_stop(&f);
}

static void test_pipelined(void **state)
{
    (void)state;
    struct fx f;
    struct mbs *s = server();
    char *tags = many_tags(1000, 1);
    fx_start(&f, s, 5, ",'max_in_flight':8", tags);
    free(tags);
    for (uint16_t i = 0; i < 1000; i++)
        mbs_set_holding(s, i, i);
    fx_run(&f);
    WAIT_FOR(tag_int(&f, "t999", 999) && tag_int(&f, "t0", 0));
    WAIT_FOR(status(&f).cycles >= 20);
    /* Hold one answer back: the requests sent behind it wait on the
     * connection together, whatever the machine's load. */
    mbs_set_fault(s, MBS_FAULT_DELAY, 50, 1);
    uint64_t cycles = status(&f).cycles;
    WAIT_FOR(status(&f).cycles >= cycles + 3);
    struct mbs_stats st;
    mbs_stats_get(s, &st);
    /* Several requests waited on the connection at once. */
    assert_true(st.max_pipelined > 1);
    assert_int_equal(status(&f).errors[BW_DRIVER_ERR_TRANSACTION], 0);
    for (uint16_t i = 0; i < 1000; i += 97) {
        char name[16];
        snprintf(name, sizeof(name), "t%u", i);
        assert_true(tag_int(&f, name, i));
    }
    fx_stop(&f);
}

/* ---- writes --------------------------------------------------------- */

#define W ",'access':{'write':{'level':1,'areas':[1]}}"

static int write_value(struct fx *f, const char *name, struct bw_value v, char *why)
{
    uint32_t id;
    assert_int_equal(bw_core_tag_find(f->core, name, &id), BW_OK);
    struct bw_write_error err = {{0}};
    int rc = bw_core_write(f->core, id, &v, &err);
    if (why)
        snprintf(why, 256, "%s", err.message);
    return rc;
}

static void test_writes_with_read_back(void **state)
{
    (void)state;
    struct fx f;
    struct mbs *s = server();
    fx_start(&f, s, 20, "",
             "{'name':'sp','type':'int','device':'plc','address':'holding:0'" W "},"
             "{'name':'fl','type':'float','device':'plc','address':'holding:2'" W "},"
             "{'name':'run','type':'bool','device':'plc','address':'coil:1'" W "},"
             "{'name':'b3','type':'bool','device':'plc','address':'holding:10.3'" W "},"
             "{'name':'pct','type':'float','device':'plc','address':'holding:11',"
             "'modbus':{'type':'uint16','scale':{'raw_min':0,'raw_max':1000,'eu_min':0,"
             "'eu_max':100}}" W "},"
             "{'name':'txt','type':'string','device':'plc','address':'holding:20',"
             "'modbus':{'type':'string','length':3}" W "}");
    mbs_set_holding(s, 10, 0x8001); /* other bits must survive the bit write */
    fx_run(&f);
    WAIT_FOR(tag_good(&f, "sp"));
    mbs_log_clear(s);
    assert_int_equal(
        write_value(&f, "sp", (struct bw_value){.type = BW_TYPE_INT, .v.i = -42}, NULL), BW_OK);
    assert_int_equal(mbs_get_holding(s, 0), 0xFFD6);
    struct mbs_request log[8];
    size_t n = mbs_log_get(s, log, 8);
    bool wrote = false, read_back = false;
    for (size_t i = 0; i < n; i++) {
        if (log[i].function == 6 && log[i].address == 0)
            wrote = true;
        else if (wrote && log[i].function == 3 && log[i].address == 0 && log[i].quantity == 1)
            read_back = true;
    }
    assert_true(wrote && read_back);
    WAIT_FOR(tag_int(&f, "sp", -42));

    assert_int_equal(
        write_value(&f, "fl", (struct bw_value){.type = BW_TYPE_FLOAT, .v.f = 2.5}, NULL), BW_OK);
    assert_int_equal(mbs_get_holding(s, 2), 0x4020);
    assert_int_equal(mbs_get_holding(s, 3), 0x0000);
    assert_int_equal(
        write_value(&f, "run", (struct bw_value){.type = BW_TYPE_BOOL, .v.b = true}, NULL), BW_OK);
    assert_true(mbs_get_coil(s, 1));
    assert_int_equal(
        write_value(&f, "b3", (struct bw_value){.type = BW_TYPE_BOOL, .v.b = true}, NULL), BW_OK);
    assert_int_equal(mbs_get_holding(s, 10), 0x8009);
    assert_int_equal(
        write_value(&f, "b3", (struct bw_value){.type = BW_TYPE_BOOL, .v.b = false}, NULL), BW_OK);
    assert_int_equal(mbs_get_holding(s, 10), 0x8001);
    assert_int_equal(
        write_value(&f, "pct", (struct bw_value){.type = BW_TYPE_FLOAT, .v.f = 12.34}, NULL),
        BW_OK);
    assert_int_equal(mbs_get_holding(s, 11), 123);
    assert_int_equal(write_value(&f, "txt",
                                 (struct bw_value){.type = BW_TYPE_STRING, .v.s = "abc", .len = 3},
                                 NULL),
                     BW_OK);
    assert_int_equal(mbs_get_holding(s, 20), ('a' << 8) | 'b');
    assert_int_equal(mbs_get_holding(s, 21), ('c' << 8));
    assert_int_equal(mbs_get_holding(s, 22), 0);
    char why[256];
    assert_int_equal(
        write_value(&f, "txt",
                    (struct bw_value){.type = BW_TYPE_STRING, .v.s = "toolong", .len = 7}, why),
        BW_ERANGE);
    assert_true(status(&f).writes >= 7);
    fx_stop(&f);
}

/* The device goes back to its old value after a write (a self-clearing
 * command, its own logic): the engine follows it. */
static void test_value_after_write_follows_device(void **state)
{
    (void)state;
    struct fx f;
    struct mbs *s = server();
    fx_start(&f, s, 10, "",
             "{'name':'cmd','type':'int','device':'plc','address':'holding:0'" W "}");
    fx_run(&f);
    WAIT_FOR(tag_int(&f, "cmd", 0));
    assert_int_equal(write_value(&f, "cmd", (struct bw_value){.type = BW_TYPE_INT, .v.i = 1}, NULL),
                     BW_OK);
    WAIT_FOR(tag_int(&f, "cmd", 1));
    mbs_set_holding(s, 0, 0);
    WAIT_FOR(tag_int(&f, "cmd", 0));
    fx_stop(&f);
}

static void test_write_refused_by_device(void **state)
{
    (void)state;
    struct fx f;
    struct mbs *s = server();
    fx_start(&f, s, 20, "", "{'name':'sp','type':'int','device':'plc','address':'holding:0'" W "}");
    fx_run(&f);
    WAIT_FOR(tag_good(&f, "sp"));
    mbs_set_fault_fc(s, 6);
    mbs_set_fault(s, MBS_FAULT_EXCEPTION, 3, -1);
    char why[256];
    assert_int_equal(write_value(&f, "sp", (struct bw_value){.type = BW_TYPE_INT, .v.i = 5}, why),
                     BW_EIO);
    assert_non_null(strstr(why, "device plc refused the write to holding:0: exception 3 (illegal "
                                "data value)"));
    assert_int_equal(mbs_get_holding(s, 0), 0);
    assert_true(status(&f).write_failures >= 1);
    mbs_set_fault(s, MBS_FAULT_NONE, 0, 0);
    fx_stop(&f);
}

/* ---- faults --------------------------------------------------------- */

static void fault_case(enum mbs_fault fault, int param, enum bw_driver_error_kind kind,
                       enum bw_quality_reason reason, enum bw_driver_state state_during)
{
    struct fx f;
    struct mbs *s = server();
    fx_start(&f, s, 20, "", "{'name':'a','type':'int','device':'plc','address':'holding:0'}");
    mbs_set_holding(s, 0, 11);
    fx_run(&f);
    WAIT_FOR(tag_int(&f, "a", 11));
    mbs_set_fault(s, fault, param, -1);
    WAIT_FOR(tag_reason(&f, "a", reason));
    WAIT_FOR(status(&f).errors[kind] >= 1 && status(&f).state == state_during);
    if (state_during == BW_DRIVER_FAILED)
        WAIT_FOR(events_of(&f, BW_DRIVER_EV_COMM_LOST) == 1);
    assert_non_null(status(&f).last_error);
    assert_true(status(&f).last_error[0] != '\0');
    mbs_set_fault(s, MBS_FAULT_NONE, 0, 0);
    mbs_set_holding(s, 0, 12);
    WAIT_FOR(tag_int(&f, "a", 12));
    WAIT_FOR(status(&f).state == BW_DRIVER_CONNECTED);
    if (state_during == BW_DRIVER_FAILED)
        WAIT_FOR(events_of(&f, BW_DRIVER_EV_COMM_RESTORED) == 1);
    fx_stop(&f);
}

static void test_fault_exception(void **state)
{
    (void)state;
    fault_case(MBS_FAULT_EXCEPTION, 4, BW_DRIVER_ERR_EXCEPTION, BW_REASON_DEVICE_FAILURE,
               BW_DRIVER_DEGRADED);
}

static void test_fault_late_answer(void **state)
{
    (void)state;
    fault_case(MBS_FAULT_DELAY, 400, BW_DRIVER_ERR_TIMEOUT, BW_REASON_COMM_FAILURE,
               BW_DRIVER_FAILED);
}

static void test_fault_silent(void **state)
{
    (void)state;
    fault_case(MBS_FAULT_SILENT, 0, BW_DRIVER_ERR_TIMEOUT, BW_REASON_COMM_FAILURE,
               BW_DRIVER_FAILED);
}

static void test_fault_wrong_transaction(void **state)
{
    (void)state;
    fault_case(MBS_FAULT_WRONG_TID, 0, BW_DRIVER_ERR_TRANSACTION, BW_REASON_COMM_FAILURE,
               BW_DRIVER_FAILED);
}

static void test_fault_wrong_unit(void **state)
{
    (void)state;
    fault_case(MBS_FAULT_WRONG_UNIT, 0, BW_DRIVER_ERR_UNIT, BW_REASON_COMM_FAILURE,
               BW_DRIVER_FAILED);
}

static void test_fault_malformed(void **state)
{
    (void)state;
    fault_case(MBS_FAULT_MALFORMED, 0, BW_DRIVER_ERR_MALFORMED, BW_REASON_COMM_FAILURE,
               BW_DRIVER_FAILED);
}

static void test_fault_close_mid_reply(void **state)
{
    (void)state;
    fault_case(MBS_FAULT_CLOSE_MID_REPLY, 0, BW_DRIVER_ERR_CONNECTION, BW_REASON_COMM_FAILURE,
               BW_DRIVER_FAILED);
}

static void test_server_gone_and_back(void **state)
{
    (void)state;
    struct fx f;
    struct mbs *s = server();
    fx_start(&f, s, 20, "", "{'name':'a','type':'int','device':'plc','address':'holding:0'}");
    mbs_set_holding(s, 0, 1);
    fx_run(&f);
    WAIT_FOR(tag_int(&f, "a", 1));
    mbs_pause(s);
    WAIT_FOR(tag_reason(&f, "a", BW_REASON_NOT_CONNECTED) ||
             tag_reason(&f, "a", BW_REASON_COMM_FAILURE));
    WAIT_FOR(status(&f).state == BW_DRIVER_FAILED);
    WAIT_FOR(status(&f).errors[BW_DRIVER_ERR_CONNECTION] >= 1);
    assert_int_equal(events_of(&f, BW_DRIVER_EV_COMM_LOST), 1);
    assert_int_equal(mbs_resume(s), 0);
    mbs_set_holding(s, 0, 2);
    WAIT_FOR(tag_int(&f, "a", 2));
    WAIT_FOR(events_of(&f, BW_DRIVER_EV_COMM_RESTORED) == 1);
    assert_true(status(&f).connects >= 2);
    fx_stop(&f);
}

static void test_dead_device_does_not_slow_live_one(void **state)
{
    (void)state;
    struct fx live, dead;
    struct mbs *s1 = server();
    struct mbs *s2 = server();
    fx_start(&live, s1, 10, "", "{'name':'a','type':'int','device':'plc','address':'holding:0'}");
    fx_timeout_ms = 2000;
    fx_start(&dead, s2, 10, "", "{'name':'a','type':'int','device':'plc','address':'holding:0'}");
    fx_run(&live);
    fx_run(&dead);
    WAIT_FOR(tag_good(&live, "a") && tag_good(&dead, "a"));
    mbs_set_fault(s2, MBS_FAULT_SILENT, 0, -1);
    uint64_t before = status(&live).cycles;
    sleep_ms(1000);
    /* 10 ms period: about 100 cycles in a second; the dead device's two
     * second timeout does not hold the live one back. */
    assert_true(status(&live).cycles - before >= 50);
    mbs_set_fault(s2, MBS_FAULT_NONE, 0, 0);
    fx_stop(&dead);
    fx_stop(&live);
}

/* ---- fail-safe outputs ---------------------------------------------- */

static void set_failsafe(struct fx *f, const char *name, uint32_t events, int64_t value,
                         uint32_t comm_loss_ms)
{
    for (size_t i = 0; i < f->project->tag_count; i++) {
        struct bw_project_tag *t = &f->project->tags[i];
        if (strcmp(t->name, name) != 0)
            continue;
        t->failsafe.events = events;
        t->failsafe.value = (struct bw_value){.type = BW_TYPE_INT, .v.i = value};
        t->failsafe.comm_loss_ms = comm_loss_ms;
        return;
    }
    fail_msg("no tag %s", name);
}

static void test_failsafe_comm_loss(void **state)
{
    (void)state;
    struct fx f;
    struct mbs *s = server();
    fx_start(&f, s, 20, "",
             "{'name':'valve','type':'int','device':'plc','address':'holding:0'" W "}");
    set_failsafe(&f, "valve", BW_FAILSAFE_COMM_LOSS, 0, 200);
    mbs_set_holding(s, 0, 80);
    fx_run(&f);
    WAIT_FOR(tag_int(&f, "valve", 80));
    mbs_pause(s);
    WAIT_FOR(events_of(&f, BW_DRIVER_EV_FAILSAFE_TRIGGERED) == 1);
    assert_int_equal(mbs_resume(s), 0);
    /* The device is told the fail-safe value as soon as it answers. */
    WAIT_FOR(mbs_get_holding(s, 0) == 0);
    WAIT_FOR(events_of(&f, BW_DRIVER_EV_FAILSAFE_WRITTEN) == 1);
    WAIT_FOR(tag_int(&f, "valve", 0));
    /* Once confirmed it is not written again: an operator may move it. */
    mbs_set_holding(s, 0, 30);
    sleep_ms(200);
    assert_int_equal(mbs_get_holding(s, 0), 30);
    fx_stop(&f);
}

static void test_failsafe_integrity_and_retry(void **state)
{
    (void)state;
    struct fx f;
    struct mbs *s = server();
    fx_start(&f, s, 20, "",
             "{'name':'pump','type':'int','device':'plc','address':'holding:5'" W "}");
    set_failsafe(&f, "pump", BW_FAILSAFE_INTEGRITY_VIOLATION, 0, 0);
    mbs_set_holding(s, 5, 1);
    fx_run(&f);
    WAIT_FOR(tag_int(&f, "pump", 1));
    /* The device refuses writes for a while: the fail-safe is retried
     * until it is confirmed. */
    mbs_set_fault_fc(s, 6);
    mbs_set_fault(s, MBS_FAULT_EXCEPTION, 4, 3);
    bw_driver_failsafe(f.driver, BW_FAILSAFE_INTEGRITY_VIOLATION);
    WAIT_FOR(events_of(&f, BW_DRIVER_EV_FAILSAFE_WRITTEN) == 1);
    assert_int_equal(mbs_get_holding(s, 5), 0);
    assert_true(status(&f).write_failures >= 3);
    /* Another event's outputs are untouched. */
    bw_driver_failsafe(f.driver, BW_FAILSAFE_ISLAND_MODE);
    sleep_ms(100);
    assert_int_equal(events_of(&f, BW_DRIVER_EV_FAILSAFE_TRIGGERED), 1);
    fx_stop(&f);
}

/* A device that answers reads but never writes: the fail-safe write is
 * retried after the backoff, reads go on between the tries, and the
 * driver still stops. */
static void test_failsafe_write_never_answered(void **state)
{
    (void)state;
    struct fx f;
    struct mbs *s = server();
    fx_start(&f, s, 10, "",
             "{'name':'out','type':'int','device':'plc','address':'holding:0'" W "},"
             "{'name':'in','type':'int','device':'plc','address':'holding:50'}");
    set_failsafe(&f, "out", BW_FAILSAFE_ISLAND_MODE, 0, 0);
    mbs_set_holding(s, 0, 5);
    fx_run(&f);
    WAIT_FOR(tag_int(&f, "out", 5));
    mbs_set_fault_fc(s, 6);
    mbs_set_fault(s, MBS_FAULT_SILENT, 0, -1);
    bw_driver_failsafe(f.driver, BW_FAILSAFE_ISLAND_MODE);
    WAIT_FOR(status(&f).write_failures >= 1);
    uint64_t before = status(&f).cycles;
    mbs_set_holding(s, 50, 9);
    WAIT_FOR(tag_int(&f, "in", 9));
    WAIT_FOR(status(&f).cycles > before + 5);
    assert_int_equal(events_of(&f, BW_DRIVER_EV_FAILSAFE_WRITTEN), 0);
    bw_driver_stop(f.driver);
    mbs_set_fault(s, MBS_FAULT_NONE, 0, 0);
    fx_stop(&f);
}

static void test_failsafe_shutdown(void **state)
{
    (void)state;
    struct fx f;
    struct mbs *s = server();
    fx_start(&f, s, 20, "",
             "{'name':'heater','type':'int','device':'plc','address':'holding:7'" W "}");
    set_failsafe(&f, "heater", BW_FAILSAFE_SHUTDOWN, 0, 0);
    mbs_set_holding(s, 7, 99);
    fx_run(&f);
    WAIT_FOR(tag_int(&f, "heater", 99));
    bw_driver_stop(f.driver);
    assert_int_equal(mbs_get_holding(s, 7), 0);
    assert_int_equal(events_of(&f, BW_DRIVER_EV_FAILSAFE_WRITTEN), 1);
    fx_stop(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_types_and_orders),
        cmocka_unit_test(test_not_finite_is_bad),
        cmocka_unit_test(test_planner_request_count),
        cmocka_unit_test(test_planner_gaps),
        cmocka_unit_test(test_bridged_gap_without_addresses_is_split),
        cmocka_unit_test(test_pipelined),
        cmocka_unit_test(test_writes_with_read_back),
        cmocka_unit_test(test_value_after_write_follows_device),
        cmocka_unit_test(test_write_refused_by_device),
        cmocka_unit_test(test_fault_exception),
        cmocka_unit_test(test_fault_late_answer),
        cmocka_unit_test(test_fault_silent),
        cmocka_unit_test(test_fault_wrong_transaction),
        cmocka_unit_test(test_fault_wrong_unit),
        cmocka_unit_test(test_fault_malformed),
        cmocka_unit_test(test_fault_close_mid_reply),
        cmocka_unit_test(test_server_gone_and_back),
        cmocka_unit_test(test_dead_device_does_not_slow_live_one),
        cmocka_unit_test(test_failsafe_comm_loss),
        cmocka_unit_test(test_failsafe_integrity_and_retry),
        cmocka_unit_test(test_failsafe_write_never_answered),
        cmocka_unit_test(test_failsafe_shutdown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
