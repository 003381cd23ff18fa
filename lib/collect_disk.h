/* collect_disk.h -- which mounted filesystems count as disks.
 *
 * Parses /proc/self/mounts ("device mountpoint fstype options 0 0", with
 * spaces etc. escaped as \040) and keeps local, real filesystems once
 * each: pseudo filesystems (proc, tmpfs, cgroup, overlay, squashfs, ...)
 * and network filesystems (nfs, cifs, ...: statvfs on a dead server would
 * hang the agent) are skipped, and a device mounted twice (bind mounts,
 * btrfs subvolumes) is kept at its first mount point only. The agent then
 * calls statvfs() on each kept mount point. Pure. */
#ifndef PERFLOAD_COLLECT_DISK_H
#define PERFLOAD_COLLECT_DISK_H

#include <stddef.h>

#define COLLECT_DISK_MAX 32
#define COLLECT_MOUNT_PATH_MAX 256

struct collect_mount {
    char device[COLLECT_MOUNT_PATH_MAX];   /* e.g. /dev/sda1, unescaped */
    char path[COLLECT_MOUNT_PATH_MAX];     /* mount point, unescaped */
    char fstype[32];
};

struct collect_mounts {
    unsigned n;
    struct collect_mount m[COLLECT_DISK_MAX];
};

/* Returns 0 (possibly with n == 0). Lines that do not parse, or whose
 * fields do not fit the buffers, are skipped. */
int collect_mounts_parse(const char *text, size_t len, struct collect_mounts *out);

/* 1 when fstype is never a disk (pseudo or network filesystem). */
int collect_fs_skipped(const char *fstype);

#endif
