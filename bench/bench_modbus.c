/* SPDX-License-Identifier: Apache-2.0
 *
 * The Modbus TCP workload: a local Modbus TCP server of ours (bw-mbserver,
 * on libmodbus) holds 10,000 holding registers that all change every
 * 100 ms (100,000 value changes per second). First a bare libmodbus read
 * loop (modbus_read_registers, 125 at a time, one request in flight)
 * reads them as fast as it can; then the real daemon (`bulwark serve`)
 * polls them as fast as its project allows (scan class of 1 ms), first
 * with the device default of one request in flight (as the bare loop),
 * then with four (BW_BENCH_IN_FLIGHT=N runs only N). Prints registers
 * read per second by each and their ratio, the value changes that
 * reached the engine per second against the changes the server made,
 * and the daemon's CPU (user + system) as a share of one core and per
 * thousand registers, beside the bare loop's.
 *
 * The changes are counted between two moments just after a tick of the
 * server (the daemon has read the tick's values by then), so every
 * change reaching the engine shows as exactly ticks x 10,000 updates.
 */
#include "base/base.h"
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <modbus/modbus.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define REGISTERS 10000
#define TICK_MS 100
#define BARE_SECONDS 3
#define MEASURE_TICKS 50 /* 5 s */

static char dir[4096];
static char work[] = "/tmp/bw-bench-modbus-XXXXXX";
static pid_t server_pid, daemon_pid;

