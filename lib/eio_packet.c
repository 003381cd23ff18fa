/* eio_packet.c -- Engine.IO packet and polling-payload codec (see eio_packet.h). */
#include "eio_packet.h"

#include <string.h>

#include "decimal.h"

int eio_decode_text(const char *buf, size_t len, int in_payload, struct eio_packet *out)
{
    if (buf == NULL || len == 0)
        return EIO_ERR_MALFORMED;
    memset(out, 0, sizeof(*out));
    if (in_payload && buf[0] == 'b') {
        out->type = EIO_MESSAGE;
        out->binary = 1;
        out->base64 = 1;
        out->data = buf + 1;
        out->len = len - 1;
        return 0;
    }
    if (buf[0] < '0' || buf[0] > '6')
        return EIO_ERR_MALFORMED;
    out->type = (enum eio_packet_type)(buf[0] - '0');
    out->data = buf + 1;
    out->len = len - 1;
    return 0;
}

void eio_decode_binary(const void *buf, size_t len, struct eio_packet *out)
{
    memset(out, 0, sizeof(*out));
    out->type = EIO_MESSAGE;
    out->binary = 1;
    out->data = buf;
    out->len = len;
}

int eio_payload_next(const char *buf, size_t len, size_t *pos, struct eio_packet *out)
{
    size_t start = *pos, end;

    if (start > len)
        return EIO_ERR_MALFORMED;
    if (start == len) {
        /* An empty payload, or one ending in a separator, is malformed; a
         * fully consumed one simply ends. */
        return (len == 0 || buf[len - 1] == EIO_SEPARATOR) ? EIO_ERR_MALFORMED : 0;
    }
    for (end = start; end < len && buf[end] != EIO_SEPARATOR; end++)
        ;
    if (eio_decode_text(buf + start, end - start, 1, out) != 0)
        return EIO_ERR_MALFORMED;
    if (out->base64 && eio_base64_decoded_max(out->len) == 0 && out->len != 0)
        return EIO_ERR_MALFORMED;
    /* Past the separator; a trailing separator leaves *pos == len and is
     * reported as malformed by the next call. */
    *pos = end < len ? end + 1 : end;
    return 1;
}

/* Advances over n UTF-16 code units of UTF-8 text starting at s[i];
 * returns the byte index reached or (size_t)-1 if the text ends first. */
static size_t utf8_skip_units(const char *s, size_t len, size_t i, size_t n)
{
    while (n > 0) {
        unsigned char c;
        size_t step = 1, units = 1;

        if (i >= len)
            return (size_t)-1;
        c = (unsigned char)s[i];
        if (c >= 0xF0 && c <= 0xF4) { step = 4; units = 2; }
        else if (c >= 0xE0) step = 3;
        else if (c >= 0xC0) step = 2;
        if (i + step > len)
            step = 1;
        if (units > n)
            return (size_t)-1; /* length splits a surrogate pair */
        i += step;
        n -= units;
    }
    return i;
}

size_t eio_utf16_length(const char *s, size_t len)
{
    size_t i = 0, n = 0;

    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        size_t step = 1;

        if (c >= 0xF0 && c <= 0xF4) { step = 4; n++; }
        else if (c >= 0xE0) step = 3;
        else if (c >= 0xC0) step = 2;
        if (i + step > len)
            step = 1;
        i += step;
        n++;
    }
    return n;
}

int eio_payload_v3_next(const char *buf, size_t len, size_t *pos, struct eio_packet *out)
{
    size_t i = *pos, n = 0, digits = 0, end;

    if (i == len)
        return len == 0 ? EIO_ERR_MALFORMED : 0;
    if (i > len)
        return EIO_ERR_MALFORMED;
    while (i < len && buf[i] >= '0' && buf[i] <= '9') {
        if (++digits > 9)
            return EIO_ERR_MALFORMED;
        n = n * 10 + (size_t)(buf[i] - '0');
        i++;
    }
    if (digits == 0 || i >= len || buf[i] != ':' || n == 0)
        return EIO_ERR_MALFORMED;
    i++;
    end = utf8_skip_units(buf, len, i, n);
    if (end == (size_t)-1)
        return EIO_ERR_MALFORMED;
    if (buf[i] == 'b') {
        /* v3 text payloads carry binary as "b<type><base64>". */
        if (end - i < 2 || buf[i + 1] < '0' || buf[i + 1] > '6')
            return EIO_ERR_MALFORMED;
        memset(out, 0, sizeof(*out));
        out->type = (enum eio_packet_type)(buf[i + 1] - '0');
        out->binary = 1;
        out->base64 = 1;
        out->data = buf + i + 2;
        out->len = end - i - 2;
    } else if (eio_decode_text(buf + i, end - i, 0, out) != 0) {
        return EIO_ERR_MALFORMED;
    }
    *pos = end;
    return 1;
}

