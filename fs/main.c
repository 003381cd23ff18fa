/* main.c -- perfload-fs: the live state in Redis as a read-only file tree.
 *
 *   perfload-fs [--redis URL] [--redis-prefix P] [-f] [-o opts] MOUNTPOINT
 *
 * Our own options are taken out of argv first; everything else (-f, -d, -s,
 * -o allow_other, ...) goes to libfuse untouched. We add "ro" and
 * "default_permissions", and "auto_unmount" unless --no-auto-unmount, so a
 * killed daemon never leaves a dead mount behind. SIGTERM/SIGINT/SIGHUP
 * end the loop (libfuse's handlers) and we unmount cleanly. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fs_cache.h"
#include "fs_ops.h"
#include <fuse_lowlevel.h>
#include "fs_redis.h"
#include "redis_url.h"

#define FS_DEFAULT_URL "redis://127.0.0.1:6379"
#define FS_DEFAULT_PREFIX "perfload:"
#define FS_DEFAULT_CACHE_MS 250
#define FS_DEFAULT_TIMEOUT_MS 500

struct fs_options {
    const char *redis_url;
    const char *prefix;
    int cache_ms;
    int timeout_ms;
    int auto_unmount;
    int help;
    int version;
};

static void fs_usage(const char *prog)
{
    printf("usage: %s [options] MOUNTPOINT\n"
           "\n"
           "Shows every machine PerfLoad knows as /MOUNTPOINT/<mac>/<metric> files,\n"
           "read live from Redis (read-only). See docs/fs.md.\n"
           "\n"
           "perfload-fs options (flags win over the environment):\n"
           "  --redis URL          PERFLOAD_REDIS_URL      default %s\n"
           "                       redis://[[user]:password@]host[:port][/db] or unix:///path\n"
           "  --redis-prefix P     PERFLOAD_REDIS_PREFIX   default %s\n"
           "  --cache-ms N         PERFLOAD_FS_CACHE_MS    default %d (0..1000): how old a value may be\n"
           "  --timeout-ms N       PERFLOAD_FS_TIMEOUT_MS  default %d (50..10000): Redis connect and\n"
           "                       command timeout; a read fails with EIO after at most ~2x this\n"
           "  --no-auto-unmount    do not pass -o auto_unmount\n"
           "  -h, --help           this help\n"
           "  -V, --version        print the version\n"
           "\n"
           "FUSE options:\n",
           prog, FS_DEFAULT_URL, FS_DEFAULT_PREFIX, FS_DEFAULT_CACHE_MS, FS_DEFAULT_TIMEOUT_MS);
    fuse_cmdline_help();
    printf("    -o allow_other         let users other than the mounting one read the tree\n"
           "    -o OPT[,OPT...]        any other mount option, passed to libfuse\n");
}

/* libfuse 3.14's multi-threaded loop always warns "Ignoring invalid max
 * threads value 4294967295" (its own default, not ours); drop just that
 * line so a daemon's log holds only what matters. */
static void fs_fuse_log(enum fuse_log_level level, const char *fmt, va_list ap)
{
    if (strncmp(fmt, "Ignoring invalid max threads", 28) == 0)
        return;
    vfprintf(stderr, fmt, ap);
}

/* Reads a bounded integer option; -1 with a message on garbage. */
static int fs_parse_int(const char *name, const char *s, int lo, int hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        fprintf(stderr, "perfload-fs: %s must be an integer in %d..%d, got '%s'\n", name, lo, hi, s);
        return -1;
    }
    *out = (int)v;
    return 0;
}

/* The value of --name VALUE or --name=VALUE at argv[*i], or NULL. */
static const char *fs_flag_value(int argc, char **argv, int *i, const char *name, int *missing)
{
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) != 0)
        return NULL;
    if (argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (argv[*i][n] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        *missing = 1;
        return NULL;
    }
    return argv[++*i];
}

