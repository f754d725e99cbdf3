/* SPDX-License-Identifier: Apache-2.0
 *
 * bw-mbserver: the Modbus TCP test server of
 * tests/unit/drivers/support_mbserver.h as a program, for the benchmark
 * and for trying a driver by hand. Listens on 127.0.0.1, prints
 * "port N" once listening, serves until SIGTERM or SIGINT, then prints
 * "ticks N" and exits 0. Bad arguments exit 2. The main thread only
 * waits for the signal; the server has a thread of its own.
 */
#include "unit/drivers/support_mbserver.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

struct args {
    int64_t port, coils, discrete, holding, input, unit, max_clients;
    int64_t tick_ms, tick_first, tick_count;
};

/* The options: name, bounds, where the value goes. */
static const struct option_def {
    const char *name;
    int64_t min, max;
    size_t offset;
    const char *help;
} options[] = {
    {"--port", 0, 65535, offsetof(struct args, port), "TCP port (0: ephemeral; default 0)"},
    {"--coils", 0, 65535, offsetof(struct args, coils), "coils (default 1000)"},
    {"--discrete", 0, 65535, offsetof(struct args, discrete), "discrete inputs (default 1000)"},
    {"--holding", 0, 65535, offsetof(struct args, holding), "holding registers (default 1000)"},
    {"--input", 0, 65535, offsetof(struct args, input),
     "input registers (default 1000; 0 and 1 hold the tick count)"},
    {"--unit", -1, 255, offsetof(struct args, unit), "unit id answered (-1: any; default -1)"},
    {"--max-clients", 1, MBS_MAX_CLIENTS, offsetof(struct args, max_clients),
     "connections served at once (default 16)"},
    {"--tick-ms", 0, 3600000, offsetof(struct args, tick_ms),
     "add 1 to the ticked holding registers every MS (0: never; default 0)"},
    {"--tick-first", 0, 65535, offsetof(struct args, tick_first),
     "first ticked holding register (default 0)"},
    {"--tick-count", 0, 65535, offsetof(struct args, tick_count),
     "number of ticked holding registers (default 0)"},
};
#define OPTION_COUNT (sizeof(options) / sizeof(options[0]))

static void usage(FILE *f)
{
    fprintf(f, "usage: bw-mbserver [OPTION N]...\n"
               "A Modbus TCP test server on 127.0.0.1; prints \"port N\" once listening and\n"
               "\"ticks N\" after SIGTERM or SIGINT.\n");
    for (size_t i = 0; i < OPTION_COUNT; i++)
        fprintf(f, "  %-14s N  %s\n", options[i].name, options[i].help);
}

/* 0 to run, 1 after --help, 2 after telling what is wrong. */
static int args_parse(int argc, char **argv, struct args *a)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 1;
        }
        const struct option_def *o = NULL;
        for (size_t k = 0; k < OPTION_COUNT && !o; k++)
            if (strcmp(argv[i], options[k].name) == 0)
                o = &options[k];
        if (!o) {
            fprintf(stderr, "bw-mbserver: unknown option %s (see --help)\n", argv[i]);
            return 2;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "bw-mbserver: %s needs a value\n", o->name);
            return 2;
        }
        const char *v = argv[++i];
        int64_t *dst = (int64_t *)((char *)a + o->offset);
        if (bw_parse_i64(v, strlen(v), o->min, o->max, dst) != BW_OK) {
            fprintf(stderr, "bw-mbserver: %s: \"%s\" is not a whole number from %lld to %lld\n",
                    o->name, v, (long long)o->min, (long long)o->max);
            return 2;
        }
    }
    if (a->tick_ms > 0 && a->tick_count == 0) {
        fprintf(stderr, "bw-mbserver: --tick-ms needs --tick-count of 1 or more\n");
        return 2;
    }
    if (a->tick_count > 0 && a->tick_first + a->tick_count > a->holding) {
        fprintf(stderr,
                "bw-mbserver: ticked registers %lld..%lld are beyond the %lld holding "
                "registers\n",
                (long long)a->tick_first, (long long)(a->tick_first + a->tick_count - 1),
                (long long)a->holding);
        return 2;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct args a = {.coils = 1000,
                     .discrete = 1000,
                     .holding = 1000,
                     .input = 1000,
                     .unit = -1,
                     .max_clients = 16};
    int rc = args_parse(argc, argv, &a);
    if (rc)
        return rc == 1 ? 0 : rc;

    /* Blocked before the server thread exists, so that it inherits the
     * mask and sigwait below gets them. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    struct mbs_config cfg = {.coils = (uint16_t)a.coils,
                             .discrete_inputs = (uint16_t)a.discrete,
                             .holding = (uint16_t)a.holding,
                             .input_registers = (uint16_t)a.input,
                             .unit_id = (int)a.unit,
                             .port = (uint16_t)a.port,
                             .max_clients = (int)a.max_clients};
    struct mbs *s;
    if (mbs_start(&cfg, &s) != 0) {
        fprintf(stderr, "bw-mbserver: cannot listen on 127.0.0.1:%lld: %s\n", (long long)a.port,
                strerror(errno));
        return 1;
    }
    if (a.tick_ms > 0)
        mbs_set_ticker(s, (uint32_t)a.tick_ms, (uint16_t)a.tick_first, (uint16_t)a.tick_count);
    printf("port %u\n", (unsigned)mbs_port(s));
    fflush(stdout);

    int sig;
    while (sigwait(&set, &sig) != 0)
        ;
    uint64_t ticks = mbs_ticks(s);
    mbs_free(s);
    printf("ticks %llu\n", (unsigned long long)ticks);
    fflush(stdout);
    return 0;
}