static double now_s(void)
{
    return (double)bw_clock_monotonic_us() / 1e6;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void cleanup(void)
{
    if (daemon_pid > 0) {
        kill(daemon_pid, SIGTERM);
        waitpid(daemon_pid, NULL, 0);
    }
    if (server_pid > 0) {
        kill(server_pid, SIGTERM);
        waitpid(server_pid, NULL, 0);
    }
    char cmd[256];
    if (snprintf(cmd, sizeof(cmd), "rm -rf %s", work) < (int)sizeof(cmd) && system(cmd) != 0)
        fprintf(stderr, "bench_modbus: cannot remove %s\n", work);
}

static void die(const char *what)
{
    fprintf(stderr, "bench_modbus: %s\n", what);
    cleanup();
    exit(1);
}

/* Starts bw-mbserver; returns its port. */
static int start_server(void)
{
    int out[2];
    if (pipe(out) != 0)
        die("pipe");
    server_pid = fork();
    if (server_pid == 0) {
        dup2(out[1], 1);
        close(out[0]);
        char path[4200];
        snprintf(path, sizeof(path), "%s/bw-mbserver", dir);
        execl(path, path, "--holding", "10000", "--input", "2", "--coils", "0", "--discrete", "0",
              "--tick-ms", "100", "--tick-first", "0", "--tick-count", "10000", (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    FILE *f = fdopen(out[0], "r");
    int port = 0;
    if (!f || fscanf(f, "port %d", &port) != 1)
        die("bw-mbserver did not start");
    return port;
}

static modbus_t *client(int port)
{
    modbus_t *ctx = modbus_new_tcp("127.0.0.1", port);
    if (!ctx || modbus_connect(ctx) != 0)
        die("cannot connect to bw-mbserver");
    return ctx;
}

static uint32_t server_ticks(modbus_t *ctx)
{
    uint16_t r[2];
    if (modbus_read_input_registers(ctx, 0, 2, r) != 2)
        die("cannot read the tick count");
    return (uint32_t)r[0] << 16 | r[1];
}

static double process_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static double bare_cpu; /* share of one core the bare loop used */

static double bare_loop(int port)
{
    modbus_t *ctx = client(port);
    double c0 = process_cpu_s();
    uint16_t buf[125];
    uint64_t regs = 0;
    double t0 = now_s(), t;
    do {
        for (int a = 0; a < REGISTERS; a += 125) {
            if (modbus_read_registers(ctx, a, 125, buf) != 125)
                die("bare loop: read failed");
            regs += 125;
        }
        t = now_s();
    } while (t - t0 < BARE_SECONDS);
    bare_cpu = (process_cpu_s() - c0) / (t - t0);
    modbus_close(ctx);
    modbus_free(ctx);
    return (double)regs / (t - t0);
}

static void write_project(int port, const char *in_flight)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/project", work);
    if (mkdir(path, 0700) != 0)
        die("mkdir");
    snprintf(path, sizeof(path), "%s/project/project.json", work);
    FILE *f = fopen(path, "w");
    if (!f)
        die("cannot write the project");
    fprintf(f,
            "{\"format\":1,\"name\":\"modbus.bench\",\"scan_classes\":[{\"name\":\"fast\","
            "\"period_ms\":1}],\"devices\":[{\"name\":\"plc\",\"driver\":\"modbus\","
            "\"scan_class\":\"fast\",\"parameters\":{\"host\":\"127.0.0.1\",\"port\":%d,"
            "\"max_in_flight\":%s}}],\"tags\":[",
            port, in_flight);
    for (int i = 0; i < REGISTERS; i++)
        fprintf(f,
                "%s{\"name\":\"r%05d\",\"type\":\"int\",\"device\":\"plc\","
                "\"address\":\"holding:%d\",\"modbus\":{\"type\":\"uint16\"},"
                "\"log\":{\"mode\":\"change\"}}",
                i ? "," : "", i, i);
    fputs("]}\n", f);
    if (fclose(f) != 0)
        die("cannot write the project");
}

static void start_daemon(void)
{
    char log[256];
    snprintf(log, sizeof(log), "%s/serve.log", work);
    daemon_pid = fork();
    if (daemon_pid == 0) {
        FILE *l = freopen(log, "w", stderr);
        if (!l)
            _exit(127);
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0)
            dup2(null, 1);
        char bin[4200], project[256], state[256];
        snprintf(bin, sizeof(bin), "%s/bulwark", dir);
        snprintf(project, sizeof(project), "%s/project", work);
        snprintf(state, sizeof(state), "%s/state", work);
        execl(bin, bin, "serve", "--project", project, "--state", state, "--status-interval", "0",
              (char *)NULL);
        _exit(127);
    }
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "grep -q ready %s 2>/dev/null", log);
    for (int i = 0; i < 600; i++) {
        if (system(cmd) == 0)
            return;
        if (waitpid(daemon_pid, NULL, WNOHANG) == daemon_pid) {
            daemon_pid = 0;
            die("bulwark serve stopped; see its log");
        }
        sleep_ms(100);
    }
    die("bulwark serve did not become ready");
}

static json_t *ask(const char *what)
{
    char cmd[4600];
    snprintf(cmd, sizeof(cmd), "%s/bulwark %s --state %s/state --json", dir, what, work);
    FILE *p = popen(cmd, "r");
    if (!p)
        die("popen");
    json_error_t err;
    json_t *j = json_loadf(p, 0, &err);
    if (pclose(p) != 0 || !j)
        die("the daemon did not answer");
    return j;
}

static double cpu_s(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f || !fgets(buf, sizeof(buf), f))
        die("cannot read the daemon's CPU time");
    fclose(f);
    const char *p = strrchr(buf, ')');
    unsigned long utime = 0, stime = 0;
    /* Fields after the command: state is 3rd, utime 14th, stime 15th. */
    if (!p ||
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2)
        die("cannot parse /proc/PID/stat");
    return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

struct sample {
    double t, cpu;
    int64_t wall_us;
    uint32_t ticks;
    long long registers, applied;
};

/* Waits for the server's next tick, lets the daemon read it, samples. */
static struct sample sample_after_tick(modbus_t *probe)
{
    uint32_t t0 = server_ticks(probe), t;
    while ((t = server_ticks(probe)) == t0)
        sleep_ms(1);
    sleep_ms(TICK_MS / 5);
    struct sample s = {.t = now_s(), .cpu = cpu_s(daemon_pid), .wall_us = bw_clock_realtime_us()};
    json_t *st = ask("status");
    s.registers = json_integer_value(
        json_object_get(json_array_get(json_object_get(st, "devices"), 0), "registers"));
    s.applied =
        json_integer_value(json_object_get(json_object_get(st, "engine"), "updates_applied"));
    json_decref(st);
    if (server_ticks(probe) != t)
        die("sampling took longer than a tick");
    s.ticks = t;
    return s;
}

/* Samples the historian recorded in [from, to), over every register's
 * tag (read from history.db after the daemon stopped). */
static long long recorded(int64_t from, int64_t to)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/state/history.db", work);
    struct bw_history *h = NULL;
    if (bw_history_open(path, &h) != BW_OK)
        die("cannot open the history");
    long long total = 0;
    for (int i = 0; i < REGISTERS; i++) {
        struct bw_history_query q;
        bw_history_query_init(&q);
        snprintf(q.tag, sizeof(q.tag), "r%05d", i);
        q.from_us = from;
        q.to_us = to;
        q.points = 1;
        struct bw_history_bucket b;
        size_t n = 0;
        if (bw_history_trend(h, &q, &b, &n) == BW_OK && n == 1)
            total += (long long)b.count_all;
    }
    bw_history_close(h);
    return total;
}

