/* SPDX-License-Identifier: MIT */
#include <libgen.h>
#include <sys/stat.h>

#include "change.h"
#include "strv.h"

void vhc_changes_done(struct vhc_changes *c) {
        for (size_t i = 0; i < c->n; i++) {
                free(c->v[i].abs);
                free(c->v[i].path);
                free(c->v[i].old);
                free(c->v[i].new);
                free(c->v[i].save);
                strv_free(c->v[i].argv);
        }
        free(c->v);
        strv_free(c->mkdirs);
        *c = (struct vhc_changes){};
}

static struct vhc_file_change *push(struct vhc_changes *c, const char *abs, const char *path) {
        struct vhc_file_change *v = realloc(c->v, (c->n + 1) * sizeof(*v)), *x;

        if (!v)
                return NULL;
        c->v = v;
        x = &v[c->n++];
        *x = (struct vhc_file_change){ .abs = strdup(abs), .path = strdup(path) };
        return x->abs && x->path ? x : NULL;
}

int vhc_changes_add(struct vhc_changes *c, const char *abs, const char *path, const char *old, size_t old_len,
                    const char *new, size_t new_len, mode_t mode, const char *what, enum vhc_effect effect) {
        struct vhc_file_change *x;

        if (old && new && old_len == new_len && memcmp(old, new, new_len) == 0)
                return 0;
        if (!old && !new)
                return 0;
        x = push(c, abs, path);
        if (!x)
                return -ENOMEM;
        x->old_len = old_len;
        x->new_len = new_len;
        x->mode = mode;
        x->what = what;
        x->effect = effect;
        if (old && !(x->old = strndup(old, old_len)))
                return -ENOMEM;
        if (new && !(x->new = strndup(new, new_len)))
                return -ENOMEM;
        return 0;
}

int vhc_changes_add_command(struct vhc_changes *c, const char *label, const char *old, const char *new,
                            char *const *argv, const char *what, enum vhc_effect effect) {
        struct vhc_file_change *x;
        size_t n = c->n;
        int r;

        r = vhc_changes_add(c, label, label, old, strlen(old), new, strlen(new), 0, what, effect);
        if (r < 0 || c->n == n)
                return r;
        x = &c->v[c->n - 1];
        for (size_t i = 0; argv[i]; i++)
                if (strv_push_dup(&x->argv, argv[i]) < 0)
                        return -ENOMEM;
        return 0;
}

int vhc_changes_add_touch(struct vhc_changes *c, const char *abs, const char *path) {
        struct vhc_file_change *x = push(c, abs, path);

        if (!x)
                return -ENOMEM;
        x->touch = true;
        return 0;
}

const struct vhc_file_change *vhc_changes_find(const struct vhc_changes *c, const char *abs) {
        for (size_t i = 0; i < c->n; i++)
                if (!c->v[i].touch && streq(c->v[i].abs, abs))
                        return &c->v[i];
        return NULL;
}

int vhc_missing_dirs(const struct vhc_root *r, const char *dir, char ***l) {
        _cleanup_free_ char *copy = strdup(dir), *full = NULL;
        struct stat st;
        int k;

        if (!copy)
                return -ENOMEM;
        if (streq(dir, "/"))
                return 0;
        full = vhc_root_join(r, dir);
        if (!full)
                return -ENOMEM;
        if (stat(full, &st) == 0)
                return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
        if (errno != ENOENT)
                return negative_errno();
        /* A link to a place not in the root: made there, it would not be
         * the directory recorded, so it is not made at all. */
        free(full);
        full = vhc_root_join_nofollow(r, dir);
        if (!full)
                return -ENOMEM;
        if (lstat(full, &st) == 0 && S_ISLNK(st.st_mode))
                return -ENOLINK;
        k = vhc_missing_dirs(r, dirname(copy), l);
        if (k < 0)
                return k;
        return strv_contains(*l, dir) ? 0 : strv_push_dup(l, dir);
}
