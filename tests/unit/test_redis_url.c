/* test_redis_url.c -- every accepted Redis URL form, defaults, and the
 * malformed ones refused with a reason that never shows the password. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "redis_url.h"

static struct redis_url parse_ok(const char *url)
{
    struct redis_url u;
    char err[128];
    int r = redis_url_parse(url, &u, err, sizeof(err));
    if (r != 0)
        fail_msg("'%s' refused: %s", url, err);
    return u;
}

static void parse_bad(const char *url, const char *reason_part)
{
    struct redis_url u;
    char err[128];
    if (redis_url_parse(url, &u, err, sizeof(err)) == 0)
        fail_msg("'%s' accepted", url);
    if (strstr(err, reason_part) == NULL)
        fail_msg("'%s': reason '%s' lacks '%s'", url, err, reason_part);
}

static void test_defaults(void **state)
{
    (void)state;
    struct redis_url u = parse_ok("redis://127.0.0.1");
    assert_int_equal(u.is_unix, 0);
    assert_string_equal(u.host, "127.0.0.1");
    assert_int_equal(u.port, 6379);
    assert_int_equal(u.db, 0);
    assert_string_equal(u.user, "");
    assert_string_equal(u.password, "");
    u = parse_ok("redis://localhost:6380/");
    assert_string_equal(u.host, "localhost");
    assert_int_equal(u.port, 6380);
    assert_int_equal(u.db, 0);
}

static void test_full(void **state)
{
    (void)state;
    struct redis_url u = parse_ok("redis://:s3cret@redis.example:7000/3");
    assert_string_equal(u.host, "redis.example");
    assert_int_equal(u.port, 7000);
    assert_int_equal(u.db, 3);
    assert_string_equal(u.user, "");
    assert_string_equal(u.password, "s3cret");

    u = parse_ok("redis://alice:p%40ss%3Aw@10.0.0.1:1/15");
    assert_string_equal(u.user, "alice");
    assert_string_equal(u.password, "p@ss:w");
    assert_int_equal(u.port, 1);
    assert_int_equal(u.db, 15);

    /* Bare password before '@' (no colon). */
    u = parse_ok("redis://pw@h");
    assert_string_equal(u.user, "");
    assert_string_equal(u.password, "pw");
}

static void test_ipv6(void **state)
{
    (void)state;
    struct redis_url u = parse_ok("redis://[::1]:6390/2");
    assert_string_equal(u.host, "::1");
    assert_int_equal(u.port, 6390);
    assert_int_equal(u.db, 2);
    u = parse_ok("redis://[fe80::1]");
    assert_string_equal(u.host, "fe80::1");
    assert_int_equal(u.port, 6379);
    char buf[64];
    assert_string_equal(redis_url_describe(&u, buf, sizeof(buf)), "[fe80::1]:6379 db 0");
}

static void test_unix(void **state)
{
    (void)state;
    struct redis_url u = parse_ok("unix:///run/redis/redis.sock");
    assert_int_equal(u.is_unix, 1);
    assert_string_equal(u.path, "/run/redis/redis.sock");
    assert_int_equal(u.db, 0);
    u = parse_ok("unix:///tmp/r.sock?db=4&password=a%26b");
    assert_string_equal(u.path, "/tmp/r.sock");
    assert_int_equal(u.db, 4);
    assert_string_equal(u.password, "a&b");
    char buf[64];
    assert_string_equal(redis_url_describe(&u, buf, sizeof(buf)), "unix:/tmp/r.sock db 4");
    parse_bad("unix://relative.sock", "absolute");
    parse_bad("unix:///tmp/x?color=red", "unknown parameter");
    char longpath[200] = "unix:///";
    memset(longpath + 8, 'a', 150);
    longpath[158] = '\0';
    parse_bad(longpath, "too long");
}

static void test_malformed(void **state)
{
    (void)state;
    parse_bad("http://127.0.0.1", "must start with");
    parse_bad("", "must start with");
    parse_bad("rediss://h", "TLS");
    parse_bad("redis://", "host missing");
    parse_bad("redis://:pw@", "host missing");
    parse_bad("redis://h:0", "port");
    parse_bad("redis://h:65536", "port");
    parse_bad("redis://h:12ab", "port");
    parse_bad("redis://h:", "port");
    parse_bad("redis://h/x", "db");
    parse_bad("redis://h/-1", "db");
    parse_bad("redis://[::1", "IPv6");
    parse_bad("redis://[::1]x", "IPv6");
    parse_bad("redis://h h", "bad character");
    parse_bad("redis://:%zz@h", "password");
    parse_bad("redis://:%00@h", "password");
    parse_bad("redis://:%4@h", "password");
    assert_int_equal(redis_url_parse(NULL, NULL, NULL, 0), -1);
}

static void test_password_never_in_errors(void **state)
{
    (void)state;
    struct redis_url u;
    char err[128];
    assert_int_equal(redis_url_parse("redis://:topsecret@h:99999", &u, err, sizeof(err)), -1);
    assert_null(strstr(err, "topsecret"));
    u = parse_ok("redis://:topsecret@h:1/2");
    char buf[64];
    redis_url_describe(&u, buf, sizeof(buf));
    assert_null(strstr(buf, "topsecret"));
    assert_string_equal(buf, "h:1 db 2");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_full),
        cmocka_unit_test(test_ipv6),
        cmocka_unit_test(test_unix),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_password_never_in_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
