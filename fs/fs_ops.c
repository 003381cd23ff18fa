/* fs_ops.c -- FUSE callbacks: map paths to cache snapshots. See fs_ops.h. */
#include "fs_ops.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "fs_cache.h"
#include "fs_render.h"
#include "sample.h"

enum fo_kind { FO_ROOT, FO_README, FO_MACHINES, FO_DIR, FO_FILE };

/* A parsed path. Names are copied out so nothing points into the path. */
struct fo_path {
    enum fo_kind kind;
    char mac[FS_NAME_MAX + 1];
    char file[FS_NAME_MAX + 1];
};

/* An open file: the text served to the reads that follow a read at
 * offset 0. lock serialises reads of one handle from several threads. */
struct fo_open {
    pthread_mutex_t lock;
    struct fo_path path;
    char *text;
    size_t len;
    int fresh;                   /* text was fetched by open(), not read yet */
};

static double fo_ttl_s;
static time_t fo_started;

/* Splits path into at most two components. Anything else, and any
 * directory name sample_mac_valid() refuses, is ENOENT: a hostile id in
 * Redis can never become a path, and a path can never name one. */
static int fo_parse(const char *path, struct fo_path *p)
{
    memset(p, 0, sizeof(*p));
    if (path[0] != '/')
        return -ENOENT;
    const char *a = path + 1;
    if (!*a) {
        p->kind = FO_ROOT;
        return 0;
    }
    const char *slash = strchr(a, '/');
    size_t alen = slash ? (size_t)(slash - a) : strlen(a);
    if (!slash && strcmp(a, "README") == 0) {
        p->kind = FO_README;
        return 0;
    }
    if (!slash && strcmp(a, "machines") == 0) {
        p->kind = FO_MACHINES;
        return 0;
    }
    /* ids spelled like our own top-level files stay hidden, also below */
    if (!sample_mac_valid(a, alen) || (alen == 6 && memcmp(a, "README", 6) == 0) ||
        (alen == 8 && memcmp(a, "machines", 8) == 0))
        return -ENOENT;
    memcpy(p->mac, a, alen);
    if (!slash || !slash[1]) {
        p->kind = FO_DIR;
        return 0;
    }
    const char *b = slash + 1;
    size_t blen = strlen(b);
    if (blen > FS_NAME_MAX || strchr(b, '/'))
        return -ENOENT;
    memcpy(p->file, b, blen);
    p->kind = FO_FILE;
    return 0;
}

static void fo_set_time(struct stat *st, int64_t ms)
{
    st->st_mtim.tv_sec = st->st_ctim.tv_sec = st->st_atim.tv_sec = (time_t)(ms / 1000);
    st->st_mtim.tv_nsec = st->st_ctim.tv_nsec = st->st_atim.tv_nsec = (long)(ms % 1000) * 1000000;
}

/* "<mac> <1|0>\n" per machine, sorted by mac. */
static int fo_machines_text(char **text, size_t *len)
{
    struct fs_members *members;
    int rc = fs_cache_members(&members);
    if (rc != 0)
        return rc;
    size_t count = members->list.count;
    struct fs_snap **snaps = calloc(count ? count : 1, sizeof(*snaps));
    char *buf = malloc(count * (FS_NAME_MAX + 4) + 1);
    if (!snaps || !buf) {
        rc = -ENOMEM;
        goto done;
    }
    if ((rc = fs_cache_all(members, snaps)) != 0)
        goto done;
    size_t n = 0;
    for (size_t i = 0; i < count; i++) {
        n += (size_t)sprintf(buf + n, "%s %d\n", members->list.names[i], snaps[i]->m.active);
        fs_snap_put(snaps[i]);
    }
    buf[n] = '\0';
    *text = buf;
    *len = n;
    buf = NULL;
done:
    free(buf);
    free(snaps);
    fs_members_put(members);
    return rc;
}

/* The current text of a file path (caller frees). 0, -ENOENT, -EIO. */
static int fo_content(const struct fo_path *p, char **text, size_t *len)
{
    if (p->kind == FO_README) {
        *text = strdup(fs_readme_text());
        *len = *text ? strlen(*text) : 0;
        return *text ? 0 : -ENOMEM;
    }
    if (p->kind == FO_MACHINES)
        return fo_machines_text(text, len);
    if (p->kind != FO_FILE)
        return -EISDIR;
    struct fs_snap *s;
    int rc = fs_cache_machine(p->mac, &s);
    if (rc != 0)
        return rc;
    const struct fs_file *f = fs_machine_find(&s->m, p->file);
    if (!f) {
        fs_snap_put(s);
        return -ENOENT;
    }
    *text = malloc(f->len + 1);
    if (*text) {
        memcpy(*text, f->text, f->len + 1);
        *len = f->len;
    }
    fs_snap_put(s);
    return *text ? 0 : -ENOMEM;
}

