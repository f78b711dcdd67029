/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <selinux/label.h>
#include <selinux/selinux.h>
#include <sys/stat.h>

#include "err.h"
#include "fileio.h"
#include "macro.h"

int (*vhc_fault_hook)(enum vhc_fault_op op, const char *path) = NULL;

static int fault(enum vhc_fault_op op, const char *path) {
        return vhc_fault_hook ? vhc_fault_hook(op, path) : 0;
}

/* Non-blocking, so that a FIFO or a device put in place of a file never
 * blocks the open; anything but a regular file is refused before a read. */
static int read_fd(const char *path, int flags, size_t max, char **ret, size_t *ret_len) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, cap = 0;
        struct stat st;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | flags);
        if (fd < 0)
                return negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;

        for (;;) {
                ssize_t n;

                if (len + 4096 + 1 > cap) {
                        char *t;

                        cap = cap ? cap * 2 : 8192;
                        t = realloc(buf, cap);
                        if (!t)
                                return -ENOMEM;
                        buf = t;
                }
                n = read(fd, buf + len, cap - len - 1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (n == 0)
                        break;
                len += (size_t)n;
                if (len > max)
                        return -EFBIG;
        }
        if (!buf && !(buf = malloc(1)))
                return -ENOMEM;
        buf[len] = '\0';
        *ret = TAKE_PTR(buf);
        if (ret_len)
                *ret_len = len;
        return 0;
}

int vhc_read_file(const char *path, size_t max, char **ret, size_t *ret_len) {
        return read_fd(path, 0, max, ret, ret_len);
}

int vhc_read_file_nofollow(const char *path, size_t max, char **ret, size_t *ret_len) {
        return read_fd(path, O_NOFOLLOW, max, ret, ret_len);
}

static int same_content(const char *path, const void *data, size_t len) {
        _cleanup_free_ char *old = NULL;
        size_t old_len;
        int r;

        r = vhc_read_file(path, len + 1, &old, &old_len);
        if (r == -EFBIG)
                return 0;
        if (r < 0)
                return r;
        return old_len == len && memcmp(old, data, len) == 0;
}

int vhc_split_path(const char *path, char **ret_dir, char **ret_base) {
        _cleanup_free_ char *a = strdup(path), *b = strdup(path);

        if (!a || !b)
                return -ENOMEM;
        *ret_dir = strdup(dirname(a));
        *ret_base = strdup(basename(b));
        if (!*ret_dir || !*ret_base) {
                free(*ret_dir);
                free(*ret_base);
                return -ENOMEM;
        }
        return 0;
}

static int fsync_dir(const char *dir) {
        _cleanup_close_ int fd = -1;
        int r;

        r = fault(VHC_FAULT_FSYNC_DIR, dir);
        if (r < 0)
                return r;
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        if (fsync(fd) < 0)
                return negative_errno();
        return 0;
}

int vhc_selabel_lookup(const char *spec_file, const char *label_path, mode_t mode, char **ret) {
        struct selinux_opt opt = {SELABEL_OPT_PATH, spec_file};
        struct selabel_handle *h = spec_file ? selabel_open(SELABEL_CTX_FILE, &opt, 1)
                                             : selabel_open(SELABEL_CTX_FILE, NULL, 0);

        *ret = NULL;
        if (!h)
                return 0;
        if (selabel_lookup(h, ret, label_path, mode) < 0) {
                int k = errno;

                *ret = NULL;
                selabel_close(h);
                return k == ENOENT ? 0 : -k;
        }
        selabel_close(h);
        return 0;
}

/* Gives the temporary file the label the final file must have. */
static int copy_label(int fd, const char *path, bool exists, mode_t mode, const char *label_path) {
        char *con = NULL;
        int r = 0;

        if (is_selinux_enabled() <= 0)
                return 0;
        if (exists) {
                if (getfilecon(path, &con) < 0)
                        return errno == ENOTSUP || errno == ENODATA ? 0 : negative_errno();
        } else if (label_path) {
                /* A new file is a regular one: the type is part of the lookup
                 * ("--" entries of file_contexts match only S_IFREG). */
                r = vhc_selabel_lookup(NULL, label_path, S_IFREG | (mode & 07777), &con);
                if (r < 0)
                        return r;
        }
        if (con && fsetfilecon(fd, con) < 0)
                r = negative_errno();
        freecon(con);
        return r;
}

