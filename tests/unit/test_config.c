/* test_config.c -- defaults < env < flags, key files, the docs table. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"

/* Every env var the table knows, cleared before each test so the caller's
 * environment cannot leak in. */
static int clear_env(void **state)
{
    (void)state;
    const struct cfg_knob *k;
    size_t n = cfg_knobs(&k);
    for (size_t i = 0; i < n; i++)
        if (k[i].env)
            unsetenv(k[i].env);
    return 0;
}

static int load(struct pl_config *cfg, char *err, size_t errlen, ...)
{
    char *argv[32] = { "perfload-appliance" };
    int argc = 1;
    va_list ap;
    va_start(ap, errlen);
    for (char *a; (a = va_arg(ap, char *)) != NULL && argc < 31;)
        argv[argc++] = a;
    va_end(ap);
    return cfg_load(cfg, argc, argv, err, errlen);
}

static void test_defaults(void **state)
{
    (void)state;
    struct pl_config cfg;
    char err[256];
    assert_int_equal(load(&cfg, err, sizeof(err), NULL), 0);
    assert_string_equal(cfg.bind_host, "0.0.0.0");
    assert_int_equal(cfg.port, 8000);
    assert_int_equal(cfg.http_port, 8001);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    assert_int_equal(cfg.workers, ncpu < 1 ? 1 : ncpu);
    assert_string_equal(cfg.redis_url, "redis://127.0.0.1:6379");
    assert_string_equal(cfg.redis_prefix, "perfload:");
    assert_string_equal(cfg.mongo_url, "");
    assert_string_equal(cfg.mongo_db, "perfload");
    assert_int_equal(cfg.mongo_queue_max, 100000);
    assert_int_equal(cfg.retention_days, 7);
    assert_int_equal(cfg.history_len, 900);
    assert_string_equal(cfg.agent_key, "");
    assert_string_equal(cfg.ui_key, "");
    assert_int_equal(cfg.open_dashboard, 0);
    assert_int_equal(cfg.open_metrics, 1);
    assert_int_equal(cfg.ping_interval_ms, 25000);
    assert_int_equal(cfg.ping_timeout_ms, 20000);
    assert_int_equal(cfg.connect_timeout_ms, 45000);
    assert_int_equal(cfg.max_payload, 1000000);
    assert_int_equal(cfg.send_queue_max, 4194304);
    assert_int_equal(cfg.liveness_timeout_ms, 3000);
    assert_int_equal(cfg.log_level, 2);
    assert_string_equal(cfg.routing, "sticky");
    assert_int_equal(cfg.worker_timeout_ms, 15000);
    /* www: beside the executable (here build/tests/..), ending in www/dist */
    size_t wl = strlen(cfg.www_dir);
    assert_true(wl > 8 && !strcmp(cfg.www_dir + wl - 8, "www/dist"));
    assert_true(cfg.state_dir[0] != '\0');
}

static void test_state_dir_default(void **state)
{
    (void)state;
    struct pl_config cfg;
    char err[256];
    if (geteuid() == 0) {
        assert_int_equal(load(&cfg, err, sizeof(err), NULL), 0);
        assert_string_equal(cfg.state_dir, "/var/lib/perfload");
        return;
    }
    setenv("XDG_STATE_HOME", "/x/state", 1);
    assert_int_equal(load(&cfg, err, sizeof(err), NULL), 0);
    assert_string_equal(cfg.state_dir, "/x/state/perfload");
    unsetenv("XDG_STATE_HOME");
    setenv("HOME", "/home/someone", 1);
    assert_int_equal(load(&cfg, err, sizeof(err), NULL), 0);
    assert_string_equal(cfg.state_dir, "/home/someone/.local/state/perfload");
}