int eio_encode_text(enum eio_packet_type type, const char *data, size_t len, char *out, size_t cap)
{
    if ((int)type < 0 || type > EIO_NOOP || len >= (size_t)0x7fffffff)
        return EIO_ERR_MALFORMED;
    if (cap < len + 1)
        return EIO_ERR_SPACE;
    out[0] = (char)('0' + type);
    if (len)
        memcpy(out + 1, data, len);
    return (int)(len + 1);
}

int eio_encode_binary_b64(const void *data, size_t len, char *out, size_t cap)
{
    int n;

    if (cap < 1)
        return EIO_ERR_SPACE;
    out[0] = 'b';
    n = eio_base64_encode(data, len, out + 1, cap - 1);
    return n < 0 ? n : n + 1;
}

int eio_payload_append(char *out, size_t cap, size_t *used, const char *pkt, size_t pkt_len)
{
    size_t need = pkt_len + (*used > 0 ? 1 : 0);

    if (pkt_len == 0)
        return EIO_ERR_MALFORMED;
    if (*used > cap || cap - *used < need)
        return EIO_ERR_SPACE;
    if (*used > 0)
        out[(*used)++] = EIO_SEPARATOR;
    memcpy(out + *used, pkt, pkt_len);
    *used += pkt_len;
    return 0;
}

int eio_payload_v3_append(char *out, size_t cap, size_t *used, const char *pkt, size_t pkt_len)
{
    char prefix[DECIMAL_MAX + 1];
    size_t plen;

    if (pkt_len == 0)
        return EIO_ERR_MALFORMED;
    plen = decimal_u64(prefix, eio_utf16_length(pkt, pkt_len));
    prefix[plen++] = ':';
    if (*used > cap || cap - *used < plen + pkt_len)
        return EIO_ERR_SPACE;
    memcpy(out + *used, prefix, plen);
    memcpy(out + *used + plen, pkt, pkt_len);
    *used += plen + pkt_len;
    return 0;
}

/* -- base64 ------------------------------------------------------------ */

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t eio_base64_encoded_len(size_t len)
{
    return (len + 2) / 3 * 4;
}

/* 0 when len is not a valid base64 length (a multiple of 4). */
size_t eio_base64_decoded_max(size_t len)
{
    return len % 4 == 0 ? len / 4 * 3 : 0;
}

int eio_base64_encode(const void *in, size_t len, char *out, size_t cap)
{
    const unsigned char *p = in;
    size_t need = eio_base64_encoded_len(len), i, o = 0;

    if (need >= (size_t)0x7fffffff)
        return EIO_ERR_MALFORMED;
    if (cap < need)
        return EIO_ERR_SPACE;
    for (i = 0; i + 2 < len; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
        out[o++] = b64_alphabet[v >> 18 & 63];
        out[o++] = b64_alphabet[v >> 12 & 63];
        out[o++] = b64_alphabet[v >> 6 & 63];
        out[o++] = b64_alphabet[v & 63];
    }
    if (i < len) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < len ? (unsigned)p[i + 1] << 8 : 0);
        out[o++] = b64_alphabet[v >> 18 & 63];
        out[o++] = b64_alphabet[v >> 12 & 63];
        out[o++] = i + 1 < len ? b64_alphabet[v >> 6 & 63] : '=';
        out[o++] = '=';
    }
    return (int)o;
}

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

int eio_base64_decode(const char *in, size_t len, void *out, size_t cap)
{
    unsigned char *o = out;
    size_t i, n = 0;

    if (len % 4 != 0 || len >= (size_t)0x7fffffff)
        return EIO_ERR_MALFORMED;
    for (i = 0; i < len; i += 4) {
        int a = b64_value(in[i]), b = b64_value(in[i + 1]);
        int c = b64_value(in[i + 2]), d = b64_value(in[i + 3]);
        int last = i + 4 == len;

        if (a < 0 || b < 0)
            return EIO_ERR_MALFORMED;
        if (c < 0) {
            /* "xx==" only at the very end */
            if (!last || in[i + 2] != '=' || in[i + 3] != '=')
                return EIO_ERR_MALFORMED;
            if (n + 1 > cap)
                return EIO_ERR_SPACE;
            o[n++] = (unsigned char)(a << 2 | b >> 4);
            break;
        }
        if (d < 0) {
            if (!last || in[i + 3] != '=')
                return EIO_ERR_MALFORMED;
            if (n + 2 > cap)
                return EIO_ERR_SPACE;
            o[n++] = (unsigned char)(a << 2 | b >> 4);
            o[n++] = (unsigned char)((b & 15) << 4 | c >> 2);
            break;
        }
        if (n + 3 > cap)
            return EIO_ERR_SPACE;
        o[n++] = (unsigned char)(a << 2 | b >> 4);
        o[n++] = (unsigned char)((b & 15) << 4 | c >> 2);
        o[n++] = (unsigned char)((c & 3) << 6 | d);
    }
    return (int)n;
}
