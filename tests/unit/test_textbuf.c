/* test_textbuf.c -- the growable text buffer: growth, the hard limit,
 * sticky errors, printf appends, ownership hand-off. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "textbuf.h"

static void test_empty(void **state)
{
    (void)state;
    struct textbuf b;
    textbuf_init(&b, 100);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(textbuf_error(&b), TEXTBUF_OK);

    /* An empty buffer still hands out a real, freeable "". */
    size_t len = 99;
    char *s = textbuf_take(&b, &len);
    assert_non_null(s);
    assert_string_equal(s, "");
    assert_int_equal(len, 0);
    free(s);
    textbuf_free(&b);   /* freeing an empty buffer is fine */
    textbuf_free(&b);
}

static void test_append_and_grow(void **state)
{
    (void)state;
    struct textbuf b;
    textbuf_init(&b, 1 << 20);
    assert_int_equal(textbuf_puts(&b, "ab"), TEXTBUF_OK);
    assert_int_equal(textbuf_append(&b, "c\0d", 3), TEXTBUF_OK);   /* NULs are bytes too */
    assert_int_equal(b.len, 5);
    assert_memory_equal(b.data, "abc\0d", 6);
    assert_int_equal(textbuf_append(&b, NULL, 0), TEXTBUF_OK);
    assert_int_equal(b.len, 5);

    /* Many small appends: the text stays exact and NUL-terminated through
     * every reallocation. */
    textbuf_free(&b);
    char expect[10000];
    for (int i = 0; i < 10000; i++) {
        char c = (char)('a' + i % 26);
        expect[i] = c;
        assert_int_equal(textbuf_append(&b, &c, 1), TEXTBUF_OK);
        assert_int_equal(b.data[b.len], '\0');
        assert_true(b.cap > b.len);
    }
    assert_int_equal(b.len, 10000);
    assert_memory_equal(b.data, expect, 10000);
    textbuf_free(&b);
    assert_null(b.data);
    assert_int_equal(b.max, 1 << 20);
}

static void test_limit_exact(void **state)
{
    (void)state;
    struct textbuf b;
    textbuf_init(&b, 10);
    assert_int_equal(textbuf_puts(&b, "0123456789"), TEXTBUF_OK);   /* exactly max fits */
    assert_int_equal(b.len, 10);
    assert_true(b.cap <= 11);                                        /* never allocates past max */
    assert_int_equal(textbuf_append(&b, "", 0), TEXTBUF_OK);
    assert_int_equal(textbuf_puts(&b, "x"), TEXTBUF_EFULL);
    assert_string_equal(b.data, "0123456789");                      /* nothing of it appended */
    textbuf_free(&b);
}

static void test_limit_is_all_or_nothing_and_sticky(void **state)
{
    (void)state;
    struct textbuf b;
    textbuf_init(&b, 16);
    assert_int_equal(textbuf_puts(&b, "0123456789"), TEXTBUF_OK);
    /* 7 more would pass 16: none of the 7 is written, not even the 6 that fit. */
    assert_int_equal(textbuf_puts(&b, "abcdefg"), TEXTBUF_EFULL);
    assert_int_equal(b.len, 10);
    assert_string_equal(b.data, "0123456789");
    /* Sticky: a later append that would fit fails too, so a caller that
     * checks only at the end cannot get text with a hole in the middle. */
    assert_int_equal(textbuf_puts(&b, "ab"), TEXTBUF_EFULL);
    assert_int_equal(textbuf_printf(&b, "%d", 1), TEXTBUF_EFULL);
    assert_int_equal(b.len, 10);
    assert_int_equal(textbuf_error(&b), TEXTBUF_EFULL);

    /* And a failed buffer never hands its text over. */
    size_t len = 42;
    assert_null(textbuf_take(&b, &len));
    assert_int_equal(len, 42);
    assert_null(b.data);
    assert_int_equal(textbuf_error(&b), TEXTBUF_EFULL);
    assert_string_equal(textbuf_strerror(textbuf_error(&b)), "text longer than its limit");

    /* textbuf_free clears the error: the buffer is usable again. */
    textbuf_free(&b);
    assert_int_equal(textbuf_error(&b), TEXTBUF_OK);
    assert_int_equal(textbuf_puts(&b, "ok"), TEXTBUF_OK);
    assert_string_equal(b.data, "ok");
    textbuf_free(&b);
}

