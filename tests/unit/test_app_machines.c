/* test_app_machines.c -- the worker's machine table: lookup, insert order,
 * sample text ownership, many entries sharing buckets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "app_machines.h"

static void test_get_find(void **state)
{
    (void)state;
    struct app_machines *t = app_machines_create();
    assert_non_null(t);
    assert_null(app_machines_find(t, "aa"));
    struct app_machine *a = app_machines_get(t, "aa");
    assert_non_null(a);
    assert_string_equal(a->mac, "aa");
    assert_null(a->json);
    assert_int_equal(a->active, 0);
    assert_ptr_equal(app_machines_get(t, "aa"), a);
    assert_ptr_equal(app_machines_find(t, "aa"), a);
    assert_int_equal(app_machines_count(t), 1);
    app_machines_destroy(t);
}

static void test_set_json_copies(void **state)
{
    (void)state;
    struct app_machines *t = app_machines_create();
    struct app_machine *m = app_machines_get(t, "m");
    char buf[32] = "{\"macA\":\"m\"}";
    uint64_t v0 = app_machines_version(t);
    assert_int_equal(app_machine_set_json(t, m, buf, strlen(buf)), 0);
    assert_int_equal(app_machines_version(t), v0 + 1);
    assert_int_equal(m->version, v0 + 1);
    buf[0] = 'X';
    assert_string_equal(m->json, "{\"macA\":\"m\"}");
    assert_int_equal(m->len, strlen("{\"macA\":\"m\"}"));
    struct app_machine *other = app_machines_get(t, "other");
    assert_int_equal(app_machine_set_json(t, other, "[]", 2), 0);
    assert_int_equal(app_machine_set_json(t, m, "{}", 2), 0);
    assert_string_equal(m->json, "{}");
    assert_true(m->version > other->version);
    /* A text longer than the kept buffer gets a bigger one, whole. */
    char big[600];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(app_machine_set_json(t, m, big, strlen(big)), 0);
    assert_string_equal(m->json, big);
    assert_true(m->cap > strlen(big));
    assert_int_equal(app_machine_set_json(t, m, "{}", 2), 0);
    assert_string_equal(m->json, "{}");
    assert_int_equal(m->len, 2);
    app_machines_destroy(t);
}

static void test_many(void **state)
{
    (void)state;
    struct app_machines *t = app_machines_create();
    char mac[32];
    for (int i = 0; i < 10000; i++) {
        snprintf(mac, sizeof(mac), "host-%d", i);
        assert_non_null(app_machines_get(t, mac));
    }
    assert_int_equal(app_machines_count(t), 10000);
    for (int i = 0; i < 10000; i++) {
        snprintf(mac, sizeof(mac), "host-%d", i);
        struct app_machine *m = app_machines_find(t, mac);
        assert_non_null(m);
        assert_string_equal(m->mac, mac);
    }
    size_t walked = 0;
    for (struct app_machine *m = app_machines_first(t); m != NULL; m = m->next)
        walked++;
    assert_int_equal(walked, 10000);
    assert_null(app_machines_find(t, "host-10000"));
    app_machines_destroy(t);
}

static void test_too_long_mac_refused(void **state)
{
    (void)state;
    struct app_machines *t = app_machines_create();
    char mac[SAMPLE_MAC_MAX + 2];
    memset(mac, 'x', sizeof(mac) - 1);
    mac[sizeof(mac) - 1] = '\0';
    assert_null(app_machines_get(t, mac));
    assert_int_equal(app_machines_count(t), 0);
    app_machines_destroy(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_find),
        cmocka_unit_test(test_set_json_copies),
        cmocka_unit_test(test_many),
        cmocka_unit_test(test_too_long_mac_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
