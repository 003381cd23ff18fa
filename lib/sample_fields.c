/* sample_fields.c -- walk the top-level numbers of a scanned sample text
 * (see sample.h): what the Mongo writer stores of every sample, read
 * without building a cJSON tree. The text has passed sample_scan, so the
 * walk only has to find its way, not judge; it still never reads past len
 * and stops at anything unexpected. */
#include "sample.h"
#include "sio_packet.h"

#include <stdlib.h>
#include <string.h>

#define SF_NUMBER_MAX 64   /* sample_scan refuses longer number tokens */

static size_t sf_space(const char *s, size_t len, size_t i)
{
    while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    return i;
}

static int sf_hex(const char *s, unsigned *out)
{
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        char c = s[k];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

/* Appends code point cp as UTF-8; -1 when out is full. */
static int sf_put_utf8(unsigned cp, char *out, size_t cap, size_t *o)
{
    char b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xC0 | (cp >> 6));
        b[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xE0 | (cp >> 12));
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        b[0] = (char)(0xF0 | (cp >> 18));
        b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    if (*o + n >= cap)
        return -1;
    memcpy(out + *o, b, n);
    *o += n;
    return 0;
}

/* Decodes the string starting at s[i] == '"' into out (NUL-terminated).
 * Returns the index after the closing quote, or 0 on anything unexpected
 * (including a name longer than cap - 1 bytes). */
static size_t sf_string(const char *s, size_t len, size_t i, char *out, size_t cap, size_t *outlen)
{
    size_t o = 0;
    for (i++; i < len && s[i] != '"'; i++) {
        if (s[i] != '\\') {
            if (o + 1 >= cap)
                return 0;
            out[o++] = s[i];
            continue;
        }
        if (++i >= len)
            return 0;
        char c = s[i], e;
        switch (c) {
        case 'b': e = '\b'; break;
        case 'f': e = '\f'; break;
        case 'n': e = '\n'; break;
        case 'r': e = '\r'; break;
        case 't': e = '\t'; break;
        case '"': case '\\': case '/': e = c; break;
        case 'u': {
            unsigned cp, lo;
            if (i + 4 >= len || sf_hex(s + i + 1, &cp) != 0)
                return 0;
            i += 4;
            /* A high surrogate must pair with the low one that follows. */
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (i + 6 >= len || s[i + 1] != '\\' || s[i + 2] != 'u' || sf_hex(s + i + 3, &lo) != 0
                    || lo < 0xDC00 || lo > 0xDFFF)
                    return 0;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                i += 6;
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                return 0;
            }
            if (cp == 0 || sf_put_utf8(cp, out, cap, &o) != 0)
                return 0;
            continue;
        }
        default:
            return 0;
        }
        if (o + 1 >= cap)
            return 0;
        out[o++] = e;
    }
    if (i >= len)
        return 0;
    out[o] = '\0';
    *outlen = o;
    return i + 1;
}

int sample_each_number(const char *json, size_t len, sample_number_fn fn, void *user)
{
    char name[SAMPLE_KEY_MAX + 1], tok[SF_NUMBER_MAX + 1];
    size_t i = sf_space(json, len, 0), nlen;

    if (i >= len || json[i] != '{')
        return -1;
    i = sf_space(json, len, i + 1);
    if (i < len && json[i] == '}')
        return 0;
    for (;;) {
        if (i >= len || json[i] != '"' || (i = sf_string(json, len, i, name, sizeof(name), &nlen)) == 0)
            return -1;
        i = sf_space(json, len, i);
        if (i >= len || json[i] != ':')
            return -1;
        i = sf_space(json, len, i + 1);
        if (i >= len)
            return -1;
        size_t start = i;
        char c = json[i];
        /* The value's extent by the same light scanner the engine uses. */
        size_t vlen = sio_json_value_len(json + i, len - i);
        if (vlen == 0)
            return -1;
        i += vlen;
        if (c == '-' || (c >= '0' && c <= '9')) {
            size_t n = i - start;
            if (n > SF_NUMBER_MAX)
                return -1;
            memcpy(tok, json + start, n);
            tok[n] = '\0';
            fn(name, nlen, strtod(tok, NULL), user);
        }
        i = sf_space(json, len, i);
        if (i < len && json[i] == ',') {
            i = sf_space(json, len, i + 1);
            continue;
        }
        return i < len && json[i] == '}' ? 0 : -1;
    }
}
