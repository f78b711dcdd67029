/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

#include "spawn-cmd.h"

extern char **environ;

/* Our descriptors are kept at 3 and above, so that a process started with
 * stdin, stdout or stderr closed cannot make dup2(fd, fd) a no-op that leaves
 * O_CLOEXEC set on the child's stdout. */
static int fd_above_stdio(int fd) {
        int r;

        if (fd < 0 || fd > STDERR_FILENO)
                return fd;
        r = fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
        if (r < 0) {
                r = negative_errno();
                close(fd);
                return r;
        }
        close(fd);
        return r;
}

static int pipe_cloexec(int fds[2]) {
        if (pipe2(fds, O_CLOEXEC) < 0)
                return negative_errno();
        fds[0] = fd_above_stdio(fds[0]);
        fds[1] = fd_above_stdio(fds[1]);
        if (fds[0] < 0 || fds[1] < 0) {
                int r = fds[0] < 0 ? fds[0] : fds[1];

                if (fds[0] >= 0)
                        close(fds[0]);
                if (fds[1] >= 0)
                        close(fds[1]);
                return r;
        }
        return 0;
}

/* The child gets a clean signal state: our caller (rpm's scriptlet runner, for
 * one) may ignore SIGPIPE or block signals, and both survive exec. */
static void reset_signals_in_child(void) {
        struct sigaction sa = {.sa_handler = SIG_DFL};
        sigset_t none;

        sigemptyset(&sa.sa_mask);
        for (int sig = 1; sig < NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        (void)sigaction(sig, &sa, NULL);
        sigemptyset(&none);
        (void)sigprocmask(SIG_SETMASK, &none, NULL);
}

/*
 * posix_spawn() cannot chroot, so a chrooted run forks: chroot, chdir("/"),
 * then execvp inside the new root. The alternative, posix_spawn() of
 * chroot(8) with our argv, would make a program missing under the root
 * indistinguishable from a program that exits 127 (chroot(8) reports both
 * that way), and would depend on where the host keeps chroot(8). The child
 * only makes async-signal-safe calls; an exec failure reaches the parent as
 * an errno over a close-on-exec pipe.
 */
static int start_chrooted(char *const argv[], const char *dir, int in_fd, int out_fd, pid_t *ret_pid) {
        _cleanup_close_ int err_r = -1, err_w = -1;
        int fds[2], child_errno, r;
        pid_t pid;
        ssize_t n;

        r = pipe_cloexec(fds);
        if (r < 0)
                return r;
        err_r = fds[0];
        err_w = fds[1];

        pid = fork();
        if (pid < 0)
                return negative_errno();
        if (pid == 0) {
                int e;

                reset_signals_in_child();
                /* The error pipe moves to 3, so everything above it can go. */
                if (chroot(dir) < 0 || chdir("/") < 0 || dup2(in_fd, STDIN_FILENO) < 0 ||
                    dup2(out_fd, STDOUT_FILENO) < 0 || dup2(out_fd, STDERR_FILENO) < 0 ||
                    dup2(err_w, STDERR_FILENO + 1) < 0 || fcntl(STDERR_FILENO + 1, F_SETFD, FD_CLOEXEC) < 0)
                        e = errno;
                else {
                        err_w = STDERR_FILENO + 1;
                        (void)close_range(STDERR_FILENO + 2, ~0U, 0);
                        execvp(argv[0], argv);
                        e = errno;
                }
                (void)!write(err_w, &e, sizeof(e));
                _exit(127);
        }

        close(err_w);
        err_w = -1;
        do
                n = read(err_r, &child_errno, sizeof(child_errno));
        while (n < 0 && errno == EINTR);
        if (n == sizeof(child_errno)) {
                while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                        ;
                return child_errno > 0 ? -child_errno : -EIO;
        }
        *ret_pid = pid;
        return 0;
}

static int start_spawn(char *const argv[], int in_fd, int out_fd, pid_t *ret_pid) {
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;
        sigset_t all, none;
        pid_t pid;
        int r;

        r = posix_spawn_file_actions_init(&fa);
        if (r != 0)
                return -r;
        r = posix_spawnattr_init(&attr);
        if (r != 0) {
                posix_spawn_file_actions_destroy(&fa);
                return -r;
        }
        sigfillset(&all);
        sigemptyset(&none);
        r = posix_spawn_file_actions_adddup2(&fa, in_fd, STDIN_FILENO);
        if (r == 0)
                r = posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO);
        if (r == 0)
                r = posix_spawn_file_actions_adddup2(&fa, out_fd, STDERR_FILENO);
        /* Descriptors our caller left open without O_CLOEXEC are not the tool's business. */
        if (r == 0)
                r = posix_spawn_file_actions_addclosefrom_np(&fa, STDERR_FILENO + 1);
        if (r == 0)
                r = posix_spawnattr_setsigdefault(&attr, &all);
        if (r == 0)
                r = posix_spawnattr_setsigmask(&attr, &none);
        if (r == 0)
                r = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
        if (r == 0)
                r = posix_spawnp(&pid, argv[0], &fa, &attr, argv, environ);
        posix_spawnattr_destroy(&attr);
        posix_spawn_file_actions_destroy(&fa);
        if (r != 0)
                return -r;
        *ret_pid = pid;
        return 0;
}