static void test_env_then_flags(void **state)
{
    (void)state;
    struct pl_config cfg;
    char err[256];
    setenv("PERFLOAD_PORT", "9100", 1);
    setenv("PERFLOAD_WORKERS", "3", 1);
    setenv("PERFLOAD_REDIS_URL", "redis://10.0.0.5:7000/2", 1);
    setenv("PERFLOAD_MONGO_URL", "mongodb://m:27017", 1);
    setenv("PERFLOAD_OPEN_METRICS", "no", 1);
    setenv("PERFLOAD_LOG_LEVEL", "debug", 1);
    setenv("PERFLOAD_STATE_DIR", "/tmp/st", 1);
    assert_int_equal(load(&cfg, err, sizeof(err), NULL), 0);
    assert_int_equal(cfg.port, 9100);
    assert_int_equal(cfg.workers, 3);
    assert_string_equal(cfg.redis_url, "redis://10.0.0.5:7000/2");
    assert_string_equal(cfg.mongo_url, "mongodb://m:27017");
    assert_int_equal(cfg.open_metrics, 0);
    assert_int_equal(cfg.log_level, 3);
    assert_string_equal(cfg.state_dir, "/tmp/st");

    /* Flags win, in both spellings; --mongo "" turns Mongo off again. */
    assert_int_equal(load(&cfg, err, sizeof(err), "--port", "9200", "--workers=5", "--mongo", "",
                          "--open-metrics", "--log-level", "1", NULL), 0);
    assert_int_equal(cfg.port, 9200);
    assert_int_equal(cfg.workers, 5);
    assert_string_equal(cfg.mongo_url, "");
    assert_int_equal(cfg.open_metrics, 1);
    assert_int_equal(cfg.log_level, 1);
    assert_string_equal(cfg.redis_url, "redis://10.0.0.5:7000/2");
}

static void test_empty_numeric_env_is_unset(void **state)
{
    (void)state;
    struct pl_config cfg;
    char err[256];
    setenv("PERFLOAD_PORT", "", 1);
    setenv("PERFLOAD_AGENT_KEY", "", 1);
    assert_int_equal(load(&cfg, err, sizeof(err), NULL), 0);
    assert_int_equal(cfg.port, 8000);
    assert_string_equal(cfg.agent_key, "");
}

static void test_bool_forms(void **state)
{
    (void)state;
    struct pl_config cfg;
    char err[256];
    assert_int_equal(load(&cfg, err, sizeof(err), "--open-dashboard", "--no-open-metrics", NULL), 0);
    assert_int_equal(cfg.open_dashboard, 1);
    assert_int_equal(cfg.open_metrics, 0);
    assert_int_equal(load(&cfg, err, sizeof(err), "--open-dashboard=false", "--open-metrics=on", NULL), 0);
    assert_int_equal(cfg.open_dashboard, 0);
    assert_int_equal(cfg.open_metrics, 1);
    assert_int_equal(load(&cfg, err, sizeof(err), "--open-dashboard=maybe", NULL), -1);
    assert_non_null(strstr(err, "--open-dashboard"));
    assert_int_equal(load(&cfg, err, sizeof(err), "--no-open-metrics=1", NULL), -1);
    /* --no- only exists for on/off knobs */
    assert_int_equal(load(&cfg, err, sizeof(err), "--no-port", NULL), -1);
}

static void test_errors_name_the_source(void **state)
{
    (void)state;
    struct pl_config cfg;
    char err[256];
    assert_int_equal(load(&cfg, err, sizeof(err), "--port", "http", NULL), -1);
    assert_non_null(strstr(err, "--port"));
    assert_int_equal(load(&cfg, err, sizeof(err), "--port", "70000", NULL), -1);
    assert_int_equal(load(&cfg, err, sizeof(err), "--workers", "0", NULL), -1);
    assert_int_equal(load(&cfg, err, sizeof(err), "--workers", "257", NULL), -1);
    assert_int_equal(load(&cfg, err, sizeof(err), "--port", NULL), -1);
    assert_non_null(strstr(err, "needs a value"));
    assert_int_equal(load(&cfg, err, sizeof(err), "--bogus", "1", NULL), -1);
    assert_non_null(strstr(err, "unknown option '--bogus'"));
    assert_int_equal(load(&cfg, err, sizeof(err), "stray", NULL), -1);
    assert_int_equal(load(&cfg, err, sizeof(err), "--routing", "random", NULL), -1);
    assert_int_equal(load(&cfg, err, sizeof(err), "--redis", "http://127.0.0.1:6379", NULL), -1);
    assert_non_null(strstr(err, "--redis"));
    assert_int_equal(load(&cfg, err, sizeof(err), "--port", "8001", NULL), -1);
    assert_non_null(strstr(err, "--http-port"));
    setenv("PERFLOAD_HTTP_PORT", "x", 1);
    assert_int_equal(load(&cfg, err, sizeof(err), NULL), -1);
    assert_non_null(strstr(err, "PERFLOAD_HTTP_PORT"));
    unsetenv("PERFLOAD_HTTP_PORT");

    char longv[CFG_STR_MAX + 10];
    memset(longv, 'k', sizeof(longv) - 1);
    longv[sizeof(longv) - 1] = '\0';
    assert_int_equal(load(&cfg, err, sizeof(err), "--agent-key", longv, NULL), -1);
}

