/* SPDX-License-Identifier: Apache-2.0
 *
 * libFuzzer target for the check of a Modbus TCP answer against its
 * request (drivers/modbus/link.c, mb_answer_check): what a device sends
 * is outside input. The first bytes choose the request (function, area,
 * address, quantity, unit); the rest is the answer as framed by
 * libmodbus (MBAP header included). Whatever the check accepts must
 * point inside the answer and be exactly as long as the request asked.
 * Seeds in tests/fuzz/corpus/modbus_answer/.
 */
#include "drivers/modbus/mb_driver.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 6 + 9 || size > 6 + MB_ADU_MAX)
        return 0;
    struct mb_request req;
    memset(&req, 0, sizeof(req));
    uint8_t kind = data[0] % 8;
    uint16_t address = (uint16_t)(data[1] << 8 | data[2]);
    uint16_t count = (uint16_t)(1 + (data[3] << 8 | data[4]) % 125);
    uint8_t unit = data[5];
    if (kind < 4) {
        mb_pdu_read(&req, (enum bw_modbus_area)kind, address, count);
    } else {
        static const uint8_t fcs[] = {0x05, 0x06, 0x10, 0x16};
        req.pdu[0] = fcs[kind - 4];
        req.pdu[1] = (uint8_t)(address >> 8);
        req.pdu[2] = (uint8_t)address;
        req.pdu[3] = data[3];
        req.pdu[4] = data[4];
        req.pdu[5] = 0x00;
        req.pdu[6] = 0xFF;
        req.pdu_len = req.pdu[0] == 0x16 ? 7 : 5;
    }
    const uint8_t *adu = data + 6;
    size_t len = size - 6;
    const uint8_t *payload = NULL;
    size_t payload_len = 0;
    uint8_t exception = 0;
    enum mb_outcome o = mb_answer_check(&req, unit, adu, len, &payload, &payload_len, &exception);
    if (o == MB_OK && kind < 4) {
        size_t want = kind < 2 ? ((size_t)count + 7) / 8 : (size_t)count * 2;
        if (!payload || payload_len != want || payload < adu || payload + payload_len > adu + len)
            abort();
    }
    if (o == MB_OK && adu[6] != unit)
        abort();
    if (o == MB_EXCEPTION && adu[7] != (req.pdu[0] | 0x80))
        abort();
    return 0;
}
