/* fuzz_sample.c -- the sample schema on arbitrary JSON text: the raw check,
 * validation/normalisation, and what an accepted sample must then satisfy
 * (a valid macA, a memUsage in range, isActive true, a history entry that
 * fits and parses back). */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sample.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[SAMPLE_ERR_MAX];
    char hist[SAMPLE_HISTORY_MAX];

    sample_mac_valid((const char *)data, size);
    if (sample_raw_check((const char *)data, size, err, sizeof(err)) != 0)
        return 0;
    cJSON *o = cJSON_ParseWithLength((const char *)data, size);
    if (o == NULL)
        return 0;
    int r = sample_check(o, err, sizeof(err));
    if (r == SAMPLE_INVALID) {
        if (err[0] == '\0')
            abort();   /* every rejection says why */
    } else {
        const char *mac = sample_mac(o);
        if (mac == NULL || !sample_mac_valid(mac, strlen(mac)))
            abort();
        const cJSON *mu = cJSON_GetObjectItemCaseSensitive(o, "memUsage");
        if (!cJSON_IsNumber(mu) || !(mu->valuedouble >= 0 && mu->valuedouble <= 1))
            abort();
        if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "isActive")))
            abort();
        int n = sample_history_entry_tree(o, 1700000000000LL, hist, sizeof(hist));
        if (n <= 0)
            abort();
        cJSON *h = cJSON_Parse(hist);
        if (h == NULL)
            abort();
        cJSON_Delete(h);
        /* A valid, normalised sample is valid and unchanged the second time. */
        char *text = cJSON_PrintUnformatted(o);
        cJSON *again = text ? cJSON_Parse(text) : NULL;
        if (again != NULL && sample_check(again, err, sizeof(err)) != SAMPLE_VALID)
            abort();
        cJSON_Delete(again);
        cJSON_free(text);
    }
    cJSON_Delete(o);
    return 0;
}
