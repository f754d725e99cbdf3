/* SPDX-License-Identifier: Apache-2.0
 *
 * The Modbus TCP server of support_mbserver.h. One libmodbus context
 * serves every connection (modbus_set_socket before each receive and
 * reply); libmodbus frames requests by their function code, and a frame
 * whose MBAP header disagrees with it (protocol id not 0, length not
 * what was read) closes the connection, as the stream cannot be trusted
 * after it. Replies a fault changes are made by modbus_reply itself
 * into a socket pair, read back, changed and sent by hand, so that every
 * function code and every exception is answered as libmodbus would.
 * Control (pause, resume, stop, ticker) goes through the mutex and a
 * wake-up pipe; the server thread owns every socket and the context.
 */
#include "unit/drivers/support_mbserver.h"

#include <modbus.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_MAX_CLIENTS 8
#define MBAP_LEN 7
#define ADU_MAX MODBUS_TCP_MAX_ADU_LENGTH
/* A request split across writes must be whole within this; the server
 * thread waits for it (libmodbus reads a frame in one call). */
#define BYTE_TIMEOUT_US 200000
/* modbus_reply sleeps the context's response timeout before flushing the
 * connection after a request with an illegal quantity; keep it short. */
#define FLUSH_SLEEP_US 1000

struct conn {
    int fd;       /* -1: free slot */
    bool pending; /* a delayed reply waits; the socket is not read */
    int64_t due_ms;
    int req_len;
    uint8_t req[ADU_MAX];
};

struct mbs {
    struct mbs_config cfg;
    uint16_t port;
    int max_clients;
    pthread_t thread;
    int wake[2];    /* [0] polled by the server thread */
    int capture[2]; /* modbus_reply writes to [0], we read [1] */

    /* Server thread only (after mbs_start). */
    modbus_t *ctx;
    int listen_fd; /* -1 while paused */
    struct conn conns[MBS_MAX_CLIENTS];
    int64_t tick_due;
    uint64_t tick_gen_seen;

