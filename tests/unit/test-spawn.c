/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "spawn-cmd.h"

#define FIXTURES SRCDIR "/tests/fixtures/bootloader"

/* Under valgrind a failed exec kills the child instead of reaching us: its
 * fork emulation breaks both posix_spawn's and our own error reporting. */
static bool under_valgrind(void) {
        const char *p = getenv("LD_PRELOAD");

        return p && strstr(p, "vgpreload");
}

static int run(char *const argv[], char **out, int *status) {
        return vhc_spawn(argv, NULL, out, status);
}

static void test_true_false(void **state) {
        char *out = NULL;
        int status = -1;

        assert_int_equal(run((char *[]){(char *)"/bin/true", NULL}, &out, &status), 0);
        assert_int_equal(status, 0);
        assert_string_equal(out, "");
        free(out);

        assert_int_equal(run((char *[]){(char *)"/bin/false", NULL}, &out, &status), 0);
        assert_int_equal(status, 1);
        free(out);

        /* A name without a slash is looked up in PATH. */
        assert_int_equal(run((char *[]){(char *)"true", NULL}, NULL, &status), 0);
        assert_int_equal(status, 0);
}

static void test_both_streams(void **state) {
        char *out = NULL;
        int status;

        assert_int_equal(run((char *[]){(char *)"/bin/sh", (char *)"-c",
                                        (char *)"echo out; echo err >&2; echo 'two words'; exit 7", NULL},
                             &out, &status),
                         0);
        assert_int_equal(status, 7);
        assert_string_equal(out, "out\nerr\ntwo words\n");
        free(out);
}

static void test_missing(void **state) {
        char *out = (char *)0x1;
        int status = 12345;

        if (under_valgrind()) {
                print_message("SKIP exec failures under valgrind\n");
                skip();
        }
        assert_int_equal(run((char *[]){(char *)"/nonexistent/vhc-tool", NULL}, &out, &status), -ENOENT);
        {
                /* PATH as rpm gives scriptlets: execvp says -EACCES instead when
                 * some PATH directory is not searchable (root's ~/bin for nobody). */
                char *path = strdup(getenv("PATH"));

                assert_int_equal(setenv("PATH", "/usr/sbin:/usr/bin:/sbin:/bin", 1), 0);
                assert_int_equal(run((char *[]){(char *)"vhc-no-such-tool-in-path", NULL}, &out, &status),
                                 -ENOENT);
                assert_int_equal(setenv("PATH", path, 1), 0);
                free(path);
        }
        /* Out-parameters are left alone on failure. */
        assert_ptr_equal(out, (char *)0x1);
        assert_int_equal(status, 12345);
        assert_int_equal(run((char *[]){NULL}, &out, &status), -EINVAL);
        assert_int_equal(vhc_spawn(NULL, NULL, &out, &status), -EINVAL);
}

static void test_not_executable(void **state) {
        char *out = NULL;
        int status;

        if (under_valgrind()) {
                print_message("SKIP exec failures under valgrind\n");
                skip();
        }
        /* A file without the x bit. */
        assert_int_equal(run((char *[]){(char *)FIXTURES "/README", NULL}, &out, &status), -EACCES);
}

static void test_signal(void **state) {
        int status;

        assert_int_equal(run((char *[]){(char *)"/bin/sh", (char *)"-c", (char *)"kill -TERM $$", NULL},
                             NULL, &status),
                         0);
        assert_int_equal(status, 128 + SIGTERM);
}

static void test_environment_and_stdin(void **state) {
        char *out = NULL;
        int status;

        assert_int_equal(setenv("VHC_TEST_SPAWN", "passed through", 1), 0);
        /* stdin is /dev/null: cat ends at once instead of reading ours. */
        assert_int_equal(
                run((char *[]){(char *)"/bin/sh", (char *)"-c", (char *)"echo $VHC_TEST_SPAWN; cat", NULL},
                    &out, &status),
                0);
        assert_int_equal(status, 0);
        assert_string_equal(out, "passed through\n");
        free(out);
        unsetenv("VHC_TEST_SPAWN");
}

/* The child gets 0, 1 and 2 only: not our descriptors, not even one we
 * were given without O_CLOEXEC. ls lists its own, plus the one it reads. */
