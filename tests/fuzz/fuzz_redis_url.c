/* fuzz_redis_url.c -- the Redis URL parser on arbitrary text: never reads
 * past the string, what it accepts is well-formed, what it refuses says why. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "redis_url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    char err[160], desc[REDIS_URL_HOST_MAX + 64];
    struct redis_url u;

    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    if (redis_url_parse(s, &u, err, sizeof(err)) == 0) {
        if (u.db < 0 || u.db > 100000)
            abort();
        if (u.is_unix ? u.path[0] != '/' : (u.host[0] == '\0' || u.port < 1 || u.port > 65535))
            abort();
        if (strlen(redis_url_describe(&u, desc, sizeof(desc))) >= sizeof(desc) - 1)
            abort();   /* the description always fits */
    } else if (err[0] == '\0') {
        abort();
    }
    free(s);
    return 0;
}