/* Takes our options out of argv into o; the rest goes to fargs. */
static int fs_parse_args(int argc, char **argv, struct fs_options *o, struct fuse_args *fargs)
{
    const char *env;
    o->redis_url = (env = getenv("PERFLOAD_REDIS_URL")) && *env ? env : FS_DEFAULT_URL;
    o->prefix = (env = getenv("PERFLOAD_REDIS_PREFIX")) && *env ? env : FS_DEFAULT_PREFIX;
    o->cache_ms = FS_DEFAULT_CACHE_MS;
    o->timeout_ms = FS_DEFAULT_TIMEOUT_MS;
    o->auto_unmount = 1;
    if ((env = getenv("PERFLOAD_FS_CACHE_MS")) && *env &&
        fs_parse_int("PERFLOAD_FS_CACHE_MS", env, 0, 1000, &o->cache_ms) != 0)
        return -1;
    if ((env = getenv("PERFLOAD_FS_TIMEOUT_MS")) && *env &&
        fs_parse_int("PERFLOAD_FS_TIMEOUT_MS", env, 50, 10000, &o->timeout_ms) != 0)
        return -1;

    if (fuse_opt_add_arg(fargs, argv[0]) != 0)
        return -1;
    for (int i = 1; i < argc; i++) {
        const char *v;
        int missing = 0;
        if ((v = fs_flag_value(argc, argv, &i, "--redis-prefix", &missing))) {
            o->prefix = v;
        } else if ((v = fs_flag_value(argc, argv, &i, "--redis", &missing))) {
            o->redis_url = v;
        } else if ((v = fs_flag_value(argc, argv, &i, "--cache-ms", &missing))) {
            if (fs_parse_int("--cache-ms", v, 0, 1000, &o->cache_ms) != 0)
                return -1;
        } else if ((v = fs_flag_value(argc, argv, &i, "--timeout-ms", &missing))) {
            if (fs_parse_int("--timeout-ms", v, 50, 10000, &o->timeout_ms) != 0)
                return -1;
        } else if (missing) {
            fprintf(stderr, "perfload-fs: %s needs a value\n", argv[i]);
            return -1;
        } else if (strcmp(argv[i], "--no-auto-unmount") == 0) {
            o->auto_unmount = 0;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            o->help = 1;
        } else if (strcmp(argv[i], "--version") == 0 || strcmp(argv[i], "-V") == 0) {
            o->version = 1;
        } else if (fuse_opt_add_arg(fargs, argv[i]) != 0) {
            return -1;
        }
    }
    if (strlen(o->prefix) >= sizeof(((struct fs_redis_conf *)0)->prefix)) {
        fprintf(stderr, "perfload-fs: --redis-prefix is too long\n");
        return -1;
    }
    /* Ours go first so a user's -o can still add to them. */
    const char *mount_opts = o->auto_unmount ? "-oro,default_permissions,fsname=perfload,subtype=perfload,auto_unmount"
                                             : "-oro,default_permissions,fsname=perfload,subtype=perfload";
    return fuse_opt_insert_arg(fargs, 1, mount_opts);
}

static int fs_run(struct fuse_args *fargs, const struct fs_options *o)
{
    struct fuse_cmdline_opts opts;
    if (fuse_parse_cmdline(fargs, &opts) != 0)
        return 2;
    if (!opts.mountpoint) {
        fprintf(stderr, "perfload-fs: no MOUNTPOINT given (try --help)\n");
        return 2;
    }
    int rc = 1;
    struct fuse *fuse = fuse_new(fargs, fs_ops_table(o->cache_ms / 1000.0),
                                 sizeof(struct fuse_operations), NULL);
    if (!fuse)
        goto out;
    if (fuse_mount(fuse, opts.mountpoint) != 0)
        goto out_destroy;
    if (fuse_daemonize(opts.foreground) != 0)
        goto out_unmount;
    struct fuse_session *se = fuse_get_session(fuse);
    if (fuse_set_signal_handlers(se) != 0)
        goto out_unmount;
    if (opts.foreground)
        fprintf(stderr, "perfload-fs: mounted on %s\n", opts.mountpoint);
    int loop_rc;
    if (opts.singlethread) {
        loop_rc = fuse_loop(fuse);
    } else {
        struct fuse_loop_config *lc = fuse_loop_cfg_create();
        if (!lc)
            goto out_signals;
        fuse_loop_cfg_set_clone_fd(lc, (unsigned)opts.clone_fd);
        fuse_loop_cfg_set_idle_threads(lc, opts.max_idle_threads);
        /* unset -o max_threads arrives as UINT_MAX: keep libfuse's default */
        if (opts.max_threads > 0 && opts.max_threads <= 100000)
            fuse_loop_cfg_set_max_threads(lc, opts.max_threads);
        loop_rc = fuse_loop_mt(fuse, lc);
        fuse_loop_cfg_destroy(lc);
    }
    /* The loop reports the signal that ended it: a requested stop. */
    rc = (loop_rc == 0 || loop_rc == SIGTERM || loop_rc == SIGINT || loop_rc == SIGHUP) ? 0 : 1;
out_signals:
    fuse_remove_signal_handlers(se);
out_unmount:
    fuse_unmount(fuse);
out_destroy:
    fuse_destroy(fuse);
out:
    free(opts.mountpoint);
    return rc;
}

int main(int argc, char **argv)
{
    struct fuse_args fargs = FUSE_ARGS_INIT(0, NULL);
    struct fs_options o = { 0 };
    struct fs_redis_conf conf = { 0 };
    char err[256];
    int rc;

    fuse_set_log_func(fs_fuse_log);
    if (fs_parse_args(argc, argv, &o, &fargs) != 0) {
        fuse_opt_free_args(&fargs);
        return 2;
    }
    if (o.help || o.version) {
        if (o.help)
            fs_usage(argv[0]);
        else
            printf("perfload-fs %s (libfuse %s)\n", PERFLOAD_VERSION, fuse_pkgversion());
        fuse_opt_free_args(&fargs);
        return 0;
    }
    if (redis_url_parse(o.redis_url, &conf.url, err, sizeof(err)) != 0) {
        fprintf(stderr, "perfload-fs: --redis: %s\n", err);
        fuse_opt_free_args(&fargs);
        return 2;
    }
    snprintf(conf.prefix, sizeof(conf.prefix), "%s", o.prefix);
    conf.timeout_ms = o.timeout_ms;
    if (fs_redis_init(&conf) != 0 || fs_cache_init(o.cache_ms) != 0) {
        fprintf(stderr, "perfload-fs: cannot initialise\n");
        fuse_opt_free_args(&fargs);
        return 1;
    }
    rc = fs_run(&fargs, &o);
    fuse_opt_free_args(&fargs);
    return rc;
}
