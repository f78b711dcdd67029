/* SPDX-License-Identifier: MIT */
#include "grub-default.h"
#include "store.h"

/* /etc/default/grub: GRUB_CMDLINE_LINUX (what we add goes there) and
 * GRUB_CMDLINE_LINUX_DEFAULT, edited as the shell that grub(2)-mkconfig
 * sources reads them (grub-default.h). */

static const char *grub_text(const void *obj, size_t *ret_len) {
        return vhc_grub_text(obj, ret_len);
}

static void grub_free(void *obj) {
        vhc_grub_free(obj);
}

static int grub_open(const struct vhc_boot *b, const char *abs, const char *text, size_t len,
                     struct vhc_store_file *ret, struct vhc_err *e) {
        _cleanup_free_ char *path = vhc_root_join(b->root, abs);
        struct vhc_grub *g;
        int r;

        if (!path)
                return -ENOMEM;
        r = vhc_grub_parse(text, len, path, &g, e);
        if (r < 0)
                return r;
        *ret = (struct vhc_store_file){ .obj = g, .text = grub_text, .free = grub_free, .label = strdup(abs) };
        vhc_kargs_grub_target(g, abs, &ret->target);
        if (!ret->label) {
                vhc_store_file_done(ret);
                return -ENOMEM;
        }
        return 0;
}

const struct vhc_store vhc_store_grub_defaults = {
        .name = "grub-defaults",
        .what = "kernel arguments (GRUB defaults)",
        .open = grub_open,
};