static void test_no_fd_leak(void **state) {
        int fd = open("/dev/null", O_RDONLY), fd2 = open("/dev/null", O_RDONLY | O_CLOEXEC);
        char *out = NULL;
        int status;

        assert_true(fd >= 0 && fd2 >= 0);
        assert_int_equal(run((char *[]){(char *)"/bin/ls", (char *)"/proc/self/fd", NULL}, &out, &status),
                         0);
        assert_int_equal(status, 0);
        assert_string_equal(out, "0\n1\n2\n3\n");
        free(out);
        close(fd);
        close(fd2);
}

/* An ignored SIGPIPE is not inherited: `yes` dies quietly of it, instead of
 * complaining of a write error. */
static void test_signals_reset(void **state) {
        struct sigaction ign = {.sa_handler = SIG_IGN}, old;
        sigset_t block, oldmask;
        char *out = NULL;
        int status;

        sigemptyset(&ign.sa_mask);
        assert_int_equal(sigaction(SIGPIPE, &ign, &old), 0);
        sigemptyset(&block);
        sigaddset(&block, SIGTERM);
        assert_int_equal(sigprocmask(SIG_BLOCK, &block, &oldmask), 0);

        assert_int_equal(run((char *[]){(char *)"/bin/sh", (char *)"-c", (char *)"yes | head -n 1", NULL},
                             &out, &status),
                         0);
        assert_string_equal(out, "y\n");
        free(out);
        /* A blocked SIGTERM is not inherited either. */
        assert_int_equal(
                run((char *[]){(char *)"/bin/sh", (char *)"-c", (char *)"kill -TERM $$; exit 3", NULL}, NULL,
                    &status),
                0);
        assert_int_equal(status, 128 + SIGTERM);

        assert_int_equal(sigprocmask(SIG_SETMASK, &oldmask, NULL), 0);
        assert_int_equal(sigaction(SIGPIPE, &old, NULL), 0);
}

/* Only the end of a long output is kept, and the read never blocks the child. */
static void test_output_bounded(void **state) {
        char *out = NULL;
        int status;
        size_t len;

        assert_int_equal(
                run((char *[]){(char *)"/bin/sh", (char *)"-c",
                               (char *)"echo START; head -c 3000000 /dev/zero | tr '\\0' a; echo; echo END",
                               NULL},
                    &out, &status),
                0);
        assert_int_equal(status, 0);
        len = strlen(out);
        assert_int_equal(len, VHC_SPAWN_OUTPUT_MAX);
        assert_null(strstr(out, "START"));
        assert_string_equal(out + len - 6, "a\nEND\n");
        free(out);

        /* Discarded output is read to the end as well. */
        assert_int_equal(run((char *[]){(char *)"/bin/sh", (char *)"-c",
                                        (char *)"head -c 3000000 /dev/zero; exit 4", NULL},
                             NULL, &status),
                         0);
        assert_int_equal(status, 4);
}

/* Our stdin and stdout closed: /dev/null and the pipe would then take
 * descriptors 0 and 1, and dup2(fd, fd) would leave them close-on-exec. */
static void check_stdio_closed(const char *chroot_dir) {
        int saved = dup(STDOUT_FILENO), saved_in = dup(STDIN_FILENO);
        char *out = NULL;
        int status, k;

        assert_true(saved >= 0 && saved_in >= 0);
        close(STDIN_FILENO);
        close(STDOUT_FILENO);
        k = vhc_spawn((char *[]){(char *)"/bin/sh", (char *)"-c",
                                 (char *)"(exec 3<&0) 2>&- && echo stdin; echo visible", NULL},
                      chroot_dir, &out, &status);
        assert_int_equal(dup2(saved, STDOUT_FILENO), STDOUT_FILENO);
        assert_int_equal(dup2(saved_in, STDIN_FILENO), STDIN_FILENO);
        close(saved);
        close(saved_in);
        assert_int_equal(k, 0);
        assert_int_equal(status, 0);
        assert_string_equal(out, "stdin\nvisible\n");
        free(out);
}

static void test_stdio_closed(void **state) {
        check_stdio_closed(NULL);
}

static char *make_root(void) {
        char tmpl[] = "/tmp/vhc-spawn-XXXXXX", *dir, cmd[512];

        dir = mkdtemp(tmpl);
        assert_non_null(dir);
        snprintf(cmd, sizeof(cmd), "sh " FIXTURES "/mkroot.sh %s", dir);
        assert_int_equal(system(cmd), 0);
        return strdup(dir);
}

