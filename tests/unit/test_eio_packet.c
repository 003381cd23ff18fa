/* test_eio_packet.c -- Engine.IO codec, from the engine.io-protocol spec's examples. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "eio_packet.h"

#define S(lit) lit, sizeof(lit) - 1

static void test_decode_text_packets(void **state)
{
    struct eio_packet p;
    (void)state;

    /* handshake from the spec */
    assert_int_equal(eio_decode_text(S("0{\"sid\":\"lv_VI97HAXpY6yYWAAAC\",\"upgrades\":[\"websocket\"]}"), 0, &p), 0);
    assert_int_equal(p.type, EIO_OPEN);
    assert_int_equal(p.len, strlen("{\"sid\":\"lv_VI97HAXpY6yYWAAAC\",\"upgrades\":[\"websocket\"]}"));
    assert_int_equal(eio_decode_text(S("2probe"), 0, &p), 0);
    assert_int_equal(p.type, EIO_PING);
    assert_memory_equal(p.data, "probe", 5);
    assert_int_equal(eio_decode_text(S("3probe"), 0, &p), 0);
    assert_int_equal(p.type, EIO_PONG);
    assert_int_equal(eio_decode_text(S("5"), 0, &p), 0);
    assert_int_equal(p.type, EIO_UPGRADE);
    assert_int_equal(p.len, 0);
    assert_int_equal(eio_decode_text(S("6"), 0, &p), 0);
    assert_int_equal(p.type, EIO_NOOP);
    assert_int_equal(eio_decode_text(S("4hello"), 0, &p), 0);
    assert_int_equal(p.type, EIO_MESSAGE);
    assert_int_equal(p.binary, 0);
    assert_memory_equal(p.data, "hello", 5);
}

static void test_decode_text_malformed(void **state)
{
    struct eio_packet p;
    (void)state;
    assert_int_equal(eio_decode_text(S("abc"), 0, &p), EIO_ERR_MALFORMED);
    assert_int_equal(eio_decode_text(S("7"), 0, &p), EIO_ERR_MALFORMED);
    assert_int_equal(eio_decode_text("", 0, 0, &p), EIO_ERR_MALFORMED);
    /* 'b' is only meaningful inside a polling payload */
    assert_int_equal(eio_decode_text(S("bAQIDBA=="), 0, &p), EIO_ERR_MALFORMED);
}

static void test_payload_split(void **state)
{
    /* "4hello\x1e4€\x1ebAQIDBA==" from the spec */
    const char payload[] = "4hello\x1e" "4\xe2\x82\xac\x1e" "bAQIDBA==";
    struct eio_packet p;
    size_t pos = 0;
    unsigned char bin[8];
    (void)state;

    assert_int_equal(eio_payload_next(payload, sizeof(payload) - 1, &pos, &p), 1);
    assert_int_equal(p.type, EIO_MESSAGE);
    assert_int_equal(p.len, 5);
    assert_memory_equal(p.data, "hello", 5);
    assert_int_equal(eio_payload_next(payload, sizeof(payload) - 1, &pos, &p), 1);
    assert_int_equal(p.len, 3);
    assert_memory_equal(p.data, "\xe2\x82\xac", 3);
    assert_int_equal(eio_payload_next(payload, sizeof(payload) - 1, &pos, &p), 1);
    assert_int_equal(p.binary, 1);
    assert_int_equal(p.base64, 1);
    assert_int_equal(eio_base64_decode(p.data, p.len, bin, sizeof(bin)), 4);
    assert_memory_equal(bin, "\x01\x02\x03\x04", 4);
    assert_int_equal(eio_payload_next(payload, sizeof(payload) - 1, &pos, &p), 0);
}

static void test_payload_malformed(void **state)
{
    struct eio_packet p;
    size_t pos;
    (void)state;

    pos = 0;
    assert_int_equal(eio_payload_next("", 0, &pos, &p), EIO_ERR_MALFORMED);
    pos = 0;
    assert_int_equal(eio_payload_next(S("abc"), &pos, &p), EIO_ERR_MALFORMED);
    pos = 0; /* empty packet between separators */
    assert_int_equal(eio_payload_next(S("4a\x1e\x1e" "4b"), &pos, &p), 1);
    assert_int_equal(eio_payload_next(S("4a\x1e\x1e" "4b"), &pos, &p), EIO_ERR_MALFORMED);
    pos = 0; /* trailing separator */
    assert_int_equal(eio_payload_next(S("4a\x1e"), &pos, &p), 1);
    assert_int_equal(eio_payload_next(S("4a\x1e"), &pos, &p), EIO_ERR_MALFORMED);
    pos = 0; /* base64 of a bad length */
    assert_int_equal(eio_payload_next(S("bAQID"), &pos, &p), 1);
    pos = 0;
    assert_int_equal(eio_payload_next(S("bAQIDB"), &pos, &p), EIO_ERR_MALFORMED);
}