/* Reads fd to its end, keeping the last VHC_SPAWN_OUTPUT_MAX bytes (or
 * nothing when ret is NULL). */
static int read_tail(int fd, char **ret) {
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, size = 0;
        char chunk[65536];

        for (;;) {
                ssize_t n = read(fd, chunk, sizeof(chunk));

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (n == 0)
                        break;
                if (!ret)
                        continue;
                if (len + (size_t)n + 1 > size) {
                        size_t want = len + (size_t)n + 1;
                        char *p;

                        want = want < 4096 ? 4096 : want * 2;
                        if (want > 2 * VHC_SPAWN_OUTPUT_MAX + sizeof(chunk) + 1)
                                want = 2 * VHC_SPAWN_OUTPUT_MAX + sizeof(chunk) + 1;
                        p = realloc(buf, want);
                        if (!p)
                                return -ENOMEM;
                        buf = p;
                        size = want;
                }
                memcpy(buf + len, chunk, (size_t)n);
                len += (size_t)n;
                /* Trim only past twice the limit, so the copying stays linear. */
                if (len > 2 * VHC_SPAWN_OUTPUT_MAX) {
                        memmove(buf, buf + len - VHC_SPAWN_OUTPUT_MAX, VHC_SPAWN_OUTPUT_MAX);
                        len = VHC_SPAWN_OUTPUT_MAX;
                }
        }
        if (!ret)
                return 0;
        if (len > VHC_SPAWN_OUTPUT_MAX) {
                memmove(buf, buf + len - VHC_SPAWN_OUTPUT_MAX, VHC_SPAWN_OUTPUT_MAX);
                len = VHC_SPAWN_OUTPUT_MAX;
        }
        if (!buf) {
                buf = malloc(1);
                if (!buf)
                        return -ENOMEM;
        }
        buf[len] = '\0';
        *ret = TAKE_PTR(buf);
        return 0;
}

static int wait_status(pid_t pid, int *ret_status) {
        int st;

        while (waitpid(pid, &st, 0) < 0)
                if (errno != EINTR)
                        return negative_errno();
        if (WIFEXITED(st))
                *ret_status = WEXITSTATUS(st);
        else if (WIFSIGNALED(st))
                *ret_status = 128 + WTERMSIG(st);
        else
                *ret_status = 255;
        return 0;
}

int vhc_spawn(char *const argv[], const char *chroot_dir, char **ret_output, int *ret_status) {
        _cleanup_close_ int in_fd = -1, out_r = -1, out_w = -1;
        _cleanup_free_ char *output = NULL;
        int fds[2], status, r, k;
        pid_t pid;

        if (!argv || !argv[0] || !argv[0][0])
                return -EINVAL;

        in_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (in_fd < 0)
                return negative_errno();
        in_fd = fd_above_stdio(in_fd);
        if (in_fd < 0)
                return in_fd;
        r = pipe_cloexec(fds);
        if (r < 0)
                return r;
        out_r = fds[0];
        out_w = fds[1];

        if (chroot_dir)
                r = start_chrooted(argv, chroot_dir, in_fd, out_w, &pid);
        else
                r = start_spawn(argv, in_fd, out_w, &pid);
        if (r < 0)
                return r;
        /* Our copy of the write end must go, or the read never sees EOF. */
        close(out_w);
        out_w = -1;

        r = read_tail(out_r, ret_output ? &output : NULL);
        k = wait_status(pid, &status);
        if (r < 0)
                return r;
        if (k < 0)
                return k;
        if (ret_output)
                *ret_output = TAKE_PTR(output);
        if (ret_status)
                *ret_status = status;
        return 0;
}

static bool needs_quoting(const char *s) {
        if (!s[0])
                return true;
        for (const char *c = s; *c; c++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                            "_-+=/.,:@%",
                            *c))
                        return true;
        return false;
}

char *vhc_argv_to_string(char *const argv[]) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);
        bool bad;

        if (!f)
                return NULL;
        for (size_t i = 0; argv && argv[i]; i++) {
                if (i > 0)
                        fputc(' ', f);
                if (!needs_quoting(argv[i])) {
                        fputs(argv[i], f);
                        continue;
                }
                fputc('\'', f);
                for (const char *c = argv[i]; *c; c++)
                        if (*c == '\'')
                                fputs("'\\''", f);
                        else
                                fputc(*c, f);
                fputc('\'', f);
        }
        bad = ferror(f);
        if (fclose(f) != 0 || bad) {
                free(buf);
                return NULL;
        }
        return buf;
}