static void remove_tree(const char *dir) {
        char cmd[512];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        assert_int_equal(system(cmd), 0);
}

static void test_chroot(void **state) {
        char *dir, *out = NULL;
        int status;

        if (geteuid() != 0) {
                /* Without CAP_SYS_CHROOT the chroot is refused, as an error. */
                assert_int_equal(vhc_spawn((char *[]){(char *)"/bin/true", NULL}, "/", &out, &status),
                                 -EPERM);
                print_message("SKIP chroot runs: not root\n");
                skip();
        }
        dir = make_root();
        assert_int_equal(vhc_spawn((char *[]){(char *)"/bin/sh", (char *)"-c",
                                              (char *)"echo $0 in $(pwd); test -e /ran.log || echo fresh; "
                                                      "echo x > /ran.log; exit 5",
                                              NULL},
                                   dir, &out, &status),
                         0);
        assert_int_equal(status, 5);
        assert_string_equal(out, "/bin/sh in /\nfresh\n");
        free(out);
        {
                /* The write landed inside the tree. */
                char p[512];

                snprintf(p, sizeof(p), "%s/ran.log", dir);
                assert_int_equal(access(p, F_OK), 0);
        }
        {
                /* No descriptor of ours gets in either (the tree has no /proc:
                 * the shell tries to write to each low one instead). */
                int fd = open("/dev/null", O_RDONLY), fd2 = open("/dev/null", O_RDONLY | O_CLOEXEC);

                assert_true(fd >= 3 && fd <= 9 && fd2 >= 3 && fd2 <= 9);
                assert_int_equal(vhc_spawn((char *[]){(char *)"/bin/sh", (char *)"-c",
                                                      (char *)"for n in 1 3 4 5 6 7 8 9; do "
                                                              "{ : >&$n; } 2>&- && printf '%s ' $n; done",
                                                      NULL},
                                           dir, &out, &status),
                                 0);
                assert_string_equal(out, "1 ");
                free(out);
                close(fd);
                close(fd2);
        }
        check_stdio_closed(dir);
        /* A program the tree lacks is -ENOENT, although the host has it. */
        out = (char *)0x1;
        assert_int_equal(vhc_spawn((char *[]){(char *)"/bin/true", NULL}, dir, &out, &status), -ENOENT);
        assert_ptr_equal(out, (char *)0x1);
        /* So is a root that does not exist. */
        assert_int_equal(
                vhc_spawn((char *[]){(char *)"/bin/sh", NULL}, "/nonexistent-vhc-root", NULL, &status),
                -ENOENT);
        remove_tree(dir);
        free(dir);
}

static void check_quote(char *const argv[], const char *want) {
        char *s = vhc_argv_to_string(argv);

        assert_non_null(s);
        assert_string_equal(s, want);
        free(s);
}

static void test_argv_to_string(void **state) {
        check_quote((char *[]){(char *)"grub2-mkconfig", (char *)"-o", (char *)"/boot/grub2/grub.cfg", NULL},
                    "grub2-mkconfig -o /boot/grub2/grub.cfg");
        check_quote((char *[]){(char *)"grubby", (char *)"--update-kernel=ALL",
                               (char *)"--args=iommu=pt intel_iommu=on", NULL},
                    "grubby --update-kernel=ALL '--args=iommu=pt intel_iommu=on'");
        check_quote(
                (char *[]){(char *)"a", (char *)"", (char *)"it's", (char *)"$HOME", (char *)"x;y", NULL},
                "a '' 'it'\\''s' '$HOME' 'x;y'");
        check_quote((char *[]){NULL}, "");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_true_false),     cmocka_unit_test(test_both_streams),
                cmocka_unit_test(test_missing),        cmocka_unit_test(test_not_executable),
                cmocka_unit_test(test_signal),         cmocka_unit_test(test_environment_and_stdin),
                cmocka_unit_test(test_no_fd_leak),     cmocka_unit_test(test_signals_reset),
                cmocka_unit_test(test_output_bounded), cmocka_unit_test(test_stdio_closed),
                cmocka_unit_test(test_chroot),         cmocka_unit_test(test_argv_to_string),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