static int fo_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
    struct fo_path p;
    int rc = fo_parse(path, &p);
    if (rc != 0)
        return rc;
    memset(st, 0, sizeof(*st));
    st->st_uid = getuid();
    st->st_gid = getgid();
    fo_set_time(st, (int64_t)fo_started * 1000);
    if (p.kind == FO_ROOT) {
        st->st_mode = S_IFDIR | 0555;
        st->st_nlink = 2;
        return 0;
    }
    if (p.kind == FO_README || p.kind == FO_MACHINES) {
        char *text;
        size_t len;
        if ((rc = fo_content(&p, &text, &len)) != 0)
            return rc;
        free(text);
        st->st_mode = S_IFREG | 0444;
        st->st_nlink = 1;
        st->st_size = (off_t)len;
        if (p.kind == FO_MACHINES)
            fo_set_time(st, (int64_t)time(NULL) * 1000);
        return 0;
    }
    struct fs_snap *s;
    if ((rc = fs_cache_machine(p.mac, &s)) != 0)
        return rc;
    if (p.kind == FO_DIR) {
        st->st_mode = S_IFDIR | 0555;
        st->st_nlink = 2;
    } else {
        const struct fs_file *f = fs_machine_find(&s->m, p.file);
        if (!f) {
            fs_snap_put(s);
            return -ENOENT;
        }
        st->st_mode = S_IFREG | 0444;
        st->st_nlink = 1;
        st->st_size = (off_t)f->len;
    }
    if (s->m.last_seen_ms > 0)
        fo_set_time(st, s->m.last_seen_ms);
    fs_snap_put(s);
    return 0;
}

static int fo_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off,
                      struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
    struct fo_path p;
    int rc = fo_parse(path, &p);
    if (rc != 0)
        return rc;
    if (p.kind != FO_ROOT && p.kind != FO_DIR)
        return -ENOTDIR;
    fill(buf, ".", NULL, 0, 0);
    fill(buf, "..", NULL, 0, 0);
    if (p.kind == FO_ROOT) {
        struct fs_members *m;
        if ((rc = fs_cache_members(&m)) != 0)
            return rc;
        fill(buf, "README", NULL, 0, 0);
        fill(buf, "machines", NULL, 0, 0);
        for (size_t i = 0; i < m->list.count; i++) {
            const char *name = m->list.names[i];
            /* ids that collide with our own files stay hidden */
            if (strcmp(name, "README") != 0 && strcmp(name, "machines") != 0)
                fill(buf, name, NULL, 0, 0);
        }
        fs_members_put(m);
        return 0;
    }
    struct fs_snap *s;
    if ((rc = fs_cache_machine(p.mac, &s)) != 0)
        return rc;
    for (size_t i = 0; i < s->m.nfiles; i++)
        fill(buf, s->m.files[i].name, NULL, 0, 0);
    fs_snap_put(s);
    return 0;
}

static int fo_open_file(const char *path, struct fuse_file_info *fi)
{
    if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & (O_TRUNC | O_CREAT)))
        return -EROFS;
    struct fo_path p;
    int rc = fo_parse(path, &p);
    if (rc != 0)
        return rc;
    if (p.kind == FO_ROOT || p.kind == FO_DIR)
        return -EISDIR;
    struct fo_open *o = calloc(1, sizeof(*o));
    if (!o)
        return -ENOMEM;
    /* Load now so open() of a vanished file fails with ENOENT/EIO. */
    if ((rc = fo_content(&p, &o->text, &o->len)) != 0) {
        free(o);
        return rc;
    }
    pthread_mutex_init(&o->lock, NULL);
    o->path = p;
    o->fresh = 1;
    fi->fh = (uint64_t)(uintptr_t)o;
    fi->direct_io = 1;
    fi->keep_cache = 0;
    return 0;
}

