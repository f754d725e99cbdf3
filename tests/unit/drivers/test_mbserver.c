/* SPDX-License-Identifier: Apache-2.0
 *
 * Tests of the Modbus TCP test server (support_mbserver.h) with a plain
 * libmodbus client: the four tables, every fault, pause and resume,
 * pipelined requests on a raw socket, the ticker, the request log, unit
 * id filtering, garbage and the connection limit. Some tests pin down
 * what libmodbus 3.1.6 itself does with a bad reply, which the driver
 * relies on.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit/drivers/support_mbserver.h"

#include <modbus.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const struct mbs_config default_config = {
    .coils = 64, .discrete_inputs = 64, .holding = 200, .input_registers = 16, .unit_id = -1};

static int server_setup(void **state)
{
    struct mbs *s;
    if (mbs_start(&default_config, &s) != 0)
        return -1;
    *state = s;
    return 0;
}

static int server_teardown(void **state)
{
    mbs_free(*state);
    return 0;
}

/* A connected client with a response timeout of timeout_ms. */
static modbus_t *client_new(struct mbs *s, int timeout_ms)
{
    modbus_t *c = modbus_new_tcp("127.0.0.1", mbs_port(s));
    assert_non_null(c);
    assert_int_equal(modbus_set_response_timeout(c, (uint32_t)(timeout_ms / 1000),
                                                 (uint32_t)(timeout_ms % 1000) * 1000),
                     0);
    assert_int_equal(modbus_connect(c), 0);
    return c;
}

static void client_free(modbus_t *c)
{
    modbus_close(c);
    modbus_free(c);
}

/* A plain TCP connection to the server, with a 2 s receive timeout. */
static int raw_connect(struct mbs *s)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(mbs_port(s))};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    struct timeval tv = {.tv_sec = 2};
    assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
    return fd;
}

/* Reads exactly n bytes; false on EOF, error or timeout. */
static bool raw_read(int fd, uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t r = recv(fd, p, n, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        p += r;
        n -= (size_t)r;
    }
    return true;
}

/* True when the server closed fd: EOF, or a reset when it closed with
 * our bytes unread. False on data or after the 2 s timeout. */
static bool raw_closed(int fd)
{
    uint8_t b[64];
    ssize_t r;
    while ((r = recv(fd, b, sizeof(b), 0)) < 0 && errno == EINTR)
        ;
    return r == 0 || (r < 0 && errno == ECONNRESET);
}

/* An MBAP frame of pdu into out; its length. */
static size_t frame(uint8_t *out, uint16_t tid, uint8_t unit, const uint8_t *pdu, size_t n)
{
    out[0] = (uint8_t)(tid >> 8);
    out[1] = (uint8_t)tid;
    out[2] = out[3] = 0;
    out[4] = (uint8_t)((n + 1) >> 8);
    out[5] = (uint8_t)(n + 1);
    out[6] = unit;
    memcpy(out + 7, pdu, n);
    return 7 + n;
}

/* ---- the tables ---------------------------------------------------------- */

