/* SPDX-License-Identifier: Apache-2.0
 *
 * Modbus devices and tag maps in the project: parameters and their
 * defaults, every address form and data type, word and byte order,
 * scaling, and every rule that ties a tag's type and access to its map,
 * each refusal with its exact path and reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "unit/project/project_test.h"

#define HEAD                                                                                       \
    "{'format':1,'name':'p','scan_classes':[{'name':'fast','period_ms':1},"                        \
    "{'name':'slow','period_ms':1000}],'devices':[{'name':'plc','driver':'modbus',"                \
    "'scan_class':'fast','parameters':{'host':'127.0.0.1'}}],'tags':["
#define TAIL "]}"
#define ONE(tag) HEAD tag TAIL

static void test_device_defaults(void **state)
{
    (void)state;
    struct bw_project *p =
        pt_parse_ok(ONE("{'name':'a','type':'int','device':'plc','address':'holding:0'}"));
    const struct bw_project_modbus_device *m = &p->devices[0].modbus;
    assert_int_equal(p->devices[0].driver, BW_DRIVER_MODBUS);
    assert_string_equal(m->host, "127.0.0.1");
    assert_int_equal(m->port, 502);
    assert_int_equal(m->unit_id, 1);
    assert_int_equal(m->timeout_ms, 1000);
    assert_int_equal(m->retries, 1);
    assert_int_equal(m->backoff_min_ms, 1000);
    assert_int_equal(m->backoff_max_ms, 30000);
    assert_int_equal(m->max_in_flight, 1);
    assert_int_equal(m->max_registers, 125);
    assert_int_equal(m->max_bits, 2000);
    assert_int_equal(m->max_gap, 8);
    assert_true(m->read_back);
    assert_int_equal(p->scan_classes[0].period_ms, 1);
    bw_project_free(p);
}

static void test_device_parameters(void **state)
{
    (void)state;
    struct bw_project *p = pt_parse_ok(
        "{'format':1,'name':'p','scan_classes':[{'name':'fast','period_ms':100}],"
        "'devices':[{'name':'plc','driver':'modbus','scan_class':'fast','parameters':{"
        "'host':'plc-7.example','port':1502,'unit_id':0,'timeout_ms':250,'retries':3,"
        "'backoff_min_ms':50,'backoff_max_ms':5000,'max_in_flight':8,'max_registers':100,"
        "'max_bits':800,'max_gap':0,'read_back':false}}]}");
    const struct bw_project_modbus_device *m = &p->devices[0].modbus;
    assert_string_equal(m->host, "plc-7.example");
    assert_int_equal(m->port, 1502);
    assert_int_equal(m->unit_id, 0);
    assert_int_equal(m->timeout_ms, 250);
    assert_int_equal(m->retries, 3);
    assert_int_equal(m->backoff_min_ms, 50);
    assert_int_equal(m->backoff_max_ms, 5000);
    assert_int_equal(m->max_in_flight, 8);
    assert_int_equal(m->max_registers, 100);
    assert_int_equal(m->max_bits, 800);
    assert_int_equal(m->max_gap, 0);
    assert_false(m->read_back);
    bw_project_free(p);
}

static void test_maps(void **state)
{
    (void)state;
    struct bw_project *p = pt_parse_ok(ONE(
        "{'name':'c','type':'bool','device':'plc','address':'coil:7','access':{'write':{'level':1,'"
        "areas':[1]}}},"
        "{'name':'di','type':'bool','device':'plc','address':'discrete:65535'},"
        "{'name':'hb','type':'bool','device':'plc','address':'holding:3.15',"
        "'access':{'write':{'level':1,'areas':[1]}}},"
        "{'name':'ib','type':'bool','device':'plc','address':'input:4.0'},"
        "{'name':'i16','type':'int','device':'plc','address':'holding:10'},"
        "{'name':'u32','type':'int','device':'plc','address':'input:20',"
        "'modbus':{'type':'uint32','word_order':'little','byte_order':'little'}},"
        "{'name':'f32','type':'float','device':'plc','address':'holding:30'},"
        "{'name':'f64','type':'float','device':'plc','address':'holding:40',"
        "'modbus':{'type':'float64'},'scan_class':'slow'},"
        "{'name':'lvl','type':'float','device':'plc','address':'input:50',"
        "'modbus':{'type':'int16','scale':{'raw_min':0,'raw_max':27648,'eu_min':0,'eu_max':100}}},"
        "{'name':'s','type':'string','device':'plc','address':'holding:65530',"
        "'modbus':{'type':'string','length':6}}"));
    const struct bw_project_modbus_map *m = &p->tags[0].modbus;
    assert_int_equal(m->area, BW_MODBUS_COIL);
    assert_int_equal(m->address, 7);
    assert_int_equal(m->count, 1);
    assert_int_equal(m->bit, -1);
    assert_int_equal(m->type, BW_MODBUS_BOOL);
    m = &p->tags[1].modbus;
    assert_int_equal(m->area, BW_MODBUS_DISCRETE_INPUT);
    assert_int_equal(m->address, 65535);
    m = &p->tags[2].modbus;
    assert_int_equal(m->area, BW_MODBUS_HOLDING_REGISTER);
    assert_int_equal(m->bit, 15);
    assert_int_equal(p->tags[3].modbus.area, BW_MODBUS_INPUT_REGISTER);
    assert_int_equal(p->tags[3].modbus.bit, 0);
    m = &p->tags[4].modbus;
    assert_int_equal(m->type, BW_MODBUS_INT16);
    assert_int_equal(m->count, 1);
    assert_false(m->word_swap);
    assert_false(m->byte_swap);
    m = &p->tags[5].modbus;
    assert_int_equal(m->type, BW_MODBUS_UINT32);
    assert_int_equal(m->count, 2);
    assert_true(m->word_swap);
    assert_true(m->byte_swap);
    assert_int_equal(p->tags[6].modbus.type, BW_MODBUS_FLOAT32);
    assert_int_equal(p->tags[6].modbus.count, 2);
    assert_int_equal(p->tags[7].modbus.count, 4);
    assert_int_equal(p->tags[7].scan_class, 1);
    m = &p->tags[8].modbus;
    assert_true(m->scaled);
    assert_true(m->raw_max == 27648.0 && m->eu_max == 100.0 && m->raw_min == 0.0);
    m = &p->tags[9].modbus;
    assert_int_equal(m->type, BW_MODBUS_STRING);
    assert_int_equal(m->count, 6);
    bw_project_free(p);
}

struct bad_case {
    const char *name;
    const char *text;
    const char *path;
    const char *reason;
};

#define T(extra) ONE("{'name':'t'," extra "}")

static const struct bad_case bad_cases[] = {
    {"no_parameters",
     "{'format':1,'name':'p','scan_classes':[{'name':'f','period_ms':10}],'devices':["
     "{'name':'plc','driver':'modbus','scan_class':'f'}]}",
     "devices[0].parameters", "is required for a modbus device (at least \"host\")"},
    {"no_host",
     "{'format':1,'name':'p','scan_classes':[{'name':'f','period_ms':10}],'devices':["
     "{'name':'plc','driver':'modbus','scan_class':'f','parameters':{'port':502}}]}",
     "devices[0].parameters.host", "is required"},
    {"host_space",
     "{'format':1,'name':'p','scan_classes':[{'name':'f','period_ms':10}],'devices':["
     "{'name':'plc','driver':'modbus','scan_class':'f','parameters':{'host':'a b'}}]}",
     "devices[0].parameters.host", "\"a b\" is not a host name or address"},
    {"port_zero",
     "{'format':1,'name':'p','scan_classes':[{'name':'f','period_ms':10}],'devices':["
     "{'name':'plc','driver':'modbus','scan_class':'f','parameters':{'host':'h','port':0}}]}",
     "devices[0].parameters.port", "must be between 1 and 65535"},
    {"in_flight",
     "{'format':1,'name':'p','scan_classes':[{'name':'f','period_ms':10}],'devices':["
     "{'name':'plc','driver':'modbus','scan_class':'f','parameters':{'host':'h',"
     "'max_in_flight':17}}]}",
     "devices[0].parameters.max_in_flight", "must be between 1 and 16"},
    {"registers_126",
     "{'format':1,'name':'p','scan_classes':[{'name':'f','period_ms':10}],'devices':["
     "{'name':'plc','driver':'modbus','scan_class':'f','parameters':{'host':'h',"
     "'max_registers':126}}]}",
     "devices[0].parameters.max_registers", "must be between 1 and 125"},
    {"backoff_order",
     "{'format':1,'name':'p','scan_classes':[{'name':'f','period_ms':10}],'devices':["
     "{'name':'plc','driver':'modbus','scan_class':'f','parameters':{'host':'h',"
     "'backoff_min_ms':5000,'backoff_max_ms':1000}}]}",
     "devices[0].parameters.backoff_max_ms", "must be at least backoff_min_ms (5000)"},
    {"unknown_param",
     "{'format':1,'name':'p','scan_classes':[{'name':'f','period_ms':10}],'devices':["
     "{'name':'plc','driver':'modbus','scan_class':'f','parameters':{'host':'h','seed':1}}]}",
     "devices[0].parameters.seed", "unknown key"},
    {"address_form", T("'type':'int','device':'plc','address':'40001'"), "tags[0].address",
     "\"40001\" is not a modbus address (coil:N, discrete:N, holding:N[.BIT] or input:N[.BIT], "
     "N 0..65535)"},
    {"address_big", T("'type':'int','device':'plc','address':'holding:65536'"), "tags[0].address",
     "\"holding:65536\": the register or bit number must be 0..65535"},
    {"address_sign", T("'type':'int','device':'plc','address':'holding:+1'"), "tags[0].address",
     "\"holding:+1\": the register or bit number must be 0..65535"},
    {"coil_bit", T("'type':'bool','device':'plc','address':'coil:1.2'"), "tags[0].address",
     "\"coil:1.2\": only registers (holding, input) have bits"},
    {"bit_16", T("'type':'bool','device':'plc','address':'holding:1.16'"), "tags[0].address",
     "\"holding:1.16\": the bit must be 0..15"},
    {"bool_no_bit", T("'type':'bool','device':'plc','address':'holding:1'"), "tags[0].modbus",
     "a bool tag on a register needs a bit in its address (e.g. holding:1.0)"},
    {"int_on_coil", T("'type':'int','device':'plc','address':'coil:1'"), "tags[0].modbus",
     "coils and discrete inputs hold single bits: only bool tags may use them"},
    {"int_bit", T("'type':'int','device':'plc','address':'holding:1.3'"), "tags[0].modbus",
     "only bool tags may address a bit of a register"},
    {"int_float32",
     T("'type':'int','device':'plc','address':'holding:1','modbus':{'type':"
       "'float32'}"),
     "tags[0].modbus.type", "float32 does not fit a tag of type int"},
    {"string_no_length",
     T("'type':'string','device':'plc','address':'holding:1','modbus':{'type':'string'}"),
     "tags[0].modbus.length", "is required for a string (registers, two bytes each)"},
    {"length_int", T("'type':'int','device':'plc','address':'holding:1','modbus':{'length':2}"),
     "tags[0].modbus.length", "is only for strings"},
    {"word_order_16",
     T("'type':'int','device':'plc','address':'holding:1','modbus':{'word_order':'little'}"),
     "tags[0].modbus.word_order", "is only for types of two or more registers"},
    {"byte_order_coil",
     T("'type':'bool','device':'plc','address':'coil:1','modbus':{'byte_order':'little'}"),
     "tags[0].modbus.byte_order", "is only for registers"},
    {"scale_int",
     T("'type':'int','device':'plc','address':'holding:1','modbus':{'scale':{'raw_min':0,"
       "'raw_max':10,'eu_min':0,'eu_max':1}}"),
     "tags[0].modbus.scale", "is only for float tags"},
    {"scale_flat",
     T("'type':'float','device':'plc','address':'holding:1','modbus':{'type':'int16',"
       "'scale':{'raw_min':5,'raw_max':5,'eu_min':0,'eu_max':1}}"),
     "tags[0].modbus.scale.raw_max", "must differ from raw_min"},
    {"scale_missing",
     T("'type':'float','device':'plc','address':'holding:1','modbus':{'scale':{'raw_min':0}}"),
     "tags[0].modbus.scale.raw_max", "is required"},
    {"type_unknown",
     T("'type':'float','device':'plc','address':'holding:1','modbus':{'type':'real'}"),
     "tags[0].modbus.type",
     "\"real\" is not one of bool, int16, uint16, int32, uint32, float32, float64, string"},
    {"past_end",
     T("'type':'float','device':'plc','address':'holding:65535','modbus':{'type':'float32'}"),
     "tags[0].modbus", "the value's 2 registers run past address 65535"},
    {"write_input",
     T("'type':'int','device':'plc','address':'input:1','access':{'write':{'level':1,'areas':[1]}"
       "}"),
     "tags[0].access.write", "input registers are read-only, so the tag cannot be writable"},
    {"write_discrete",
     T("'type':'bool','device':'plc','address':'discrete:1','access':{'write':{'level':1,'areas':["
       "1]}}"),
     "tags[0].access.write", "discrete inputs are read-only, so the tag cannot be writable"},
    {"string_write_124",
     T("'type':'string','device':'plc','address':'holding:0','modbus':{'type':'string',"
       "'length':124},'access':{'write':{'level':1,'areas':[1]}}"),
     "tags[0].address",
     "the value spans 124 registers; one write carries at most 123, so the tag cannot be "
     "writable"},
    {"host_non_ascii",
     "{'format':1,'name':'p','scan_classes':[{'name':'f','period_ms':10}],'devices':["
     "{'name':'plc','driver':'modbus','scan_class':'f','parameters':{'host':'h\u00e9'}}]}",
     "devices[0].parameters.host", "\"h\\xc3\\xa9\" is not a host name or address"},
    {"modbus_on_memory", T("'type':'int','modbus':{'type':'int16'}"), "tags[0].modbus",
     "is only for tags of a modbus device"},
    {"modbus_unknown_key",
     T("'type':'int','device':'plc','address':'holding:1','modbus':{'typ':'int16'}"),
     "tags[0].modbus.typ", "unknown key"},
};

static void test_bad(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        const struct bad_case *c = &bad_cases[i];
        struct bw_project *p = (struct bw_project *)1;
        struct bw_project_errors errors = {0};
        int rc = pt_parse(c->text, &p, &errors);
        if (rc != BW_EMALFORMED || pt_find(&errors, c->path, c->reason) < 0) {
            fprintf(stderr, "case %s: rc %d, expected %s: %s\n", c->name, rc, c->path, c->reason);
            pt_dump(&errors);
            fail();
        }
        assert_null(p);
        bw_project_errors_clear(&errors);
    }
}

static void test_string_longer_than_device_reads(void **state)
{
    (void)state;
    struct bw_project *p = (struct bw_project *)1;
    struct bw_project_errors errors = {0};
    int rc = pt_parse("{'format':1,'name':'p','scan_classes':[{'name':'f','period_ms':10}],"
                      "'devices':[{'name':'plc','driver':'modbus','scan_class':'f',"
                      "'parameters':{'host':'h','max_registers':4}}],'tags':[{'name':'s',"
                      "'type':'string','device':'plc','address':'holding:0',"
                      "'modbus':{'type':'string','length':5}}]}",
                      &p, &errors);
    assert_int_equal(rc, BW_EMALFORMED);
    pt_expect(&errors, "tags[0].address",
              "the value spans 5 registers; its device reads at most 4 at once "
              "(parameters.max_registers)");
    bw_project_errors_clear(&errors);
}

static void test_field_device_bound(void **state)
{
    (void)state;
    size_t size = 300 * 160 + 256;
    char *text = malloc(size);
    assert_non_null(text);
    size_t len = (size_t)snprintf(text, size,
                                  "{\"format\":1,\"name\":\"p\",\"scan_classes\":[{\"name\":"
                                  "\"f\",\"period_ms\":10}],\"devices\":[");
    for (int i = 0; i < 257; i++)
        len += (size_t)snprintf(text + len, size - len,
                                "%s{\"name\":\"d%d\",\"driver\":\"modbus\",\"scan_class\":"
                                "\"f\",\"parameters\":{\"host\":\"h\"}}",
                                i ? "," : "", i);
    snprintf(text + len, size - len, "]}");
    struct bw_project *p = NULL;
    struct bw_project_errors errors = {0};
    assert_int_equal(bw_project_parse(text, strlen(text), &p, &errors), BW_EMALFORMED);
    pt_expect(&errors, "devices",
              "has 257 modbus devices; at most 256 are allowed (each is polled by a thread of its "
              "own)");
    bw_project_errors_clear(&errors);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_device_defaults),
        cmocka_unit_test(test_device_parameters),
        cmocka_unit_test(test_maps),
        cmocka_unit_test(test_bad),
        cmocka_unit_test(test_string_longer_than_device_reads),
        cmocka_unit_test(test_field_device_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
