/* eio_packet.h -- Engine.IO packet and polling-payload codec, pure.
 *
 * Engine.IO v4 (https://github.com/socketio/engine.io-protocol): a packet is
 * one type digit '0'..'6' followed by its data; binary packets travel as
 * WebSocket binary frames (no type byte) or, inside a polling payload, as
 * 'b' + base64. A polling payload joins packets with the record separator
 * 0x1e. Engine.IO v3 payloads are "<length>:<packet>" repeated, where length
 * counts characters (UTF-16 code units, as JavaScript does).
 *
 * Model: picohttpparser. No allocation, no I/O: callers own every buffer,
 * decoded packets point into the caller's input, every error is a value
 * (-1 = malformed, -2 = output buffer too small). */
#ifndef PERFLOAD_EIO_PACKET_H
#define PERFLOAD_EIO_PACKET_H

#include <stddef.h>

enum eio_packet_type {
    EIO_OPEN = 0,
    EIO_CLOSE = 1,
    EIO_PING = 2,
    EIO_PONG = 3,
    EIO_MESSAGE = 4,
    EIO_UPGRADE = 5,
    EIO_NOOP = 6,
};

#define EIO_ERR_MALFORMED -1
#define EIO_ERR_SPACE     -2

/* The record separator between packets of a v4 polling payload. */
#define EIO_SEPARATOR '\x1e'

struct eio_packet {
    enum eio_packet_type type;
    int binary;          /* 1: data is binary (WS binary frame, or base64 'b' packet) */
    int base64;          /* 1: data is still base64 text (from a 'b' packet): decode with eio_base64_decode */
    const char *data;    /* points into the input, after the type character; not NUL-terminated */
    size_t len;
};

/* Decodes one text packet (a WebSocket text frame, or one element of a
 * polling payload: then a leading 'b' means base64 binary). Returns 0 or
 * EIO_ERR_MALFORMED (empty input, unknown type). */
int eio_decode_text(const char *buf, size_t len, int in_payload, struct eio_packet *out);

/* A WebSocket binary frame is a binary message packet as is. */
void eio_decode_binary(const void *buf, size_t len, struct eio_packet *out);

/* Iterates a v4 polling payload: call with *pos = 0; returns 1 and fills out
 * for each packet, 0 at the end, EIO_ERR_MALFORMED for an empty or invalid
 * packet (then stop: the whole payload is rejected by the protocol). */
int eio_payload_next(const char *buf, size_t len, size_t *pos, struct eio_packet *out);

/* Same for a v3 payload ("<len>:<packet>..."), where a packet starting with
 * 'b' is "b<type><base64>" (binary) in v3 text payloads. */
int eio_payload_v3_next(const char *buf, size_t len, size_t *pos, struct eio_packet *out);

/* Encodes a text packet: type digit + data. Returns bytes written (no NUL
 * is written) or EIO_ERR_SPACE. data may be NULL when len is 0. */
int eio_encode_text(enum eio_packet_type type, const char *data, size_t len, char *out, size_t cap);

/* Encodes a binary message for a polling payload: 'b' + base64(data). */
int eio_encode_binary_b64(const void *data, size_t len, char *out, size_t cap);

/* Appends one encoded packet to a v4 payload being built in out[0..*used):
 * adds the separator when *used > 0. Returns 0 or EIO_ERR_SPACE. */
int eio_payload_append(char *out, size_t cap, size_t *used, const char *pkt, size_t pkt_len);

/* Appends one text packet to a v3 payload: "<chars>:<pkt>". */
int eio_payload_v3_append(char *out, size_t cap, size_t *used, const char *pkt, size_t pkt_len);

/* Length in UTF-16 code units of UTF-8 text (what v3 length prefixes
 * count); invalid bytes count as one unit each. */
size_t eio_utf16_length(const char *s, size_t len);

/* base64 (RFC 4648, with padding). encoded_len gives the exact output size.
 * decode returns bytes written or EIO_ERR_MALFORMED / EIO_ERR_SPACE. */
size_t eio_base64_encoded_len(size_t len);
size_t eio_base64_decoded_max(size_t len);
int eio_base64_encode(const void *in, size_t len, char *out, size_t cap);
int eio_base64_decode(const char *in, size_t len, void *out, size_t cap);

#endif
