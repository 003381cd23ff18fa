/* collect_loadavg.c -- /proc/loadavg parsing. */
#include "collect_loadavg.h"
#include "collect_text.h"

int collect_loadavg_parse(const char *text, size_t len, double out[3])
{
    const char *p = text, *end = text + len;
    double v[3];
    for (int i = 0; i < 3; i++)
        if (collect_parse_udouble(&p, end, &v[i]) != 0) return -1;
    for (int i = 0; i < 3; i++) out[i] = v[i];
    return 0;
}
