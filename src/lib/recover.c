/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <libgen.h>
#include <sys/stat.h>

#include "fileio.h"
#include "macro.h"
#include "recover.h"

/* ".#BASE." and the six characters mkstemp and mkdtemp put after it. */
static bool is_temp_of(const char *name, const char *base) {
        size_t n = strlen(base);

        if (!startswith(name, ".#") || strncmp(name + 2, base, n) != 0 || name[2 + n] != '.')
                return false;
        name += 3 + n;
        if (strlen(name) != 6)
                return false;
        for (; *name; name++)
                if (!isalnum((unsigned char)*name))
                        return false;
        return true;
}

static int remove_at(int dfd, const char *name, int depth) {
        struct stat st;

        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return negative_errno();
        if (S_ISDIR(st.st_mode)) {
                int fd, r = 0;
                DIR *d;
                struct dirent *de;

                if (depth <= 0)
                        return -ELOOP;
                fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return negative_errno();
                d = fdopendir(fd);
                if (!d) {
                        r = negative_errno();
                        close(fd);
                        return r;
                }
                while (r >= 0 && (de = readdir(d)))
                        if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                                r = remove_at(dirfd(d), de->d_name, depth - 1);
                closedir(d);
                if (r < 0)
                        return r;
                return unlinkat(dfd, name, AT_REMOVEDIR) < 0 ? negative_errno() : 0;
        }
        return unlinkat(dfd, name, 0) < 0 ? negative_errno() : 0;
}

int vhc_remove_tree(const char *path, int depth) {
        return remove_at(AT_FDCWD, path, depth);
}

int vhc_recover_temps(const char *path) {
        _cleanup_free_ char *dir = NULL, *base = NULL;
        struct dirent *de;
        int r, n = 0;
        DIR *d;

        r = vhc_split_path(path, &dir, &base);
        if (r < 0)
                return r;
        d = opendir(dir);
        if (!d)
                return errno == ENOENT || errno == ENOTDIR ? 0 : negative_errno();
        while ((de = readdir(d)))
                if (is_temp_of(de->d_name, base)) {
                        r = remove_at(dirfd(d), de->d_name, 4);
                        if (r < 0 && r != -ENOENT)
                                break;
                        n += r >= 0;
                        r = 0;
                }
        closedir(d);
        return r < 0 ? r : n;
}

int vhc_temp_sibling_dir(const char *path, char **ret) {
        _cleanup_free_ char *dir = NULL, *base = NULL, *tmp = NULL;
        int r;

        r = vhc_split_path(path, &dir, &base);
        if (r < 0)
                return r;
        if (asprintf(&tmp, "%s/.#%s.XXXXXX", dir, base) < 0)
                return -ENOMEM;
        if (!mkdtemp(tmp))
                return negative_errno();
        if (chmod(tmp, 0755) < 0) {
                r = negative_errno();
                (void)rmdir(tmp);
                return r;
        }
        *ret = TAKE_PTR(tmp);
        return 0;
}