/* One configuration: a fresh daemon polling with in_flight requests
 * outstanding, measured right after a bare loop of its own. */
static void run(int port, const char *in_flight)
{
    double bare = bare_loop(port);
    char state[256], cmd[512];
    snprintf(state, sizeof(state), "%s/state", work);
    snprintf(cmd, sizeof(cmd), "rm -rf %s %s/project", state, work);
    if (system(cmd) != 0)
        die("cannot clear the last run");
    write_project(port, in_flight);
    start_daemon();
    modbus_t *probe = client(port);
    sleep_ms(2000); /* connected, every tag good */
    struct sample a = sample_after_tick(probe);
    while (server_ticks(probe) < a.ticks + MEASURE_TICKS - 1)
        sleep_ms(10);
    struct sample b = sample_after_tick(probe);
    modbus_close(probe);
    modbus_free(probe);
    kill(daemon_pid, SIGTERM);
    waitpid(daemon_pid, NULL, 0);
    daemon_pid = 0;
    /* Each tick's changes are stamped within a few ms of the tick, well
     * before the sample 20 ms later: the window holds whole ticks. */
    long long kept = recorded(a.wall_us, b.wall_us);

    double dt = b.t - a.t;
    double regs = (double)(b.registers - a.registers) / dt;
    long long changes = (long long)(b.ticks - a.ticks) * REGISTERS;
    long long applied = b.applied - a.applied;
    double cpu = (b.cpu - a.cpu) / dt;
    printf("modbus_poll[in_flight=%s]: bulwark %.0f registers/s, bare libmodbus loop %.0f "
           "registers/s, ratio %.2f (targets: >= 500000/s, ratio >= 0.9)\n",
           in_flight, regs, bare, regs / bare);
    printf("modbus_poll[in_flight=%s]: changes made %lld, reached the engine %lld (%.0f/s), "
           "ratio %.4f (target 1.0000)\n",
           in_flight, changes, applied, (double)applied / dt,
           changes ? (double)applied / (double)changes : 0);
    printf("modbus_poll[in_flight=%s]: changes recorded by the historian %lld (%.0f/s), ratio "
           "%.4f (target 1.0000)\n",
           in_flight, kept, (double)kept / dt, changes ? (double)kept / (double)changes : 0);
    printf("modbus_poll[in_flight=%s]: daemon CPU %.1f %% of one core (target <= 50 %%), "
           "%.1f us per 1000 registers; the bare loop: %.1f %%, %.1f us per 1000 registers\n",
           in_flight, cpu * 100, cpu * 1e9 / regs, bare_cpu * 100, bare_cpu * 1e9 / bare);
}

int main(void)
{
    ssize_t n = readlink("/proc/self/exe", dir, sizeof(dir) - 1);
    if (n <= 0)
        die("readlink");
    dir[n] = '\0';
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    if (!mkdtemp(work))
        die("mkdtemp");
    int port = start_server();
    printf("modbus_poll: %d holding registers all changing every %d ms (%d changes/s), "
           "scan class 1 ms\n",
           REGISTERS, TICK_MS, REGISTERS * 1000 / TICK_MS);
    /* The device's default (one request at a time, as the bare loop),
     * then pipelined. */
    const char *only = getenv("BW_BENCH_IN_FLIGHT");
    if (only) {
        run(port, only);
    } else {
        run(port, "1");
        run(port, "4");
    }
    cleanup();
    return 0;
}
