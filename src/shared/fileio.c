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

int vhc_read_file(const char *path, size_t max, char **ret, size_t *ret_len) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, cap = 0;
        struct stat st;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (S_ISDIR(st.st_mode))
                return -EISDIR;

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

static int split_path(const char *path, char **ret_dir, char **ret_base) {
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
                struct selabel_handle *h = selabel_open(SELABEL_CTX_FILE, NULL, 0);

                if (!h)
                        return 0;
                if (selabel_lookup(h, &con, label_path, mode) < 0)
                        con = NULL;
                selabel_close(h);
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

        r = split_path(path, &dir, &base);
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
        r = split_path(path, &dir, &base);
        if (r < 0)
                return r;
        return fsync_dir(dir);
}

int vhc_mkdir(const char *path, mode_t mode) {
        int r = fault(VHC_FAULT_MKDIR, path);

        if (r < 0)
                return r;
        if (mkdir(path, mode) < 0)
                return errno == EEXIST ? 0 : negative_errno();
        /* mkdir honours the umask; the mode asked for is the mode wanted. */
        if (chmod(path, mode) < 0)
                return negative_errno();
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

int vhc_read_machine_file(const char *path, char **ret, size_t *ret_len, struct vhc_err *e) {
        int r = vhc_read_file(path, VHC_MANAGED_FILE_MAX, ret, ret_len);

        if (r == -ENOENT) {
                *ret = NULL;
                *ret_len = 0;
                return 0;
        }
        if (r == -EFBIG)
                return vhc_err_set(e, r, path, 0, "larger than %d MiB: not a file this tool manages",
                                   VHC_MANAGED_FILE_MAX >> 20);
        if (r < 0)
                return vhc_err_set(e, r, path, 0, "cannot read: %s", strerror(-r));
        return 0;
}