static int fo_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
    struct fo_open *o = (struct fo_open *)(uintptr_t)fi->fh;
    int rc = 0;
    if (!o || off < 0)
        return -EINVAL;
    pthread_mutex_lock(&o->lock);
    /* A read from the start is a new look at the value: refresh it. The
     * first read after open uses the text open() just fetched. */
    if (off == 0 && !o->fresh && o->path.kind != FO_README) {
        char *text;
        size_t len;
        if ((rc = fo_content(&o->path, &text, &len)) == 0) {
            free(o->text);
            o->text = text;
            o->len = len;
        }
    }
    o->fresh = 0;
    if (rc == 0) {
        size_t n = 0;
        if ((size_t)off < o->len) {
            n = o->len - (size_t)off;
            if (n > size)
                n = size;
            memcpy(buf, o->text + off, n);
        }
        rc = (int)n;
    }
    pthread_mutex_unlock(&o->lock);
    return rc;
}

static int fo_release(const char *path, struct fuse_file_info *fi)
{
    struct fo_open *o = (struct fo_open *)(uintptr_t)fi->fh;
    if (o) {
        pthread_mutex_destroy(&o->lock);
        free(o->text);
        free(o);
    }
    return 0;
}

static int fo_statfs(const char *path, struct statvfs *sv)
{
    memset(sv, 0, sizeof(*sv));
    sv->f_bsize = 4096;
    sv->f_frsize = 4096;
    sv->f_namemax = FS_NAME_MAX;
    sv->f_flag = ST_RDONLY | ST_NOSUID;
    return 0;
}

static int fo_access(const char *path, int mask)
{
    struct fo_path p;
    int rc = fo_parse(path, &p);
    if (rc != 0)
        return rc;
    return (mask & W_OK) ? -EROFS : 0;
}

/* Every way of changing the tree gets EROFS (unimplemented operations
 * would answer ENOSYS, which tools report confusingly). */
static int fo_rofs_path(const char *path) { return -EROFS; }
static int fo_rofs_mkdir(const char *path, mode_t mode) { return -EROFS; }
static int fo_rofs_mknod(const char *path, mode_t mode, dev_t dev) { return -EROFS; }
static int fo_rofs_link(const char *from, const char *to) { return -EROFS; }
static int fo_rofs_rename(const char *from, const char *to, unsigned int flags) { return -EROFS; }
static int fo_rofs_chmod(const char *path, mode_t mode, struct fuse_file_info *fi) { return -EROFS; }
static int fo_rofs_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi) { return -EROFS; }
static int fo_rofs_truncate(const char *path, off_t size, struct fuse_file_info *fi) { return -EROFS; }
static int fo_rofs_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi) { return -EROFS; }
static int fo_rofs_write(const char *path, const char *buf, size_t size, off_t off,
                         struct fuse_file_info *fi) { return -EROFS; }
static int fo_rofs_create(const char *path, mode_t mode, struct fuse_file_info *fi) { return -EROFS; }
static int fo_rofs_setxattr(const char *path, const char *name, const char *value, size_t size,
                            int flags) { return -EROFS; }
static int fo_rofs_removexattr(const char *path, const char *name) { return -EROFS; }
static int fo_rofs_fallocate(const char *path, int mode, off_t off, off_t len,
                             struct fuse_file_info *fi) { return -EROFS; }

static void *fo_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
    cfg->entry_timeout = fo_ttl_s;
    cfg->attr_timeout = fo_ttl_s;
    cfg->negative_timeout = fo_ttl_s;
    cfg->direct_io = 1;
    cfg->kernel_cache = 0;
    cfg->use_ino = 0;
    return NULL;
}

static struct fuse_operations fo_table = {
    .init = fo_init,
    .getattr = fo_getattr,
    .readdir = fo_readdir,
    .open = fo_open_file,
    .read = fo_read,
    .release = fo_release,
    .statfs = fo_statfs,
    .access = fo_access,
    .mknod = fo_rofs_mknod,
    .mkdir = fo_rofs_mkdir,
    .unlink = fo_rofs_path,
    .rmdir = fo_rofs_path,
    .symlink = fo_rofs_link,
    .rename = fo_rofs_rename,
    .link = fo_rofs_link,
    .chmod = fo_rofs_chmod,
    .chown = fo_rofs_chown,
    .truncate = fo_rofs_truncate,
    .write = fo_rofs_write,
    .setxattr = fo_rofs_setxattr,
    .removexattr = fo_rofs_removexattr,
    .create = fo_rofs_create,
    .utimens = fo_rofs_utimens,
    .fallocate = fo_rofs_fallocate,
};

const struct fuse_operations *fs_ops_table(double ttl_s)
{
    fo_ttl_s = ttl_s;
    fo_started = time(NULL);
    return &fo_table;
}
