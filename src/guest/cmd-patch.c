/* SPDX-License-Identifier: MIT */
#include "guest.h"
#include "udiff.h"

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
        struct vhc_domxml_result res = {};
        struct gx_host h = {};
        size_t in_len = 0, out_len = 0;
        int r;

        r = gx_host_read(ctx, &h);
        if (r == 0)
                r = gx_resolve_hostdevs(ctx, &h, true);
        if (r != 0)
                goto out;
        if (ctx->o->pin && streq(ctx->o->pin, "auto")) {
                r = gx_read_topology(ctx, &t);
                if (r < 0)
                        goto out;
                h.ed.pin = t;
        }
        r = read_stdin(ctx, &in, &in_len);
        if (r < 0)
                goto out;
        if (in_len == 0) {
                r = vhc_err_set(&ctx->err, -EINVAL, "<stdin>", 0,
                                "no input: give a domain's XML on stdin (virsh dumpxml NAME | %s patch ...)",
                                PROG);
                goto out;
        }
        r = vhc_domxml_patch(in, in_len, "<stdin>", &h.ed, &out, &out_len, &res, &ctx->err);
        if (r < 0)
                goto out;
        if (res.n_domains > 1)
                gx_note("the input holds %u domains, as virt-install --print-xml writes them for a CD-ROM "
                        "installation: the output is the last, the guest's own definition%s",
                        res.n_domains,
                        res.boot_from_install ? ", booting from the CD-ROM first as the installation's did"
                                              : "");
        gx_result_notes(ctx, &res);
        if (ctx->o->diff) {
                /* As diff -u: nothing when nothing changed. */
                if (in_len == out_len && memcmp(in, out, in_len) == 0)
                        goto out;
                fflush(stdout);
                r = vhc_udiff(stdout, "<stdin>", in, in_len, "<stdin> (patched)", out, out_len);
                if (r >= 0 && fflush(stdout) != 0)
                        r = -EIO;
                if (r < 0)
                        r = vhc_err_set(&ctx->err, r, NULL, 0, "cannot write the diff: %s", strerror(-r));
                goto out;
        }
        r = gx_write_stdout(ctx, out, out_len);
out:
        vhc_domxml_result_done(&res);
        gx_host_done(&h);
        return r;
}
