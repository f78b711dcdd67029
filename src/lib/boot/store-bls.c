/* SPDX-License-Identifier: MIT */
#include <libgen.h>

#include "cmdline.h"
#include "fileio.h"
#include "grubenv.h"
#include "kline.h"
#include "store.h"
#include "strv.h"

/* A Boot Loader Specification type-1 entry: its "options" lines, as the
 * loaders that read its directory read them (kline.h). Where GRUB reads it,
 * only the first options line counts, and a token "$name" is a variable of
 * GRUB's environment block (grubenv: tuned's $tuned_params, RHEL 8's
 * $kernelopts) whose tokens the kernel gets as well: those are read, never
 * edited. */

static const struct vhc_entry_dir *dir_of(const struct vhc_boot *b, const char *abs) {
        _cleanup_free_ char *copy = strdup(abs);
        const char *d;

        if (!copy)
                return NULL;
        d = dirname(copy);
        for (size_t i = 0; i < b->n_entry_dirs; i++)
                if (streq(b->entry_dirs[i].path, d))
                        return &b->entry_dirs[i];
        return NULL;
}

/* The grubenv GRUB reads, as text; NULL if there is none. */
static int read_grubenv(const struct vhc_boot *b, char **ret, size_t *ret_len) {
        const char *abs = vhc_path_abs(b->grub == VHC_GRUB_GRUB ? VHC_PATH_GRUB_ENV : VHC_PATH_GRUB2_ENV);
        _cleanup_free_ char *path = vhc_boot_path(b->root, abs);
        int r;

        if (!path)
                return -ENOMEM;
        r = vhc_read_file(path, 1 << 16, ret, ret_len);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                *ret = NULL;
        return 0;
}

/* The tokens of the grubenv variables the entry's tokens name. */
static int expand_vars(const struct vhc_boot *b, char *const *tokens, char ***ret) {
        _cleanup_free_ char *env = NULL;
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        size_t len = 0;
        int r;

        if (!l)
                return -ENOMEM;
        for (size_t i = 0; tokens[i]; i++) {
                _cleanup_free_ char *name = NULL, *val = NULL;
                _cleanup_strv_free_ char **sub = NULL;
                const char *t = tokens[i];

                if (t[0] != '$')
                        continue;
                if (!env) {
                        r = read_grubenv(b, &env, &len);
                        if (r < 0)
                                return r;
                        if (!env)
                                break;
                }
                if (t[1] == '{' && t[strlen(t) - 1] == '}')
                        name = strndup(t + 2, strlen(t) - 3);
                else
                        name = strdup(t + 1);
                if (!name)
                        return -ENOMEM;
                r = vhc_grubenv_get(env, len, name, &val);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        continue;
                r = vhc_cmdline_split(val, &sub);
                if (r == -ENOMEM)
                        return r;
                for (size_t j = 0; r >= 0 && sub[j]; j++)
                        if (strv_push_dup(&l, sub[j]) < 0)
                                return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

static char *entry_label(const struct vhc_kline *k, const char *abs) {
        _cleanup_free_ char *version = NULL;
        const char *base = strrchr(abs, '/') ? strrchr(abs, '/') + 1 : abs;
        size_t n = strlen(base);

        if (vhc_kline_get(k, "version", &version) == 0 && version[0])
                return strprintf("entry %s", version);
        if (n > 5 && streq(base + n - 5, ".conf"))
                n -= 5;
        return strprintf("entry %.*s", (int)n, base);
}

static int bls_open(const struct vhc_boot *b, const char *abs, const char *text, size_t len,
                    struct vhc_store_file *ret, struct vhc_err *e) {
        const struct vhc_entry_dir *d = dir_of(b, abs);
        _cleanup_free_ char *path = vhc_root_join(b->root, abs);
        _cleanup_strv_free_ char **tokens = NULL;
        struct vhc_kline *k;
        struct vhc_store_file f = {};
        int r;

        if (!path)
                return -ENOMEM;
        r = vhc_kline_parse(text, len, VHC_KLINE_BLS, d && d->first_only, path, &k, e);
        if (r < 0)
                return r;
        f.label = entry_label(k, abs);
        r = f.label ? vhc_kline_tokens(k, &tokens) : -ENOMEM;
        if (r >= 0 && d && d->first_only)
                r = expand_vars(b, tokens, &f.readonly);
        vhc_store_kline_target(&f, &vhc_store_bls_entry, abs, "options", k);
        if (r < 0) {
                vhc_store_file_done(&f);
                return r;
        }
        *ret = f;
        return 0;
}

const struct vhc_store vhc_store_bls_entry = {
        .name = "bls-entry",
        .what = "kernel arguments (boot entry)",
        .open = bls_open,
};