static void test_tables(void **state)
{
    struct mbs *s = *state;
    modbus_t *c = client_new(s, 1000);
    uint16_t regs[8];
    uint8_t bits[16];

    const uint16_t init[3] = {1, 0x8000, 0xFFFF};
    mbs_set_holding_range(s, 0, init, 3);
    assert_int_equal(modbus_read_registers(c, 0, 3, regs), 3);
    assert_memory_equal(regs, init, sizeof(init));
    assert_int_equal(modbus_write_register(c, 5, 0x1234), 1);
    assert_int_equal(mbs_get_holding(s, 5), 0x1234);
    const uint16_t many[3] = {7, 8, 9};
    assert_int_equal(modbus_write_registers(c, 197, 3, many), 3);
    assert_int_equal(mbs_get_holding(s, 199), 9);

    mbs_set_input(s, 2, 77);
    assert_int_equal(modbus_read_input_registers(c, 0, 3, regs), 3);
    assert_int_equal(regs[2], 77);

    mbs_set_coil(s, 3, true);
    assert_int_equal(modbus_read_bits(c, 0, 8, bits), 8);
    assert_int_equal(bits[3], 1);
    assert_int_equal(bits[2], 0);
    assert_int_equal(modbus_write_bit(c, 7, 1), 1);
    assert_true(mbs_get_coil(s, 7));
    const uint8_t on[3] = {1, 0, 1};
    assert_int_equal(modbus_write_bits(c, 61, 3, on), 3);
    assert_true(mbs_get_coil(s, 63));
    assert_false(mbs_get_coil(s, 62));

    mbs_set_discrete(s, 5, true);
    assert_int_equal(modbus_read_input_bits(c, 0, 16, bits), 16);
    assert_int_equal(bits[5], 1);
    assert_int_equal(bits[4], 0);

    /* Beyond the tables: libmodbus's own exception. */
    assert_int_equal(modbus_read_registers(c, 199, 2, regs), -1);
    assert_int_equal(errno, EMBXILADD);
    assert_int_equal(modbus_read_bits(c, 64, 1, bits), -1);
    assert_int_equal(errno, EMBXILADD);
    /* And the connection still serves. */
    assert_int_equal(modbus_read_registers(c, 0, 1, regs), 1);
    client_free(c);
}

/* ---- faults ---------------------------------------------------------------- */

static void test_fault_exception(void **state)
{
    struct mbs *s = *state;
    modbus_t *c = client_new(s, 1000);
    uint16_t r;

    mbs_set_fault(s, MBS_FAULT_EXCEPTION, MODBUS_EXCEPTION_ILLEGAL_DATA_ADDRESS, 1);
    assert_int_equal(modbus_read_registers(c, 0, 1, &r), -1);
    assert_int_equal(errno, EMBXILADD);
    assert_int_equal(modbus_read_registers(c, 0, 1, &r), 1); /* count was 1 */

    /* Only FC 3, until cleared; a refused write is not applied. */
    mbs_set_fault_fc(s, MODBUS_FC_READ_HOLDING_REGISTERS);
    mbs_set_fault(s, MBS_FAULT_EXCEPTION, MODBUS_EXCEPTION_SLAVE_OR_SERVER_FAILURE, -1);
    assert_int_equal(modbus_read_input_registers(c, 0, 1, &r), 1);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(modbus_read_registers(c, 0, 1, &r), -1);
        assert_int_equal(errno, EMBXSFAIL);
    }
    mbs_set_fault_fc(s, 0);
    mbs_set_fault(s, MBS_FAULT_EXCEPTION, MODBUS_EXCEPTION_ILLEGAL_FUNCTION, -1);
    assert_int_equal(modbus_write_register(c, 9, 42), -1);
    assert_int_equal(errno, EMBXILFUN);
    assert_int_equal(mbs_get_holding(s, 9), 0);
    /* An exception code libmodbus does not know. */
    mbs_set_fault(s, MBS_FAULT_EXCEPTION, 0x20, 1);
    assert_int_equal(modbus_read_registers(c, 0, 1, &r), -1);
    assert_int_equal(errno, EMBBADEXC);
    mbs_set_fault(s, MBS_FAULT_NONE, 0, 0);
    assert_int_equal(modbus_read_registers(c, 0, 1, &r), 1);
    client_free(c);
}

static void test_fault_delay(void **state)
{
    struct mbs *s = *state;
    modbus_t *a = client_new(s, 100);
    modbus_t *b = client_new(s, 1000);
    uint16_t r;

    mbs_set_holding(s, 0, 11);
    /* Long, so that a loaded machine still tells the two apart; nobody
     * waits for the late reply. */
    mbs_set_fault(s, MBS_FAULT_DELAY, 2000, 1);
    int64_t t0 = now_ms();
    assert_int_equal(modbus_read_registers(a, 0, 1, &r), -1);
    assert_int_equal(errno, ETIMEDOUT);
    /* Another connection is served meanwhile. */
    assert_int_equal(modbus_read_registers(b, 0, 1, &r), 1);
    assert_int_equal(r, 11);
    assert_true(now_ms() - t0 < 1500);
    /* The late reply would confuse the next request: reconnect. */
    modbus_close(a);
    assert_int_equal(modbus_connect(a), 0);
    assert_int_equal(modbus_read_registers(a, 0, 1, &r), 1);
    assert_int_equal(r, 11);
    client_free(a);
    client_free(b);
}

