/* worker_pick.c -- address text normalisation and sticky slot choice. */
#include "worker_pick.h"
#include "farmhash.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

/* An IPv4-mapped IPv6 address is the IPv4 client seen through a dual-stack
 * socket; hash it as the IPv4 text so both listener kinds route alike. */
static int ip_from_in6(const struct in6_addr *a6, char *out, size_t outlen)
{
    if (IN6_IS_ADDR_V4MAPPED(a6)) {
        struct in_addr a4;
        memcpy(&a4, &a6->s6_addr[12], sizeof(a4));
        if (!inet_ntop(AF_INET, &a4, out, (socklen_t)outlen))
            return -1;
    } else if (!inet_ntop(AF_INET6, a6, out, (socklen_t)outlen)) {
        return -1;
    }
    return (int)strlen(out);
}

int worker_ip_text(const struct sockaddr *sa, socklen_t salen, char *out, size_t outlen)
{
    if (!sa || !out || outlen < WORKER_IP_TEXT_MAX)
        return -1;
    out[0] = '\0';
    if (sa->sa_family == AF_INET && salen >= (socklen_t)sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in4 = (const struct sockaddr_in *)sa;
        if (!inet_ntop(AF_INET, &in4->sin_addr, out, (socklen_t)outlen))
            return -1;
        return (int)strlen(out);
    }
    if (sa->sa_family == AF_INET6 && salen >= (socklen_t)sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        return ip_from_in6(&in6->sin6_addr, out, outlen);
    }
    return -1;
}

int worker_ip_normalise(const char *in, char *out, size_t outlen)
{
    struct in_addr a4;
    struct in6_addr a6;
    int n = -1;

    if (!in || !out || outlen < WORKER_IP_TEXT_MAX)
        return -1;
    out[0] = '\0';
    if (inet_pton(AF_INET, in, &a4) == 1) {
        if (inet_ntop(AF_INET, &a4, out, (socklen_t)outlen))
            n = (int)strlen(out);
    } else if (inet_pton(AF_INET6, in, &a6) == 1) {
        n = ip_from_in6(&a6, out, outlen);
    }
    if (n < 0)
        out[0] = '\0';
    return n;
}

uint32_t worker_pick(const char *ip_text, uint32_t nworkers)
{
    if (nworkers <= 1)
        return 0;
    return fh_fingerprint32(ip_text, strlen(ip_text)) % nworkers;
}
