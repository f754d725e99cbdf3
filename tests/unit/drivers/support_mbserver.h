/* SPDX-License-Identifier: Apache-2.0
 *
 * Test support: a real Modbus TCP server on 127.0.0.1, built on
 * libmodbus's server API (modbus_receive, modbus_reply), for the Modbus
 * driver's tests and benchmark. One thread of its own serves the
 * listener and up to max_clients connections with poll(); requests
 * queued back to back on one connection (pipelined) are answered one by
 * one, in order. Faults can be injected (exception, delay, silence, a
 * wrong transaction or unit id, a malformed reply, a connection closed
 * in the middle of a reply), the device can go away and come back
 * (pause, resume), a ticker changes holding registers on the server
 * thread, and every request is counted and logged.
 *
 * Answers are libmodbus 3.1.6's own: out-of-table addresses get
 * exception 2, unknown function codes exception 1, and a quantity out of
 * bounds exception 3, after which libmodbus flushes the connection, so
 * requests pipelined behind that one are dropped unanswered.
 *
 * Data, faults, statistics and the log are guarded by one mutex: every
 * function here may be called from any thread except the server's own
 * (pause and resume wait for it). Test infrastructure, not product code:
 * an address outside the configured tables is a bug in the test and
 * aborts with a message.
 */
#ifndef BW_TEST_SUPPORT_MBSERVER_H
#define BW_TEST_SUPPORT_MBSERVER_H

#include "base/base.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MBS_LOG_SIZE 1024   /* requests kept by the log */
#define MBS_MAX_CLIENTS 64  /* upper bound of mbs_config.max_clients */
#define MBS_PIPELINE_MAX 64 /* requests answered per readable event */

struct mbs_config {
    /* Table sizes; addresses 0..n-1. */
    uint16_t coils, discrete_inputs, holding, input_registers;
    /* -1: answer every unit id; 0..255: requests to any other unit id
     * are read, counted and logged, but never answered. */
    int unit_id;
    uint16_t port;   /* 0: an ephemeral port (see mbs_port) */
    int max_clients; /* <= 0: 8. A connection beyond it is accepted and
                      * closed at once. */
};

struct mbs;

/* Binds 127.0.0.1:cfg->port and starts the server thread. cfg is
 * copied. Returns 0 and the server in *out, or -1 (errno set) when the
 * port cannot be bound, cfg is invalid (unit_id outside -1..255,
 * max_clients > MBS_MAX_CLIENTS) or memory or a thread cannot be had. */
BW_MUST_CHECK int mbs_start(const struct mbs_config *cfg, struct mbs **out);
/* The port listened on (the ephemeral one when cfg.port was 0). */
uint16_t mbs_port(const struct mbs *s);
/* Stops the thread, closes every socket, frees everything. NULL is fine. */
void mbs_free(struct mbs *s);

/* The device goes away: closes the listener and every connection
 * (delayed replies are dropped); connecting is refused until
 * mbs_resume. Returns once done. */
void mbs_pause(struct mbs *s);
/* Listens again on the same port (SO_REUSEADDR). Returns once listening:
 * 0, or -1 when the port cannot be bound again (the server stays
 * paused). 0 when not paused. */
BW_MUST_CHECK int mbs_resume(struct mbs *s);

/* The tables. Writes by clients land here too. */
void mbs_set_holding(struct mbs *s, uint16_t addr, uint16_t v);
void mbs_set_holding_range(struct mbs *s, uint16_t addr, const uint16_t *v, size_t n);
uint16_t mbs_get_holding(struct mbs *s, uint16_t addr);
void mbs_set_input(struct mbs *s, uint16_t addr, uint16_t v);
void mbs_set_coil(struct mbs *s, uint16_t addr, bool v);
bool mbs_get_coil(struct mbs *s, uint16_t addr);
void mbs_set_discrete(struct mbs *s, uint16_t addr, bool v);

enum mbs_fault {
    MBS_FAULT_NONE,
    /* Answer with exception param (any 1..255; libmodbus clients map
     * 1..11 to EMBXILFUN..EMBXGTAR and others to EMBBADEXC). */
    MBS_FAULT_EXCEPTION,
    /* Answer normally param ms later. The connection is not read
     * meanwhile (requests behind it wait); others are served. */
    MBS_FAULT_DELAY,
    /* Read the request, never answer. */
    MBS_FAULT_SILENT,
    /* The right reply with transaction id + 1. */
    MBS_FAULT_WRONG_TID,
    /* The right reply with unit id + 1. */
    MBS_FAULT_WRONG_UNIT,
    /* Reads (FC 1-4, 23): the byte count and data one element short
     * (one register, or one byte of bits). Other replies (writes,
     * exceptions): the last byte of the PDU left off. The MBAP length
     * always matches what is sent. */
    MBS_FAULT_MALFORMED,
    /* Send the first half of the reply, then close the connection. */
    MBS_FAULT_CLOSE_MID_REPLY,
};

/* Applies fault to the next count requests (-1: until cleared with
 * MBS_FAULT_NONE; 0 clears). A request whose unit id is ignored takes
 * no fault. A write that gets a changed reply (WRONG_TID, WRONG_UNIT,
 * MALFORMED, CLOSE_MID_REPLY, DELAY) is applied to the table all the
 * same, as a device would; EXCEPTION and SILENT leave the tables alone. */
void mbs_set_fault(struct mbs *s, enum mbs_fault fault, int param, int count);
/* Only requests with this function code take the fault (0: all). Kept
 * until changed. */
void mbs_set_fault_fc(struct mbs *s, int function_code);

struct mbs_stats {
    uint64_t requests;         /* requests read, ignored unit ids too */
    uint64_t by_function[128]; /* by function code */
    uint64_t connections;      /* accepted and served */
    uint64_t max_pipelined;    /* most requests answered from one readable event */
    uint64_t closed_on_error;  /* connections closed for a bad frame */
};

void mbs_stats_get(struct mbs *s, struct mbs_stats *out);
void mbs_stats_reset(struct mbs *s);

struct mbs_request {
    uint8_t function;
    /* Starting address and quantity of FC 1-4, 15, 16, 23 (its read
     * part); address and 1 for FC 5, 6, 22; 0 otherwise. */
    uint16_t address, quantity;
    uint16_t tid;
    uint8_t unit;
};

/* Copies up to max of the last MBS_LOG_SIZE requests, oldest first;
 * returns how many. */
size_t mbs_log_get(struct mbs *s, struct mbs_request *out, size_t max);
void mbs_log_clear(struct mbs *s);

/* Every period_ms (0: stop), on the server thread and between requests,
 * adds 1 (wrapping) to holding registers first..first+count-1 (those
 * beyond the table are left out) and counts a tick. With 2 or more input
 * registers, input registers 0 and 1 hold the tick count (high word
 * first, low 32 bits) so another process can read it. A tick that falls
 * due while the server is busy is late, never doubled. */
void mbs_set_ticker(struct mbs *s, uint32_t period_ms, uint16_t first, uint16_t count);
/* Ticks since mbs_start. */
uint64_t mbs_ticks(struct mbs *s);

#endif
