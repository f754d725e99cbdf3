/* SPDX-License-Identifier: Apache-2.0
 *
 * The two-thread parse of large projects: it must give exactly the tree
 * a plain parse gives, or step aside (NULL) so the plain parse runs and
 * reports errors; and a large project through bw_project_parse must be
 * reported exactly as a small one would be.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "project/internal.h"
#include "unit/project/project_test.h"

/* pj_parse_split gives the plain parser's tree, or NULL. */
static void expect_split(const char *text, bool splits)
{
    char *json = pt_dequote(text);
    size_t len = strlen(json);
    struct pj_reaper *helper = pj_reaper_start();
    assert_non_null(helper);
    json_t *split = pj_parse_split(helper, json, len);
    pj_reaper_finish(helper);
    json_error_t err;
    json_t *plain = json_loadb(json, len, JSON_REJECT_DUPLICATES, &err);
    if (splits) {
        assert_non_null(split);
        assert_non_null(plain);
        assert_true(json_equal(split, plain));
    } else {
        assert_null(split);
    }
    json_decref(split);
    json_decref(plain);
    free(json);
}

static void test_split_gives_the_same_tree(void **state)
{
    (void)state;
    expect_split("{'format':1,'tags':[{'a':1},{'b':'x,]}'},{'c':[1,2,{'d':'\\'],'}]}],'z':2}",
                 true);
    expect_split("{ 'tags' :\n [ 1 , 2 , 3 , 4 ] , 'name' : 'tags' }", true);
    expect_split("{'name':'tags','x':{'tags':[9]},'tags':[[1,[2]],{'k':'[{'},3]}", true);
    expect_split("{'tags':['a,b','c\\'d','e]f',{'g':[]}],'devices':[]}", true);
}

static void test_split_steps_aside(void **state)
{
    (void)state;
    /* Without a helper thread there is no second route. */
    assert_null(pj_parse_split(NULL, "{\"tags\":[1,2,3]}", 15));
    expect_split("{'x':{'tags':[1,2,3]}}", false);       /* not at the top */
    expect_split("{'tags':[1,2],'tags':[3,4]}", false);  /* duplicate key */
    expect_split("{'t\\u0061gs':[1,2,3]}", false);       /* spelled with an escape */
    expect_split("{'tags':[1]}", false);                 /* nothing to split */
    expect_split("{'tags':{'a':1,'b':2}}", false);       /* not an array */
    expect_split("{'tags':[1,2,3,}]}", false);           /* second half broken */
    expect_split("{'tags':[{,1,2,3]}", false);           /* first half broken */
    expect_split("{'tags':[1,2,3],'x':}", false);        /* the rest broken */
    expect_split("{'tags':[1,2,'unterminated]}", false); /* no end */
    expect_split("[{'tags':[1,2,3]}]", false);           /* top is not an object */
    expect_split("", false);
    /* Found by fuzzing: the array closed by a brace; a stray comma. */
    expect_split("{'tags':[{'a':'x,]}'},'max',],'am':'tags'}", false);
    expect_split("{'tags':[,1,2]}", false);
    expect_split("{'tags':[{'a':'x,]}'} ,{'b':[1,{'c':'\\']'}]},3},'me':'tags'}", false);
}

/* A project large enough to take the two-thread route, with one mistake
 * in each half, is reported exactly as the plain route reports it. */
static char *big_project(size_t tags, const char *first_bad, const char *second_bad)
{
    size_t cap = 256 + tags * 96, at = 0;
    char *json = malloc(cap);
    assert_non_null(json);
    at += (size_t)snprintf(json + at, cap - at, "{\"format\":1,\"name\":\"big\",\"tags\":[");
    for (size_t i = 0; i < tags; i++) {
        const char *extra = i == 5 ? first_bad : i == tags - 7 ? second_bad : "";
        at += (size_t)snprintf(json + at, cap - at,
                               "%s{\"name\":\"Area.Tag%06zu\",\"type\":\"float\",\"unit\":\"m\"%s}",
                               i ? "," : "", i, extra);
    }
    at += (size_t)snprintf(json + at, cap - at, "]}");
    assert_true(at < cap);
    assert_true(at >= PJ_SPLIT_MIN_BYTES);
    return json;
}

