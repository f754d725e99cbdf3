/* SPDX-License-Identifier: Apache-2.0
 *
 * The connection to one Modbus TCP device: libmodbus connects and frames
 * each answer; requests get a transaction id of their own here so that
 * several can be in flight and every answer can be matched to exactly
 * one of them. Worker thread of the device only.
 */
#include "drivers/modbus/mb_driver.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

int mb_link_open(struct mb_link *link, const char *host, uint16_t port, uint8_t unit,
                 uint32_t timeout_ms, char *why, size_t why_size)
{
    mb_link_close(link);
    char service[8];
    if (bw_snprintf(service, sizeof(service), "%u", port) != BW_OK)
        return BW_EINVAL;
    /* modbus_new_tcp_pi resolves names; the worker may wait on the
     * resolver, which only delays this device. */
    modbus_t *ctx = modbus_new_tcp_pi(host, service);
    if (!ctx) {
        bw_strlcpy(why, "cannot create a connection", why_size);
        return BW_ENOMEM;
    }
    /* No byte timeout: the whole answer must arrive within the response
     * timeout (a device that drips one byte at a time cannot hold the
     * worker). The unit id is framed here, not by libmodbus, which
     * refuses ids 248..254 that some gateways use. */
    if (modbus_set_response_timeout(ctx, timeout_ms / 1000, (timeout_ms % 1000) * 1000) != 0 ||
        modbus_set_byte_timeout(ctx, 0, 0) != 0 ||
        modbus_set_error_recovery(ctx, MODBUS_ERROR_RECOVERY_NONE) != 0) {
        modbus_free(ctx);
        bw_strlcpy(why, "cannot set up the connection", why_size);
        return BW_EIO;
    }
    if (modbus_connect(ctx) != 0) {
        int e = errno;
        modbus_free(ctx);
        bw_strlcpy(why, e == ECONNREFUSED ? "connection refused" : modbus_strerror(e), why_size);
        return BW_EIO;
    }
    int fd = modbus_get_socket(ctx);
    int one = 1;
    /* A request must leave at once, not wait for the previous answer's
     * acknowledgement (libmodbus sets it too; it is essential here). */
    if (fd < 0 || setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0) {
        modbus_close(ctx);
        modbus_free(ctx);
        bw_strlcpy(why, "cannot set up the connection", why_size);
        return BW_EIO;
    }
    link->ctx = ctx;
    link->fd = fd;
    link->unit = unit;
    return BW_OK;
}

void mb_link_close(struct mb_link *link)
{
    if (!link->ctx)
        return;
    modbus_close(link->ctx);
    modbus_free(link->ctx);
    link->ctx = NULL;
    link->fd = -1;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

int mb_link_send(struct mb_link *link, struct mb_request *req)
{
    uint8_t adu[7 + MB_PDU_MAX];
    if (req->pdu_len == 0 || req->pdu_len > MB_PDU_MAX)
        return BW_EINVAL;
    req->tid = link->next_tid++;
    put16(adu, req->tid);
    put16(adu + 2, 0); /* protocol: Modbus */
    put16(adu + 4, (uint16_t)(req->pdu_len + 1));
    adu[6] = link->unit;
    memcpy(adu + 7, req->pdu, req->pdu_len);
    size_t len = 7 + req->pdu_len, off = 0;
    while (off < len) {
        ssize_t n = send(link->fd, adu + off, len - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return BW_EIO;
        off += (size_t)n;
    }
    return BW_OK;
}

enum mb_outcome mb_link_receive(struct mb_link *link, int64_t deadline_us, uint8_t *adu,
                                size_t *len)
{
    int64_t left = deadline_us - bw_clock_monotonic_us();
    if (left < 1000)
        left = 1000; /* a last look at what may have arrived */
    if (modbus_set_response_timeout(link->ctx, (uint32_t)(left / 1000000),
                                    (uint32_t)(left % 1000000)) != 0)
        return MB_BROKEN;
    uint8_t buf[MODBUS_TCP_MAX_ADU_LENGTH];
    int n = modbus_receive_confirmation(link->ctx, buf);
    if (n < 0) {
        if (errno == ETIMEDOUT)
            return MB_TIMEOUT;
        /* libmodbus reports a frame it cannot make sense of as bad data. */
        if (errno == EMBBADDATA || errno == EMBBADEXC || errno == EMBMDATA)
            return MB_MALFORMED;
        return MB_BROKEN;
    }
    if (n < 9 || n > MB_ADU_MAX)
        return MB_MALFORMED;
    memcpy(adu, buf, (size_t)n);
    *len = (size_t)n;
    /* libmodbus frames by the function code; the header must agree. */
    if (get16(adu + 2) != 0 || get16(adu + 4) != (uint16_t)(n - 6))
        return MB_MALFORMED;
    return MB_OK;
}

static const uint8_t read_function[] = {
    [BW_MODBUS_COIL] = 0x01,
    [BW_MODBUS_DISCRETE_INPUT] = 0x02,
    [BW_MODBUS_HOLDING_REGISTER] = 0x03,
    [BW_MODBUS_INPUT_REGISTER] = 0x04,
};

void mb_pdu_read(struct mb_request *req, enum bw_modbus_area area, uint16_t address, uint16_t count)
{
    req->pdu[0] = read_function[area];
    put16(req->pdu + 1, address);
    put16(req->pdu + 3, count);
    req->pdu_len = 5;
}

enum mb_outcome mb_answer_check(const struct mb_request *req, uint8_t unit, const uint8_t *adu,
                                size_t len, const uint8_t **data, size_t *data_len,
                                uint8_t *exception)
{
    *data = NULL;
    *data_len = 0;
    if (adu[6] != unit)
        return MB_UNIT;
    uint8_t fc = req->pdu[0];
    const uint8_t *pdu = adu + 7;
    size_t pdu_len = len - 7;
    if (pdu[0] == (fc | 0x80)) {
        if (pdu_len != 2)
            return MB_MALFORMED;
        *exception = pdu[1];
        return MB_EXCEPTION;
    }
    if (pdu[0] != fc)
        return MB_MALFORMED;
    switch (fc) {
    case 0x01:
    case 0x02:
    case 0x03:
    case 0x04: {
        uint16_t count = get16(req->pdu + 3);
        size_t want = fc <= 0x02 ? (size_t)(count + 7) / 8 : (size_t)count * 2;
        if (pdu_len < 2 || pdu[1] != want || pdu_len != 2 + want)
            return MB_MALFORMED;
        *data = pdu + 2;
        *data_len = want;
        return MB_OK;
    }
    case 0x05:
    case 0x06:
    case 0x0F:
    case 0x10:
        /* Single writes echo address and value; multiple writes echo
         * address and quantity: the first four data bytes either way. */
        if (pdu_len != 5 || memcmp(pdu + 1, req->pdu + 1, 4) != 0)
            return MB_MALFORMED;
        return MB_OK;
    case 0x16:
        if (pdu_len != 7 || memcmp(pdu + 1, req->pdu + 1, 6) != 0)
            return MB_MALFORMED;
        return MB_OK;
    default:
        return MB_MALFORMED;
    }
}

const char *mb_exception_text(uint8_t code)
{
    switch (code) {
    case 1:
        return "illegal function";
    case 2:
        return "illegal data address";
    case 3:
        return "illegal data value";
    case 4:
        return "device failure";
    case 5:
        return "acknowledge (busy with a long operation)";
    case 6:
        return "device busy";
    case 10:
        return "gateway path unavailable";
    case 11:
        return "gateway target did not respond";
    default:
        return "unknown exception";
    }
}