static void test_fault_silent(void **state)
{
    struct mbs *s = *state;
    modbus_t *c = client_new(s, 100);
    uint16_t r;
    mbs_set_fault(s, MBS_FAULT_SILENT, 0, 1);
    assert_int_equal(modbus_read_registers(c, 0, 1, &r), -1);
    assert_int_equal(errno, ETIMEDOUT);
    assert_int_equal(modbus_read_registers(c, 0, 1, &r), 1);
    client_free(c);
}

static void test_fault_wrong_tid(void **state)
{
    struct mbs *s = *state;
    modbus_t *c = client_new(s, 1000);
    uint16_t r;
    mbs_set_fault(s, MBS_FAULT_WRONG_TID, 0, 1);
    assert_int_equal(modbus_read_registers(c, 0, 1, &r), -1);
    assert_int_equal(errno, EMBBADDATA);
    /* The whole bad reply was read: the stream is still in step. */
    assert_int_equal(modbus_read_registers(c, 0, 1, &r), 1);
    client_free(c);
}

static void test_fault_wrong_unit(void **state)
{
    struct mbs *s = *state;
    modbus_t *c = client_new(s, 1000);
    uint16_t r = 0;
    mbs_set_holding(s, 0, 5);
    mbs_set_fault(s, MBS_FAULT_WRONG_UNIT, 0, 1);
    /* libmodbus 3.1.6 does not compare the unit id of a TCP reply with
     * the request's: the driver must. */
    assert_int_equal(modbus_read_registers(c, 0, 1, &r), 1);
    assert_int_equal(r, 5);

    /* The reply really carries unit + 1. */
    mbs_set_fault(s, MBS_FAULT_WRONG_UNIT, 0, 1);
    int fd = raw_connect(s);
    uint8_t req[16], rsp[16];
    const uint8_t pdu[] = {3, 0, 0, 0, 1};
    size_t n = frame(req, 0x4242, 9, pdu, sizeof(pdu));
    assert_int_equal(write(fd, req, n), (ssize_t)n);
    assert_true(raw_read(fd, rsp, 11));
    assert_int_equal(rsp[6], 10);
    assert_int_equal(rsp[0] << 8 | rsp[1], 0x4242);
    close(fd);
    client_free(c);
}

static void test_fault_malformed(void **state)
{
    struct mbs *s = *state;
    modbus_t *c = client_new(s, 200);
    uint16_t r[4];
    uint8_t bits[8];

    mbs_set_fault(s, MBS_FAULT_MALFORMED, 0, 1);
    assert_int_equal(modbus_read_registers(c, 0, 4, r), -1);
    assert_int_equal(errno, EMBBADDATA);
    assert_int_equal(modbus_read_registers(c, 0, 4, r), 4);
    mbs_set_fault(s, MBS_FAULT_MALFORMED, 0, 1);
    assert_int_equal(modbus_read_bits(c, 0, 8, bits), -1);
    assert_int_equal(errno, EMBBADDATA);
    assert_int_equal(modbus_read_input_registers(c, 0, 2, r), 2);

    /* On a raw socket: byte count 2 for 2 registers, MBAP length 5. */
    mbs_set_fault(s, MBS_FAULT_MALFORMED, 0, 1);
    int fd = raw_connect(s);
    uint8_t req[16], rsp[16];
    const uint8_t pdu[] = {3, 0, 0, 0, 2};
    size_t n = frame(req, 1, 0xFF, pdu, sizeof(pdu));
    assert_int_equal(write(fd, req, n), (ssize_t)n);
    assert_true(raw_read(fd, rsp, 11));
    assert_int_equal(rsp[4] << 8 | rsp[5], 5);
    assert_int_equal(rsp[7], 3);
    assert_int_equal(rsp[8], 2);
    close(fd);
    client_free(c);
}

