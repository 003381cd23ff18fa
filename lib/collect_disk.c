/* collect_disk.c -- /proc/self/mounts parsing and disk selection. */
#include "collect_disk.h"
#include "collect_text.h"

#include <string.h>

/* Filesystems without a backing disk of their own, or remote ones. */
static const char *const skipped_fs[] = {
    "proc", "sysfs", "devtmpfs", "devpts", "tmpfs", "ramfs", "cgroup", "cgroup2",
    "securityfs", "pstore", "bpf", "debugfs", "tracefs", "configfs", "fusectl",
    "mqueue", "hugetlbfs", "autofs", "binfmt_misc", "rpc_pipefs", "nsfs", "efivarfs",
    "selinuxfs", "overlay", "aufs", "squashfs", "iso9660", "nfsd", "devfs", "sockfs",
    "pipefs", "fuse.gvfsd-fuse", "fuse.portal", "fuse.lxcfs", "tracefs", "rootfs",
    "nfs", "nfs4", "cifs", "smb3", "smbfs", "ceph", "glusterfs", "9p", "afs",
    "fuse.sshfs", "virtiofs", "zram",
};

int collect_fs_skipped(const char *fstype)
{
    for (size_t i = 0; i < sizeof skipped_fs / sizeof skipped_fs[0]; i++)
        if (strcmp(fstype, skipped_fs[i]) == 0) return 1;
    return 0;
}

/* Copies the next blank-separated field into dst, decoding the kernel's
 * octal escapes (\040 space, \011 tab, \012 newline, \134 backslash).
 * Returns 0, or -1 when there is no field or it does not fit. */
static int next_field(const char **p, const char *end, char *dst, size_t cap)
{
    size_t n = 0;
    collect_skip_blanks(p, end);
    const char *s = *p;
    while (s < end && *s != ' ' && *s != '\t') {
        char ch = *s++;
        if (ch == '\\' && end - s >= 3 && s[0] >= '0' && s[0] <= '3' &&
            s[1] >= '0' && s[1] <= '7' && s[2] >= '0' && s[2] <= '7') {
            ch = (char)((s[0] - '0') * 64 + (s[1] - '0') * 8 + (s[2] - '0'));
            s += 3;
        }
        if (n + 1 >= cap) return -1;
        dst[n++] = ch;
    }
    if (n == 0) return -1;
    dst[n] = '\0';
    *p = s;
    return 0;
}

int collect_mounts_parse(const char *text, size_t len, struct collect_mounts *out)
{
    struct collect_cursor c;
    const char *line, *end;

    out->n = 0;
    collect_cursor_init(&c, text, len);
    while (collect_next_line(&c, &line, &end) && out->n < COLLECT_DISK_MAX) {
        struct collect_mount *m = &out->m[out->n];
        const char *p = line;
        if (next_field(&p, end, m->device, sizeof m->device) != 0) continue;
        if (next_field(&p, end, m->path, sizeof m->path) != 0) continue;
        if (next_field(&p, end, m->fstype, sizeof m->fstype) != 0) continue;
        if (collect_fs_skipped(m->fstype)) continue;
        /* a real local filesystem names its block device by path; ZFS and
         * btrfs-on-LVM aside, "none"/"systemd-1"-style sources are pseudo */
        if (m->device[0] != '/' && strcmp(m->fstype, "zfs") != 0) continue;
        int dup = 0;
        for (unsigned i = 0; i < out->n && !dup; i++)
            dup = strcmp(out->m[i].device, m->device) == 0;
        if (dup) continue;
        out->n++;
    }
    return 0;
}
