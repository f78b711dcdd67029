/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <stdarg.h>
#include <sys/stat.h>

#include <libkmod.h>

#include "fileio.h"
#include "kmodule.h"
#include "strv.h"

struct vhc_kmod {
        struct kmod_ctx *ctx;
        char *release;
        char *dir; /* <root>/lib/modules/<release> */
};

static inline void closedirp(DIR **d) {
        if (*d)
                closedir(*d);
}

/* Library code does not log; libkmod reports what matters through return
 * values. */
static void kmod_quiet(void *data, int priority, const char *file, int line, const char *fn,
                       const char *format, va_list args) {
}

/* modprobe.d directories in libkmod's order. */
static int config_paths(const struct vhc_root *r, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        char *p[] = {
                vhc_root_path(r, VHC_PATH_MODPROBE_D_ETC),       vhc_root_path(r, VHC_PATH_MODPROBE_D_RUN),
                vhc_root_path(r, VHC_PATH_MODPROBE_D_USR_LOCAL), vhc_root_path(r, VHC_PATH_MODPROBE_D_LIB),
                vhc_root_path(r, VHC_PATH_MODPROBE_D_USR),
        };
        int k = 0;

        for (size_t i = 0; i < ELEMENTSOF(p); i++) {
                if (k >= 0)
                        k = p[i] ? strv_consume(&l, p[i]) : -ENOMEM;
                else
                        free(p[i]);
        }
        if (k < 0)
                return k;
        *ret = TAKE_PTR(l);
        return 0;
}

/* kmod_new() parses modprobe.d and reports bad lines before a log function
 * can be set; only KMOD_LOG reaches it that early. A KMOD_LOG the user set
 * is a request to see libkmod's messages, and is left alone. */
static struct kmod_ctx *new_quiet_ctx(const char *dir, char **conf) {
        struct kmod_ctx *ctx;

        if (getenv("KMOD_LOG"))
                return kmod_new(dir, (const char *const *)conf);
        if (setenv("KMOD_LOG", "0", 0) < 0)
                return NULL;
        ctx = kmod_new(dir, (const char *const *)conf);
        (void)unsetenv("KMOD_LOG");
        if (ctx)
                kmod_set_log_fn(ctx, kmod_quiet, NULL);
        return ctx;
}