static int write_all(int fd, const char *tmp, const char *data, size_t len) {
        int r = fault(VHC_FAULT_WRITE, tmp);

        if (r < 0)
                return r;
        while (len > 0) {
                ssize_t n = write(fd, data, len);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                data += n;
                len -= (size_t)n;
        }
        return 0;
}

int vhc_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
                          const char *label_path) {
        _cleanup_free_ char *dir = NULL, *base = NULL, *tmp = NULL;
        _cleanup_close_ int fd = -1;
        struct stat st;
        bool exists;
        int r;

        if (lstat(path, &st) == 0) {
                if (S_ISLNK(st.st_mode))
                        return -ELOOP;
                if (!S_ISREG(st.st_mode))
                        return -EISDIR;
                exists = true;
                r = same_content(path, data, len);
                if (r < 0)
                        return r;
                if (r > 0)
                        return 0;
        } else if (errno == ENOENT)
                exists = false;
        else
                return negative_errno();

        r = vhc_split_path(path, &dir, &base);
        if (r < 0)
                return r;
        if (asprintf(&tmp, "%s/.#%s.XXXXXX", dir, base) < 0)
                return -ENOMEM;

        r = fault(VHC_FAULT_CREATE, path);
        if (r < 0)
                return r;
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return negative_errno();

        if (exists) {
                if (fchmod(fd, st.st_mode & 07777) < 0 || fchown(fd, st.st_uid, st.st_gid) < 0) {
                        r = negative_errno();
                        goto fail;
                }
        } else if (fchmod(fd, mode) < 0) {
                r = negative_errno();
                goto fail;
        }
        r = copy_label(fd, path, exists, exists ? st.st_mode : mode, label_path);
        if (r < 0)
                goto fail;
        r = write_all(fd, tmp, data, len);
        if (r < 0)
                goto fail;
        r = fault(VHC_FAULT_FSYNC, tmp);
        if (r < 0 || fsync(fd) < 0) {
                r = r < 0 ? r : negative_errno();
                goto fail;
        }
        r = fault(VHC_FAULT_RENAME, path);
        if (r < 0 || rename(tmp, path) < 0) {
                r = r < 0 ? r : negative_errno();
                goto fail;
        }
        r = fsync_dir(dir);
        return r < 0 ? r : 1;

fail:
        (void)unlink(tmp);
        return r;
}

int vhc_remove_file(const char *path) {
        _cleanup_free_ char *dir = NULL, *base = NULL;
        int r;

        r = fault(VHC_FAULT_UNLINK, path);
        if (r < 0)
                return r;
        if (unlink(path) < 0)
                return negative_errno();
        r = vhc_split_path(path, &dir, &base);
        if (r < 0)
                return r;
        return fsync_dir(dir);
}

/* Whether to holds exactly content: -ENOENT if nothing is there, 1 if it is
 * that, 0 if anything else (a link, another file, a directory). */
static int holds_exactly(const char *to, const void *content, size_t len) {
        _cleanup_free_ char *there = NULL;
        struct stat st;
        size_t n;
        int r;

        if (lstat(to, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode) || (size_t)st.st_size != len)
                return 0;
        r = vhc_read_file_nofollow(to, len, &there, &n);
        if (r == -ENOMEM)
                return r;
        return r == 0 && n == len && memcmp(there, content, len) == 0;
}