    pthread_mutex_t lock;
    pthread_cond_t cond;
    /* Guarded by lock. */
    modbus_mapping_t *map;
    enum mbs_fault fault;
    int fault_param, fault_count, fault_fc;
    struct mbs_stats stats;
    struct mbs_request log[MBS_LOG_SIZE];
    size_t log_head, log_len;
    uint32_t tick_period;
    uint16_t tick_first, tick_count;
    uint64_t tick_gen, ticks;
    bool stop, want_paused;
    uint64_t ctl_req, ctl_done;
    int ctl_rc;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static void put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void wake(struct mbs *s)
{
    uint8_t b = 1;
    /* A full pipe already wakes the thread. */
    while (write(s->wake[1], &b, 1) < 0 && errno == EINTR)
        ;
}

static int send_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* ---- the tables ---------------------------------------------------------- */

static void check_range(size_t addr, size_t n, int size, const char *what)
{
    if (addr + n > (size_t)size) {
        fprintf(stderr, "mbserver: %s %zu..%zu outside the table of %d\n", what, addr, addr + n - 1,
                size);
        abort();
    }
}

void mbs_set_holding(struct mbs *s, uint16_t addr, uint16_t v)
{
    mbs_set_holding_range(s, addr, &v, 1);
}

void mbs_set_holding_range(struct mbs *s, uint16_t addr, const uint16_t *v, size_t n)
{
    pthread_mutex_lock(&s->lock);
    check_range(addr, n, s->map->nb_registers, "holding register");
    if (n > 0)
        memcpy(&s->map->tab_registers[addr], v, n * sizeof(*v));
    pthread_mutex_unlock(&s->lock);
}

uint16_t mbs_get_holding(struct mbs *s, uint16_t addr)
{
    pthread_mutex_lock(&s->lock);
    check_range(addr, 1, s->map->nb_registers, "holding register");
    uint16_t v = s->map->tab_registers[addr];
    pthread_mutex_unlock(&s->lock);
    return v;
}

void mbs_set_input(struct mbs *s, uint16_t addr, uint16_t v)
{
    pthread_mutex_lock(&s->lock);
    check_range(addr, 1, s->map->nb_input_registers, "input register");
    s->map->tab_input_registers[addr] = v;
    pthread_mutex_unlock(&s->lock);
}

void mbs_set_coil(struct mbs *s, uint16_t addr, bool v)
{
    pthread_mutex_lock(&s->lock);
    check_range(addr, 1, s->map->nb_bits, "coil");
    s->map->tab_bits[addr] = v ? 1 : 0;
    pthread_mutex_unlock(&s->lock);
}

bool mbs_get_coil(struct mbs *s, uint16_t addr)
{
    pthread_mutex_lock(&s->lock);
    check_range(addr, 1, s->map->nb_bits, "coil");
    bool v = s->map->tab_bits[addr] != 0;
    pthread_mutex_unlock(&s->lock);
    return v;
}

void mbs_set_discrete(struct mbs *s, uint16_t addr, bool v)
{
    pthread_mutex_lock(&s->lock);
    check_range(addr, 1, s->map->nb_input_bits, "discrete input");
    s->map->tab_input_bits[addr] = v ? 1 : 0;
    pthread_mutex_unlock(&s->lock);
}

/* ---- faults, statistics, log, ticker --------------------------------------- */

void mbs_set_fault(struct mbs *s, enum mbs_fault fault, int param, int count)
{
    pthread_mutex_lock(&s->lock);
    s->fault = count == 0 ? MBS_FAULT_NONE : fault;
    s->fault_param = param;
    s->fault_count = count;
    pthread_mutex_unlock(&s->lock);
}

void mbs_set_fault_fc(struct mbs *s, int function_code)
{
    pthread_mutex_lock(&s->lock);
    s->fault_fc = function_code;
    pthread_mutex_unlock(&s->lock);
}

void mbs_stats_get(struct mbs *s, struct mbs_stats *out)
{
    pthread_mutex_lock(&s->lock);
    *out = s->stats;
    pthread_mutex_unlock(&s->lock);
}

void mbs_stats_reset(struct mbs *s)
{
    pthread_mutex_lock(&s->lock);
    memset(&s->stats, 0, sizeof(s->stats));
    pthread_mutex_unlock(&s->lock);
}

size_t mbs_log_get(struct mbs *s, struct mbs_request *out, size_t max)
{
    pthread_mutex_lock(&s->lock);
    size_t n = s->log_len < max ? s->log_len : max;
    size_t oldest = (s->log_head + MBS_LOG_SIZE - s->log_len) % MBS_LOG_SIZE;
    for (size_t i = 0; i < n; i++)
        out[i] = s->log[(oldest + i) % MBS_LOG_SIZE];
    pthread_mutex_unlock(&s->lock);
    return n;
}

void mbs_log_clear(struct mbs *s)
{
    pthread_mutex_lock(&s->lock);
    s->log_head = 0;
    s->log_len = 0;
    pthread_mutex_unlock(&s->lock);
}

void mbs_set_ticker(struct mbs *s, uint32_t period_ms, uint16_t first, uint16_t count)
{
    pthread_mutex_lock(&s->lock);
    s->tick_period = period_ms;
    s->tick_first = first;
    s->tick_count = count;
    s->tick_gen++;
    wake(s);
    pthread_mutex_unlock(&s->lock);
}

uint64_t mbs_ticks(struct mbs *s)
{
    pthread_mutex_lock(&s->lock);
    uint64_t t = s->ticks;
    pthread_mutex_unlock(&s->lock);
    return t;
}

static void tick_locked(struct mbs *s)
{
    modbus_mapping_t *m = s->map;
    for (int i = s->tick_first; i < s->tick_first + s->tick_count && i < m->nb_registers; i++)
        m->tab_registers[i] = (uint16_t)(m->tab_registers[i] + 1);
    s->ticks++;
    if (m->nb_input_registers >= 2) {
        m->tab_input_registers[0] = (uint16_t)(s->ticks >> 16);
        m->tab_input_registers[1] = (uint16_t)s->ticks;
    }
}

/* Ticks when due; the time until the next tick in *timeout (kept when
 * sooner). */
static void ticker_run_locked(struct mbs *s, int64_t now, int64_t *timeout)
{
    if (s->tick_gen != s->tick_gen_seen) {
        s->tick_gen_seen = s->tick_gen;
        s->tick_due = now + s->tick_period;
    }
    if (s->tick_period == 0)
        return;
    if (now >= s->tick_due) {
        tick_locked(s);
        s->tick_due += s->tick_period;
        if (s->tick_due <= now)
            s->tick_due = now + s->tick_period;
    }
    if (*timeout < 0 || s->tick_due - now < *timeout)
        *timeout = s->tick_due - now;
}

/* ---- connections ----------------------------------------------------------- */

static void conn_close(struct conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->pending = false;
}

static void close_all(struct mbs *s)
{
    for (int i = 0; i < s->max_clients; i++)
        conn_close(&s->conns[i]);
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    s->listen_fd = -1;
}

static void accept_one(struct mbs *s)
{
    int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0)
        return;
    for (int i = 0; i < s->max_clients; i++) {
        if (s->conns[i].fd < 0) {
            /* Pipelined replies must not wait for the client's ACKs. */
            int one = 1;
            (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
            s->conns[i].fd = fd;
            s->conns[i].pending = false;
            pthread_mutex_lock(&s->lock);
            s->stats.connections++;
            pthread_mutex_unlock(&s->lock);
            return;
        }
    }
    close(fd);
}

/* Pause or resume as asked; wakes the caller. */
static void control_apply_locked(struct mbs *s)
{
    if (s->ctl_done == s->ctl_req)
        return;
    int rc = 0;
    if (s->want_paused && s->listen_fd >= 0) {
        close_all(s);
    } else if (!s->want_paused && s->listen_fd < 0) {
        s->listen_fd = modbus_tcp_listen(s->ctx, MBS_MAX_CLIENTS);
        if (s->listen_fd < 0) {
            s->want_paused = true;
            rc = -1;
        }
    }
    s->ctl_rc = rc;
    s->ctl_done = s->ctl_req;
    pthread_cond_broadcast(&s->cond);
}

/* ---- requests -------------------------------------------------------------- */

static void log_request_locked(struct mbs *s, const uint8_t *req, int len)
{
    uint8_t fc = req[MBAP_LEN];
    struct mbs_request r = {.function = fc, .tid = be16(req), .unit = req[6]};
    if (len >= MBAP_LEN + 5) {
        switch (fc) {
        case MODBUS_FC_READ_COILS:
        case MODBUS_FC_READ_DISCRETE_INPUTS:
        case MODBUS_FC_READ_HOLDING_REGISTERS:
        case MODBUS_FC_READ_INPUT_REGISTERS:
        case MODBUS_FC_WRITE_MULTIPLE_COILS:
        case MODBUS_FC_WRITE_MULTIPLE_REGISTERS:
        case MODBUS_FC_WRITE_AND_READ_REGISTERS:
            r.address = be16(req + MBAP_LEN + 1);
            r.quantity = be16(req + MBAP_LEN + 3);
            break;
        case MODBUS_FC_WRITE_SINGLE_COIL:
        case MODBUS_FC_WRITE_SINGLE_REGISTER:
        case MODBUS_FC_MASK_WRITE_REGISTER:
            r.address = be16(req + MBAP_LEN + 1);
            r.quantity = 1;
            break;
        default:
            break;
        }
    }
    s->stats.requests++;
    if (fc < 128)
        s->stats.by_function[fc]++;
    s->log[s->log_head] = r;
    s->log_head = (s->log_head + 1) % MBS_LOG_SIZE;
    if (s->log_len < MBS_LOG_SIZE)
        s->log_len++;
}

/* Counts and logs a request, the nth from one readable event; whether
 * to answer it and the fault it takes. Counted before the answer, so
 * that a client that has its reply sees it in the statistics. */
static bool request_take(struct mbs *s, const uint8_t *req, int len, uint64_t nth,
                         enum mbs_fault *fault, int *param)
{
    pthread_mutex_lock(&s->lock);
    log_request_locked(s, req, len);
    if (nth > s->stats.max_pipelined)
        s->stats.max_pipelined = nth;
    bool answer = s->cfg.unit_id < 0 || req[6] == s->cfg.unit_id;
    *fault = MBS_FAULT_NONE;
    *param = 0;
    if (answer && s->fault != MBS_FAULT_NONE && s->fault_count != 0 &&
        (s->fault_fc == 0 || s->fault_fc == req[MBAP_LEN])) {
        *fault = s->fault;
        *param = s->fault_param;
        if (s->fault_count > 0 && --s->fault_count == 0)
            s->fault = MBS_FAULT_NONE;
    }
    pthread_mutex_unlock(&s->lock);
    return answer;
}

/* The reply modbus_reply makes for req, in rsp (ADU_MAX bytes); its
 * length, or -1. */
static int reply_capture(struct mbs *s, const uint8_t *req, int len, uint8_t *rsp)
{
    pthread_mutex_lock(&s->lock);
    modbus_set_socket(s->ctx, s->capture[0]);
    int n = modbus_reply(s->ctx, req, len, s->map);
    pthread_mutex_unlock(&s->lock);
    if (n <= 0 || n > ADU_MAX)
        return -1;
    for (int got = 0; got < n;) {
        ssize_t r = recv(s->capture[1], rsp + got, (size_t)(n - got), 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        got += (int)r;
    }
    return n;
}

/* One element short, or the last byte of the PDU left off; the MBAP
 * length follows. */
static int reply_malform(uint8_t *rsp, int n)
{
    uint8_t fc = rsp[MBAP_LEN];
    int drop = 1;
    if (n > MBAP_LEN + 1 &&
        (fc == MODBUS_FC_READ_HOLDING_REGISTERS || fc == MODBUS_FC_READ_INPUT_REGISTERS ||
         fc == MODBUS_FC_WRITE_AND_READ_REGISTERS || fc == MODBUS_FC_READ_COILS ||
         fc == MODBUS_FC_READ_DISCRETE_INPUTS)) {
        int elem = fc == MODBUS_FC_READ_COILS || fc == MODBUS_FC_READ_DISCRETE_INPUTS ? 1 : 2;
        if (rsp[MBAP_LEN + 1] >= elem) {
            rsp[MBAP_LEN + 1] = (uint8_t)(rsp[MBAP_LEN + 1] - elem);
            drop = elem;
        }
    }
    n -= drop;
    put_be16(rsp + 4, (uint16_t)(n - 6));
    return n;
}

/* Answers req on c as the fault says; false when c was closed. */
static bool request_answer(struct mbs *s, struct conn *c, const uint8_t *req, int len,
                           enum mbs_fault fault, int param)
{
    uint8_t rsp[ADU_MAX];
    int n;
    switch (fault) {
    case MBS_FAULT_NONE:
        pthread_mutex_lock(&s->lock);
        modbus_set_socket(s->ctx, c->fd);
        n = modbus_reply(s->ctx, req, len, s->map);
        pthread_mutex_unlock(&s->lock);
        break;
    case MBS_FAULT_EXCEPTION:
        /* By hand: modbus_reply_exception refuses codes above 11. */
        memcpy(rsp, req, MBAP_LEN);
        put_be16(rsp + 4, 3);
        rsp[MBAP_LEN] = (uint8_t)(req[MBAP_LEN] | 0x80);
        rsp[MBAP_LEN + 1] = (uint8_t)param;
        n = send_all(c->fd, rsp, MBAP_LEN + 2);
        break;
    case MBS_FAULT_DELAY:
        memcpy(c->req, req, (size_t)len);
        c->req_len = len;
        c->pending = true;
        c->due_ms = now_ms() + (param > 0 ? param : 0);
        return true;
    case MBS_FAULT_SILENT:
        return true;
    default:
        n = reply_capture(s, req, len, rsp);
        if (n < 0)
            break;
        if (fault == MBS_FAULT_WRONG_TID)
            put_be16(rsp, (uint16_t)(be16(rsp) + 1));
        else if (fault == MBS_FAULT_WRONG_UNIT)
            rsp[6] = (uint8_t)(rsp[6] + 1);
        else if (fault == MBS_FAULT_MALFORMED)
            n = reply_malform(rsp, n);
        else if (fault == MBS_FAULT_CLOSE_MID_REPLY) {
            (void)send_all(c->fd, rsp, (size_t)(n / 2));
            conn_close(c);
            return false;
        }
        n = send_all(c->fd, rsp, (size_t)n);
        break;
    }
    if (n < 0) {
        conn_close(c);
        return false;
    }
    return true;
}

/* What libmodbus framed by the function code must agree with the MBAP
 * header. */
static bool frame_valid(const uint8_t *req, int len)
{
    return len > MBAP_LEN && be16(req + 2) == 0 && be16(req + 4) == len - 6;
}

static bool readable_now(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR));
}

