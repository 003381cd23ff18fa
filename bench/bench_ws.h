/* bench_ws.h -- the few pieces of RFC 6455 a load-generating client needs:
 * the upgrade request, the 101 check, and frame headers. Pure: caller
 * buffers, no I/O.
 *
 * Why not the libwebsockets client: a load generator must never be the
 * bottleneck, and a raw non-blocking socket per simulated agent on one
 * epoll set costs one send() per sample and a few hundred bytes of state,
 * where an lws client wsi brings its own buffers and a callback chain per
 * message. Client frames are masked with the
 * all-zero key, which RFC 6455 allows (the key only has to be present); it
 * saves the XOR pass and lets a sample be written straight from its
 * buffer. */
#ifndef PERFLOAD_BENCH_WS_H
#define PERFLOAD_BENCH_WS_H

#include <stddef.h>
#include <stdint.h>

#define BENCH_WS_TEXT  0x1
#define BENCH_WS_BIN   0x2
#define BENCH_WS_CLOSE 0x8
#define BENCH_WS_PING  0x9
#define BENCH_WS_PONG  0xA

/* Longest client frame header: 2 + 8 (length) + 4 (mask). */
#define BENCH_WS_HDR_MAX 14

/* Writes the GET request upgrading path on host. Returns its length or -1. */
int bench_ws_request(const char *host, const char *path, char *out, size_t cap);

/* Looks for the end of the HTTP response in buf[0..len). Returns the length
 * of the response head (bytes to consume) when complete and a 101, 0 when
 * more bytes are needed, -1 when it is complete but not a 101. */
int bench_ws_response(const char *buf, size_t len);

/* Writes a masked (zero key) client frame header for a FIN frame of opcode
 * and payload length len. Returns the header length. */
size_t bench_ws_frame_header(int opcode, size_t len, unsigned char *out);

struct bench_ws_frame {
    int fin;
    int opcode;
    size_t header_len;      /* bytes before the payload */
    uint64_t payload_len;
};

/* Parses a server frame header at buf[0..len). Returns 1 when the header
 * is complete (f filled), 0 when more bytes are needed, -1 when malformed
 * (a masked server frame). */
int bench_ws_parse(const unsigned char *buf, size_t len, struct bench_ws_frame *f);

#endif
