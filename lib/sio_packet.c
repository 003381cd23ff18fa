/* sio_packet.c -- Socket.IO v5 packet codec (see sio_packet.h). */
#include "sio_packet.h"

#include <stdlib.h>
#include <string.h>

#include "decimal.h"

static const char root_nsp[] = "/";

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

int sio_decode(const char *buf, size_t len, struct sio_packet *out)
{
    size_t i = 0;

    if (buf == NULL || len == 0 || buf[0] < '0' || buf[0] > '6')
        return SIO_PKT_ERR_MALFORMED;
    memset(out, 0, sizeof(*out));
    out->type = (enum sio_packet_type)(buf[0] - '0');
    out->nsp = root_nsp;
    out->nsp_len = 1;
    out->ack_id = -1;
    i = 1;

    if (out->type == SIO_BINARY_EVENT || out->type == SIO_BINARY_ACK) {
        long n = 0;
        size_t digits = 0;

        while (i < len && is_digit(buf[i])) {
            if (++digits > 3)
                return SIO_PKT_ERR_MALFORMED;
            n = n * 10 + (buf[i] - '0');
            i++;
        }
        if (digits == 0 || i >= len || buf[i] != '-' || n > SIO_ATTACHMENTS_MAX)
            return SIO_PKT_ERR_MALFORMED;
        out->attachments = n;
        i++;
    }

    if (i < len && buf[i] == '/') {
        size_t start = i;

        while (i < len && buf[i] != ',')
            i++;
        if (i - start > SIO_NSP_MAX)
            return SIO_PKT_ERR_MALFORMED;
        out->nsp = buf + start;
        out->nsp_len = i - start;
        if (i < len)
            i++; /* the ',' */
    }

    if (i < len && is_digit(buf[i])) {
        long id = 0;
        size_t digits = 0;

        while (i < len && is_digit(buf[i])) {
            if (++digits > 10)
                return SIO_PKT_ERR_MALFORMED;
            id = id * 10 + (buf[i] - '0');
            i++;
        }
        if (id > SIO_ACK_ID_MAX)
            return SIO_PKT_ERR_MALFORMED;
        out->ack_id = id;
    }

    out->data = buf + i;
    out->data_len = len - i;
    return 0;
}

/* Event names the client library reserves; a peer may not send them. */
static int reserved_event(const char *name)
{
    static const char *const names[] = {
        "connect", "connect_error", "disconnect", "disconnecting",
        "newListener", "removeListener", NULL,
    };
    int i;

    for (i = 0; names[i]; i++)
        if (strcmp(name, names[i]) == 0)
            return 1;
    return 0;
}