/* Answers the requests waiting on c, in order. */
static void conn_serve(struct mbs *s, struct conn *c)
{
    uint64_t served = 0;
    do {
        uint8_t req[ADU_MAX];
        modbus_set_socket(s->ctx, c->fd);
        errno = 0;
        int len = modbus_receive(s->ctx, req);
        if (len <= 0 || !frame_valid(req, len)) {
            if (len != 0 && errno != ECONNRESET) {
                pthread_mutex_lock(&s->lock);
                s->stats.closed_on_error++;
                pthread_mutex_unlock(&s->lock);
            }
            conn_close(c);
            break;
        }
        served++;
        enum mbs_fault fault;
        int param;
        if (request_take(s, req, len, served, &fault, &param) &&
            !request_answer(s, c, req, len, fault, param))
            break;
    } while (!c->pending && served < MBS_PIPELINE_MAX && readable_now(c->fd));
}

/* Sends the delayed replies that are due; the time until the next in
 * *timeout (kept when sooner). */
static void delayed_run(struct mbs *s, int64_t now, int64_t *timeout)
{
    for (int i = 0; i < s->max_clients; i++) {
        struct conn *c = &s->conns[i];
        if (c->fd < 0 || !c->pending)
            continue;
        if (now >= c->due_ms) {
            c->pending = false;
            (void)request_answer(s, c, c->req, c->req_len, MBS_FAULT_NONE, 0);
        } else if (*timeout < 0 || c->due_ms - now < *timeout) {
            *timeout = c->due_ms - now;
        }
    }
}

