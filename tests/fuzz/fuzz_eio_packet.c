/* fuzz_eio_packet.c -- every Engine.IO decoder on arbitrary bytes, plus a
 * re-encode round trip of what was decoded. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eio_packet.h"

static void check_packet(const struct eio_packet *p)
{
    unsigned char bin[4096];
    char enc[8192];
    int n;

    if (p->base64) {
        n = eio_base64_decode(p->data, p->len, bin, sizeof(bin));
        if (n >= 0) {
            int m = eio_base64_encode(bin, (size_t)n, enc, sizeof(enc));
            /* a decodable base64 re-encodes to the same text (canonical padding bits aside) */
            if (m != (int)p->len)
                abort();
        }
    } else if (p->len < sizeof(enc)) {
        n = eio_encode_text(p->type, p->data, p->len, enc, sizeof(enc));
        if (n != (int)p->len + 1 || enc[0] != (char)('0' + p->type))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    struct eio_packet p;
    size_t pos = 0;
    int r, guard = 0;
    char out[65536 + 64];
    size_t used = 0;

    if (eio_decode_text(s, size, 0, &p) == 0)
        check_packet(&p);
    eio_decode_binary(data, size, &p);

    while ((r = eio_payload_next(s, size, &pos, &p)) == 1 && guard++ < 100000) {
        check_packet(&p);
        if (p.base64)
            continue;
        /* rebuild the payload from text packets */
        eio_payload_append(out, sizeof(out), &used, p.data - 1, p.len + 1);
    }
    pos = 0;
    guard = 0;
    while ((r = eio_payload_v3_next(s, size, &pos, &p)) == 1 && guard++ < 100000)
        check_packet(&p);
    (void)eio_utf16_length(s, size);
    used = 0;
    if (size > 0)
        eio_payload_v3_append(out, sizeof(out), &used, s, size);
    return 0;
}
