/* sio_packet.h -- Socket.IO v5 packet codec, pure.
 *
 * Wire form (https://github.com/socketio/socket.io-protocol), inside one
 * Engine.IO message packet:
 *
 *   <type>[<attachments>-][<namespace>,][<ack id>][<JSON data>]
 *
 * type 0 CONNECT, 1 DISCONNECT, 2 EVENT, 3 ACK, 4 CONNECT_ERROR,
 * 5 BINARY_EVENT, 6 BINARY_ACK. The namespace is present when it is not "/"
 * (it starts with '/'; the ',' may be missing when nothing follows).
 *
 * Decoding is two steps, both allocation-free for the caller to see:
 *   sio_decode()       splits the header and points at the raw JSON text;
 *   sio_decode_data()  parses and validates that JSON with cJSON for the
 *                      packet type (the caller frees the cJSON tree).
 * Encoding writes into caller buffers and returns the length written, or
 * SIO_PKT_ERR_SPACE; sio_encode_event_raw() is the hot path used to fan one
 * already-serialised JSON value out to many sockets without cJSON. */
#ifndef PERFLOAD_SIO_PACKET_H
#define PERFLOAD_SIO_PACKET_H

#include <stddef.h>
#include <cJSON.h>

enum sio_packet_type {
    SIO_CONNECT = 0,
    SIO_DISCONNECT = 1,
    SIO_EVENT = 2,
    SIO_ACK = 3,
    SIO_CONNECT_ERROR = 4,
    SIO_BINARY_EVENT = 5,
    SIO_BINARY_ACK = 6,
};

#define SIO_PKT_ERR_MALFORMED -1
#define SIO_PKT_ERR_SPACE     -2

/* Longest namespace accepted (bytes, including the leading '/'). */
#define SIO_NSP_MAX 256
/* Largest ack id accepted (the JS client counts up from 0). */
#define SIO_ACK_ID_MAX 2147483647L
/* Most binary attachments accepted in one packet. */
#define SIO_ATTACHMENTS_MAX 64

struct sio_packet {
    enum sio_packet_type type;
    const char *nsp;      /* points into the input, or at the static "/" */
    size_t nsp_len;
    long attachments;     /* BINARY_*: count; otherwise 0 */
    long ack_id;          /* -1 when absent */
    const char *data;     /* raw JSON text (points into the input), maybe empty */
    size_t data_len;
};

/* Splits a Socket.IO packet (the data of an Engine.IO message, without the
 * Engine.IO '4'). Returns 0 or SIO_PKT_ERR_MALFORMED. Only the header is
 * checked here; the JSON is checked by sio_decode_data. */
int sio_decode(const char *buf, size_t len, struct sio_packet *out);

/* Parses p->data with cJSON and checks it fits p->type:
 *   CONNECT        absent or an object
 *   DISCONNECT     absent
 *   EVENT/BINARY_EVENT  an array whose first element is a string
 *   ACK/BINARY_ACK      an array
 *   CONNECT_ERROR  an object or a string
 * On success returns 0 and *out is the tree (NULL when the data is absent);
 * the caller frees it with cJSON_Delete. */
int sio_decode_data(const struct sio_packet *p, cJSON **out);

/* For an EVENT's data "[<name>,<arg0>,...]": finds the exact text of the
 * first argument after the name. Returns 0 with *arg0 and *arg0_len set (NULL/0
 * when there is no argument) or SIO_PKT_ERR_MALFORMED. The data must be
 * valid JSON (call after sio_decode_data succeeded). */
int sio_event_arg0(const char *data, size_t len, const char **arg0, size_t *arg0_len);

/* The hot path's shape test, without building a tree: data is
 * "[" "<name>" ["," <arg0>] "]" with a plain event name (no escapes or
 * control characters, shorter than name_cap). On success returns 0,
 * copies the name NUL-terminated into name and points *arg0 and *arg0_len
 * at the text between the comma after the name and the closing bracket,
 * trimmed (NULL/0 when there is no argument). Not a validator: that text
 * is only delimited, so it may hold more than one value ("1,2") or a
 * broken one; the caller must parse it strictly as one JSON value before
 * trusting it. Returns SIO_PKT_ERR_MALFORMED for any other shape (then
 * decode with sio_decode_data). */
int sio_event_split(const char *data, size_t len, char *name, size_t name_cap,
                    const char **arg0, size_t *arg0_len);

/* Length of the JSON value starting at s[0] (after optional whitespace), or
 * 0 when no complete value is there. A light scanner, not a validator. */
size_t sio_json_value_len(const char *s, size_t len);

/* Writes the header "<type>[<n>-][<nsp>,][<id>]" (nsp "/" or NULL is
 * omitted; ack_id < 0 omitted; attachments only for BINARY_*). Returns
 * bytes written or SIO_PKT_ERR_SPACE / SIO_PKT_ERR_MALFORMED. */
int sio_encode_header(enum sio_packet_type type, const char *nsp, long attachments,
                      long ack_id, char *out, size_t cap);

/* header + json text (json may be NULL / 0: no data). */
int sio_encode(enum sio_packet_type type, const char *nsp, long attachments, long ack_id,
               const char *json, size_t json_len, char *out, size_t cap);

/* Writes the JSON string literal of s (with quotes and escapes). Returns
 * bytes written or SIO_PKT_ERR_SPACE. */
int sio_json_quote(const char *s, size_t len, char *out, size_t cap);
/* Bytes sio_json_quote would write for s. */
size_t sio_json_quoted_len(const char *s, size_t len);

/* The hot path: writes [eio_prefix "4"] "2" [nsp ","] [ack id]
 * "[" quoted(event) ["," json] "]" without cJSON. json (len bytes, may be
 * NULL for no argument) must already be valid JSON text. eio_prefix 1 adds
 * the Engine.IO message type so the result is a complete Engine.IO text
 * packet. sio_event_raw_len gives the exact size needed. */
int sio_encode_event_raw(const char *nsp, const char *event, const char *json, size_t len,
                         long ack_id, int eio_prefix, char *out, size_t cap);
size_t sio_event_raw_len(const char *nsp, const char *event, size_t json_len, long ack_id,
                         int eio_prefix);

/* Serialises data (may be NULL) with cJSON and encodes a whole packet into
 * a malloc'ed, NUL-terminated buffer the caller frees; *len gets its length.
 * eio_prefix as above. NULL on allocation failure. */
char *sio_encode_alloc(enum sio_packet_type type, const char *nsp, long attachments,
                       long ack_id, const cJSON *data, int eio_prefix, size_t *len);

#endif