int vhc_save_file(const char *path, const char *to, const void *content, size_t len) {
        _cleanup_free_ char *dir = NULL, *base = NULL;
        _cleanup_close_ int fd = -1;
        const mode_t active = S_ISUID | S_ISGID | S_IXUSR | S_IXGRP | S_IXOTH;
        struct stat st;
        int r;

        r = holds_exactly(to, content, len);
        if (r < 0 && r != -ENOENT)
                return r;
        if (r == 0)
                return -EEXIST;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
        if (fd < 0)
                return negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        if ((st.st_mode & active) && fchmod(fd, st.st_mode & 07777 & ~active) < 0)
                return negative_errno();
        if (r == 1) {
                r = vhc_remove_file(path);
                return r == -ENOENT ? 0 : r;
        }
        r = fault(VHC_FAULT_RENAME, path);
        if (r < 0)
                return r;
        if (renameat2(AT_FDCWD, path, AT_FDCWD, to, RENAME_NOREPLACE) < 0) {
                if (errno != EINVAL && errno != ENOSYS)
                        return negative_errno();
                /* A file system without RENAME_NOREPLACE: link() does not
                 * replace either; a crash in between leaves two names of one
                 * inactive file, and the next run removes the first. */
                if (link(path, to) < 0 || unlink(path) < 0)
                        return negative_errno();
        }
        r = vhc_split_path(path, &dir, &base);
        if (r < 0)
                return r;
        return fsync_dir(dir);
}

int vhc_mkdir(const char *path, mode_t mode) {
        return vhc_mkdir_label(path, mode, NULL);
}

int vhc_mkdir_label(const char *path, mode_t mode, const char *label_path) {
        int r = fault(VHC_FAULT_MKDIR, path);
        char *con = NULL;

        if (r < 0)
                return r;
        if (mkdir(path, mode) < 0)
                return errno == EEXIST ? 0 : negative_errno();
        /* mkdir honours the umask; the mode asked for is the mode wanted. */
        if (chmod(path, mode) < 0)
                return negative_errno();
        /* The label the policy gives the directory (virt_hook_t for
         * /etc/libvirt/hooks/qemu.d), not its parent's. */
        if (label_path && is_selinux_enabled() > 0) {
                r = vhc_selabel_lookup(NULL, label_path, S_IFDIR | (mode & 07777), &con);
                if (r < 0)
                        return r;
                if (con && lsetfilecon(path, con) < 0 && errno != ENOTSUP)
                        r = negative_errno();
                freecon(con);
                if (r < 0)
                        return r;
        }
        return 1;
}

int vhc_rmdir(const char *path) {
        if (rmdir(path) < 0)
                return errno == ENOENT ? 0 : negative_errno();
        return 0;
}

int vhc_memstream_finish(FILE *f, char **buf, char **ret) {
        bool bad = ferror(f);

        if (fclose(f) != 0 || bad) {
                free(*buf);
                *buf = NULL;
                return -ENOMEM;
        }
        *ret = TAKE_PTR(*buf);
        return 0;
}

static int machine_file(const char *path, int r, char **ret, size_t *ret_len, struct vhc_err *e) {
        if (r == -ENOENT) {
                *ret = NULL;
                *ret_len = 0;
                return 0;
        }
        if (r == -EFBIG)
                return vhc_err_set(e, r, path, 0, "larger than %d MiB: not a file this tool manages",
                                   VHC_MANAGED_FILE_MAX >> 20);
        if (r == -EBADFD)
                return vhc_err_set(
                        e, r, path, 0,
                        "not a regular file (a FIFO, a socket or a device): replace it with the file "
                        "or remove it");
        if (r == -ELOOP)
                return vhc_err_set(
                        e, r, path, 0,
                        "is a symbolic link, not the file virt-host-config wrote: remove the link and "
                        "run again");
        if (r < 0)
                return vhc_err_set(e, r, path, 0, "cannot read: %s", strerror(-r));
        return 0;
}

int vhc_read_machine_file(const char *path, char **ret, size_t *ret_len, struct vhc_err *e) {
        return machine_file(path, vhc_read_file(path, VHC_MANAGED_FILE_MAX, ret, ret_len), ret, ret_len, e);
}

int vhc_read_own_file(const char *path, char **ret, size_t *ret_len, struct vhc_err *e) {
        return machine_file(path, vhc_read_file_nofollow(path, VHC_MANAGED_FILE_MAX, ret, ret_len), ret, ret_len, e);
}
