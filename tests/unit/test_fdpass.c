/* test_fdpass.c -- SCM_RIGHTS hand-off between master and worker. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "fdpass.h"

/* The received fd is the same open file: what is written to it arrives at
 * the other end of the original pipe. */
static void test_send_recv_same_file(void **state)
{
    (void)state;
    int sv[2], p[2], fds[FDPASS_MAX];
    size_t n;
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_int_equal(pipe(p), 0);

    assert_int_equal(fdpass_send(sv[0], p[1]), 0);
    close(p[1]);                       /* the sender's copy goes, as in the master */
    assert_int_equal(fdpass_recv(sv[1], fds, &n), 1);
    assert_int_equal(n, 1);
    assert_true(fcntl(fds[0], F_GETFD) & FD_CLOEXEC);
    assert_int_equal(write(fds[0], "hi", 2), 2);
    close(fds[0]);
    char buf[4] = { 0 };
    assert_int_equal(read(p[0], buf, sizeof(buf)), 2);
    assert_string_equal(buf, "hi");
    assert_int_equal(read(p[0], buf, sizeof(buf)), 0);   /* every copy closed: EOF */
    close(p[0]);
    close(sv[0]);
    close(sv[1]);
}

/* Several fds sent one by one all arrive, in order, whatever the batching. */
static void test_many_in_order_then_eagain_then_eof(void **state)
{
    (void)state;
    int sv[2], fds[FDPASS_MAX], pipes[5][2];
    size_t n, got = 0;
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(pipe(pipes[i]), 0);
        assert_int_equal(fdpass_send(sv[0], pipes[i][1]), 0);
        close(pipes[i][1]);
    }
    while (got < 5) {
        assert_int_equal(fdpass_recv(sv[1], fds, &n), 1);
        for (size_t k = 0; k < n; k++, got++) {
            char c = (char)('a' + got);
            assert_int_equal(write(fds[k], &c, 1), 1);
            close(fds[k]);
            char r;
            assert_int_equal(read(pipes[got][0], &r, 1), 1);
            assert_int_equal(r, c);
        }
    }
    assert_int_equal(fdpass_recv(sv[1], fds, &n), -1);
    assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
    close(sv[0]);
    assert_int_equal(fdpass_recv(sv[1], fds, &n), 0);
    close(sv[1]);
    for (int i = 0; i < 5; i++)
        close(pipes[i][0]);
}

/* With nobody on the other end the send fails at once (no SIGPIPE). */
static void test_send_to_closed_peer(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    close(sv[1]);
    assert_int_equal(fdpass_send(sv[0], 0), -1);
    assert_int_equal(errno, EPIPE);
    close(sv[0]);
}

/* A full socketpair never blocks the sender. */
static void test_full_is_eagain(void **state)
{
    (void)state;
    int sv[2], r = 0, i;
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    int small = 4096;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
    for (i = 0; i < 100000 && (r = fdpass_send(sv[0], 0)) == 0; i++)
        ;
    assert_int_equal(r, -1);
    assert_true(errno == EAGAIN || errno == EWOULDBLOCK || errno == ETOOMANYREFS);
    close(sv[0]);
    close(sv[1]);   /* queued fds are released with the socket */
}

/* A batch arrives whole, in order, in one receive; bad sizes are refused. */
static void test_send_many_one_message(void **state)
{
    (void)state;
    int sv[2], fds[FDPASS_MAX], pipes[3][2], ends[3];
    size_t n;
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(pipe(pipes[i]), 0);
        ends[i] = pipes[i][1];
    }
    assert_int_equal(fdpass_send_many(sv[0], ends, 0), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(fdpass_send_many(sv[0], ends, FDPASS_MAX + 1), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(fdpass_send_many(sv[0], ends, 3), 0);
    for (int i = 0; i < 3; i++)
        close(pipes[i][1]);
    assert_int_equal(fdpass_recv(sv[1], fds, &n), 1);
    assert_int_equal(n, 3);
    for (int i = 0; i < 3; i++) {
        char c = (char)('x' + i), r = 0;
        assert_int_equal(write(fds[i], &c, 1), 1);
        close(fds[i]);
        assert_int_equal(read(pipes[i][0], &r, 1), 1);
        assert_int_equal(r, c);
        close(pipes[i][0]);
    }
    assert_int_equal(fdpass_recv(sv[1], fds, &n), -1);
    assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
    close(sv[0]);
    close(sv[1]);
}

/* Fills a fresh socketpair with messages of `batch` fds; returns the fds queued. */
static int fill_count(size_t batch)
{
    int sv[2], fds[FDPASS_MAX] = { 0 }, msgs = 0;
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    while (msgs < 100000 && fdpass_send_many(sv[0], fds, batch) == 0)
        msgs++;
    assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
    close(sv[0]);
    close(sv[1]);
    return msgs * (int)batch;
}

/* Why the master batches: the send buffer counts messages, so a socketpair
 * queues many times more fds in full batches than one by one. */
static void test_batches_queue_more(void **state)
{
    (void)state;
    int single = fill_count(1), batched = fill_count(FDPASS_MAX);
    assert_true(single > 0);
    assert_true(batched >= 8 * single);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_send_recv_same_file),
        cmocka_unit_test(test_many_in_order_then_eagain_then_eof),
        cmocka_unit_test(test_send_to_closed_peer),
        cmocka_unit_test(test_full_is_eagain),
        cmocka_unit_test(test_send_many_one_message),
        cmocka_unit_test(test_batches_queue_more),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
