/* test_sio_packet.c -- Socket.IO codec, from the socket.io-protocol spec's
 * examples and the official test suite's invalid packets. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sio_packet.h"

#define S(lit) lit, sizeof(lit) - 1

static void decode_ok(const char *in, struct sio_packet *p, cJSON **data)
{
    assert_int_equal(sio_decode(in, strlen(in), p), 0);
    assert_int_equal(sio_decode_data(p, data), 0);
}

static void decode_bad(const char *in)
{
    struct sio_packet p;
    cJSON *d = NULL;

    if (sio_decode(in, strlen(in), &p) == 0)
        assert_int_equal(sio_decode_data(&p, &d), SIO_PKT_ERR_MALFORMED);
    assert_null(d);
}

static void test_connect(void **state)
{
    struct sio_packet p;
    cJSON *d;
    (void)state;

    decode_ok("0", &p, &d);
    assert_int_equal(p.type, SIO_CONNECT);
    assert_int_equal(p.nsp_len, 1);
    assert_memory_equal(p.nsp, "/", 1);
    assert_null(d);

    decode_ok("0/admin,{\"sid\":\"oSO0OpakMV_3jnilAAAA\"}", &p, &d);
    assert_int_equal(p.nsp_len, 6);
    assert_memory_equal(p.nsp, "/admin", 6);
    assert_string_equal(cJSON_GetObjectItem(d, "sid")->valuestring, "oSO0OpakMV_3jnilAAAA");
    cJSON_Delete(d);

    /* the official suite sends namespaces without the trailing comma */
    decode_ok("0/custom", &p, &d);
    assert_int_equal(p.nsp_len, 7);
    assert_null(d);

    decode_ok("0{\"token\":\"123\"}", &p, &d);
    assert_string_equal(cJSON_GetObjectItem(d, "token")->valuestring, "123");
    cJSON_Delete(d);
}

static void test_events_and_acks(void **state)
{
    struct sio_packet p;
    cJSON *d;
    const char *arg0;
    size_t arg0_len;
    (void)state;

    decode_ok("2[\"foo\"]", &p, &d);
    assert_int_equal(p.type, SIO_EVENT);
    assert_int_equal(p.ack_id, -1);
    assert_string_equal(cJSON_GetArrayItem(d, 0)->valuestring, "foo");
    assert_int_equal(sio_event_arg0(p.data, p.data_len, &arg0, &arg0_len), 0);
    assert_null(arg0);
    cJSON_Delete(d);

    decode_ok("2/admin,[\"bar\"]", &p, &d);
    assert_memory_equal(p.nsp, "/admin", 6);
    cJSON_Delete(d);

    decode_ok("212[\"foo\"]", &p, &d);
    assert_int_equal(p.ack_id, 12);
    cJSON_Delete(d);

    decode_ok("3/admin,13[\"bar\"]", &p, &d);
    assert_int_equal(p.type, SIO_ACK);
    assert_int_equal(p.ack_id, 13);
    assert_memory_equal(p.nsp, "/admin", 6);
    cJSON_Delete(d);

    decode_ok("2[\"hey\",{\"a\":[1,\"]\\\"\"]} , 2]", &p, &d);
    assert_int_equal(sio_event_arg0(p.data, p.data_len, &arg0, &arg0_len), 0);
    assert_int_equal(arg0_len, strlen("{\"a\":[1,\"]\\\"\"]}"));
    assert_memory_equal(arg0, "{\"a\":[1,\"]\\\"\"]}", arg0_len);
    cJSON_Delete(d);

    decode_ok("2[\"hey\",\"Jude\"]", &p, &d);
    assert_int_equal(sio_event_arg0(p.data, p.data_len, &arg0, &arg0_len), 0);
    assert_int_equal(arg0_len, 6);
    assert_memory_equal(arg0, "\"Jude\"", 6);
    cJSON_Delete(d);

    decode_ok("2[\"n\",12.5]", &p, &d);
    assert_int_equal(sio_event_arg0(p.data, p.data_len, &arg0, &arg0_len), 0);
    assert_int_equal(arg0_len, 4);
    cJSON_Delete(d);
}