static void test_fault_close_mid_reply(void **state)
{
    struct mbs *s = *state;
    modbus_t *c = client_new(s, 1000);
    uint16_t r[10];
    mbs_set_fault(s, MBS_FAULT_CLOSE_MID_REPLY, 0, 1);
    assert_int_equal(modbus_read_registers(c, 0, 10, r), -1);
    assert_int_equal(errno, ECONNRESET);
    modbus_close(c);
    assert_int_equal(modbus_connect(c), 0);
    assert_int_equal(modbus_read_registers(c, 0, 10, r), 10);
    client_free(c);
}

/* ---- the device goes away ---------------------------------------------------- */

static void test_pause_resume(void **state)
{
    struct mbs *s = *state;
    uint16_t port = mbs_port(s);
    modbus_t *c = client_new(s, 500);
    uint16_t r;
    assert_int_equal(modbus_read_registers(c, 0, 1, &r), 1);

    mbs_pause(s);
    assert_int_equal(modbus_read_registers(c, 0, 1, &r), -1);
    modbus_close(c);
    assert_int_equal(modbus_connect(c), -1);
    assert_int_equal(errno, ECONNREFUSED);

    assert_int_equal(mbs_resume(s), 0);
    assert_int_equal(mbs_port(s), port);
    assert_int_equal(modbus_connect(c), 0);
    assert_int_equal(modbus_read_registers(c, 0, 1, &r), 1);
    assert_int_equal(mbs_resume(s), 0); /* not paused: nothing to do */
    client_free(c);
}

/* ---- pipelining ---------------------------------------------------------------- */

static void test_pipelined(void **state)
{
    struct mbs *s = *state;
    const uint16_t init[2] = {0x0102, 0x0304};
    mbs_set_holding_range(s, 0, init, 2);
    mbs_set_input(s, 2, 0xABCD);
    mbs_stats_reset(s);

    uint8_t req[64];
    size_t n = 0;
    const uint8_t read_holding[] = {3, 0, 0, 0, 2};
    const uint8_t read_input[] = {4, 0, 2, 0, 1};
    const uint8_t write_one[] = {6, 0, 20, 0xBE, 0xEF};
    n += frame(req + n, 0x0101, 1, read_holding, sizeof(read_holding));
    n += frame(req + n, 0x0102, 1, read_input, sizeof(read_input));
    n += frame(req + n, 0x0103, 1, write_one, sizeof(write_one));

    int fd = raw_connect(s);
    assert_int_equal(write(fd, req, n), (ssize_t)n);
    uint8_t rsp[13 + 11 + 12];
    assert_true(raw_read(fd, rsp, sizeof(rsp)));
    const uint8_t want[] = {
        0x01, 0x01, 0, 0, 0, 7, 1, 3, 4, 0x01, 0x02, 0x03, 0x04, /* FC 3 */
        0x01, 0x02, 0, 0, 0, 5, 1, 4, 2, 0xAB, 0xCD,             /* FC 4 */
        0x01, 0x03, 0, 0, 0, 6, 1, 6, 0, 20,   0xBE, 0xEF,       /* FC 6 */
    };
    assert_memory_equal(rsp, want, sizeof(want));
    assert_int_equal(mbs_get_holding(s, 20), 0xBEEF);
    close(fd);

    struct mbs_stats st;
    mbs_stats_get(s, &st);
    assert_int_equal(st.requests, 3);
    /* One write on loopback arrives as one segment. */
    assert_int_equal(st.max_pipelined, 3);
}

/* ---- the ticker ---------------------------------------------------------------- */

