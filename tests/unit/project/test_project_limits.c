/* SPDX-License-Identifier: Apache-2.0
 *
 * The loader's limits give clear errors instead of exhausting the
 * machine (file size, nesting, element counts), and it survives running
 * out of memory at every allocation: no crash, no leak (the sanitizer
 * build checks leaks), and BW_ENOMEM with no half list of errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "unit/project/project_test.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define FIXTURE_DIR "tests/integration/fixtures/project/valid"

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *data = malloc(1u << 20);
    assert_non_null(data);
    *len = fread(data, 1, 1u << 20, f);
    fclose(f);
    return data;
}

static void expect_only(const struct bw_project_errors *errors, const char *path,
                        const char *reason)
{
    if (errors->count != 1)
        pt_dump(errors);
    assert_int_equal(errors->count, 1);
    assert_string_equal(errors->items[0].path, path);
    assert_string_equal(errors->items[0].reason, reason);
}

/* ---- size ----------------------------------------------------------- */

static void test_parse_too_large(void **state)
{
    (void)state;
    size_t len = BW_PROJECT_MAX_FILE_BYTES + 1;
    char *data = calloc(1, len); /* never read: the length is refused first */
    assert_non_null(data);
    struct bw_project *p = NULL;
    struct bw_project_errors errors = {0};
    assert_int_equal(bw_project_parse(data, len, &p, &errors), BW_ETOOLARGE);
    assert_null(p);
    expect_only(&errors, "", "the project is 67108865 bytes; at most 67108864 bytes are allowed");
    bw_project_errors_clear(&errors);
    free(data);
}

/* A file under the byte limit that would still make the parser build an
 * enormous tree is refused before parsing. */
static void test_parse_too_many_values(void **state)
{
    (void)state;
    const char head[] = "{\"tags\":[";
    /* Each "[]," counts twice (its [ and its ,), plus { : [ and the top. */
    size_t items = BW_PROJECT_MAX_JSON_VALUES / 2;
    size_t len = sizeof(head) - 1 + items * 3 + 2;
    char *data = malloc(len);
    assert_non_null(data);
    memcpy(data, head, sizeof(head) - 1);
    size_t at = sizeof(head) - 1;
    for (size_t i = 0; i < items; i++) {
        memcpy(data + at, "[],", 3);
        at += 3;
    }
    data[at - 1] = ']';
    data[at++] = '}';
    struct bw_project *p = NULL;
    struct bw_project_errors errors = {0};
    assert_int_equal(bw_project_parse(data, at, &p, &errors), BW_ETOOLARGE);
    assert_null(p);
    expect_only(&errors, "",
                "the project holds about 5000003 JSON values; at most 5000000 are allowed");
    bw_project_errors_clear(&errors);
    /* Commas and brackets inside strings are text, not values. */
    char text[] = "{\"format\":1,\"name\":\"a\",\"description\":\"[,{:\\\"[,\"}";
    assert_int_equal(bw_project_parse(text, strlen(text), &p, &errors), BW_OK);
    bw_project_free(p);
    bw_project_errors_clear(&errors);
    free(data);
}

static void test_load_too_large(void **state)
{
    (void)state;
    char dir[] = "/tmp/bw-project-test-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof(path), "%s/project.json", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    /* Sparse: the size is refused before anything is read. */
    assert_int_equal(ftruncate(fd, (off_t)BW_PROJECT_MAX_FILE_BYTES + 1), 0);
    close(fd);
    struct bw_project *p = NULL;
    struct bw_project_errors errors = {0};
    assert_int_equal(bw_project_load(dir, &p, &errors), BW_ETOOLARGE);
    expect_only(&errors, "", "the project is 67108865 bytes; at most 67108864 bytes are allowed");
    unlink(path);

    /* A directory where the file should be. */
    assert_int_equal(mkdir(path, 0700), 0);
    assert_int_equal(bw_project_load(dir, &p, &errors), BW_EIO);
    char want[128];
    snprintf(want, sizeof(want), "%s is not a regular file", path);
    expect_only(&errors, "", want);
    rmdir(path);
    rmdir(dir);
    bw_project_errors_clear(&errors);
}

/* ---- nesting -------------------------------------------------------- */

static int parse_nested(size_t levels, const char *open, const char *close,
                        struct bw_project_errors *errors)
{
    /* The root object is level 1; description holds levels - 1 more. */
    struct bw_buf buf;
    bw_buf_init(&buf, 1u << 20);
    assert_int_equal(bw_buf_append_str(&buf, "{\"format\":1,\"name\":\"p\",\"description\":"), 0);
    for (size_t i = 1; i < levels; i++)
        assert_int_equal(bw_buf_append_str(&buf, open), 0);
    for (size_t i = 1; i < levels; i++)
        assert_int_equal(bw_buf_append_str(&buf, close), 0);
    assert_int_equal(bw_buf_append_str(&buf, "}"), 0);
    struct bw_project *p = NULL;
    int rc = bw_project_parse(buf.data, buf.len, &p, errors);
    assert_null(p);
    bw_buf_clear(&buf);
    return rc;
}

