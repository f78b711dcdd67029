/* SPDX-License-Identifier: MIT */
#include "kline.h"
#include "store.h"
#include "strv.h"

void vhc_store_file_done(struct vhc_store_file *f) {
        if (f->free && f->obj)
                f->free(f->obj);
        strv_free(f->readonly);
        free(f->label);
        *f = (struct vhc_store_file){};
}

const struct vhc_store *vhc_store_by_name(const char *name) {
        static const struct vhc_store *const all[] = {
                &vhc_store_grub_defaults,
                &vhc_store_bls_entry,
                &vhc_store_kernel_cmdline,
                &vhc_store_rpm_ostree,
        };

        for (size_t i = 0; name && i < ELEMENTSOF(all); i++)
                if (streq(all[i]->name, name))
                        return all[i];
        return NULL;
}

/* A kline text has one variable: the options lines, or the whole file. */
static int kline_tokens(void *obj, const char *var, char ***ret, struct vhc_err *e) {
        return vhc_kline_tokens(obj, ret);
}

static int kline_append(void *obj, const char *var, const char *arg, struct vhc_karg_edit *ret_edit,
                        struct vhc_err *e) {
        return vhc_kline_append(obj, arg, ret_edit, e);
}

static int kline_remove(void *obj, const char *var, const char *arg, const struct vhc_karg_edit *edit,
                        struct vhc_err *e) {
        return vhc_kline_remove(obj, arg, edit, e);
}

static int kline_replace(void *obj, const char *var, const char *old_arg, const char *new_arg,
                         struct vhc_err *e) {
        return vhc_kline_replace(obj, old_arg, new_arg, e);
}

static int kline_take_out(void *obj, const char *var, const char *arg, size_t *ret_at, char **ret_cut,
                          struct vhc_err *e) {
        return vhc_kline_take_out(obj, arg, ret_at, ret_cut, e);
}

static int kline_put_back(void *obj, const char *var, const char *arg, size_t at, const char *cut,
                          struct vhc_err *e) {
        return vhc_kline_put_back(obj, arg, at, cut, e);
}

static const char *kline_text(const void *obj, size_t *ret_len) {
        return vhc_kline_text(obj, ret_len);
}

static void kline_free(void *obj) {
        vhc_kline_free(obj);
}

void vhc_store_kline_target(struct vhc_store_file *f, const struct vhc_store *s, const char *abs, const char *var,
                            struct vhc_kline *k) {
        static const char *const options[] = { "options" }, *const cmdline[] = { "cmdline" };

        f->obj = k;
        f->text = kline_text;
        f->free = kline_free;
        f->target = (struct vhc_kargs_target){
                .store = s->name,
                .file = abs,
                .vars = streq(var, "options") ? options : cmdline,
                .n_vars = 1,
                .obj = k,
                .tokens = kline_tokens,
                .append = kline_append,
                .remove = kline_remove,
                .replace = kline_replace,
                .take_out = kline_take_out,
                .put_back = kline_put_back,
                .readonly = f->readonly,
        };
}
