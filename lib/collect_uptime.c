/* collect_uptime.c -- /proc/uptime parsing. */
#include "collect_uptime.h"
#include "collect_text.h"

int collect_uptime_parse(const char *text, size_t len, double *seconds)
{
    const char *p = text, *end = text + len;
    return collect_parse_udouble(&p, end, seconds);
}
