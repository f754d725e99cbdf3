/* SPDX-License-Identifier: Apache-2.0
 *
 * libFuzzer target for the address-mapping part of the project loader:
 * a modbus tag's "address", "type" and "modbus" object are outside input.
 * The input is split at its first two newlines into the tag's type, its
 * address and the JSON of its "modbus" object (absent when there is no
 * third part); they are placed into a project with one modbus device and
 * loaded. Whatever the loader accepts must be a map the driver can poll:
 * the type fits the tag, the span stays within the address space and
 * within one read, bits only on registers of bool tags, scaling only on
 * float tags with distinct ends. Seeds in tests/fuzz/corpus/modbus_map/,
 * dictionary in tests/fuzz/modbus_map.dict.
 */
#include "project/project.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_map(const struct bw_project_tag *t)
{
    const struct bw_project_modbus_map *m = &t->modbus;
    if (m->count == 0 || (uint32_t)m->address + m->count > 65536u || m->count > 125)
        abort();
    bool bits = m->area == BW_MODBUS_COIL || m->area == BW_MODBUS_DISCRETE_INPUT;
    if (bits && (m->count != 1 || m->bit >= 0 || m->type != BW_MODBUS_BOOL))
        abort();
    if (m->bit > 15 || (m->bit >= 0 && m->type != BW_MODBUS_BOOL))
        abort();
    if (!bits && m->type == BW_MODBUS_BOOL && m->bit < 0)
        abort();
    if (m->scaled && (t->type != BW_TYPE_FLOAT || m->raw_min == m->raw_max))
        abort();
    switch (t->type) {
    case BW_TYPE_BOOL:
        if (m->type != BW_MODBUS_BOOL)
            abort();
        break;
    case BW_TYPE_INT:
        if (m->type < BW_MODBUS_INT16 || m->type > BW_MODBUS_UINT32)
            abort();
        break;
    case BW_TYPE_FLOAT:
        if (m->type < BW_MODBUS_INT16 || m->type > BW_MODBUS_FLOAT64)
            abort();
        break;
    case BW_TYPE_STRING:
        if (m->type != BW_MODBUS_STRING)
            abort();
        break;
    }
    if (t->access.writable &&
        (m->area == BW_MODBUS_DISCRETE_INPUT || m->area == BW_MODBUS_INPUT_REGISTER))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    const char *text = (const char *)data;
    const char *nl1 = memchr(text, '\n', size);
    if (!nl1)
        return 0;
    const char *rest = nl1 + 1;
    size_t rest_len = size - (size_t)(rest - text);
    const char *nl2 = memchr(rest, '\n', rest_len);
    size_t addr_len = nl2 ? (size_t)(nl2 - rest) : rest_len;
    json_t *type = json_stringn(text, (size_t)(nl1 - text));
    json_t *addr = json_stringn(rest, addr_len);
    if (!type || !addr) {
        json_decref(type);
        json_decref(addr);
        return 0;
    }
    char *type_js = json_dumps(type, JSON_ENCODE_ANY);
    char *addr_js = json_dumps(addr, JSON_ENCODE_ANY);
    json_decref(type);
    json_decref(addr);
    const char *opts = nl2 ? nl2 + 1 : NULL;
    size_t opts_len = nl2 ? size - (size_t)(opts - text) : 0;
    size_t cap =
        1024 + (type_js ? strlen(type_js) : 0) + (addr_js ? strlen(addr_js) : 0) + opts_len;
    char *project = malloc(cap);
    if (project && type_js && addr_js) {
        int n =
            snprintf(project, cap,
                     "{\"format\":1,\"name\":\"f\",\"scan_classes\":[{\"name\":\"s\","
                     "\"period_ms\":100}],\"devices\":[{\"name\":\"d\",\"driver\":\"modbus\","
                     "\"scan_class\":\"s\",\"parameters\":{\"host\":\"h\"}}],\"tags\":["
                     "{\"name\":\"t\",\"type\":%s,\"device\":\"d\",\"address\":%s,"
                     "\"access\":{\"write\":{\"level\":1,\"areas\":[1]}}%s%.*s}]}",
                     type_js, addr_js, opts ? ",\"modbus\":" : "", (int)opts_len, opts ? opts : "");
        struct bw_project *p = NULL;
        struct bw_project_errors errors = {0};
        if (n > 0 && (size_t)n < cap &&
            bw_project_parse(project, (size_t)n, &p, &errors) == BW_OK) {
            if (p->tag_count != 1)
                abort();
            check_map(&p->tags[0]);
        }
        bw_project_free(p);
        bw_project_errors_clear(&errors);
    }
    free(project);
    free(type_js);
    free(addr_js);
    return 0;
}
