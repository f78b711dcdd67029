/* SPDX-License-Identifier: MIT */
/* librpm queries against a real rpm database: tiny packages are built with
 * rpmbuild and installed with rpm --root into a temporary root, then what
 * vhc_rpmq_verify() finds is compared with what `rpm -V` itself prints.
 * Installing with owners needs root: without it the tests skip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include <cmocka.h>

#include "fileio.h"
#include "rpmq.h"
#include "strv.h"

static char *tmp, *root_dir;
static struct vhc_root *root;
static bool ready;

static int sh(const char *fmt, ...) _printf_(1, 2);
static int sh(const char *fmt, ...) {
        char *cmd;
        va_list ap;
        int k;

        va_start(ap, fmt);
        k = vasprintf(&cmd, fmt, ap);
        va_end(ap);
        if (k < 0)
                return -1;
        k = system(cmd);
        free(cmd);
        return k;
}

static const char spec[] =
        "Name: vhc-test-pkg\n"
        "Version: 1.2\n"
        "Release: 3\n"
        "Summary: test\n"
        "License: MIT\n"
        "BuildArch: noarch\n"
        "AutoReqProv: no\n"
        "%description\n"
        "test\n"
        "%install\n"
        "mkdir -p %{buildroot}/etc/vhc-test %{buildroot}/usr/share/vhc-test %{buildroot}/usr/bin\n"
        "echo config > %{buildroot}/etc/vhc-test/config.conf\n"
        "echo data > %{buildroot}/usr/share/vhc-test/data.txt\n"
        "echo more > %{buildroot}/usr/share/vhc-test/more.txt\n"
        "printf '#!/bin/sh\\n' > %{buildroot}/usr/bin/vhc-test-tool\n"
        "chmod 755 %{buildroot}/usr/bin/vhc-test-tool\n"
        "ln -s data.txt %{buildroot}/usr/share/vhc-test/link\n"
        "touch %{buildroot}/etc/vhc-test/generated.conf\n"
        "%files\n"
        "%dir /etc/vhc-test\n"
        "%config(noreplace) /etc/vhc-test/config.conf\n"
        "%ghost %attr(0644,root,root) /etc/vhc-test/generated.conf\n"
        "/usr/share/vhc-test\n"
        "/usr/bin/vhc-test-tool\n";

/* Installed in three versions side by side, as kernels are. */
static const char kernel_spec[] = "Name: vhc-test-kernel\n"
                                  "Version: %{kv}\n"
                                  "Release: %{kr}\n"
                                  "Summary: test\n"
                                  "License: MIT\n"
                                  "BuildArch: noarch\n"
                                  "AutoReqProv: no\n"
                                  "%description\n"
                                  "test\n"
                                  "%install\n"
                                  "mkdir -p %{buildroot}/boot\n"
                                  "echo %{kv} > %{buildroot}/boot/vmlinuz-%{kv}-%{kr}\n"
                                  "%files\n"
                                  "/boot/vmlinuz-%{kv}-%{kr}\n";

static int write_text(const char *dir, const char *name, const char *text) {
        char *p;
        int k;

        if (asprintf(&p, "%s/%s", dir, name) < 0)
                return -1;
        k = vhc_write_file_atomic(p, text, strlen(text), 0644, NULL);
        free(p);
        return k;
}

static int build(const char *specname, const char *defines) {
        return sh("rpmbuild --quiet --define '_topdir %s/top' %s -bb %s/%s >%s/build.log 2>&1", tmp, defines,
                  tmp, specname, tmp);
}