static void test_payload_join(void **state)
{
    char out[64];
    size_t used = 0;
    char b64[16];
    int n;
    (void)state;

    assert_int_equal(eio_payload_append(out, sizeof(out), &used, S("4hello")), 0);
    n = eio_encode_binary_b64("\x01\x02\x03\x04", 4, b64, sizeof(b64));
    assert_int_equal(n, 9);
    assert_int_equal(eio_payload_append(out, sizeof(out), &used, b64, (size_t)n), 0);
    assert_int_equal(used, strlen("4hello\x1e" "bAQIDBA=="));
    assert_memory_equal(out, "4hello\x1e" "bAQIDBA==", used);
    used = 0;
    assert_int_equal(eio_payload_append(out, 5, &used, S("4hello")), EIO_ERR_SPACE);
}

static void test_encode_text(void **state)
{
    char out[16];
    (void)state;
    assert_int_equal(eio_encode_text(EIO_PING, "probe", 5, out, sizeof(out)), 6);
    assert_memory_equal(out, "2probe", 6);
    assert_int_equal(eio_encode_text(EIO_NOOP, NULL, 0, out, sizeof(out)), 1);
    assert_int_equal(out[0], '6');
    assert_int_equal(eio_encode_text(EIO_MESSAGE, "hello", 5, out, 5), EIO_ERR_SPACE);
}

static void test_base64(void **state)
{
    char enc[16];
    unsigned char dec[16];
    (void)state;
    /* RFC 4648 test vectors */
    assert_int_equal(eio_base64_encode("f", 1, enc, sizeof(enc)), 4);
    assert_memory_equal(enc, "Zg==", 4);
    assert_int_equal(eio_base64_encode("fo", 2, enc, sizeof(enc)), 4);
    assert_memory_equal(enc, "Zm8=", 4);
    assert_int_equal(eio_base64_encode("foobar", 6, enc, sizeof(enc)), 8);
    assert_memory_equal(enc, "Zm9vYmFy", 8);
    assert_int_equal(eio_base64_decode("Zm9vYg==", 8, dec, sizeof(dec)), 4);
    assert_memory_equal(dec, "foob", 4);
    assert_int_equal(eio_base64_decode("Zm9vYmE=", 8, dec, sizeof(dec)), 5);
    assert_int_equal(eio_base64_decode("Zm9v", 4, dec, 2), EIO_ERR_SPACE);
    assert_int_equal(eio_base64_decode("Zm9", 3, dec, sizeof(dec)), EIO_ERR_MALFORMED);
    assert_int_equal(eio_base64_decode("Zg==Zg==", 8, dec, sizeof(dec)), EIO_ERR_MALFORMED);
    assert_int_equal(eio_base64_decode("Z!9v", 4, dec, sizeof(dec)), EIO_ERR_MALFORMED);
}

static void test_payload_v3(void **state)
{
    /* v3: "<length in chars>:<packet>", with "€" counting as one char */
    const char payload[] = "6:4hello2:4\xe2\x82\xac" "10:b4AQIDBA==";
    struct eio_packet p;
    size_t pos = 0, used = 0;
    char out[64];
    (void)state;

    assert_int_equal(eio_payload_v3_next(payload, sizeof(payload) - 1, &pos, &p), 1);
    assert_memory_equal(p.data, "hello", 5);
    assert_int_equal(eio_payload_v3_next(payload, sizeof(payload) - 1, &pos, &p), 1);
    assert_int_equal(p.len, 3);
    assert_int_equal(eio_payload_v3_next(payload, sizeof(payload) - 1, &pos, &p), 1);
    assert_int_equal(p.type, EIO_MESSAGE);
    assert_int_equal(p.base64, 1);
    assert_int_equal(p.len, 8);
    assert_int_equal(eio_payload_v3_next(payload, sizeof(payload) - 1, &pos, &p), 0);

    pos = 0;
    assert_int_equal(eio_payload_v3_next(S("9:4hello"), &pos, &p), EIO_ERR_MALFORMED);
    pos = 0;
    assert_int_equal(eio_payload_v3_next(S("x:4hello"), &pos, &p), EIO_ERR_MALFORMED);

    assert_int_equal(eio_payload_v3_append(out, sizeof(out), &used, S("4\xe2\x82\xac")), 0);
    assert_int_equal(eio_payload_v3_append(out, sizeof(out), &used, S("2")), 0);
    assert_int_equal(used, strlen("2:4\xe2\x82\xac" "1:2"));
    assert_memory_equal(out, "2:4\xe2\x82\xac" "1:2", used);
    assert_int_equal(eio_utf16_length(S("\xf0\x9f\x98\x80")), 2); /* one emoji = a surrogate pair */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_text_packets),
        cmocka_unit_test(test_decode_text_malformed),
        cmocka_unit_test(test_payload_split),
        cmocka_unit_test(test_payload_malformed),
        cmocka_unit_test(test_payload_join),
        cmocka_unit_test(test_encode_text),
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_payload_v3),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
