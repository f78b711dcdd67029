/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "fileio.h"
#include "log.h"

static char logfile[] = "/tmp/vhc-test-log-XXXXXX";

static int setup(void **state) {
        int fd = mkstemp(logfile);

        if (fd < 0)
                return -1;
        close(fd);
        return setenv("VHC_LOG_FILE", logfile, 1);
}

static int teardown(void **state) {
        unlink(logfile);
        return unsetenv("VHC_LOG_FILE");
}

/* What the text copy holds now; emptied for the next test. */
static char *take_log(void) {
        char *text;
        size_t len;

        assert_int_equal(vhc_read_file(logfile, 1 << 20, &text, &len), 0);
        assert_int_equal(truncate(logfile, 0), 0);
        return text;
}

static void test_change(void **state) {
        char *text;

        errno = EBADF;
        vhc_log_change(VHC_LOG_CREATED, "/etc/udev/rules.d/61-virt-host-config-vfio.rules", NULL);
        vhc_log_change(VHC_LOG_UPDATED, "/etc/default/grub", "added iommu=pt");
        vhc_log_change(VHC_LOG_REMOVED, "/etc/modprobe.d/virt-host-config.conf", NULL);
        vhc_log_change(VHC_LOG_SKIP, NULL, "not a booted system: run: dracut -f --regenerate-all");
        /* Never an error for the caller, and errno stays as it was. */
        assert_int_equal(errno, EBADF);
        text = take_log();
        assert_string_equal(
                text,
                "virt-host-config: VHC_ACTION=created "
                "VHC_FILE=/etc/udev/rules.d/61-virt-host-config-vfio.rules PRIORITY=6\n"
                "virt-host-config: VHC_ACTION=updated VHC_FILE=/etc/default/grub VHC_DETAIL=added iommu=pt "
                "PRIORITY=6\n"
                "virt-host-config: VHC_ACTION=removed VHC_FILE=/etc/modprobe.d/virt-host-config.conf PRIORITY=6\n"
                "virt-host-config: VHC_ACTION=skip VHC_DETAIL=not a booted system: run: dracut -f "
                "--regenerate-all PRIORITY=5\n");
        free(text);
}

static void test_one_line_per_record(void **state) {
        char *text;

        vhc_log_change(VHC_LOG_UPDATED, "/etc/a\nb", "two\nlines \\ here");
        text = take_log();
        assert_string_equal(text, "virt-host-config: VHC_ACTION=updated VHC_FILE=/etc/a\\nb "
                                  "VHC_DETAIL=two\\nlines \\\\ here PRIORITY=6\n");
        free(text);
}

static void test_command(void **state) {
        char *text;

        vhc_log_command((char *[]){(char *)"/usr/sbin/grub2-mkconfig", (char *)"-o",
                                   (char *)"/boot/grub2/grub.cfg", NULL},
                        0);
        vhc_log_command((char *[]){(char *)"chroot", (char *)"/mnt/sys root", (char *)"/usr/bin/dracut",
                                   (char *)"-f", (char *)"--regenerate-all", NULL},
                        1);
        vhc_log_command(
                (char *[]){(char *)"/usr/sbin/grubby", (char *)"--args=iommu=pt intel_iommu=on", NULL},
                -ENOENT);
        text = take_log();
        assert_string_equal(
                text, "virt-host-config: VHC_ACTION=regenerate VHC_COMMAND=/usr/sbin/grub2-mkconfig -o "
                      "/boot/grub2/grub.cfg VHC_EXIT_STATUS=0 PRIORITY=6\n"
                      "virt-host-config: VHC_ACTION=regenerate VHC_COMMAND=chroot '/mnt/sys root' "
                      "/usr/bin/dracut -f --regenerate-all VHC_EXIT_STATUS=1 PRIORITY=3\n"
                      "virt-host-config: VHC_ACTION=regenerate VHC_COMMAND=/usr/sbin/grubby "
                      "'--args=iommu=pt intel_iommu=on' VHC_EXIT_STATUS=-2 VHC_DETAIL=could not run: "
                      "No such file or directory PRIORITY=3\n");
        free(text);
}