static bool is_dir(const char *path) {
        struct stat st;

        return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool valid_release(const char *s) {
        return s[0] && s[0] != '.' && !strchr(s, '/') && strlen(s) < 256;
}

/* The newest release by version order, as kernel-install sorts them. */
static int newest_release(const char *modules_dir, char **ret) {
        _cleanup_(closedirp) DIR *dir = opendir(modules_dir);
        _cleanup_free_ char *best = NULL;
        struct dirent *de;

        if (!dir)
                return negative_errno();
        while ((de = readdir(dir))) {
                _cleanup_free_ char *p = NULL;

                if (!valid_release(de->d_name))
                        continue;
                if (asprintf(&p, "%s/%s", modules_dir, de->d_name) < 0)
                        return -ENOMEM;
                if (!is_dir(p))
                        continue;
                if (!best || strverscmp(de->d_name, best) > 0) {
                        free(best);
                        best = strdup(de->d_name);
                        if (!best)
                                return -ENOMEM;
                }
        }
        if (!best)
                return -ENOENT;
        *ret = TAKE_PTR(best);
        return 0;
}

/* The running kernel's release when its modules are there; else the newest
 * installed one (an image or chroot whose /proc is not its own kernel's). */
static int pick_release(const struct vhc_root *r, const char *modules_dir, char **ret, struct vhc_err *e) {
        _cleanup_free_ char *osrelease = vhc_root_path(r, VHC_PATH_PROC_OSRELEASE), *buf = NULL;
        size_t len;
        int k;

        if (!osrelease)
                return -ENOMEM;
        k = vhc_read_file(osrelease, 4096, &buf, &len);
        if (k < 0 && k != -ENOENT)
                return vhc_err_set(e, k, osrelease, 0, "cannot read: %s", strerror(-k));
        if (k >= 0) {
                _cleanup_free_ char *p = NULL;

                buf[strcspn(buf, "\n")] = '\0';
                if (valid_release(buf)) {
                        if (asprintf(&p, "%s/%s", modules_dir, buf) < 0)
                                return -ENOMEM;
                        if (is_dir(p)) {
                                *ret = TAKE_PTR(buf);
                                return 0;
                        }
                }
        }
        k = newest_release(modules_dir, ret);
        if (k == -ENOENT)
                return vhc_err_set(e, k, modules_dir, 0,
                                   "no kernel modules installed (install the kernel-modules package)");
        if (k < 0)
                return vhc_err_set(e, k, modules_dir, 0, "cannot list: %s", strerror(-k));
        return 0;
}

int vhc_kmod_new(const struct vhc_root *r, const char *release, struct vhc_kmod **ret, struct vhc_err *e) {
        _cleanup_(vhc_kmod_freep) struct vhc_kmod *k = calloc(1, sizeof(*k));
        _cleanup_free_ char *modules_dir = vhc_root_path(r, VHC_PATH_LIB_MODULES);
        _cleanup_strv_free_ char **conf = NULL;
        int q;

        if (!k || !modules_dir)
                return -ENOMEM;
        if (release) {
                if (!valid_release(release))
                        return vhc_err_set(e, -EINVAL, NULL, 0, "\"%s\" is not a kernel release", release);
                k->release = strdup(release);
                if (!k->release)
                        return -ENOMEM;
        } else {
                q = pick_release(r, modules_dir, &k->release, e);
                if (q < 0)
                        return q;
        }
        if (asprintf(&k->dir, "%s/%s", modules_dir, k->release) < 0) {
                k->dir = NULL;
                return -ENOMEM;
        }
        if (!is_dir(k->dir))
                return vhc_err_set(e, -ENOENT, k->dir, 0, "no modules for kernel %s", k->release);

        q = config_paths(r, &conf);
        if (q < 0)
                return q;
        k->ctx = new_quiet_ctx(k->dir, conf);
        if (!k->ctx)
                return vhc_err_set(e, -ENOMEM, k->dir, 0, "libkmod could not set up");
        /* Maps the indexes once; without them each lookup opens the files,
         * and a missing index is a lookup that finds nothing. */
        (void)kmod_load_resources(k->ctx);
        *ret = TAKE_PTR(k);
        return 0;
}

struct vhc_kmod *vhc_kmod_free(struct vhc_kmod *k) {
        if (!k)
                return NULL;
        if (k->ctx)
                kmod_unref(k->ctx);
        free(k->release);
        free(k->dir);
        free(k);
        return NULL;
}

const char *vhc_kmod_release(const struct vhc_kmod *k) {
        return k->release;
}

enum vhc_kmod_avail vhc_kmod_available(struct vhc_kmod *k, const char *name) {
        struct kmod_module *mod = NULL;
        enum vhc_kmod_avail a = VHC_KMOD_MISSING;
        const char *path;

        /* Names only (modules.dep, then modules.builtin): an alias that some
         * other module provides does not make this one exist. */
        if (kmod_module_new_from_name_lookup(k->ctx, name, &mod) < 0 || !mod)
                return VHC_KMOD_MISSING;
        path = kmod_module_get_path(mod);
        if (path) {
                /* modules.dep lists it; a deleted file still cannot load. */
                if (access(path, F_OK) == 0)
                        a = VHC_KMOD_MODULE;
        } else if (kmod_module_get_initstate(mod) == KMOD_MODULE_BUILTIN)
                /* No path means it came from modules.builtin, so this never
                 * reads the host's /sys/module. */
                a = VHC_KMOD_BUILTIN;
        kmod_module_unref(mod);
        return a;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *)a, *(char *const *)b);
}

int vhc_kmod_drivers_for(struct vhc_kmod *k, const char *modalias, char ***ret) {
        _cleanup_strv_free_ char **names = NULL;
        struct kmod_list *list = NULL, *it;
        size_t n;
        int q;

        if (!modalias || !modalias[0])
                return -EINVAL;
        q = kmod_module_new_from_lookup(k->ctx, modalias, &list);
        if (q < 0)
                return q;
        kmod_list_foreach(it, list) {
                struct kmod_module *mod = kmod_module_get_module(it);
                const char *name = kmod_module_get_name(mod);

                q = strv_contains(names, name) ? 0 : strv_push_dup(&names, name);
                kmod_module_unref(mod);
                if (q < 0) {
                        kmod_module_unref_list(list);
                        return q;
                }
        }
        kmod_module_unref_list(list);
        if (!names) {
                names = calloc(1, sizeof(char *));
                if (!names)
                        return -ENOMEM;
        }
        n = strv_length(names);
        qsort(names, n, sizeof(char *), cmp_str);
        *ret = TAKE_PTR(names);
        return (int)n;
}

int vhc_kmod_load(struct vhc_kmod *k, const char *name, struct vhc_err *e) {
        struct kmod_module *mod = NULL;
        int r;

        r = kmod_module_new_from_name_lookup(k->ctx, name, &mod);
        if (r < 0 || !mod)
                return vhc_err_set(e, r < 0 ? r : -ENOENT, k->dir, 0, "no module %s for kernel %s", name,
                                   k->release);
        /* As modprobe does: its dependencies and softdeps first; loaded or
         * built in is success. */
        r = kmod_module_probe_insert_module(mod, KMOD_PROBE_IGNORE_LOADED, NULL, NULL, NULL, NULL);
        kmod_module_unref(mod);
        if (r < 0)
                return vhc_err_set(e, r, k->dir, 0, "cannot load %s: %s", name, strerror(-r));
        return 0;
}
