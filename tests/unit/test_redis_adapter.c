/* test_redis_adapter.c -- the channel message format `<origin>\n<json>`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "redis_adapter.h"

static void test_parse_ok(void **state)
{
    (void)state;
    const char *msg = "0123456789abcdef\n{\"macA\":\"m\"}";
    const char *origin, *json;
    size_t olen, jlen;
    assert_int_equal(redis_adapter_parse_message(msg, strlen(msg), &origin, &olen, &json, &jlen), 0);
    assert_int_equal(olen, 16);
    assert_memory_equal(origin, "0123456789abcdef", 16);
    assert_int_equal(jlen, strlen("{\"macA\":\"m\"}"));
    assert_memory_equal(json, "{\"macA\":\"m\"}", jlen);
}

static void test_parse_json_with_newlines(void **state)
{
    (void)state;
    /* Only the first newline separates: the JSON may contain more. */
    const char *msg = "abc\n{\"a\":\n1}";
    const char *origin, *json;
    size_t olen, jlen;
    assert_int_equal(redis_adapter_parse_message(msg, strlen(msg), &origin, &olen, &json, &jlen), 0);
    assert_int_equal(olen, 3);
    assert_int_equal(jlen, 8);
    assert_memory_equal(json, "{\"a\":\n1}", 8);
}

static void test_parse_malformed(void **state)
{
    (void)state;
    const char *origin, *json;
    size_t olen, jlen;
    assert_int_equal(redis_adapter_parse_message("no-newline", 10, &origin, &olen, &json, &jlen), -1);
    assert_int_equal(redis_adapter_parse_message("\n{}", 3, &origin, &olen, &json, &jlen), -1);
    assert_int_equal(redis_adapter_parse_message("abc\n", 4, &origin, &olen, &json, &jlen), -1);
    assert_int_equal(redis_adapter_parse_message("", 0, &origin, &olen, &json, &jlen), -1);
    assert_int_equal(redis_adapter_parse_message(NULL, 5, &origin, &olen, &json, &jlen), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_ok),
        cmocka_unit_test(test_parse_json_with_newlines),
        cmocka_unit_test(test_parse_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