/* The outcome of a run: err when it failed, so `journalctl -p err` has it. */
static void test_outcome(void **state) {
        char *text;

        errno = EBADF;
        vhc_log_outcome("apply --defer", true, "/etc/default/grub:9: unbalanced double quote",
                        "sudo virt-host-config apply");
        vhc_log_outcome("revert", false, NULL, NULL);
        assert_int_equal(errno, EBADF);
        text = take_log();
        assert_string_equal(text, "virt-host-config: VHC_ACTION=outcome VHC_RUN=apply --defer VHC_RESULT=failed "
                                  "VHC_ERROR=/etc/default/grub:9: unbalanced double quote "
                                  "VHC_NEXT_STEP=sudo virt-host-config apply PRIORITY=3\n"
                                  "virt-host-config: VHC_ACTION=outcome VHC_RUN=revert VHC_RESULT=ok PRIORITY=6\n");
        free(text);
}

static void test_action_names(void **state) {
        assert_string_equal(vhc_log_action_to_string(VHC_LOG_CREATED), "created");
        assert_string_equal(vhc_log_action_to_string(VHC_LOG_UPDATED), "updated");
        assert_string_equal(vhc_log_action_to_string(VHC_LOG_REMOVED), "removed");
        assert_string_equal(vhc_log_action_to_string(VHC_LOG_REGENERATE), "regenerate");
        assert_string_equal(vhc_log_action_to_string(VHC_LOG_SKIP), "skip");
        assert_string_equal(vhc_log_action_to_string(VHC_LOG_OUTCOME), "outcome");
        assert_null(vhc_log_action_to_string(_VHC_LOG_ACTION_MAX));
        assert_null(vhc_log_action_to_string((enum vhc_log_action) - 1));
}

static void test_no_file(void **state) {
        struct stat st;
        char *text;

        /* An action out of range logs nothing. */
        vhc_log_change(_VHC_LOG_ACTION_MAX, "/etc/x", NULL);
        text = take_log();
        assert_string_equal(text, "");
        free(text);

        /* Unset or unusable VHC_LOG_FILE: nothing written, nothing fails. */
        assert_int_equal(setenv("VHC_LOG_FILE", "/nonexistent-vhc-dir/log", 1), 0);
        errno = EBADF;
        vhc_log_change(VHC_LOG_CREATED, "/etc/x", NULL);
        assert_int_equal(errno, EBADF); /* the failed open() left no trace */
        vhc_log_command((char *[]){(char *)"/bin/true", NULL}, 0);
        assert_int_equal(errno, EBADF);
        assert_int_equal(stat("/nonexistent-vhc-dir", &st), -1);
        assert_int_equal(unsetenv("VHC_LOG_FILE"), 0);
        vhc_log_change(VHC_LOG_CREATED, "/etc/x", NULL);
        vhc_log_command((char *[]){(char *)"/bin/true", NULL}, 0);
        assert_int_equal(setenv("VHC_LOG_FILE", logfile, 1), 0);
        text = take_log();
        assert_string_equal(text, "");
        free(text);
}

/* The journal record itself, received on a journal socket of our own: in a
 * child with a private mount namespace and a tmpfs on /run, so the host's
 * /run is never touched. Needs root (and a kernel that allows it). */
static int journal_child(int (*send)(void), char *buf, size_t size) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX, .sun_path = "/run/systemd/journal/socket"};
        int fd;
        ssize_t n;

        if (unshare(CLONE_NEWNS) < 0 || mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0 ||
            mount("tmpfs", "/run", "tmpfs", 0, "mode=0755") < 0)
                return 77;
        if (mkdir("/run/systemd", 0755) < 0 || mkdir("/run/systemd/journal", 0755) < 0)
                return 2;
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return 3;
        send();
        n = recv(fd, buf, size - 1, MSG_DONTWAIT);
        if (n <= 0)
                return 4;
        buf[n] = '\0';
        return 0;
}

