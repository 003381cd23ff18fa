/* fuzz_sio_packet.c -- the Socket.IO decoder (header, JSON data, first
 * argument scan, the hot path's split) on arbitrary bytes, and an
 * encode/decode round trip. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sio_packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    struct sio_packet p, q;
    cJSON *d = NULL;
    const char *arg0;
    size_t arg0_len, len;
    char *enc;
    char nsp[SIO_NSP_MAX + 1];

    char name[64];

    (void)sio_json_value_len(s, size);
    if (sio_decode(s, size, &p) != 0)
        return 0;
    /* The hot path's split: the name and argument it reports lie inside the
     * data, and when the data is valid JSON with exactly one argument they
     * agree with the full parse. */
    if (sio_event_split(p.data, p.data_len, name, sizeof(name), &arg0, &arg0_len) == 0) {
        if (strlen(name) >= sizeof(name) ||
            (arg0 != NULL && (arg0 < p.data || arg0 + arg0_len > p.data + p.data_len)))
            abort();
        cJSON *full = cJSON_ParseWithLength(p.data, p.data_len);
        if (cJSON_IsArray(full) && cJSON_GetArraySize(full) == 2 && arg0 != NULL) {
            /* Compared printed: cJSON_Compare cannot match duplicate names. */
            cJSON *a = cJSON_ParseWithLength(arg0, arg0_len);
            char *pa = a != NULL ? cJSON_PrintUnformatted(a) : NULL;
            char *pf = cJSON_PrintUnformatted(cJSON_GetArrayItem(full, 1));
            if (pa == NULL || pf == NULL || strcmp(pa, pf) != 0 ||
                !cJSON_IsString(cJSON_GetArrayItem(full, 0)) ||
                strcmp(cJSON_GetArrayItem(full, 0)->valuestring, name) != 0)
                abort();
            cJSON_free(pa);
            cJSON_free(pf);
            cJSON_Delete(a);
        }
        cJSON_Delete(full);
    }
    if (p.nsp_len > SIO_NSP_MAX || p.data + p.data_len != s + size)
        abort();
    if (sio_decode_data(&p, &d) != 0)
        return 0;
    if ((p.type == SIO_EVENT || p.type == SIO_BINARY_EVENT) &&
        sio_event_arg0(p.data, p.data_len, &arg0, &arg0_len) == 0 && arg0 != NULL) {
        cJSON *a = cJSON_ParseWithLength(arg0, arg0_len);
        /* the scanner's slice of valid JSON is itself valid JSON */
        if (a == NULL)
            abort();
        cJSON_Delete(a);
    }
    memcpy(nsp, p.nsp, p.nsp_len);
    nsp[p.nsp_len] = '\0';
    if (strlen(nsp) == p.nsp_len && memchr(nsp, ',', p.nsp_len) == NULL) {
        enc = sio_encode_alloc(p.type, nsp, p.attachments, p.ack_id, d, 0, &len);
        if (enc != NULL) {
            if (sio_decode(enc, len, &q) != 0 || q.type != p.type || q.ack_id != p.ack_id ||
                q.attachments != p.attachments)
                abort();
            free(enc);
        }
    }
    cJSON_Delete(d);
    return 0;
}