static void test_binary(void **state)
{
    struct sio_packet p;
    cJSON *d;
    (void)state;

    decode_ok("51-[\"baz\",{\"_placeholder\":true,\"num\":0}]", &p, &d);
    assert_int_equal(p.type, SIO_BINARY_EVENT);
    assert_int_equal(p.attachments, 1);
    cJSON_Delete(d);

    decode_ok("52-/admin,[\"baz\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]", &p, &d);
    assert_int_equal(p.attachments, 2);
    assert_memory_equal(p.nsp, "/admin", 6);
    cJSON_Delete(d);

    decode_ok("61-15[\"bar\",{\"_placeholder\":true,\"num\":0}]", &p, &d);
    assert_int_equal(p.type, SIO_BINARY_ACK);
    assert_int_equal(p.ack_id, 15);
    cJSON_Delete(d);

    decode_bad("5[\"x\"]");          /* attachments without '-' */
    decode_bad("5999-[\"x\"]");      /* too many attachments */
}

static void test_disconnect_and_error(void **state)
{
    struct sio_packet p;
    cJSON *d;
    (void)state;

    decode_ok("1", &p, &d);
    assert_int_equal(p.type, SIO_DISCONNECT);
    decode_ok("1/admin,", &p, &d);
    assert_memory_equal(p.nsp, "/admin", 6);
    decode_ok("4{\"message\":\"Not authorized\"}", &p, &d);
    assert_int_equal(p.type, SIO_CONNECT_ERROR);
    cJSON_Delete(d);
}

static void test_malformed(void **state)
{
    (void)state;
    decode_bad("");
    decode_bad("abc");
    decode_bad("7");
    decode_bad("2{}");                 /* official suite: invalid payload format */
    decode_bad("2abc[\"message-with-ack\",1]"); /* official suite: invalid ack id */
    decode_bad("2");                   /* event without data */
    decode_bad("2[]");                 /* event without a name */
    decode_bad("2[1]");                /* name not a string */
    decode_bad("2[\"connect\"]");      /* reserved */
    decode_bad("2[\"a\"");             /* truncated JSON */
    decode_bad("2[\"a\"]x");           /* trailing garbage */
    decode_bad("0[1]");                /* connect data must be an object */
    decode_bad("1{}");                 /* disconnect carries no data */
    decode_bad("3{}");                 /* ack data must be an array */
    decode_bad("299999999999[\"a\"]"); /* ack id too large */
}

/* Splits data (a C string) and returns the outcome; name/arg0 as found. */
static int split(const char *data, char *name, size_t cap, const char **arg0, size_t *arg0_len)
{
    return sio_event_split(data, strlen(data), name, cap, arg0, arg0_len);
}