static int group_setup(void **state) {
        char tmpl[] = "/tmp/vhc-rpmq-XXXXXX";

        if (!mkdtemp(tmpl))
                return -1;
        tmp = strdup(tmpl);
        if (asprintf(&root_dir, "%s/root", tmp) < 0 || mkdir(root_dir, 0755) < 0 ||
            vhc_root_new(root_dir, &root) < 0)
                return -1;
        if (geteuid() != 0 || sh("command -v rpmbuild >/dev/null") != 0)
                return 0;
        if (write_text(tmp, "t.spec", spec) < 0 || write_text(tmp, "k.spec", kernel_spec) < 0)
                return -1;
        if (build("t.spec", "") != 0 || build("k.spec", "--define 'kv 6.9.1' --define 'kr 100'") != 0 ||
            build("k.spec", "--define 'kv 6.10.0' --define 'kr 1'") != 0 ||
            build("k.spec", "--define 'kv 6.8.5' --define 'kr 301'") != 0)
                return sh("cat %s/build.log >&2", tmp), -1;
        /* --force-debian: Debian's rpm refuses to install without it. */
        if (sh("rpm --root='%s' --initdb && rpm --root='%s' -i --nodeps $(rpm --help | grep -q force-debian "
               "&& "
               "echo --force-debian) %s/top/RPMS/noarch/*.rpm",
               root_dir, root_dir, tmp) != 0)
                return -1;
        ready = true;
        return 0;
}

static int group_teardown(void **state) {
        sh("rm -rf '%s'", tmp);
        free(tmp);
        free(root_dir);
        vhc_root_free(root);
        return 0;
}

static void need_db(void) {
        if (!ready) {
                print_message("SKIP: installing test packages into a root needs root and rpmbuild\n");
                skip();
        }
}

static void test_versions(void **state) {
        struct vhc_rpm_versions v;
        struct vhc_err e = {};

        need_db();
        assert_int_equal(vhc_rpmq_versions(root,
                                           (const char *const[]){"vhc-test-kernel", "vhc-test-pkg",
                                                                 "kernel-core", NULL},
                                           &v, &e),
                         0);
        assert_true(v.have_db);
        assert_int_equal(v.n, 3);
        assert_string_equal(v.pkgs[0].name, "vhc-test-kernel");
        /* Newest first, by rpm's version comparison (6.10 > 6.9). */
        assert_int_equal(strv_length(v.pkgs[0].versions), 3);
        assert_string_equal(v.pkgs[0].versions[0], "6.10.0-1");
        assert_string_equal(v.pkgs[0].versions[1], "6.9.1-100");
        assert_string_equal(v.pkgs[0].versions[2], "6.8.5-301");
        assert_string_equal(v.pkgs[1].name, "vhc-test-pkg");
        assert_int_equal(strv_length(v.pkgs[1].versions), 1);
        assert_string_equal(v.pkgs[1].versions[0], "1.2-3");
        assert_string_equal(v.pkgs[2].name, "kernel-core");
        assert_non_null(v.pkgs[2].versions);
        assert_int_equal(strv_length(v.pkgs[2].versions), 0);
        vhc_rpm_versions_done(&v);

        assert_int_equal(vhc_rpmq_versions(root, (const char *const[]){NULL}, &v, &e), 0);
        assert_true(v.have_db);
        assert_int_equal(v.n, 0);
        vhc_rpm_versions_done(&v);
}

static void test_no_db(void **state) {
        struct vhc_root *empty;
        struct vhc_rpm_versions v = {};
        struct vhc_rpm_verify w = {};
        struct vhc_err e = {};
        char *dir;

        assert_int_equal(asprintf(&dir, "%s/empty", tmp) > 0, 1);
        assert_int_equal(mkdir(dir, 0755), 0);
        assert_int_equal(vhc_root_new(dir, &empty), 0);
        assert_int_equal(vhc_rpmq_versions(empty, vhc_rpmq_reported_packages, &v, &e), 0);
        assert_false(v.have_db);
        assert_int_equal(v.n, 0);
        vhc_rpm_versions_done(&v);
        assert_int_equal(vhc_rpmq_verify(empty, (const char *const[]){"virt-host-config", NULL}, &w, &e), 0);
        assert_false(w.have_db);
        assert_int_equal(w.n, 0);
        assert_null(w.not_installed);
        vhc_rpm_verify_done(&w);
        assert_string_equal(e.msg, "");
        vhc_root_free(empty);
        free(dir);
}

static void test_reported_packages(void **state) {
        assert_string_equal(vhc_rpmq_reported_packages[0], "kernel-core");
        assert_string_equal(vhc_rpmq_reported_packages[1], "grub2-tools");
        assert_string_equal(vhc_rpmq_reported_packages[2], "dracut");
        assert_string_equal(vhc_rpmq_reported_packages[3], "edk2-ovmf");
        assert_string_equal(vhc_rpmq_reported_packages[4], "libvirt-daemon");
        assert_null(vhc_rpmq_reported_packages[5]);
}

