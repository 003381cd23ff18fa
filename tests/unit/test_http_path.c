/* test_http_path.c -- traversal, encoded separators, MIME, gzip negotiation. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "http_path.h"

static void expect_path(const char *raw, int want_rc, const char *want)
{
    char out[HP_PATH_MAX];
    int rc = hp_normalise(raw, strlen(raw), out, sizeof(out));
    assert_int_equal(rc, want_rc);
    assert_string_equal(out, want ? want : "");
}

static void test_normalise_plain(void **state)
{
    (void)state;
    expect_path("/", HP_OK, "/");
    expect_path("/index.html", HP_OK, "/index.html");
    expect_path("/assets/index-abc123.js", HP_OK, "/assets/index-abc123.js");
    expect_path("//assets///a.js", HP_OK, "/assets/a.js");
    expect_path("/./assets/./a.js", HP_OK, "/assets/a.js");
    expect_path("/assets/", HP_OK, "/assets");
    expect_path("/a%20b.txt", HP_OK, "/a b.txt");
    expect_path("/%41%62", HP_OK, "/Ab");
    expect_path("/api/machines/aa%3Abb", HP_OK, "/api/machines/aa:bb");
    expect_path("/%c3%a9t%C3%A9", HP_OK, "/\xc3\xa9t\xc3\xa9");
    expect_path("/...", HP_OK, "/...");     /* a name, not a traversal */
}

static void test_normalise_traversal(void **state)
{
    (void)state;
    expect_path("/../etc/passwd", HP_FORBIDDEN, NULL);
    expect_path("/assets/../../etc/passwd", HP_FORBIDDEN, NULL);
    expect_path("/assets/..", HP_FORBIDDEN, NULL);
    expect_path("/%2e%2e/etc/passwd", HP_FORBIDDEN, NULL);
    expect_path("/%2E%2E/etc/passwd", HP_FORBIDDEN, NULL);
    expect_path("/.%2e/etc/passwd", HP_FORBIDDEN, NULL);
    expect_path("/assets%2f..%2f..%2fetc%2fpasswd", HP_FORBIDDEN, NULL);
    expect_path("/assets%2F%2E%2E", HP_FORBIDDEN, NULL);
    expect_path("/..%5c..%5cwindows", HP_FORBIDDEN, NULL);
    expect_path("/a\\..\\b", HP_FORBIDDEN, NULL);
    expect_path("/a%00.html", HP_FORBIDDEN, NULL);
}

static void test_normalise_malformed(void **state)
{
    (void)state;
    expect_path("", HP_BAD, NULL);
    expect_path("index.html", HP_BAD, NULL);
    expect_path("/a%", HP_BAD, NULL);
    expect_path("/a%4", HP_BAD, NULL);
    expect_path("/a%zz", HP_BAD, NULL);
    expect_path("/a%0a", HP_BAD, NULL);
    expect_path("/a\x01", HP_BAD, NULL);
    char big[HP_PATH_MAX + 10];
    memset(big, 'a', sizeof(big) - 1);
    big[0] = '/';
    big[sizeof(big) - 1] = '\0';
    expect_path(big, HP_BAD, NULL);
    /* out too small for the result */
    char small[4];
    assert_int_equal(hp_normalise("/abcdef", 7, small, sizeof(small)), HP_BAD);
    /* len bounds what is read: the NUL-less tail is never touched */
    char out[32];
    assert_int_equal(hp_normalise("/ab%41xyz", 4, out, sizeof(out)), HP_BAD);
    assert_int_equal(hp_normalise("/ab%41xyz", 6, out, sizeof(out)), HP_OK);
    assert_string_equal(out, "/abA");
}

static void test_hidden_and_extension(void **state)
{
    (void)state;
    assert_true(hp_has_hidden_segment("/.env"));
    assert_true(hp_has_hidden_segment("/a/.git/config"));
    assert_false(hp_has_hidden_segment("/a/b.c"));
    assert_true(hp_has_extension("/assets/a.js"));
    assert_false(hp_has_extension("/machines/x"));
    assert_false(hp_has_extension("/a.b/c"));
}

static void test_mime(void **state)
{
    (void)state;
    assert_string_equal(hp_mime_type("/index.html"), "text/html; charset=utf-8");
    assert_string_equal(hp_mime_type("/assets/i-1.JS"), "text/javascript; charset=utf-8");
    assert_string_equal(hp_mime_type("/a.css"), "text/css; charset=utf-8");
    assert_string_equal(hp_mime_type("/a.svg"), "image/svg+xml");
    assert_string_equal(hp_mime_type("/f.woff2"), "font/woff2");
    assert_string_equal(hp_mime_type("/favicon.ico"), "image/x-icon");
    assert_string_equal(hp_mime_type("/x.json"), "application/json; charset=utf-8");
    assert_string_equal(hp_mime_type("/noext"), "application/octet-stream");
    assert_string_equal(hp_mime_type("/a.b/noext"), "application/octet-stream");
    assert_string_equal(hp_mime_type("/trailingdot."), "application/octet-stream");
    assert_true(hp_mime_compressible("text/html; charset=utf-8"));
    assert_true(hp_mime_compressible("image/svg+xml"));
    assert_false(hp_mime_compressible("image/png"));
    assert_false(hp_mime_compressible("font/woff2"));
}

static void test_accepts_gzip(void **state)
{
    (void)state;
    assert_false(hp_accepts_gzip(NULL));
    assert_false(hp_accepts_gzip(""));
    assert_true(hp_accepts_gzip("gzip"));
    assert_true(hp_accepts_gzip("gzip, deflate, br"));
    assert_true(hp_accepts_gzip("br;q=1.0, GZIP;q=0.5"));
    assert_false(hp_accepts_gzip("gzip;q=0"));
    assert_false(hp_accepts_gzip("gzip; q=0.000, deflate"));
    assert_true(hp_accepts_gzip("gzip;q=0.01"));
    assert_false(hp_accepts_gzip("deflate, br"));
    assert_false(hp_accepts_gzip("x-gzip2"));
    assert_true(hp_accepts_gzip("*"));
    assert_false(hp_accepts_gzip("*;q=0"));
    assert_false(hp_accepts_gzip("gzip;q=0, *"));   /* explicit refusal wins */
    assert_false(hp_accepts_gzip("identity"));
    /* regression (found by fuzz_http_path): a blank token looped forever */
    assert_false(hp_accepts_gzip(" "));
    assert_true(hp_accepts_gzip("br, \t, gzip"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalise_plain),
        cmocka_unit_test(test_normalise_traversal),
        cmocka_unit_test(test_normalise_malformed),
        cmocka_unit_test(test_hidden_and_extension),
        cmocka_unit_test(test_mime),
        cmocka_unit_test(test_accepts_gzip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