static void test_ticker(void **state)
{
    struct mbs *s = *state;
    modbus_t *c = client_new(s, 1000);
    mbs_set_holding(s, 10, 0);
    mbs_set_holding(s, 11, 0xFFFF);
    assert_int_equal(mbs_ticks(s), 0);
    mbs_set_ticker(s, 10, 10, 2);
    int64_t deadline = now_ms() + 3000;
    while (mbs_ticks(s) < 5 && now_ms() < deadline)
        sleep_ms(5);
    assert_true(mbs_ticks(s) >= 5);

    /* One request sees one instant: ticks fall between requests. */
    uint16_t r[2], in[2];
    uint64_t t0 = mbs_ticks(s);
    assert_int_equal(modbus_read_registers(c, 10, 2, r), 2);
    uint64_t t1 = mbs_ticks(s);
    assert_true(r[0] >= t0 && r[0] <= t1);
    assert_int_equal(r[1], (uint16_t)(0xFFFF + r[0]));
    assert_int_equal(modbus_read_input_registers(c, 0, 2, in), 2);
    uint64_t mirrored = (uint64_t)in[0] << 16 | in[1];
    assert_true(mirrored >= t1 && mirrored <= mbs_ticks(s));

    mbs_set_ticker(s, 0, 0, 0);
    uint64_t t = mbs_ticks(s);
    sleep_ms(50);
    assert_int_equal(mbs_ticks(s), t);
    assert_int_equal(mbs_get_holding(s, 10), (uint16_t)t);
    client_free(c);
}

/* ---- the request log ------------------------------------------------------------ */

static void test_log(void **state)
{
    struct mbs *s = *state;
    modbus_t *c = client_new(s, 1000);
    uint16_t r[4];
    uint8_t b[4];
    const uint16_t two[2] = {1, 2};
    mbs_log_clear(s);
    mbs_stats_reset(s);
    assert_int_equal(modbus_read_registers(c, 5, 3, r), 3);
    assert_int_equal(modbus_write_register(c, 7, 1), 1);
    assert_int_equal(modbus_read_bits(c, 2, 4, b), 4);
    assert_int_equal(modbus_write_registers(c, 20, 2, two), 2);

    struct mbs_request log[8];
    assert_int_equal(mbs_log_get(s, log, 8), 4);
    const uint8_t fc[4] = {3, 6, 1, 16};
    const uint16_t addr[4] = {5, 7, 2, 20}, qty[4] = {3, 1, 4, 2};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(log[i].function, fc[i]);
        assert_int_equal(log[i].address, addr[i]);
        assert_int_equal(log[i].quantity, qty[i]);
        assert_int_equal(log[i].unit, MODBUS_TCP_SLAVE);
        /* libmodbus numbers its requests one by one. */
        assert_int_equal(log[i].tid, (uint16_t)(log[0].tid + i));
    }
    assert_int_equal(mbs_log_get(s, log, 2), 2);
    assert_int_equal(log[1].function, 6);
    struct mbs_stats st;
    mbs_stats_get(s, &st);
    assert_int_equal(st.requests, 4);
    assert_int_equal(st.by_function[3], 1);
    assert_int_equal(st.by_function[16], 1);
    assert_int_equal(st.by_function[4], 0);

    /* Bounded: the last MBS_LOG_SIZE, oldest first. */
    for (int i = 0; i < MBS_LOG_SIZE + 6; i++)
        assert_int_equal(modbus_read_registers(c, i % 100, 1, r), 1);
    static struct mbs_request all[MBS_LOG_SIZE + 8];
    assert_int_equal(mbs_log_get(s, all, MBS_LOG_SIZE + 8), MBS_LOG_SIZE);
    assert_int_equal(all[0].address, 6 % 100);
    assert_int_equal(all[MBS_LOG_SIZE - 1].address, (MBS_LOG_SIZE + 5) % 100);
    mbs_log_clear(s);
    assert_int_equal(mbs_log_get(s, all, 8), 0);
    client_free(c);
}

