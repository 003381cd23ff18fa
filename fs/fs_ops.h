/* fs_ops.h -- the FUSE operations of perfload-fs (high-level, path based).
 *
 * Tree: /README, /machines, /<mac>/<file>. Everything is read-only: every
 * modifying operation answers EROFS. File contents come from fs_cache
 * snapshots; opened files use direct_io so each read(offset 0) shows the
 * live value, while later offsets continue the text read at offset 0 (a
 * large sample.json stays consistent across read calls). */
#ifndef PERFLOAD_FS_OPS_H
#define PERFLOAD_FS_OPS_H

/* 3.12: the opaque loop config (fuse_loop_cfg_*), which also avoids the
 * v1 struct's bogus "invalid max threads" warning. Debian bookworm has 3.14. */
#define FUSE_USE_VERSION 312
#include <fuse.h>

/* The operations table; ttl_s becomes the kernel's entry/attr timeouts. */
const struct fuse_operations *fs_ops_table(double ttl_s);

#endif