static void test_routing_round_robin(void **state)
{
    (void)state;
    struct pl_config cfg;
    char err[256];
    assert_int_equal(load(&cfg, err, sizeof(err), "--routing", "round-robin", NULL), 0);
    assert_string_equal(cfg.routing, "round-robin");
}

static void test_help_and_version_return_1(void **state)
{
    (void)state;
    struct pl_config cfg;
    char err[256];
    FILE *saved = stdout;
    stdout = fopen("/dev/null", "w");
    int h = load(&cfg, err, sizeof(err), "--help", NULL);
    int v = load(&cfg, err, sizeof(err), "--version", NULL);
    fclose(stdout);
    stdout = saved;
    assert_int_equal(h, 1);
    assert_int_equal(v, 1);
}

static char tmp_state[64];

static void make_tmp_state(void)
{
    strcpy(tmp_state, "/tmp/perfload-cfgtest-XXXXXX");
    assert_non_null(mkdtemp(tmp_state));
}

static void rm_tmp_state(void)
{
    char p[128];
    snprintf(p, sizeof(p), "%s/sub/agent.key", tmp_state); unlink(p);
    snprintf(p, sizeof(p), "%s/sub/ui.key", tmp_state); unlink(p);
    snprintf(p, sizeof(p), "%s/sub", tmp_state); rmdir(p);
    rmdir(tmp_state);
}

static int is_hex64(const char *s)
{
    if (strlen(s) != 64)
        return 0;
    for (; *s; s++)
        if (!strchr("0123456789abcdef", *s))
            return 0;
    return 1;
}

static void test_keys_generated_stored_and_reused(void **state)
{
    (void)state;
    struct pl_config cfg;
    char err[256], dir[128], path[160];
    make_tmp_state();
    snprintf(dir, sizeof(dir), "%s/sub", tmp_state);
    assert_int_equal(load(&cfg, err, sizeof(err), "--state-dir", dir, NULL), 0);
    assert_int_equal(cfg_ensure_keys(&cfg, err, sizeof(err)), 0);
    assert_true(is_hex64(cfg.agent_key));
    assert_true(is_hex64(cfg.ui_key));
    assert_string_not_equal(cfg.agent_key, cfg.ui_key);
    snprintf(path, sizeof(path), "%s/agent.key", dir);
    assert_string_equal(cfg.agent_key_file, path);

    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 0077, 0);

    /* A second start reads the same keys back. */
    struct pl_config again;
    assert_int_equal(load(&again, err, sizeof(err), "--state-dir", dir, NULL), 0);
    assert_int_equal(cfg_ensure_keys(&again, err, sizeof(err)), 0);
    assert_string_equal(again.agent_key, cfg.agent_key);
    assert_string_equal(again.ui_key, cfg.ui_key);

    /* A key given on the command line wins and touches no file. */
    assert_int_equal(load(&again, err, sizeof(err), "--state-dir", dir, "--ui-key", "given", NULL), 0);
    assert_int_equal(cfg_ensure_keys(&again, err, sizeof(err)), 0);
    assert_string_equal(again.ui_key, "given");
    assert_string_equal(again.ui_key_file, "");
    assert_string_equal(again.agent_key, cfg.agent_key);
    rm_tmp_state();
}