/* What a driver built on the raw calls must know about libmodbus 3.1.6:
 * modbus_send_raw_request sends transaction id 0 whatever came before,
 * and modbus_receive_confirmation checks nothing but the framing. */
static void test_raw_request(void **state)
{
    struct mbs *s = *state;
    modbus_t *c = client_new(s, 1000);
    uint16_t r;
    assert_int_equal(modbus_read_registers(c, 0, 1, &r), 1);
    mbs_log_clear(s);
    const uint8_t raw[] = {0x11, 3, 0, 4, 0, 2};
    for (int i = 0; i < 2; i++) {
        mbs_set_fault(s, i == 1 ? MBS_FAULT_WRONG_TID : MBS_FAULT_NONE, 0, 1);
        assert_int_equal(modbus_send_raw_request(c, raw, sizeof(raw)), 12);
        uint8_t rsp[MODBUS_TCP_MAX_ADU_LENGTH];
        int n = modbus_receive_confirmation(c, rsp);
        assert_int_equal(n, 13);
        assert_int_equal(rsp[0] << 8 | rsp[1], i == 1 ? 1 : 0);
    }
    struct mbs_request log[4];
    assert_int_equal(mbs_log_get(s, log, 4), 2);
    assert_int_equal(log[0].tid, 0);
    assert_int_equal(log[1].tid, 0);
    assert_int_equal(log[0].unit, 0x11);
    client_free(c);
}

/* ---- unit ids, garbage, limits ---------------------------------------------------- */

static void test_unit_filter(void **state)
{
    (void)state;
    struct mbs_config cfg = default_config;
    cfg.unit_id = 5;
    struct mbs *s;
    assert_int_equal(mbs_start(&cfg, &s), 0);
    modbus_t *c = client_new(s, 100);
    uint16_t r;
    assert_int_equal(modbus_set_slave(c, 5), 0);
    assert_int_equal(modbus_read_registers(c, 0, 1, &r), 1);
    assert_int_equal(modbus_set_slave(c, 7), 0);
    assert_int_equal(modbus_read_registers(c, 0, 1, &r), -1);
    assert_int_equal(errno, ETIMEDOUT);
    assert_int_equal(modbus_set_slave(c, 5), 0);
    assert_int_equal(modbus_read_registers(c, 0, 1, &r), 1);
    struct mbs_request log[4];
    assert_int_equal(mbs_log_get(s, log, 4), 3);
    assert_int_equal(log[1].unit, 7);
    client_free(c);
    mbs_free(s);
}

static void test_garbage(void **state)
{
    struct mbs *s = *state;
    uint8_t buf[64];
    mbs_stats_reset(s);

    /* Not Modbus at all: the protocol id is "T ". */
    int fd = raw_connect(s);
    const char http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_int_equal(write(fd, http, sizeof(http) - 1), (ssize_t)sizeof(http) - 1);
    assert_true(raw_closed(fd));
    close(fd);

    /* An MBAP length that disagrees with the PDU. */
    fd = raw_connect(s);
    const uint8_t pdu[] = {3, 0, 0, 0, 1};
    size_t n = frame(buf, 1, 1, pdu, sizeof(pdu));
    buf[5] = 20;
    assert_int_equal(write(fd, buf, n), (ssize_t)n);
    assert_true(raw_closed(fd));
    close(fd);

    /* An unknown function code and an illegal quantity: exceptions. */
    fd = raw_connect(s);
    const uint8_t unknown[] = {0x55};
    n = frame(buf, 2, 1, unknown, sizeof(unknown));
    assert_int_equal(write(fd, buf, n), (ssize_t)n);
    assert_true(raw_read(fd, buf, 9));
    assert_int_equal(buf[7], 0xD5);
    assert_int_equal(buf[8], MODBUS_EXCEPTION_ILLEGAL_FUNCTION);
    /* libmodbus flushes the connection after a quantity out of bounds:
     * the request pipelined behind it is never answered. */
    const uint8_t too_many[] = {3, 0, 0, 0x07, 0xD0};
    const uint8_t fine[] = {3, 0, 0, 0, 1};
    n = frame(buf, 3, 1, too_many, sizeof(too_many));
    n += frame(buf + n, 4, 1, fine, sizeof(fine));
    assert_int_equal(write(fd, buf, n), (ssize_t)n);
    assert_true(raw_read(fd, buf, 9));
    assert_int_equal(buf[7], 0x83);
    assert_int_equal(buf[8], MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE);
    struct timeval tv = {.tv_usec = 300000};
    assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
    assert_int_equal(recv(fd, buf, sizeof(buf), 0), -1);
    assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
    tv.tv_sec = 2;
    tv.tv_usec = 0;
    assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
    /* Half a frame, then silence: given up on after the byte timeout. */
    assert_int_equal(write(fd, buf, 5), 5);
    assert_true(raw_closed(fd));
    close(fd);

    /* Half a frame, then gone. */
    fd = raw_connect(s);
    assert_int_equal(write(fd, buf, 4), 4);
    close(fd);

    modbus_t *c = client_new(s, 1000);
    uint16_t r;
    assert_int_equal(modbus_read_registers(c, 0, 1, &r), 1);
    client_free(c);
    struct mbs_stats st;
    mbs_stats_get(s, &st);
    assert_true(st.closed_on_error >= 3);
}