static void test_huge_length_refused(void **state)
{
    (void)state;
    struct textbuf b;
    /* A length near SIZE_MAX (a bad subtraction upstream) must fail cleanly,
     * not wrap len + n + 1 around. */
    textbuf_init(&b, SIZE_MAX);
    assert_int_equal(textbuf_puts(&b, "a"), TEXTBUF_OK);
    assert_int_equal(textbuf_append(&b, "x", SIZE_MAX), TEXTBUF_EFULL);
    assert_int_equal(textbuf_append(&b, "x", SIZE_MAX - 1), TEXTBUF_EFULL);
    assert_string_equal(b.data, "a");
    textbuf_free(&b);

    textbuf_init(&b, 0);   /* a zero limit holds only "" */
    assert_int_equal(textbuf_append(&b, "", 0), TEXTBUF_OK);
    assert_int_equal(textbuf_puts(&b, "a"), TEXTBUF_EFULL);
    assert_null(textbuf_take(&b, NULL));
    textbuf_free(&b);
}

static void test_printf(void **state)
{
    (void)state;
    struct textbuf b;
    textbuf_init(&b, 1 << 20);
    assert_int_equal(textbuf_printf(&b, "%s=%d", "n", 42), TEXTBUF_OK);   /* into no buffer yet */
    assert_int_equal(textbuf_printf(&b, " %.3f", 0.5), TEXTBUF_OK);
    assert_string_equal(b.data, "n=42 0.500");
    assert_int_equal(b.len, strlen("n=42 0.500"));
    assert_int_equal(textbuf_printf(&b, "%s", ""), TEXTBUF_OK);
    assert_int_equal(b.len, 10);

    /* Output far longer than the room left: it must grow, not cut. */
    char big[5000];
    memset(big, 'z', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    size_t before = b.len;
    assert_true(b.cap - b.len < sizeof(big));
    assert_int_equal(textbuf_printf(&b, "[%s]%d", big, 7), TEXTBUF_OK);
    assert_int_equal(b.len, before + 1 + 4999 + 2);
    assert_memory_equal(b.data, "n=42 0.500[z", 12);
    assert_string_equal(b.data + b.len - 3, "z]7");
    textbuf_free(&b);
}

static void test_printf_over_limit(void **state)
{
    (void)state;
    struct textbuf b;
    textbuf_init(&b, 20);
    assert_int_equal(textbuf_puts(&b, "0123456789"), TEXTBUF_OK);
    /* Some room is allocated past len, so vsnprintf writes a cut-off prefix
     * there first; none of it may show, and the NUL must stay put. */
    assert_true(b.cap > b.len + 1);
    assert_int_equal(textbuf_printf(&b, "%s", "abcdefghijklmnop"), TEXTBUF_EFULL);
    assert_int_equal(b.len, 10);
    assert_string_equal(b.data, "0123456789");
    assert_null(textbuf_take(&b, NULL));
    textbuf_free(&b);

    textbuf_init(&b, 20);   /* exactly up to the limit is fine */
    assert_int_equal(textbuf_printf(&b, "%020d", 5), TEXTBUF_OK);
    assert_int_equal(b.len, 20);
    assert_string_equal(b.data, "00000000000000000005");
    assert_int_equal(textbuf_printf(&b, "%s", ""), TEXTBUF_OK);
    assert_int_equal(textbuf_printf(&b, "%c", 'x'), TEXTBUF_EFULL);
    textbuf_free(&b);
}

static void test_take(void **state)
{
    (void)state;
    struct textbuf b;
    textbuf_init(&b, 4096);
    for (int i = 0; i < 100; i++)
        assert_int_equal(textbuf_printf(&b, "%d,", i), TEXTBUF_OK);
    size_t expect_len = b.len;
    char *expect = strdup(b.data);
    assert_non_null(expect);

    size_t len = 0;
    char *s = textbuf_take(&b, &len);
    assert_non_null(s);
    assert_int_equal(len, expect_len);
    assert_string_equal(s, expect);
    /* The buffer no longer owns it: it is empty and reusable, and freeing it
     * must not touch the taken string (ASan would see a double free). */
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
    assert_int_equal(b.max, 4096);
    textbuf_free(&b);
    assert_int_equal(textbuf_puts(&b, "again"), TEXTBUF_OK);
    char *t = textbuf_take(&b, NULL);
    assert_string_equal(t, "again");
    assert_string_equal(s, expect);   /* still intact after the buffer's reuse */
    free(s);
    free(t);
    free(expect);
    textbuf_free(&b);
}

static void test_strerror(void **state)
{
    (void)state;
    assert_string_equal(textbuf_strerror(TEXTBUF_OK), "no error");
    assert_string_equal(textbuf_strerror(TEXTBUF_ENOMEM), "out of memory");
    assert_string_equal(textbuf_strerror(TEXTBUF_EFORMAT), "format error");
    assert_string_equal(textbuf_strerror(12345), "unknown textbuf error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_append_and_grow),
        cmocka_unit_test(test_limit_exact),
        cmocka_unit_test(test_limit_is_all_or_nothing_and_sticky),
        cmocka_unit_test(test_huge_length_refused),
        cmocka_unit_test(test_printf),
        cmocka_unit_test(test_printf_over_limit),
        cmocka_unit_test(test_take),
        cmocka_unit_test(test_strerror),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