static void test_large_project_errors(void **state)
{
    (void)state;
    enum { TAGS = 25000 };
    char *json = big_project(TAGS, ",\"unti\":\"m\"", ",\"min\":5,\"max\":1");
    struct bw_project *p = NULL;
    struct bw_project_errors errors = {0};
    assert_int_equal(bw_project_parse(json, strlen(json), &p, &errors), BW_EMALFORMED);
    assert_null(p);
    assert_int_equal(errors.count, 2);
    assert_string_equal(errors.items[0].path, "tags[5].unti");
    assert_string_equal(errors.items[0].reason, "unknown key");
    assert_string_equal(errors.items[1].path, "tags[24993].min");
    assert_string_equal(errors.items[1].reason, "must not be greater than max (1)");
    bw_project_errors_clear(&errors);
    free(json);

    json = big_project(TAGS, "", "");
    assert_int_equal(bw_project_parse(json, strlen(json), &p, &errors), BW_OK);
    assert_int_equal(p->tag_count, TAGS);
    assert_string_equal(p->tags[TAGS - 1].name, "Area.Tag024999");
    assert_string_equal(p->tags[12345].unit, "m");
    bw_project_free(p);
    free(json);

    /* A syntax error in the second half: the plain route gives its place. */
    json = big_project(TAGS, "", ",\"unit\" \"m\"");
    assert_int_equal(bw_project_parse(json, strlen(json), &p, &errors), BW_EMALFORMED);
    assert_int_equal(errors.count, 1);
    assert_string_equal(errors.items[0].path, "");
    assert_non_null(strstr(errors.items[0].reason, "invalid JSON at line 1, column "));
    bw_project_errors_clear(&errors);
    free(json);
}

/* The audit section is part of the top level, which the two-thread route
 * parses whole: before or after the tags, it loads and is reported as on
 * the plain route. */
static char *big_project_audit(size_t tags, const char *before, const char *after)
{
    char *body = big_project(tags, "", "");
    size_t len = strlen(body), cap = len + strlen(before) + strlen(after) + 64;
    char *json = malloc(cap);
    assert_non_null(json);
    /* {"format":1,"name":"big", BEFORE "tags":[...] AFTER } */
    const char *tags_key = strstr(body, "\"tags\"");
    assert_non_null(tags_key);
    size_t head = (size_t)(tags_key - body);
    int n = snprintf(json, cap, "%.*s%s%.*s%s}", (int)head, body, before, (int)(len - head - 1),
                     tags_key, after);
    assert_true(n > 0 && (size_t)n < cap);
    free(body);
    return json;
}

static void test_large_project_audit(void **state)
{
    (void)state;
    enum { TAGS = 25000 };
    struct bw_project *p = NULL;
    struct bw_project_errors errors = {0};
    char *json =
        big_project_audit(TAGS, "\"audit\":{\"max_size_mb\":2048,\"warn_percent\":[70,90]},", "");
    assert_int_equal(bw_project_parse(json, strlen(json), &p, &errors), BW_OK);
    assert_int_equal(p->tag_count, TAGS);
    assert_int_equal(p->audit.max_size_mb, 2048);
    assert_int_equal(p->audit.warn_count, 2);
    assert_int_equal(p->audit.warn_percent[0], 70);
    assert_null(p->audit.forward);
    bw_project_free(p);
    free(json);

    json = big_project_audit(TAGS, "",
                             ",\"audit\":{\"forward\":{\"host\":\"tags\",\"port\":514,"
                             "\"ca_file\":\"ca.pem\",\"tags\":[1,2]}}");
    assert_int_equal(bw_project_parse(json, strlen(json), &p, &errors), BW_EMALFORMED);
    assert_null(p);
    assert_int_equal(errors.count, 1);
    assert_string_equal(errors.items[0].path, "audit.forward.tags");
    assert_string_equal(errors.items[0].reason, "unknown key");
    bw_project_errors_clear(&errors);
    free(json);

    json = big_project_audit(TAGS, "",
                             ",\"audit\":{\"forward\":{\"host\":\"tags\",\"port\":514,"
                             "\"ca_file\":\"ca.pem\",\"client_key\":\"k.pem\"},"
                             "\"when_full\":\"refuse\",\"max_age_days\":1}");
    assert_int_equal(bw_project_parse(json, strlen(json), &p, &errors), BW_EMALFORMED);
    assert_int_equal(errors.count, 2);
    assert_string_equal(errors.items[0].path, "audit.max_age_days");
    assert_string_equal(errors.items[0].reason, "must be 0 unless when_full is \"archive\"");
    assert_string_equal(errors.items[1].path, "audit.forward.client_cert");
    assert_string_equal(errors.items[1].reason, "is required when \"client_key\" is given");
    bw_project_errors_clear(&errors);

    /* The same text on the plain route (parsed whole, one thread). */
    struct pj_reaper *helper = pj_reaper_start();
    assert_non_null(helper);
    json_t *split = pj_parse_split(helper, json, strlen(json));
    pj_reaper_finish(helper);
    assert_non_null(split);
    json_error_t err;
    json_t *plain = json_loadb(json, strlen(json), JSON_REJECT_DUPLICATES, &err);
    assert_non_null(plain);
    assert_true(json_equal(split, plain));
    assert_non_null(json_object_get(split, "audit"));
    json_decref(split);
    json_decref(plain);
    free(json);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_gives_the_same_tree),
        cmocka_unit_test(test_split_steps_aside),
        cmocka_unit_test(test_large_project_errors),
        cmocka_unit_test(test_large_project_audit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