/* Our findings as rpm -V lines ("S.5....T.  c /path"; "missing   c /path"),
 * in the package's file order, as rpm prints them. */
static char *our_lines(const struct vhc_rpm_verify *w) {
        _cleanup_strv_free_ char **l = NULL;
        char *text = NULL;
        size_t size = 0;
        FILE *f;

        for (size_t i = 0; i < w->n; i++) {
                char flags[10], *line, ac = w->files[i].config ? 'c' : w->files[i].ghost ? 'g' : ' ';

                vhc_rpmv_string(w->files[i].flags, flags);
                if (w->files[i].flags & VHC_RPMV_MISSING)
                        assert_int_equal(asprintf(&line, "missing   %c %s", ac, w->files[i].path) > 0, 1);
                else
                        assert_int_equal(asprintf(&line, "%s  %c %s", flags, ac, w->files[i].path) > 0, 1);
                assert_int_equal(strv_consume(&l, line), 0);
        }
        f = open_memstream(&text, &size);
        for (size_t i = 0; l && l[i]; i++)
                fprintf(f, "%s\n", l[i]);
        fclose(f);
        return text;
}

static char *rpm_lines(const char *pkg) {
        char *out, *cmd;
        size_t len;

        assert_int_equal(
                asprintf(&cmd, "rpm --root='%s' -V --nodeps %s > %s/rpm-V.txt", root_dir, pkg, tmp) > 0, 1);
        assert_int_not_equal(system(cmd), -1);
        free(cmd);
        assert_int_equal(asprintf(&cmd, "%s/rpm-V.txt", tmp) > 0, 1);
        assert_int_equal(vhc_read_file(cmd, 1 << 20, &out, &len), 0);
        free(cmd);
        return out;
}

static void verify(struct vhc_rpm_verify *w) {
        struct vhc_err e = {};

        assert_int_equal(vhc_rpmq_verify(root,
                                         (const char *const[]){"vhc-test-pkg", "not-installed-pkg", NULL}, w,
                                         &e),
                         0);
        assert_true(w->have_db);
        assert_int_equal(strv_length(w->not_installed), 1);
        assert_string_equal(w->not_installed[0], "not-installed-pkg");
}

/* What we report and what rpm -V prints are the same, line by line. */
static void check_same_as_rpm(const char *want) {
        struct vhc_rpm_verify w;
        char *ours, *theirs;

        verify(&w);
        ours = our_lines(&w);
        theirs = rpm_lines("vhc-test-pkg");
        assert_string_equal(ours, theirs);
        assert_string_equal(ours, want);
        for (size_t i = 0; i < w.n; i++)
                assert_string_equal(w.files[i].package, "vhc-test-pkg-1.2-3.noarch");
        free(ours);
        free(theirs);
        vhc_rpm_verify_done(&w);
}

static char *in_root(const char *abs) {
        char *p;

        assert_int_equal(asprintf(&p, "%s%s", root_dir, abs) > 0, 1);
        return p;
}

/* An edit made in the second the package was built in keeps its mtime:
 * move it well away, so that rpm -V's T is certain, not a matter of timing. */
static void edited(const char *p) {
        struct timespec ts[2] = { { .tv_nsec = UTIME_NOW }, { .tv_sec = time(NULL) + 3600 } };

        assert_int_equal(utimensat(AT_FDCWD, p, ts, 0), 0);
}

static void test_verify(void **state) {
        char *p;

        need_db();
        /* As installed: nothing differs; the absent %ghost is fine. */
        check_same_as_rpm("");

        /* Same size, other content, other mtime. */
        p = in_root("/usr/share/vhc-test/data.txt");
        assert_int_equal(vhc_write_file_atomic(p, "DATA\n", 5, 0644, NULL), 1);
        edited(p);
        free(p);
        /* Permissions. */
        p = in_root("/usr/bin/vhc-test-tool");
        assert_int_equal(chmod(p, 0700), 0);
        free(p);
        /* The config file, edited by the administrator. */
        p = in_root("/etc/vhc-test/config.conf");
        assert_int_equal(vhc_write_file_atomic(p, "config edited\n", 14, 0644, NULL), 1);
        edited(p);
        free(p);
        check_same_as_rpm("S.5....T.  c /etc/vhc-test/config.conf\n"
                          ".M.......    /usr/bin/vhc-test-tool\n"
                          "..5....T.    /usr/share/vhc-test/data.txt\n");
}

