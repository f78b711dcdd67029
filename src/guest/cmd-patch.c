/* SPDX-License-Identifier: MIT */
#include "guest.h"

/* libvirt's own limit for a domain's XML. */
#define INPUT_MAX (10 * 1024 * 1024)

static int read_stdin(struct gx_ctx *ctx, char **ret, size_t *ret_len) {
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, cap = 0;

        for (;;) {
                size_t n;

                if (len == cap) {
                        char *m;

                        if (cap >= INPUT_MAX)
                                return vhc_err_set(
                                        &ctx->err, -EFBIG, "<stdin>", 0,
                                        "the input is larger than 10 MiB, too large for a domain");
                        cap = cap ? cap * 2 : 65536;
                        m = realloc(buf, cap + 1);
                        if (!m)
                                return -ENOMEM;
                        buf = m;
                }
                n = fread(buf + len, 1, cap - len, stdin);
                len += n;
                if (n == 0) {
                        if (ferror(stdin))
                                return vhc_err_set(&ctx->err, -EIO, "<stdin>", 0, "cannot read: %s",
                                                   strerror(errno));
                        break;
                }
        }
        buf[len] = '\0';
        *ret = TAKE_PTR(buf);
        *ret_len = len;
        return 0;
}

int cmd_patch(struct gx_ctx *ctx) {
        _cleanup_(vhc_topology_freep) struct vhc_topology *t = NULL;
        _cleanup_free_ char *in = NULL, *out = NULL;
        struct vhc_domxml_edits ed = {
                .nvidia = ctx->o->nvidia > 0,
                .hugepages = ctx->o->hugepages,
        };
        size_t in_len = 0, out_len = 0;
        int r;

        if (ctx->o->pin && streq(ctx->o->pin, "auto")) {
                r = gx_read_topology(ctx, &t, &ed.topoext);
                if (r < 0)
                        return r;
                ed.pin = t;
        }
        r = read_stdin(ctx, &in, &in_len);
        if (r < 0)
                return r;
        if (in_len == 0)
                return vhc_err_set(
                        &ctx->err, -EINVAL, "<stdin>", 0,
                        "no input: give a domain's XML on stdin (virsh dumpxml NAME | %s patch ...)", PROG);
        r = vhc_domxml_patch(in, in_len, "<stdin>", &ed, &out, &out_len, &ctx->err);
        if (r < 0)
                return r;
        return gx_write_stdout(ctx, out, out_len);
}
