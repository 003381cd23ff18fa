/* fuzz_http_path.c -- hp_normalise() on arbitrary request paths: whatever
 * it accepts is a clean absolute path that can never climb out of the
 * root; plus gzip negotiation and MIME lookup on arbitrary headers/names. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_path.h"

static void check_clean(const char *p)
{
    size_t n = strlen(p);
    if (n == 0 || p[0] != '/')
        abort();
    if (n > 1 && p[n - 1] == '/')
        abort();                        /* no trailing slash */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c < 0x20 || c == 0x7f || c == '\\')
            abort();
        if (c == '/' && i + 1 < n && p[i + 1] == '/')
            abort();                    /* no empty segment */
    }
    /* no "." or ".." segment */
    for (const char *s = p; s; s = strchr(s + 1, '/')) {
        const char *seg = s + 1, *end = strchr(seg, '/');
        size_t len = end ? (size_t)(end - seg) : strlen(seg);
        if ((len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.'))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char out[HP_PATH_MAX];
    int rc = hp_normalise((const char *)data, size, out, sizeof(out));
    if (rc == HP_OK) {
        check_clean(out);
        /* normalising a clean path changes nothing (a decoded '%' would be
         * decoded again: not a clean path in that sense) */
        char again[HP_PATH_MAX];
        if (!strchr(out, '%')
            && (hp_normalise(out, strlen(out), again, sizeof(again)) != HP_OK || strcmp(out, again)))
            abort();
        if (!hp_mime_type(out))
            abort();
        (void)hp_has_hidden_segment(out);
        (void)hp_has_extension(out);
    } else if ((rc != HP_BAD && rc != HP_FORBIDDEN) || out[0] != '\0') {
        abort();
    }

    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    int g = hp_accepts_gzip(s);
    if (g != 0 && g != 1)
        abort();
    (void)hp_mime_compressible(hp_mime_type(s));
    free(s);
    return 0;
}
