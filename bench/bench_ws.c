/* bench_ws.c -- minimal WebSocket client framing (see bench_ws.h). */
#include "bench_ws.h"

#include <stdio.h>
#include <string.h>

int bench_ws_request(const char *host, const char *path, char *out, size_t cap)
{
    /* The key is fixed: the generator does not check Sec-WebSocket-Accept
     * (loopback, a server under test). */
    int n = snprintf(out, cap,
                     "GET %s HTTP/1.1\r\n"
                     "Host: %s\r\n"
                     "Upgrade: websocket\r\n"
                     "Connection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\n"
                     "\r\n", path, host);
    return n > 0 && (size_t)n < cap ? n : -1;
}

int bench_ws_response(const char *buf, size_t len)
{
    const char *end = NULL;

    for (size_t i = 0; i + 3 < len; i++)
        if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' && buf[i + 3] == '\n') {
            end = buf + i + 4;
            break;
        }
    if (end == NULL)
        return len > 8192 ? -1 : 0;
    if (len < 12 || memcmp(buf, "HTTP/1.1 101", 12) != 0)
        return -1;
    return (int)(end - buf);
}

size_t bench_ws_frame_header(int opcode, size_t len, unsigned char *out)
{
    size_t n = 0;

    out[n++] = (unsigned char)(0x80 | (opcode & 0x0f));
    if (len < 126) {
        out[n++] = (unsigned char)(0x80 | len);
    } else if (len < 65536) {
        out[n++] = 0x80 | 126;
        out[n++] = (unsigned char)(len >> 8);
        out[n++] = (unsigned char)len;
    } else {
        out[n++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            out[n++] = (unsigned char)((uint64_t)len >> (8 * i));
    }
    memset(out + n, 0, 4);          /* the zero masking key */
    return n + 4;
}

int bench_ws_parse(const unsigned char *buf, size_t len, struct bench_ws_frame *f)
{
    if (len < 2)
        return 0;
    if (buf[1] & 0x80)
        return -1;
    f->fin = (buf[0] & 0x80) != 0;
    f->opcode = buf[0] & 0x0f;
    uint64_t pl = buf[1] & 0x7f;
    size_t hl = 2;
    if (pl == 126) {
        if (len < 4)
            return 0;
        pl = ((uint64_t)buf[2] << 8) | buf[3];
        hl = 4;
    } else if (pl == 127) {
        if (len < 10)
            return 0;
        pl = 0;
        for (int i = 0; i < 8; i++)
            pl = (pl << 8) | buf[2 + i];
        hl = 10;
    }
    f->header_len = hl;
    f->payload_len = pl;
    return 1;
}