/* ---- the server thread ----------------------------------------------------- */

static void *serve(void *arg)
{
    struct mbs *s = arg;
    struct pollfd pfd[MBS_MAX_CLIENTS + 2];
    int who[MBS_MAX_CLIENTS + 2];
    for (;;) {
        int64_t now = now_ms();
        int64_t timeout = -1;
        pthread_mutex_lock(&s->lock);
        bool stop = s->stop;
        if (!stop) {
            control_apply_locked(s);
            ticker_run_locked(s, now, &timeout);
        }
        pthread_mutex_unlock(&s->lock);
        if (stop)
            break;
        delayed_run(s, now, &timeout);

        nfds_t n = 0;
        pfd[n] = (struct pollfd){.fd = s->wake[0], .events = POLLIN};
        who[n++] = -2;
        if (s->listen_fd >= 0) {
            pfd[n] = (struct pollfd){.fd = s->listen_fd, .events = POLLIN};
            who[n++] = -1;
        }
        for (int i = 0; i < s->max_clients; i++) {
            if (s->conns[i].fd >= 0 && !s->conns[i].pending) {
                pfd[n] = (struct pollfd){.fd = s->conns[i].fd, .events = POLLIN};
                who[n++] = i;
            }
        }
        int ready = poll(pfd, n, timeout < 0 ? -1 : (int)(timeout > 60000 ? 60000 : timeout));
        if (ready <= 0)
            continue;
        for (nfds_t k = 0; k < n; k++) {
            if (pfd[k].revents == 0)
                continue;
            if (who[k] == -2) {
                uint8_t drain[64];
                while (read(s->wake[0], drain, sizeof(drain)) > 0)
                    ;
            } else if (who[k] == -1) {
                accept_one(s);
            } else if (s->conns[who[k]].fd >= 0) {
                conn_serve(s, &s->conns[who[k]]);
            }
        }
    }
    return NULL;
}

