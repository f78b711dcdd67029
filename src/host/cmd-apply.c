/* SPDX-License-Identifier: MIT */
#include "host.h"
#include "hostrole.h"

static void print_changes(struct vhc_ctx *ctx, const struct vhc_txn *t, bool reverting) {
        for (size_t i = 0; i < t->n_changes; i++) {
                const struct vhc_file_change *c = &t->changes[i];
                const char *verb = !c->old ? "created" : !c->new ? "removed" : "updated";

                printf("%s%-8s%s %s%s  (%s)\n", vhc_color(ctx, ANSI_BOLD), verb, vhc_color(ctx, ANSI_RESET),
                       vhc_root_dir(ctx->root), c->abs, c->what);
        }
        if (t->n_changes == 0)
                printf("nothing to do: %s\n",
                       reverting ? "nothing of virt-host-config's is applied" : "the system matches the config");
        else if (t->kargs_changed)
                printf("reboot to boot with the new kernel arguments\n");
}

static void print_warnings(const struct vhc_txn *t) {
        for (size_t i = 0; t->warnings && t->warnings[i]; i++)
                fprintf(stderr, "virt-host-config: warning: %s\n", t->warnings[i]);
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
        if (ctx->dry_run)
                r = vhc_txn_diff(&t, stdout);
        else
                print_changes(ctx, &t, reverting);
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
