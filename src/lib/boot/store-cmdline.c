/* SPDX-License-Identifier: MIT */
#include "kline.h"
#include "store.h"

/* /etc/kernel/cmdline: kernel-install (90-loaderentry.install,
 * 60-ukify.install; Fedora's 20-grub.install) takes the command line of
 * every entry and image it makes from it, before /usr/lib/kernel/cmdline and
 * /proc/cmdline. The whole file is the command line. */

static int cmdline_open(const struct vhc_boot *b, const char *abs, const char *text, size_t len,
                        struct vhc_store_file *ret, struct vhc_err *e) {
        _cleanup_free_ char *path = vhc_root_join(b->root, abs);
        struct vhc_kline *k;
        int r;

        if (!path)
                return -ENOMEM;
        r = vhc_kline_parse(text, len, VHC_KLINE_CMDLINE, false, path, &k, e);
        if (r < 0)
                return r;
        *ret = (struct vhc_store_file){ .label = strdup(abs) };
        vhc_store_kline_target(ret, &vhc_store_kernel_cmdline, abs, "cmdline", k);
        if (!ret->label) {
                vhc_store_file_done(ret);
                return -ENOMEM;
        }
        return 0;
}

const struct vhc_store vhc_store_kernel_cmdline = {
        .name = "kernel-cmdline",
        .what = "kernel arguments of new kernels (kernel-install)",
        .open = cmdline_open,
};