/* ---- life cycle ------------------------------------------------------------ */

uint16_t mbs_port(const struct mbs *s)
{
    return s->port;
}

static void mbs_destroy(struct mbs *s)
{
    close_all(s);
    for (int i = 0; i < 2; i++) {
        if (s->wake[i] >= 0)
            close(s->wake[i]);
        if (s->capture[i] >= 0)
            close(s->capture[i]);
    }
    if (s->ctx)
        modbus_free(s->ctx);
    if (s->map)
        modbus_mapping_free(s->map);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

/* A context for 127.0.0.1:port with the server's timeouts. */
static modbus_t *context_new(uint16_t port)
{
    modbus_t *ctx = modbus_new_tcp("127.0.0.1", port);
    if (!ctx)
        return NULL;
    if (modbus_set_byte_timeout(ctx, 0, BYTE_TIMEOUT_US) < 0 ||
        modbus_set_response_timeout(ctx, 0, FLUSH_SLEEP_US) < 0) {
        modbus_free(ctx);
        return NULL;
    }
    return ctx;
}

/* Listens on cfg.port; with port 0, the context is made again for the
 * port the kernel chose, so that resume binds the same one. */
static int listen_first(struct mbs *s)
{
    s->ctx = context_new(s->cfg.port);
    if (!s->ctx)
        return -1;
    s->listen_fd = modbus_tcp_listen(s->ctx, MBS_MAX_CLIENTS);
    if (s->listen_fd < 0)
        return -1;
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    if (getsockname(s->listen_fd, (struct sockaddr *)&sa, &sl) < 0)
        return -1;
    s->port = ntohs(sa.sin_port);
    if (s->port != s->cfg.port) {
        modbus_free(s->ctx);
        s->ctx = context_new(s->port);
        if (!s->ctx)
            return -1;
    }
    return 0;
}

int mbs_start(const struct mbs_config *cfg, struct mbs **out)
{
    *out = NULL;
    if (cfg->unit_id < -1 || cfg->unit_id > 255 || cfg->max_clients > MBS_MAX_CLIENTS) {
        errno = EINVAL;
        return -1;
    }
    struct mbs *s = calloc(1, sizeof(*s));
    if (!s)
        return -1;
    s->cfg = *cfg;
    s->max_clients = cfg->max_clients > 0 ? cfg->max_clients : DEFAULT_MAX_CLIENTS;
    s->listen_fd = -1;
    s->wake[0] = s->wake[1] = s->capture[0] = s->capture[1] = -1;
    for (int i = 0; i < MBS_MAX_CLIENTS; i++)
        s->conns[i].fd = -1;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    int saved;
    s->map =
        modbus_mapping_new(cfg->coils, cfg->discrete_inputs, cfg->holding, cfg->input_registers);
    if (!s->map || listen_first(s) < 0 || pipe2(s->wake, O_CLOEXEC | O_NONBLOCK) < 0 ||
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s->capture) < 0)
        goto fail;
    int err = pthread_create(&s->thread, NULL, serve, s);
    if (err) {
        errno = err;
        goto fail;
    }
    *out = s;
    return 0;
fail:
    saved = errno;
    mbs_destroy(s);
    errno = saved;
    return -1;
}

void mbs_free(struct mbs *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    s->stop = true;
    wake(s);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);
    mbs_destroy(s);
}

static int control(struct mbs *s, bool paused)
{
    pthread_mutex_lock(&s->lock);
    s->want_paused = paused;
    uint64_t id = ++s->ctl_req;
    wake(s);
    while (s->ctl_done < id)
        pthread_cond_wait(&s->cond, &s->lock);
    int rc = s->ctl_rc;
    pthread_mutex_unlock(&s->lock);
    return rc;
}

void mbs_pause(struct mbs *s)
{
    (void)control(s, true);
}

int mbs_resume(struct mbs *s)
{
    return control(s, false);
}