static void test_event_split(void **state)
{
    char name[16];
    const char *arg0;
    size_t n;

    (void)state;
    assert_int_equal(split("[\"perfData\",{\"a\":[1,\"]\"]}]", name, sizeof(name), &arg0, &n), 0);
    assert_string_equal(name, "perfData");
    assert_int_equal(n, strlen("{\"a\":[1,\"]\"]}"));
    assert_memory_equal(arg0, "{\"a\":[1,\"]\"]}", n);

    assert_int_equal(split(" [ \"ping\" ] ", name, sizeof(name), &arg0, &n), 0);
    assert_string_equal(name, "ping");
    assert_null(arg0);
    assert_int_equal(n, 0);

    assert_int_equal(split("[\"x\", 42 ]", name, sizeof(name), &arg0, &n), 0);
    assert_int_equal(n, 2);
    assert_memory_equal(arg0, "42", 2);

    /* The argument is only delimited: what lies between the comma and the
     * closing bracket, for the caller's strict parse to accept or not. */
    assert_int_equal(split("[\"x\",1,2]", name, sizeof(name), &arg0, &n), 0);
    assert_int_equal(n, 3);
    assert_memory_equal(arg0, "1,2", 3);
    assert_int_equal(split("[\"x\",{\"a\":1]", name, sizeof(name), &arg0, &n), 0);
    assert_int_equal(n, 6);
    assert_memory_equal(arg0, "{\"a\":1", 6);

    /* Other shapes go to the full parser. */
    assert_int_equal(split("[\"x\",{}] junk", name, sizeof(name), &arg0, &n), SIO_PKT_ERR_MALFORMED);
    assert_int_equal(split("[\"x\", ]", name, sizeof(name), &arg0, &n), SIO_PKT_ERR_MALFORMED);
    assert_int_equal(split("[\"x\",{}", name, sizeof(name), &arg0, &n), SIO_PKT_ERR_MALFORMED);
    assert_int_equal(split("[\"p\\u0065rfData\",{}]", name, sizeof(name), &arg0, &n),
                     SIO_PKT_ERR_MALFORMED);
    assert_int_equal(split("[\"a\nb\",{}]", name, sizeof(name), &arg0, &n), SIO_PKT_ERR_MALFORMED);
    assert_int_equal(split("[1,{}]", name, sizeof(name), &arg0, &n), SIO_PKT_ERR_MALFORMED);
    assert_int_equal(split("{\"x\":1}", name, sizeof(name), &arg0, &n), SIO_PKT_ERR_MALFORMED);
    assert_int_equal(split("[\"x\",]", name, sizeof(name), &arg0, &n), SIO_PKT_ERR_MALFORMED);
    assert_int_equal(split("[\"unterminated", name, sizeof(name), &arg0, &n), SIO_PKT_ERR_MALFORMED);
    /* A name that does not fit (with its NUL) is not cut short. */
    assert_int_equal(split("[\"0123456789abcdef\",1]", name, sizeof(name), &arg0, &n),
                     SIO_PKT_ERR_MALFORMED);
    assert_int_equal(split("[\"0123456789abcde\",1]", name, sizeof(name), &arg0, &n), 0);
    assert_string_equal(name, "0123456789abcde");
}

static void test_encode(void **state)
{
    char out[128];
    int n;
    char *s;
    size_t len;
    cJSON *arr;
    (void)state;

    n = sio_encode(SIO_CONNECT, "/admin", 0, -1, S("{\"sid\":\"x\"}"), out, sizeof(out));
    assert_int_equal(n, (int)strlen("0/admin,{\"sid\":\"x\"}"));
    assert_memory_equal(out, "0/admin,{\"sid\":\"x\"}", (size_t)n);

    n = sio_encode(SIO_BINARY_ACK, "/", 2, 789, S("[1]"), out, sizeof(out));
    assert_memory_equal(out, "62-789[1]", (size_t)n);

    n = sio_encode_header(SIO_DISCONNECT, NULL, 0, -1, out, sizeof(out));
    assert_int_equal(n, 1);
    assert_int_equal(out[0], '1');

    n = sio_encode_event_raw("/", "message-back", S("{\"3\":[true]}"), -1, 1, out, sizeof(out));
    assert_int_equal(n, (int)strlen("42[\"message-back\",{\"3\":[true]}]"));
    assert_memory_equal(out, "42[\"message-back\",{\"3\":[true]}]", (size_t)n);
    assert_int_equal(sio_event_raw_len("/", "message-back", strlen("{\"3\":[true]}"), -1, 1), (size_t)n);

    n = sio_encode_event_raw("/admin", "a\"b\n", NULL, 0, 7, 0, out, sizeof(out));
    assert_memory_equal(out, "2/admin,7[\"a\\\"b\\n\"]", (size_t)n);
    assert_int_equal(sio_event_raw_len("/admin", "a\"b\n", 0, 7, 0), (size_t)n);

    assert_int_equal(sio_encode_event_raw("/", "data", S("{}"), -1, 1, out, 8), SIO_PKT_ERR_SPACE);

    arr = cJSON_Parse("[1,\"2\",{\"3\":[false]}]");
    s = sio_encode_alloc(SIO_ACK, "/", 0, 456, arr, 1, &len);
    assert_non_null(s);
    assert_string_equal(s, "43456[1,\"2\",{\"3\":[false]}]");
    assert_int_equal(len, strlen(s));
    free(s);
    cJSON_Delete(arr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connect),
        cmocka_unit_test(test_events_and_acks),
        cmocka_unit_test(test_binary),
        cmocka_unit_test(test_disconnect_and_error),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_event_split),
        cmocka_unit_test(test_encode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
