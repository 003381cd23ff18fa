/* test_sio_server.c -- the engine as the worker uses it: no listener, the
 * caller's own lws protocol beside the engine's, and connections adopted
 * from fds accepted elsewhere (here: one end of a socketpair). */
#define _GNU_SOURCE /* strcasestr */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <fcntl.h>
#include <cmocka.h>

#include <libwebsockets.h>

#include "sio_server.h"
#include "stats.h"

static int extra_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                          void *in, size_t len)
{
    return 0;
}

static const struct lws_protocols extra[] = {
    { "test-extra", extra_callback, 0, 0, 0, NULL, 0 },
    { NULL, NULL, 0, 0, 0, NULL, 0 },
};

static int connects;

static int on_connect(struct sio_socket *s, const char *nsp, const cJSON *auth, void *user)
{
    connects++;
    return 0;
}

/* Services the loop until the peer end has a complete HTTP reply (headers
 * and content-length bytes of body) or ~2 s pass. */
static size_t read_reply(struct sio_server *server, int fd, char *buf, size_t cap)
{
    size_t got = 0;
    lws_usec_t until = lws_now_usecs() + 2 * LWS_US_PER_SEC;

    while (lws_now_usecs() < until) {
        ssize_t n;
        char *body, *cl;

        sio_server_service(server, 10);
        n = read(fd, buf + got, cap - 1 - got);
        if (n > 0) {
            got += (size_t)n;
            buf[got] = '\0';
            body = strstr(buf, "\r\n\r\n");
            cl = strcasestr(buf, "content-length:");
            if (body && cl && got - (size_t)(body + 4 - buf) >= (size_t)atol(cl + 15))
                return got;
        }
    }
    return got;
}

static void test_adopted_fd_serves_a_polling_handshake(void **state)
{
    struct worker_stats stats;
    struct sio_server_options o;
    struct sio_handlers h = { .on_connect = on_connect };
    struct sio_server *server;
    char err[128], reply[4096];
    int sv[2];
    const char req[] = "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\n"
                       "Host: localhost\r\nOrigin: http://dash.test:8001\r\n\r\n";
    (void)state;

    memset(&stats, 0, sizeof(stats));
    memset(&o, 0, sizeof(o));
    o.ping_interval_ms = 300;
    o.ping_timeout_ms = 200;
    o.worker_name = "3";
    o.stats = &stats;
    lws_set_log_level(LLL_ERR, NULL);
    server = sio_server_create(&o, &h, extra, err, sizeof(err));
    assert_non_null(server);
    assert_non_null(sio_server_vhost(server));
    /* the caller's protocol lives in the same vhost as the engine */
    assert_non_null(lws_vhost_name_to_protocol(sio_server_vhost(server), "test-extra"));

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    fcntl(sv[1], F_SETFL, O_NONBLOCK);
    assert_int_equal(sio_server_adopt_fd(server, sv[0]), SIO_OK);
    assert_int_equal(write(sv[1], req, sizeof(req) - 1), (ssize_t)sizeof(req) - 1);
    assert_true(read_reply(server, sv[1], reply, sizeof(reply)) > 0);

    assert_non_null(strstr(reply, "HTTP/1.1 200"));
    assert_non_null(strcasestr(reply, "x-perfload-worker: 3"));
    assert_non_null(strcasestr(reply, "access-control-allow-origin: http://dash.test:8001"));
    assert_non_null(strstr(reply, "\r\n\r\n0{\"sid\":\""));
    assert_non_null(strstr(reply, "\"pingInterval\":300,\"pingTimeout\":200,\"maxPayload\":1000000}"));
    assert_int_equal(stats.connections, 1);
    assert_int_equal(stats.connections_total, 1);

    /* Same connection (keep-alive): a poll is held until the first ping. */
    {
        char sid[32], get[256];
        const char *p = strstr(reply, "\"sid\":\"") + 7;
        size_t n = strcspn(p, "\"");
        int len;

        assert_true(n < sizeof(sid));
        memcpy(sid, p, n);
        sid[n] = '\0';
        len = snprintf(get, sizeof(get), "GET /socket.io/?EIO=4&transport=polling&sid=%s HTTP/1.1\r\n"
                       "Host: localhost\r\n\r\n", sid);
        memset(reply, 0, sizeof(reply));
        assert_int_equal(write(sv[1], get, (size_t)len), len);
        assert_true(read_reply(server, sv[1], reply, sizeof(reply)) > 0);
        assert_non_null(strstr(reply, "HTTP/1.1 200"));
        assert_non_null(strstr(reply, "\r\n\r\n2"));
    }

    /* Nobody answers the ping: the session is dropped. */
    {
        lws_usec_t until = lws_now_usecs() + 2 * LWS_US_PER_SEC;

        while (stats.connections != 0 && lws_now_usecs() < until)
            sio_server_service(server, 10);
    }
    assert_int_equal(stats.connections, 0);
    assert_true(sio_server_idle(server));
    assert_int_equal(connects, 0);

    close(sv[1]);
    sio_server_destroy(server);
}

static void test_create_fails_cleanly_on_a_bad_path(void **state)
{
    struct sio_server_options o;
    char err[128] = "";
    (void)state;

    memset(&o, 0, sizeof(o));
    o.path = "no-leading-slash";
    assert_null(sio_server_create(&o, NULL, NULL, err, sizeof(err)));
    assert_non_null(strstr(err, "path"));
    assert_string_equal(sio_strerror(SIO_EQUEUEFULL), "send queue full (slow client dropped)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_adopted_fd_serves_a_polling_handshake),
        cmocka_unit_test(test_create_fails_cleanly_on_a_bad_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
