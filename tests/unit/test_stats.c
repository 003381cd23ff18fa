/* test_stats.c -- the shared counters region: a memfd the master creates and
 * each exec'ed worker attaches (stats_create / stats_attach). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "stats.h"
#include "worker.h"

/* A second mapping of the fd (what a worker gets) sees the same memory. */
static void test_attach_shares_pages(void **state)
{
    (void)state;
    int fd = -1;
    struct appliance_stats *m = stats_create(3, &fd);
    assert_non_null(m);
    assert_true(fd >= 0);
    assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);      /* never leaks into other children */
    assert_int_equal(atomic_load(&m->nworkers), 3);
    assert_true(atomic_load(&m->started_ms) > 0);
    assert_int_equal(atomic_load(&m->workers[2].samples_in), 0);

    struct appliance_stats *w = stats_attach(fd);
    assert_non_null(w);
    assert_ptr_not_equal(w, m);
    atomic_store(&w->workers[2].samples_in, 42);
    assert_int_equal(atomic_load(&m->workers[2].samples_in), 42);
    atomic_fetch_add(&m->accepted, 7);
    assert_int_equal(atomic_load(&w->accepted), 7);
    stats_destroy(w);
    stats_destroy(m);
    close(fd);
}

/* Another process writing through its own attachment of the fd (as an
 * exec'ed worker does) is seen by the creator. */
static void test_child_writes_are_seen(void **state)
{
    (void)state;
    int fd = -1;
    struct appliance_stats *m = stats_create(1, &fd);
    assert_non_null(m);
    pid_t pid = fork();
    if (pid == 0) {
        struct appliance_stats *w = stats_attach(fd);
        if (!w)
            _exit(1);
        atomic_store(&w->workers[0].pid, (int32_t)getpid());
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(atomic_load(&m->workers[0].pid), pid);
    stats_destroy(m);
    close(fd);
}

/* A descriptor that is not a stats region (a wrong --stats-fd) is refused
 * before anything is written through it. */
static void test_attach_refuses_other_fds(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    errno = 0;
    assert_null(stats_attach(p[0]));
    assert_int_not_equal(errno, 0);
    close(p[0]);
    close(p[1]);

    char path[] = "/tmp/test_stats_XXXXXX";
    int f = mkstemp(path);
    assert_true(f >= 0);
    unlink(path);
    assert_int_equal(write(f, "small", 5), 5);
    errno = 0;
    assert_null(stats_attach(f));
    assert_int_equal(errno, EINVAL);
    close(f);
}

/* The worker's hidden command line: recognised only as argv[1], and a
 * malformed one is refused with status 2 before anything starts. */
static void test_worker_command_line(void **state)
{
    (void)state;
    char *plain[] = { "perfload-appliance", "--port", "8000", NULL };
    assert_int_equal(worker_exec_requested(3, plain), 0);
    assert_int_equal(worker_exec_requested(1, plain), 0);
    char *w1[] = { "perfload-appliance", WORKER_SLOT_FLAG, "0", NULL };
    assert_int_equal(worker_exec_requested(3, w1), 1);
    assert_int_equal(worker_main(3, w1), 2);                      /* too short */
    char *w2[] = { "x", WORKER_SLOT_FLAG, "0", WORKER_FD_FLAG, "-1", WORKER_STATS_FD_FLAG, "9", NULL };
    assert_int_equal(worker_main(7, w2), 2);                      /* bad fd */
    char *w3[] = { "x", WORKER_SLOT_FLAG, "0", WORKER_FD_FLAG, "5", WORKER_STATS_FD_FLAG, "5", NULL };
    assert_int_equal(worker_main(7, w3), 2);                      /* same fd twice */
    char *w4[] = { "x", WORKER_SLOT_FLAG, "zero", WORKER_FD_FLAG, "5", WORKER_STATS_FD_FLAG, "6", NULL };
    assert_int_equal(worker_main(7, w4), 2);                      /* not a number */
    char *w5[] = { "x", WORKER_SLOT_FLAG, "0", "--stats-fd", "5", WORKER_FD_FLAG, "6", NULL };
    assert_int_equal(worker_main(7, w5), 2);                      /* flags out of order */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_attach_shares_pages),
        cmocka_unit_test(test_child_writes_are_seen),
        cmocka_unit_test(test_attach_refuses_other_fds),
        cmocka_unit_test(test_worker_command_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
