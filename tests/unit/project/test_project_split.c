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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_gives_the_same_tree),
        cmocka_unit_test(test_split_steps_aside),
        cmocka_unit_test(test_large_project_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
