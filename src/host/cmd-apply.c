/* SPDX-License-Identifier: MIT */
#include "host.h"
#include "hostrole.h"
#include "strv.h"

static void print_changes(struct vhc_ctx *ctx, const struct vhc_txn *t, bool reverting) {
        bool effect[VHC_EFFECT_LIBVIRT + 1] = {};

        for (size_t i = 0; i < t->n_changes; i++) {
                const struct vhc_file_change *c = &t->changes[i];
                const char *verb = !c->old ? "created" : !c->new ? "removed" : "updated";

                printf("%s%-8s%s %s%s  (%s)\n", vhc_color(ctx, ANSI_BOLD), verb, vhc_color(ctx, ANSI_RESET),
                       vhc_root_dir(ctx->root), c->abs, c->what);
                effect[c->effect] = true;
        }
        if (t->n_changes == 0)
                printf("nothing to do: %s\n",
                       reverting ? "nothing of virt-host-config's is applied" : "the system matches the config");
        /* A reboot covers a new login and libvirt's next guest as well. */
        else if (effect[VHC_EFFECT_REBOOT])
                printf("reboot for the changes to take effect\n");
        else {
                if (effect[VHC_EFFECT_LOGIN])
                        printf("the memlock limit takes effect at the next login of each member of group kvm\n");
                if (effect[VHC_EFFECT_LIBVIRT])
                        printf("the libvirt hook takes effect with the next guest that libvirt starts\n");
        }
}

static void print_warnings(const struct vhc_txn *t) {
        for (size_t i = 0; t->warnings && t->warnings[i]; i++)
                fprintf(stderr, "virt-host-config: warning: %s\n", t->warnings[i]);
}

/* Regenerates the boot files the changes (and a deferred earlier run) need,
 * or with --defer leaves that to the next apply. */
static int regenerate(struct vhc_ctx *ctx, const struct vhc_txn *t) {
        _cleanup_(vhc_regen_need_done) struct vhc_regen_need need = {}, marked = {};
        _cleanup_strv_free_ char **lines = NULL;
        int r;

        r = vhc_txn_regen_need(t, &need);
        if (r < 0)
                return r;
        if (ctx->defer)
                return vhc_regen_marker_add(ctx->root, &need, &ctx->err);

        r = vhc_regen_marker_read(ctx->root, &marked, &ctx->err);
        if (r < 0)
                return r;
        if (marked.flags) {
                /* What the deferred run changed comes first; this run's changes after it. */
                r = vhc_regen_marker_add(ctx->root, &need, &ctx->err);
                if (r < 0)
                        return r;
                vhc_regen_need_done(&marked);
                r = vhc_regen_marker_read(ctx->root, &marked, &ctx->err);
                if (r < 0)
                        return r;
        }
        r = vhc_regenerate(ctx->root, marked.flags ? &marked : &need, &lines, &ctx->err);
        if (r < 0)
                return r;
        /* "regenerated ..." is what happened; anything else is a skip or a
         * failure, with what to run: stderr. */
        for (size_t i = 0; lines && lines[i]; i++) {
                if (startswith(lines[i], "regenerated "))
                        printf("%s\n", lines[i]);
                else
                        fprintf(stderr, "virt-host-config: %s\n", lines[i]);
        }
        if (r > 0)
                return vhc_err_set(&ctx->err, -EIO, NULL, 0,
                                   "regenerating the boot files failed (see above); run 'virt-host-config apply' "
                                   "again once that is fixed");
        return vhc_regen_marker_clear(ctx->root, &ctx->err);
}

static int run(struct vhc_ctx *ctx, bool reverting) {
        _cleanup_(vhc_config_done) struct vhc_config c = {};
        struct vhc_txn t;
        int r;

        vhc_txn_init(&t, ctx->root);
        if (!reverting) {
                r = vhc_ctx_load_config(ctx, &c);
                if (r < 0)
                        goto out;
        }
        r = vhc_txn_run(&t, reverting ? NULL : &c, ctx->dry_run, &ctx->err);
        if (r < 0)
                goto out;
        print_warnings(&t);
        if (ctx->dry_run) {
                r = vhc_txn_diff(&t, stdout);
                goto out;
        }
        print_changes(ctx, &t, reverting);
        r = regenerate(ctx, &t);
out:
        vhc_txn_done(&t);
        return r;
}

int cmd_apply(struct vhc_ctx *ctx) {
        return run(ctx, false);
}

int cmd_revert(struct vhc_ctx *ctx) {
        return run(ctx, true);
}