static void test_verify_more(void **state) {
        struct vhc_rpm_verify w;
        char *p;

        need_db();
        /* Owner and group. */
        p = in_root("/usr/share/vhc-test/data.txt");
        assert_int_equal(chown(p, 1234, 5678), 0);
        free(p);
        /* A symlink pointing elsewhere. */
        p = in_root("/usr/share/vhc-test/link");
        assert_int_equal(unlink(p), 0);
        assert_int_equal(symlink("more.txt", p), 0);
        free(p);
        /* A missing file. */
        p = in_root("/usr/share/vhc-test/more.txt");
        assert_int_equal(unlink(p), 0);
        free(p);
        /* The %ghost, created by "apply": content never counts, mode does. */
        p = in_root("/etc/vhc-test/generated.conf");
        assert_int_equal(vhc_write_file_atomic(p, "generated\n", 10, 0600, NULL), 1);
        edited(p);
        check_same_as_rpm("S.5....T.  c /etc/vhc-test/config.conf\n"
                          ".M.......  g /etc/vhc-test/generated.conf\n"
                          ".M.......    /usr/bin/vhc-test-tool\n"
                          "..5..UGT.    /usr/share/vhc-test/data.txt\n"
                          "....L....    /usr/share/vhc-test/link\n"
                          "missing     /usr/share/vhc-test/more.txt\n");

        verify(&w);
        for (size_t i = 0; i < w.n; i++) {
                if (streq(w.files[i].path, "/etc/vhc-test/generated.conf")) {
                        assert_true(w.files[i].ghost);
                        assert_false(w.files[i].config);
                        assert_int_equal(w.files[i].flags, VHC_RPMV_MODE);
                } else if (streq(w.files[i].path, "/etc/vhc-test/config.conf")) {
                        assert_true(w.files[i].config);
                        assert_int_equal(w.files[i].flags, VHC_RPMV_SIZE | VHC_RPMV_DIGEST | VHC_RPMV_MTIME);
                } else if (streq(w.files[i].path, "/usr/share/vhc-test/more.txt"))
                        assert_int_equal(w.files[i].flags, VHC_RPMV_MISSING);
        }
        vhc_rpm_verify_done(&w);

        /* Put back as installed: clean again. */
        assert_int_equal(chmod(p, 0644), 0);
        free(p);
        assert_int_equal(
                sh("rpm --root='%s' -i --nodeps --replacepkgs $(rpm --help | grep -q force-debian && "
                   "echo --force-debian) %s/top/RPMS/noarch/vhc-test-pkg-1.2-3.noarch.rpm",
                   root_dir, tmp),
                0);
        /* rpm keeps an edited %config(noreplace) as it is. */
        check_same_as_rpm("S.5....T.  c /etc/vhc-test/config.conf\n");
}

static void test_rpmv_string(void **state) {
        char buf[10];

        vhc_rpmv_string(0, buf);
        assert_string_equal(buf, ".........");
        vhc_rpmv_string(VHC_RPMV_SIZE | VHC_RPMV_MODE | VHC_RPMV_DIGEST | VHC_RPMV_LINK | VHC_RPMV_USER |
                                VHC_RPMV_GROUP | VHC_RPMV_MTIME,
                        buf);
        assert_string_equal(buf, "SM5.LUGT.");
        vhc_rpmv_string(VHC_RPMV_DIGEST | VHC_RPMV_READFAIL, buf);
        assert_string_equal(buf, "..?......");
        vhc_rpmv_string(VHC_RPMV_MISSING | VHC_RPMV_SIZE, buf);
        assert_string_equal(buf, "missing  ");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_reported_packages),
                cmocka_unit_test(test_rpmv_string),
                cmocka_unit_test(test_no_db),
                cmocka_unit_test(test_versions),
                cmocka_unit_test(test_verify),
                cmocka_unit_test(test_verify_more),
        };

        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