static void test_depth_limit(void **state)
{
    (void)state;
    struct bw_project_errors errors = {0};
    /* 16 levels: allowed; the schema then refuses the array. */
    assert_int_equal(parse_nested(16, "[", "]", &errors), BW_EMALFORMED);
    expect_only(&errors, "description", "must be a string");
    /* 17 levels: refused, at the path of the first container too deep. */
    assert_int_equal(parse_nested(17, "[", "]", &errors), BW_ETOOLARGE);
    expect_only(&errors, "description[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]",
                "is nested too deeply (more than 16 levels)");
    /* Objects count too: 8 pieces of {"k":[ make levels 2..17. */
    assert_int_equal(parse_nested(9, "{\"k\":[", "]}", &errors), BW_ETOOLARGE);
    expect_only(&errors, "description.k[0].k[0].k[0].k[0].k[0].k[0].k[0].k",
                "is nested too deeply (more than 16 levels)");
    /* Far deeper than jansson parses: its limit, reported the same way. */
    assert_int_equal(parse_nested(5000, "[", "]", &errors), BW_ETOOLARGE);
    assert_int_equal(errors.count, 1);
    assert_string_equal(errors.items[0].path, "");
    assert_memory_equal(errors.items[0].reason, "is nested too deeply (more than 16 levels) at",
                        strlen("is nested too deeply (more than 16 levels) at"));
    bw_project_errors_clear(&errors);
}

/* ---- counts --------------------------------------------------------- */

/* head, then count elements pre<i>post separated by commas, then tail. */
static int parse_many(const char *head, const char *pre, const char *post, size_t count,
                      const char *tail, struct bw_project_errors *errors)
{
    struct bw_buf buf;
    bw_buf_init(&buf, 64u << 20);
    assert_int_equal(bw_buf_append_str(&buf, head), 0);
    for (size_t i = 0; i < count; i++) {
        if (i)
            assert_int_equal(bw_buf_append_str(&buf, ","), 0);
        assert_int_equal(bw_buf_printf(&buf, "%s%zu%s", pre, i, post), 0);
    }
    assert_int_equal(bw_buf_append_str(&buf, tail), 0);
    struct bw_project *p = NULL;
    int rc = bw_project_parse(buf.data, buf.len, &p, errors);
    bw_project_free(p);
    bw_buf_clear(&buf);
    return rc;
}

static void test_tag_count_limit(void **state)
{
    (void)state;
    struct bw_project_errors errors = {0};
    const char *head = "{\"format\":1,\"name\":\"p\",\"tags\":[";
    const char *pre = "{\"name\":\"t", *post = "\",\"type\":\"int\"}";
    assert_int_equal(parse_many(head, pre, post, BW_PROJECT_MAX_TAGS, "]}", &errors), BW_OK);
    assert_int_equal(parse_many(head, pre, post, BW_PROJECT_MAX_TAGS + 1, "]}", &errors),
                     BW_ETOOLARGE);
    expect_only(&errors, "tags", "has 100001 tags; at most 100000 are allowed");
    bw_project_errors_clear(&errors);
}

static void test_other_count_limits(void **state)
{
    (void)state;
    struct bw_project_errors errors = {0};
    assert_int_equal(parse_many("{\"format\":1,\"name\":\"p\",\"scan_classes\":[", "{\"name\":\"s",
                                "\",\"period_ms\":100}", 65, "]}", &errors),
                     BW_ETOOLARGE);
    expect_only(&errors, "scan_classes", "has 65 scan classes; at most 64 are allowed");
    assert_int_equal(parse_many("{\"format\":1,\"name\":\"p\",\"scan_classes\":[{\"name\":\"f\","
                                "\"period_ms\":100}],\"devices\":[",
                                "{\"name\":\"d", "\",\"driver\":\"sim\",\"scan_class\":\"f\"}",
                                1025, "]}", &errors),
                     BW_ETOOLARGE);
    expect_only(&errors, "devices", "has 1025 devices; at most 1024 are allowed");
    /* The limit is for all simulator elements together. */
    assert_int_equal(
        parse_many("{\"format\":1,\"name\":\"p\",\"simulator\":{\"signals\":[{\"name\":\"s\","
                   "\"shape\":\"sine\",\"min\":0,\"max\":1,\"period_ms\":100}],\"tanks\":[",
                   "{\"name\":\"t", "\",\"area_m2\":1,\"height_m\":1,\"level_m\":0}", 1024, "]}}",
                   &errors),
        BW_ETOOLARGE);
    expect_only(&errors, "simulator", "has 1025 elements; at most 1024 are allowed");
    bw_project_errors_clear(&errors);
}

/* ---- out of memory -------------------------------------------------- */

/* Fails the n-th allocation for n = 0, 1, ... until the parse gets
 * through, which must take more than min_allocs allocations; every
 * failing run must say BW_ENOMEM and hold nothing. */