static void test_keys_bad_file(void **state)
{
    (void)state;
    struct pl_config cfg;
    char err[256], dir[128], path[160];
    make_tmp_state();
    snprintf(dir, sizeof(dir), "%s/sub", tmp_state);
    mkdir(dir, 0700);
    snprintf(path, sizeof(path), "%s/agent.key", dir);
    FILE *f = fopen(path, "w");
    fclose(f);
    assert_int_equal(load(&cfg, err, sizeof(err), "--state-dir", dir, NULL), 0);
    assert_int_equal(cfg_ensure_keys(&cfg, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "empty"));
    rm_tmp_state();

    /* Same key for agents and UIs would let any agent read the dashboard. */
    assert_int_equal(load(&cfg, err, sizeof(err), "--agent-key", "k", "--ui-key", "k", NULL), 0);
    assert_int_equal(cfg_ensure_keys(&cfg, err, sizeof(err)), -1);

    /* Unwritable state dir: an error, never a fallback key. */
    assert_int_equal(load(&cfg, err, sizeof(err), "--state-dir", "/proc/nope/perfload", NULL), 0);
    assert_int_equal(cfg_ensure_keys(&cfg, err, sizeof(err)), -1);
    assert_string_equal(cfg.agent_key, "");
}

static void test_key_equal(void **state)
{
    (void)state;
    assert_true(cfg_key_equal("secret", 6, "secret"));
    assert_false(cfg_key_equal("secreT", 6, "secret"));
    assert_false(cfg_key_equal("secret", 5, "secret"));
    assert_false(cfg_key_equal("secretx", 7, "secret"));
    assert_false(cfg_key_equal("", 0, ""));
    assert_false(cfg_key_equal("x", 1, ""));
    assert_false(cfg_key_equal(NULL, 0, "secret"));
    /* given_len bounds the read: a longer buffer's tail is ignored */
    assert_true(cfg_key_equal("secret-and-more", 6, "secret"));
}

static void test_mask_url(void **state)
{
    (void)state;
    char out[128];
    cfg_mask_url("redis://:s3cret@h:1/0", out, sizeof(out));
    assert_string_equal(out, "redis://:***@h:1/0");
    cfg_mask_url("mongodb://user:pw@db1,db2/perf?x=1", out, sizeof(out));
    assert_string_equal(out, "mongodb://user:***@db1,db2/perf?x=1");
    cfg_mask_url("redis://127.0.0.1:6379", out, sizeof(out));
    assert_string_equal(out, "redis://127.0.0.1:6379");
    cfg_mask_url("redis://user@h", out, sizeof(out));
    assert_string_equal(out, "redis://user@h");
    cfg_mask_url("redis://h/path@x", out, sizeof(out));
    assert_string_equal(out, "redis://h/path@x");
    cfg_mask_url("", out, sizeof(out));
    assert_string_equal(out, "");
}

/* docs/configuration.md documents every knob: flag, env var and default. */
static void test_docs_list_every_knob(void **state)
{
    (void)state;
    FILE *f = fopen("docs/configuration.md", "r");
    if (!f)
        f = fopen("../../docs/configuration.md", "r");
    assert_non_null(f);
    static char doc[65536];
    size_t n = fread(doc, 1, sizeof(doc) - 1, f);
    fclose(f);
    doc[n] = '\0';

    const struct cfg_knob *k;
    size_t nk = cfg_knobs(&k);
    assert_true(nk >= 20);
    for (size_t i = 0; i < nk; i++) {
        char want[128];
        snprintf(want, sizeof(want), "`%s", k[i].flag);
        if (!strstr(doc, want))
            fail_msg("docs/configuration.md lacks %s", want);
        if (k[i].env) {
            snprintf(want, sizeof(want), "`%s`", k[i].env);
            if (!strstr(doc, want))
                fail_msg("docs/configuration.md lacks %s", want);
        }
        if (!strstr(doc, k[i].default_text))
            fail_msg("docs/configuration.md lacks the default of %s: %s", k[i].flag,
                     k[i].default_text);
    }
}

/* --agent-key-file / --ui-key-file (and the env var): read from there, or
 * generated there with mode 0600 when missing; a flag key still wins. */