static void test_max_clients(void **state)
{
    (void)state;
    struct mbs_config cfg = default_config;
    cfg.max_clients = 1;
    struct mbs *s;
    assert_int_equal(mbs_start(&cfg, &s), 0);
    uint16_t r;
    modbus_t *a = client_new(s, 500);
    assert_int_equal(modbus_read_registers(a, 0, 1, &r), 1);
    modbus_t *b = client_new(s, 500); /* accepted, then closed */
    assert_int_equal(modbus_read_registers(b, 0, 1, &r), -1);
    modbus_close(b);
    client_free(a);
    /* The slot frees once the server has seen a's close. */
    int64_t deadline = now_ms() + 2000;
    int rc = -1;
    while (rc != 1 && now_ms() < deadline) {
        if (modbus_connect(b) == 0) {
            rc = modbus_read_registers(b, 0, 1, &r);
            modbus_close(b);
        }
        if (rc != 1)
            sleep_ms(10);
    }
    assert_int_equal(rc, 1);
    modbus_free(b);
    struct mbs_stats st;
    mbs_stats_get(s, &st);
    assert_int_equal(st.connections, 2);
    mbs_free(s);

    cfg.max_clients = MBS_MAX_CLIENTS + 1;
    assert_int_equal(mbs_start(&cfg, &s), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tables, server_setup, server_teardown),
        cmocka_unit_test_setup_teardown(test_fault_exception, server_setup, server_teardown),
        cmocka_unit_test_setup_teardown(test_fault_delay, server_setup, server_teardown),
        cmocka_unit_test_setup_teardown(test_fault_silent, server_setup, server_teardown),
        cmocka_unit_test_setup_teardown(test_fault_wrong_tid, server_setup, server_teardown),
        cmocka_unit_test_setup_teardown(test_fault_wrong_unit, server_setup, server_teardown),
        cmocka_unit_test_setup_teardown(test_fault_malformed, server_setup, server_teardown),
        cmocka_unit_test_setup_teardown(test_fault_close_mid_reply, server_setup, server_teardown),
        cmocka_unit_test_setup_teardown(test_pause_resume, server_setup, server_teardown),
        cmocka_unit_test_setup_teardown(test_pipelined, server_setup, server_teardown),
        cmocka_unit_test_setup_teardown(test_ticker, server_setup, server_teardown),
        cmocka_unit_test_setup_teardown(test_log, server_setup, server_teardown),
        cmocka_unit_test_setup_teardown(test_raw_request, server_setup, server_teardown),
        cmocka_unit_test(test_unit_filter),
        cmocka_unit_test_setup_teardown(test_garbage, server_setup, server_teardown),
        cmocka_unit_test(test_max_clients),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