static void alloc_loop_min(const char *data, size_t len, int final_rc, long min_allocs)
{
    struct bw_project_errors errors = {0};
    for (long n = 0;; n++) {
        struct bw_project *p = NULL;
        bw_alloc_fail_after(n);
        int rc = bw_project_parse(data, len, &p, &errors);
        bw_alloc_fail_after(-1);
        if (rc == BW_ENOMEM) {
            assert_null(p);
            assert_int_equal(errors.count, 0);
            assert_null(errors.items);
            continue;
        }
        assert_int_equal(rc, final_rc);
        assert_true(n > min_allocs);
        bw_project_free(p);
        break;
    }
    bw_project_errors_clear(&errors);
}

static void alloc_loop(const char *data, size_t len, int final_rc)
{
    alloc_loop_min(data, len, final_rc, 10);
}

static void test_alloc_failure_good(void **state)
{
    (void)state;
    size_t len;
    char *data = read_all(FIXTURE_DIR "/project.json", &len);
    alloc_loop(data, len, BW_OK);
    free(data);
}

static void test_alloc_failure_bad(void **state)
{
    (void)state;
    /* Errors in every section, so the error list grows as memory fails. */
    char *data = pt_dequote(
        "{'format':2,'name':'x y','scan_classes':[{'name':'f','period_ms':1}],"
        "'devices':[{'name':'d','driver':'sim','scan_class':'g'}],"
        "'simulator':{'signals':[{'name':'s','shape':'step','min':0,'max':1,'period_ms':10,"
        "'steps':[0,2,'x']}],'tanks':[{'name':'T','area_m2':1,'height_m':1,'level_m':0}]},"
        "'tags':[{'name':'a','type':'int','initial':'x'},{'name':'a','type':'float',"
        "'device':'d','address':'T.level','access':{'write':{'level':1,'areas':[1,1,40]}}},"
        "{'name':'b','type':'string','initial':'hello'},{'name':'c','type':'q'},"
        "{'name':'e','type':'q'},{'name':'f','type':'q'},{'name':'g','type':'q'},"
        "{'name':'h','type':'q'},{'name':'i','type':'q'},{'name':'j','type':'q'}]}");
    alloc_loop(data, strlen(data), BW_EMALFORMED);
    free(data);
}

/* Write rules keep their arrays and pending conditions in the pool; a
 * failure anywhere, in a good project or one full of rule errors, must
 * unwind as well. */
static void test_alloc_failure_write_rules(void **state)
{
    (void)state;
    static const char *const seeds[][2] = {
        {"tests/fuzz/corpus/project/write-rules.json", "ok"},
        {"tests/fuzz/corpus/project/bad-write-rules.json", "bad"},
    };
    for (size_t i = 0; i < BW_ARRAY_LEN(seeds); i++) {
        size_t len;
        char *data = read_all(seeds[i][0], &len);
        alloc_loop_min(data, len, strcmp(seeds[i][1], "ok") == 0 ? BW_OK : BW_EMALFORMED, 3);
        free(data);
    }
}

/* The audit section allocates its forwarding settings apart from the
 * arrays; a failure there must unwind as well. A small project: the box,
 * the string pool and the forwarding settings are all it allocates. */
static void test_alloc_failure_audit(void **state)
{
    (void)state;
    char *data =
        pt_dequote("{'format':1,'name':'p','audit':{'max_size_mb':10,'warn_percent':[50,90],"
                   "'forward':{'host':'collector.example','ca_file':'ca.pem','server_name':'siem',"
                   "'client_cert':'c.pem','client_key':'c.key'}}}");
    alloc_loop_min(data, strlen(data), BW_OK, 2);
    free(data);
    data = pt_dequote("{'format':1,'name':'p','audit':{'max_age_days':9,'when_full':'refuse',"
                      "'warn_percent':[9,8],'forward':{'host':'a b','port':0,'client_key':'k',"
                      "'x':1,'y':2,'z':3,'w':4,'v':5,'u':6}}}");
    /* ... and the error list, grown past its first 8 entries. */
    alloc_loop_min(data, strlen(data), BW_EMALFORMED, 3);
    free(data);
}

static void test_alloc_failure_load(void **state)
{
    (void)state;
    struct bw_project_errors errors = {0};
    for (long n = 0;; n++) {
        struct bw_project *p = NULL;
        bw_alloc_fail_after(n);
        int rc = bw_project_load(FIXTURE_DIR, &p, &errors);
        bw_alloc_fail_after(-1);
        if (rc == BW_ENOMEM) {
            assert_null(p);
            assert_int_equal(errors.count, 0);
            continue;
        }
        assert_int_equal(rc, BW_OK);
        bw_project_free(p);
        break;
    }
    bw_project_errors_clear(&errors);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_too_large),
        cmocka_unit_test(test_parse_too_many_values),
        cmocka_unit_test(test_load_too_large),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_tag_count_limit),
        cmocka_unit_test(test_other_count_limits),
        cmocka_unit_test(test_alloc_failure_good),
        cmocka_unit_test(test_alloc_failure_bad),
        cmocka_unit_test(test_alloc_failure_load),
        cmocka_unit_test(test_alloc_failure_audit),
        cmocka_unit_test(test_alloc_failure_write_rules),
    };
    return cmocka_run_group_tests_name("project_limits", tests, NULL, NULL);
}