static void test_key_files(void **state)
{
    (void)state;
    struct pl_config cfg, again;
    char err[256], afile[160], ufile[160];
    make_tmp_state();
    snprintf(afile, sizeof(afile), "%s/my-agent.key", tmp_state);
    snprintf(ufile, sizeof(ufile), "%s/my-ui.key", tmp_state);
    FILE *f = fopen(ufile, "w");
    assert_non_null(f);
    fputs("ui-from-file\n", f);
    fclose(f);
    chmod(ufile, 0600);
    setenv("PERFLOAD_AGENT_KEY_FILE", afile, 1);
    assert_int_equal(load(&cfg, err, sizeof(err), "--state-dir", "/proc/nope", "--ui-key-file", ufile,
                          NULL), 0);
    assert_int_equal(cfg_ensure_keys(&cfg, err, sizeof(err)), 0);
    assert_string_equal(cfg.ui_key, "ui-from-file");
    assert_string_equal(cfg.ui_key_file, ufile);
    assert_true(is_hex64(cfg.agent_key));             /* generated into afile */
    assert_string_equal(cfg.agent_key_file, afile);
    struct stat st;
    assert_int_equal(stat(afile, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    assert_int_equal(load(&again, err, sizeof(err), "--ui-key-file", ufile, NULL), 0);
    assert_int_equal(cfg_ensure_keys(&again, err, sizeof(err)), 0);
    assert_string_equal(again.agent_key, cfg.agent_key);   /* reused */

    assert_int_equal(load(&again, err, sizeof(err), "--ui-key-file", ufile, "--agent-key", "flag",
                          NULL), 0);
    assert_int_equal(cfg_ensure_keys(&again, err, sizeof(err)), 0);
    assert_string_equal(again.agent_key, "flag");
    assert_string_equal(again.agent_key_file, "");
    unsetenv("PERFLOAD_AGENT_KEY_FILE");
    rm_tmp_state();
}

/* The access knobs: defaults, TLS files go in pairs, a bad CIDR stops the start. */
static void test_access_knobs(void **state)
{
    (void)state;
    struct pl_config cfg;
    char err[256];
    assert_int_equal(load(&cfg, err, sizeof(err), NULL), 0);
    assert_int_equal(cfg.max_conns_per_ip, 1024);
    assert_int_equal(cfg.max_msgs_per_sec, 50);
    assert_int_equal(cfg.max_msgs_burst, 100);
    assert_string_equal(cfg.agent_networks, "");
    assert_string_equal(cfg.tls_cert, "");
    assert_int_equal(load(&cfg, err, sizeof(err), "--agent-networks", "10.0.0.0/8, fd00::/8",
                          "--max-conns-per-ip", "0", NULL), 0);
    assert_int_equal(cfg.max_conns_per_ip, 0);
    assert_int_equal(load(&cfg, err, sizeof(err), "--agent-networks", "10.0.0.0/40", NULL), -1);
    assert_non_null(strstr(err, "--agent-networks"));
    setenv("PERFLOAD_AGENT_NETWORKS", "bogus", 1);
    assert_int_equal(load(&cfg, err, sizeof(err), NULL), -1);
    assert_non_null(strstr(err, "bogus"));
    unsetenv("PERFLOAD_AGENT_NETWORKS");
    assert_int_equal(load(&cfg, err, sizeof(err), "--tls-cert", "c.pem", NULL), -1);
    assert_non_null(strstr(err, "--tls-key"));
    assert_int_equal(load(&cfg, err, sizeof(err), "--tls-cert", "c.pem", "--tls-key", "k.pem", NULL), 0);
    assert_int_equal(load(&cfg, err, sizeof(err), "--max-msgs-burst", "0", NULL), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_defaults, clear_env),
        cmocka_unit_test_setup(test_state_dir_default, clear_env),
        cmocka_unit_test_setup(test_env_then_flags, clear_env),
        cmocka_unit_test_setup(test_empty_numeric_env_is_unset, clear_env),
        cmocka_unit_test_setup(test_bool_forms, clear_env),
        cmocka_unit_test_setup(test_errors_name_the_source, clear_env),
        cmocka_unit_test_setup(test_routing_round_robin, clear_env),
        cmocka_unit_test_setup(test_help_and_version_return_1, clear_env),
        cmocka_unit_test_setup(test_keys_generated_stored_and_reused, clear_env),
        cmocka_unit_test_setup(test_keys_bad_file, clear_env),
        cmocka_unit_test_setup(test_key_files, clear_env),
        cmocka_unit_test_setup(test_access_knobs, clear_env),
        cmocka_unit_test(test_key_equal),
        cmocka_unit_test(test_mask_url),
        cmocka_unit_test(test_docs_list_every_knob),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
