/* fs_render.h -- what perfload-fs shows: a machine's Redis hash as files.
 *
 * Pure (no I/O, no FUSE): the daemon fetches `P machine:<mac>` and hands the
 * raw field values here; this module decides which files the machine's
 * directory holds and the exact text of each (one value, newline-terminated,
 * plain units; see docs/fs.md). Anything in Redis may be hostile: a field
 * of the wrong type simply has no file, names that could escape a directory
 * are never produced, and nothing here trusts a length it did not measure. */
#ifndef PERFLOAD_FS_RENDER_H
#define PERFLOAD_FS_RENDER_H

#include <stddef.h>
#include <stdint.h>

/* Directory names (machine ids) are checked with sample_mac_valid() from
 * sample.h: the same gate the appliance applies to macA. */
#define FS_NAME_MAX 64           /* longest directory or file name we expose */
#define FS_FILES_MAX 160         /* files per machine directory, extras included */
#define FS_SAMPLE_MAX (1 << 20)  /* bigger sample JSON is treated as garbage */
#define FS_TEXT_MAX (FS_SAMPLE_MAX + 1) /* longest file text: sample.json and its newline */

/* One file of a machine directory. text is owned by the enclosing
 * fs_machine and always ends with '\n'. */
struct fs_file {
    char name[FS_NAME_MAX + 1];
    char *text;
    size_t len;
};

/* A rendered snapshot of one machine. Owns every file's text; free with
 * fs_machine_free(). */
struct fs_machine {
    int64_t last_seen_ms;        /* lastSeen, 0 when absent or garbage */
    int active;                  /* 1/0: hash `active`, else sample isActive */
    int has_sample;              /* the sample field parsed as a JSON object */
    struct fs_file *files;
    size_t nfiles;
};

/* Raw field values of `P machine:<mac>`; any may be NULL (absent). */
struct fs_hash_fields {
    const char *sample; size_t sample_len;
    const char *last_seen;       /* epoch ms, decimal */
    const char *first_seen;      /* epoch ms, decimal */
    const char *active;          /* "1" / "0" */
};

/* Renders the files of one machine into m (which it zeroes first).
 * Returns 0, or -1 only when memory runs out (m is then empty). */
int fs_render_machine(struct fs_machine *m, const struct fs_hash_fields *h);
void fs_machine_free(struct fs_machine *m);

/* The file called name in m, or NULL. */
const struct fs_file *fs_machine_find(const struct fs_machine *m, const char *name);

/* Writes v as the shortest text that reads back as the same double;
 * integral values below 1e15 without exponent or decimals ("8000000000").
 * Returns the length written (buf always NUL-terminated; len >= 32). */
size_t fs_format_number(double v, char *buf, size_t len);

/* camelCase / PascalCase / snake_case JSON key -> snake_case file name
 * ("cpuLoad" -> "cpu_load", "IPAddr" -> "ip_addr"). Returns 0, or -1 when
 * the key has characters other than [A-Za-z0-9_] or the result would not
 * fit in outlen (including the NUL). */
int fs_snake_case(const char *key, char *out, size_t outlen);

/* The top-level README file's text (static, NUL-terminated). */
const char *fs_readme_text(void);

#endif
