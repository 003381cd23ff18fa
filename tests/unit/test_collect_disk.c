/* Unit tests for lib/collect_disk: which mounts count as disks. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "collect_disk.h"
#include "test_collect_fixture.h"

static struct collect_mounts ms;

/* The fixture mixes pseudo filesystems, a snap squashfs, a docker overlay,
 * NFS, a bind mount of the root device, an escaped path and ZFS. */
static void test_ordinary_host(void **state)
{
    size_t len;
    const char *t = fixture(0, "mounts/ordinary", &len);
    assert_int_equal(collect_mounts_parse(t, len, &ms), 0);
    assert_int_equal(ms.n, 4);
    assert_string_equal(ms.m[0].path, "/");
    assert_string_equal(ms.m[0].device, "/dev/nvme0n1p2");
    assert_string_equal(ms.m[0].fstype, "ext4");
    assert_string_equal(ms.m[1].path, "/boot/efi");
    assert_string_equal(ms.m[2].path, "/mnt/My Backup\\disk");   /* \040 and \134 decoded */
    assert_string_equal(ms.m[3].path, "/home");
    assert_string_equal(ms.m[3].fstype, "zfs");
    for (unsigned i = 0; i < ms.n; i++) {
        assert_string_not_equal(ms.m[i].path, "/var/lib/docker");  /* same device as / */
        assert_string_not_equal(ms.m[i].path, "/mnt/nfs");
    }
}

/* A container sees only an overlay root and pseudo filesystems. */
static void test_container_has_no_disks(void **state)
{
    const char *t = "overlay / overlay rw,lowerdir=/a 0 0\nproc /proc proc rw 0 0\n"
                    "tmpfs /dev tmpfs rw 0 0\nshm /dev/shm tmpfs rw 0 0\n";
    assert_int_equal(collect_mounts_parse(t, strlen(t), &ms), 0);
    assert_int_equal(ms.n, 0);
}

static void test_skipped_types(void **state)
{
    assert_true(collect_fs_skipped("tmpfs"));
    assert_true(collect_fs_skipped("nfs4"));
    assert_true(collect_fs_skipped("squashfs"));
    assert_false(collect_fs_skipped("ext4"));
    assert_false(collect_fs_skipped("xfs"));
    assert_false(collect_fs_skipped("btrfs"));
}

static void test_malformed_and_limits(void **state)
{
    char big[COLLECT_DISK_MAX * 64 + 64];
    size_t n = 0;
    const char *bad = "/dev/sda1\n/dev/sda2 /x\n/dev/sda3 /y ext4\n/dev/sda4 /z\\04 ext4 rw 0 0\n";
    assert_int_equal(collect_mounts_parse(bad, strlen(bad), &ms), 0);
    assert_int_equal(ms.n, 2);
    assert_string_equal(ms.m[0].path, "/y");
    assert_string_equal(ms.m[1].path, "/z\\04");                   /* incomplete escape kept as is */
    for (int i = 0; i < COLLECT_DISK_MAX + 5; i++)
        n += (size_t)snprintf(big + n, sizeof big - n, "/dev/sd%d /m%d ext4 rw 0 0\n", i, i);
    assert_int_equal(collect_mounts_parse(big, n, &ms), 0);
    assert_int_equal(ms.n, COLLECT_DISK_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ordinary_host),
        cmocka_unit_test(test_container_has_no_disks),
        cmocka_unit_test(test_skipped_types),
        cmocka_unit_test(test_malformed_and_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
