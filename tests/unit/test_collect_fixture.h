/* test_collect_fixture.h -- loads tests/fixtures/proc/<name> for the
 * collector unit tests. Tests run from the repository root (make unit);
 * PERFLOAD_ROOT overrides that. The buffer is static: one fixture at a time
 * per slot. */
#ifndef TEST_COLLECT_FIXTURE_H
#define TEST_COLLECT_FIXTURE_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* cmocka 1.1 has only a float comparison; this one keeps doubles. */
#define assert_near(a, b, eps) do { \
        double a_ = (a), b_ = (b); \
        if (!(fabs(a_ - b_) <= (eps))) fail_msg("%s = %.9g, expected %.9g", #a, a_, b_); \
    } while (0)

#define FIXTURE_MAX (256 * 1024)

/* Reads the fixture into slot (0..3); fails the test when it is missing. */
__attribute__((unused))
static const char *fixture(int slot, const char *name, size_t *len)
{
    static char bufs[4][FIXTURE_MAX];
    char path[512];
    const char *root = getenv("PERFLOAD_ROOT");
    snprintf(path, sizeof path, "%s/tests/fixtures/proc/%s", root ? root : ".", name);
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("fixture %s: cannot open", path);
    size_t n = fread(bufs[slot], 1, FIXTURE_MAX, f);
    fclose(f);
    *len = n;
    return bufs[slot];
}

#endif