int sio_decode_data(const struct sio_packet *p, cJSON **out)
{
    cJSON *v;
    const char *end = NULL;
    size_t k;
    int ok = 0;

    *out = NULL;
    for (k = 0; k < p->data_len; k++)
        if (p->data[k] != ' ' && p->data[k] != '\t' && p->data[k] != '\r' && p->data[k] != '\n')
            break;
    if (k == p->data_len) {
        /* No data: fine for CONNECT and DISCONNECT only. */
        return (p->type == SIO_CONNECT || p->type == SIO_DISCONNECT) ? 0 : SIO_PKT_ERR_MALFORMED;
    }
    /* JSON allows no raw control characters (cJSON would take them as
     * whitespace, and the pass-through scanner must agree with the parser). */
    for (k = 0; k < p->data_len; k++) {
        unsigned char c = (unsigned char)p->data[k];

        if (c < 0x20 && c != ' ' && c != '\t' && c != '\r' && c != '\n')
            return SIO_PKT_ERR_MALFORMED;
    }
    v = cJSON_ParseWithLengthOpts(p->data, p->data_len, &end, 0);
    if (v == NULL)
        return SIO_PKT_ERR_MALFORMED;
    /* Trailing bytes after the value (other than whitespace) are garbage. */
    while (end < p->data + p->data_len &&
           (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
        end++;
    if (end != p->data + p->data_len) {
        cJSON_Delete(v);
        return SIO_PKT_ERR_MALFORMED;
    }
    switch (p->type) {
    case SIO_CONNECT:
        ok = cJSON_IsObject(v);
        break;
    case SIO_DISCONNECT:
        ok = 0;
        break;
    case SIO_EVENT:
    case SIO_BINARY_EVENT: {
        cJSON *name = cJSON_GetArrayItem(v, 0);

        ok = cJSON_IsArray(v) && cJSON_IsString(name) && !reserved_event(name->valuestring);
        break;
    }
    case SIO_ACK:
    case SIO_BINARY_ACK:
        ok = cJSON_IsArray(v);
        break;
    case SIO_CONNECT_ERROR:
        ok = cJSON_IsObject(v) || cJSON_IsString(v);
        break;
    }
    if (!ok) {
        cJSON_Delete(v);
        return SIO_PKT_ERR_MALFORMED;
    }
    *out = v;
    return 0;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

size_t sio_json_value_len(const char *s, size_t len)
{
    size_t i = 0, start, depth = 0;

    while (i < len && is_space(s[i]))
        i++;
    start = i;
    if (i >= len)
        return 0;
    if (s[i] != '[' && s[i] != '{' && s[i] != '"') {
        /* number, true, false, null: up to a delimiter */
        while (i < len && !is_space(s[i]) && s[i] != ',' && s[i] != ']' && s[i] != '}')
            i++;
        return i > start ? i : 0;
    }
    for (; i < len; i++) {
        char c = s[i];

        if (c == '"') {
            for (i++; i < len && s[i] != '"'; i++)
                if (s[i] == '\\')
                    i++;
            if (i >= len)
                return 0;
            if (depth == 0)
                return i + 1;
        } else if (c == '[' || c == '{') {
            depth++;
        } else if (c == ']' || c == '}') {
            if (depth == 0)
                return 0;
            if (--depth == 0)
                return i + 1;
        }
    }
    return 0;
}

int sio_event_arg0(const char *data, size_t len, const char **arg0, size_t *arg0_len)
{
    size_t i = 0, n;

    *arg0 = NULL;
    *arg0_len = 0;
    while (i < len && is_space(data[i]))
        i++;
    if (i >= len || data[i] != '[')
        return SIO_PKT_ERR_MALFORMED;
    i++;
    n = sio_json_value_len(data + i, len - i); /* the event name */
    if (n == 0)
        return SIO_PKT_ERR_MALFORMED;
    i += n;
    while (i < len && is_space(data[i]))
        i++;
    if (i >= len)
        return SIO_PKT_ERR_MALFORMED;
    if (data[i] == ']')
        return 0;
    if (data[i] != ',')
        return SIO_PKT_ERR_MALFORMED;
    i++;
    while (i < len && is_space(data[i]))
        i++;
    n = sio_json_value_len(data + i, len - i);
    if (n == 0)
        return SIO_PKT_ERR_MALFORMED;
    *arg0 = data + i;
    *arg0_len = n;
    return 0;
}

int sio_event_split(const char *data, size_t len, char *name, size_t name_cap,
                    const char **arg0, size_t *arg0_len)
{
    size_t i = 0, start;

    *arg0 = NULL;
    *arg0_len = 0;
    while (i < len && is_space(data[i]))
        i++;
    if (i >= len || data[i] != '[')
        return SIO_PKT_ERR_MALFORMED;
    i++;
    while (i < len && is_space(data[i]))
        i++;
    if (i >= len || data[i] != '"')
        return SIO_PKT_ERR_MALFORMED;
    /* A plain name only: anything escaped takes the full parser's path. */
    start = ++i;
    while (i < len && data[i] != '"') {
        unsigned char ch = (unsigned char)data[i];
        if (ch == '\\' || ch < 0x20)
            return SIO_PKT_ERR_MALFORMED;
        i++;
    }
    if (i >= len || i - start >= name_cap)
        return SIO_PKT_ERR_MALFORMED;
    memcpy(name, data + start, i - start);
    name[i - start] = '\0';
    i++;
    while (i < len && is_space(data[i]))
        i++;
    if (i < len && data[i] == ',') {
        /* The argument is everything up to the closing bracket: found from
         * the end in O(1) instead of scanning the text a second time (the
         * handler's strict parse already rejects "1,2" or "{" there). */
        size_t end = len;
        while (end > i && is_space(data[end - 1]))
            end--;
        if (end == i || data[end - 1] != ']')
            return SIO_PKT_ERR_MALFORMED;
        end--;
        i++;
        while (i < end && is_space(data[i]))
            i++;
        while (end > i && is_space(data[end - 1]))
            end--;
        if (end == i)
            return SIO_PKT_ERR_MALFORMED;
        *arg0 = data + i;
        *arg0_len = end - i;
        return 0;
    }
    if (i >= len || data[i] != ']')
        return SIO_PKT_ERR_MALFORMED;
    for (i++; i < len; i++)
        if (!is_space(data[i]))
            return SIO_PKT_ERR_MALFORMED;
    return 0;
}

/* Writes the decimal digits of v (>= 0) into out; returns count or -1. */
static int put_long(long v, char *out, size_t cap)
{
    char tmp[DECIMAL_MAX];
    size_t n = decimal_u64(tmp, (uint64_t)v);

    if (n > cap)
        return -1;
    memcpy(out, tmp, n);
    return (int)n;
}

static size_t long_len(long v)
{
    size_t n = 1;

    while (v >= 10) {
        v /= 10;
        n++;
    }
    return n;
}

static int nsp_is_root(const char *nsp)
{
    return nsp == NULL || nsp[0] == '\0' || strcmp(nsp, "/") == 0;
}

int sio_encode_header(enum sio_packet_type type, const char *nsp, long attachments,
                      long ack_id, char *out, size_t cap)
{
    size_t o = 0;
    int n;

    if ((int)type < 0 || type > SIO_BINARY_ACK)
        return SIO_PKT_ERR_MALFORMED;
    if (cap < 1)
        return SIO_PKT_ERR_SPACE;
    out[o++] = (char)('0' + type);
    if (type == SIO_BINARY_EVENT || type == SIO_BINARY_ACK) {
        if (attachments < 0)
            return SIO_PKT_ERR_MALFORMED;
        n = put_long(attachments, out + o, cap - o);
        if (n < 0 || o + (size_t)n >= cap)
            return SIO_PKT_ERR_SPACE;
        o += (size_t)n;
        out[o++] = '-';
    }
    if (!nsp_is_root(nsp)) {
        size_t l = strlen(nsp);

        if (nsp[0] != '/')
            return SIO_PKT_ERR_MALFORMED;
        if (cap - o < l + 1)
            return SIO_PKT_ERR_SPACE;
        memcpy(out + o, nsp, l);
        o += l;
        out[o++] = ',';
    }
    if (ack_id >= 0) {
        n = put_long(ack_id, out + o, cap - o);
        if (n < 0)
            return SIO_PKT_ERR_SPACE;
        o += (size_t)n;
    }
    return (int)o;
}

int sio_encode(enum sio_packet_type type, const char *nsp, long attachments, long ack_id,
               const char *json, size_t json_len, char *out, size_t cap)
{
    int h = sio_encode_header(type, nsp, attachments, ack_id, out, cap);

    if (h < 0)
        return h;
    if (json_len >= (size_t)0x7fffffff - (size_t)h)
        return SIO_PKT_ERR_MALFORMED;
    if (cap - (size_t)h < json_len)
        return SIO_PKT_ERR_SPACE;
    if (json_len)
        memcpy(out + h, json, json_len);
    return h + (int)json_len;
}

size_t sio_json_quoted_len(const char *s, size_t len)
{
    size_t n = 2, i;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f')
            n += 2;
        else if (c < 0x20)
            n += 6;
        else
            n += 1;
    }
    return n;
}

int sio_json_quote(const char *s, size_t len, char *out, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0, i;

    if (sio_json_quoted_len(s, len) > cap)
        return SIO_PKT_ERR_SPACE;
    out[o++] = '"';
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        switch (c) {
        case '"': out[o++] = '\\'; out[o++] = '"'; break;
        case '\\': out[o++] = '\\'; out[o++] = '\\'; break;
        case '\n': out[o++] = '\\'; out[o++] = 'n'; break;
        case '\r': out[o++] = '\\'; out[o++] = 'r'; break;
        case '\t': out[o++] = '\\'; out[o++] = 't'; break;
        case '\b': out[o++] = '\\'; out[o++] = 'b'; break;
        case '\f': out[o++] = '\\'; out[o++] = 'f'; break;
        default:
            if (c < 0x20) {
                out[o++] = '\\'; out[o++] = 'u'; out[o++] = '0'; out[o++] = '0';
                out[o++] = hex[c >> 4]; out[o++] = hex[c & 15];
            } else {
                out[o++] = (char)c;
            }
        }
    }
    out[o++] = '"';
    return (int)o;
}

size_t sio_event_raw_len(const char *nsp, const char *event, size_t json_len, long ack_id,
                         int eio_prefix)
{
    size_t n = (eio_prefix ? 1 : 0) + 1;

    if (!nsp_is_root(nsp))
        n += strlen(nsp) + 1;
    if (ack_id >= 0)
        n += long_len(ack_id);
    n += 1 + sio_json_quoted_len(event, strlen(event)) + 1;
    if (json_len)
        n += 1 + json_len;
    return n;
}

int sio_encode_event_raw(const char *nsp, const char *event, const char *json, size_t len,
                         long ack_id, int eio_prefix, char *out, size_t cap)
{
    size_t o = 0;
    int n;

    if (event == NULL || (json == NULL && len != 0))
        return SIO_PKT_ERR_MALFORMED;
    if (sio_event_raw_len(nsp, event, json ? len : 0, ack_id, eio_prefix) > cap)
        return SIO_PKT_ERR_SPACE;
    if (eio_prefix)
        out[o++] = '4';
    n = sio_encode_header(SIO_EVENT, nsp, 0, ack_id, out + o, cap - o);
    if (n < 0)
        return n;
    o += (size_t)n;
    out[o++] = '[';
    n = sio_json_quote(event, strlen(event), out + o, cap - o);
    if (n < 0)
        return n;
    o += (size_t)n;
    if (json && len) {
        out[o++] = ',';
        memcpy(out + o, json, len);
        o += len;
    }
    out[o++] = ']';
    return (int)o;
}

char *sio_encode_alloc(enum sio_packet_type type, const char *nsp, long attachments,
                       long ack_id, const cJSON *data, int eio_prefix, size_t *len)
{
    char header[SIO_NSP_MAX + 48];
    char *json = NULL, *out;
    size_t json_len = 0, pre = eio_prefix ? 1 : 0;
    int h;

    if (!nsp_is_root(nsp) && strlen(nsp) > SIO_NSP_MAX)
        return NULL;
    h = sio_encode_header(type, nsp, attachments, ack_id, header, sizeof(header));
    if (h < 0)
        return NULL;
    if (data) {
        json = cJSON_PrintUnformatted(data);
        if (json == NULL)
            return NULL;
        json_len = strlen(json);
    }
    out = malloc(pre + (size_t)h + json_len + 1);
    if (out == NULL) {
        free(json);
        return NULL;
    }
    if (pre)
        out[0] = '4';
    memcpy(out + pre, header, (size_t)h);
    if (json_len)
        memcpy(out + pre + (size_t)h, json, json_len);
    out[pre + (size_t)h + json_len] = '\0';
    free(json);
    if (len)
        *len = pre + (size_t)h + json_len;
    return out;
}