static int send_change(void) {
        vhc_log_change(VHC_LOG_UPDATED, "/etc/default/grub", "added iommu=pt");
        return 0;
}

static int send_command(void) {
        vhc_log_command(
                (char *[]){(char *)"/usr/bin/dracut", (char *)"-f", (char *)"--regenerate-all", NULL}, 1);
        return 0;
}

static int send_outcome(void) {
        vhc_log_outcome("apply", true, "/etc/default/grub:9: unbalanced double quote",
                        "sudo virt-host-config apply");
        return 0;
}

static void check_journal(int (*send)(void), const char *const *want) {
        int pipefd[2], st;
        char buf[8192] = "";
        pid_t pid;
        ssize_t n;

        assert_int_equal(pipe(pipefd), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                char rec[8192];
                int r = journal_child(send, rec, sizeof(rec));

                if (r == 0)
                        (void)!write(pipefd[1], rec, strlen(rec));
                _exit(r);
        }
        close(pipefd[1]);
        n = read(pipefd[0], buf, sizeof(buf) - 1);
        close(pipefd[0]);
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_true(WIFEXITED(st));
        if (WEXITSTATUS(st) == 77) {
                print_message("SKIP journal record: no private mount namespace here\n");
                skip();
        }
        assert_int_equal(WEXITSTATUS(st), 0);
        assert_true(n > 0);
        buf[n] = '\0';
        for (size_t i = 0; want[i]; i++)
                if (!strstr(buf, want[i]))
                        fail_msg("journal record lacks \"%s\":\n%s", want[i], buf);
}

static void test_journal(void **state) {
        if (geteuid() != 0) {
                print_message("SKIP journal record: not root\n");
                skip();
        }
        check_journal(send_change,
                      (const char *const[]){
                              "MESSAGE_ID=bf3f8f58222b4281a6e653f80a817efe\n",
                              "MESSAGE=virt-host-config: updated /etc/default/grub: added iommu=pt\n",
                              "PRIORITY=6\n",
                              "SYSLOG_IDENTIFIER=virt-host-config\n",
                              "VHC_ACTION=updated\n",
                              "VHC_FILE=/etc/default/grub\n",
                              "VHC_DETAIL=added iommu=pt\n",
                              NULL,
                      });
        check_journal(
                send_command,
                (const char *const[]){
                        "MESSAGE_ID=bf3f8f58222b4281a6e653f80a817efe\n",
                        "MESSAGE=virt-host-config: ran /usr/bin/dracut -f --regenerate-all: exit status 1\n",
                        "PRIORITY=3\n",
                        "VHC_ACTION=regenerate\n",
                        "VHC_COMMAND=/usr/bin/dracut -f --regenerate-all\n",
                        "VHC_EXIT_STATUS=1\n",
                        NULL,
                });
        check_journal(send_outcome,
                      (const char *const[]){
                              "MESSAGE_ID=bf3f8f58222b4281a6e653f80a817efe\n",
                              "MESSAGE=virt-host-config: apply failed: /etc/default/grub:9: unbalanced double "
                              "quote; then run: sudo virt-host-config apply\n",
                              "PRIORITY=3\n",
                              "SYSLOG_IDENTIFIER=virt-host-config\n",
                              "VHC_ACTION=outcome\n",
                              "VHC_RUN=apply\n",
                              "VHC_RESULT=failed\n",
                              "VHC_ERROR=/etc/default/grub:9: unbalanced double quote\n",
                              "VHC_NEXT_STEP=sudo virt-host-config apply\n",
                              NULL,
                      });
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_change),  cmocka_unit_test(test_one_line_per_record),
                cmocka_unit_test(test_command), cmocka_unit_test(test_action_names),
                cmocka_unit_test(test_no_file), cmocka_unit_test(test_outcome),
                cmocka_unit_test(test_journal),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
