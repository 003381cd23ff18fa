/* fuzz_fs_render.c -- perfload-fs's view of a machine hash built from
 * arbitrary bytes: the input is split at the first two NULs into sample,
 * lastSeen and active. Whatever Redis holds, every file must have a name
 * that is a single safe path component and text that is exactly one
 * newline-terminated line (sample.json aside, which must parse as JSON). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "fs_render.h"
#include "sample.h"

static void check_file(const struct fs_file *f)
{
    size_t n = strlen(f->name);
    if (n == 0 || n > FS_NAME_MAX || !sample_mac_valid(f->name, n))
        abort();   /* a name that could escape or confuse a directory */
    if (f->len == 0 || f->text[f->len - 1] != '\n' || f->text[f->len] != '\0')
        abort();
    if (strcmp(f->name, "sample.json") == 0) {
        /* the whole text, not just a leading value, must be JSON */
        cJSON *j = cJSON_ParseWithOpts(f->text, NULL, 1);
        if (!j)
            abort();
        cJSON_Delete(j);
        return;
    }
    for (size_t i = 0; i + 1 < f->len; i++)
        if ((unsigned char)f->text[i] < 0x20 || f->text[i] == 0x7f)
            abort();   /* one line, no control characters */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 3);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = buf[size + 1] = buf[size + 2] = '\0';
    char *last_seen = memchr(buf, '\0', size + 1) + 1;
    char *active = last_seen + strlen(last_seen) + 1;
    if (active > buf + size + 2)
        active = buf + size + 2;

    struct fs_hash_fields h = { buf, (size_t)(last_seen - 1 - buf), last_seen, last_seen, active };
    struct fs_machine m;
    if (fs_render_machine(&m, &h) == 0) {
        if (m.nfiles > FS_FILES_MAX || !fs_machine_find(&m, "is_active"))
            abort();
        for (size_t i = 0; i < m.nfiles; i++)
            check_file(&m.files[i]);
        fs_machine_free(&m);
    }
    free(buf);
    return 0;
}
