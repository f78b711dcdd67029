/* SPDX-License-Identifier: MIT */
#include "host.h"
#include "hostrole.h"
#include "strv.h"

static void print_changes(struct vhc_ctx *ctx, const struct vhc_txn *t, bool reverting) {
        for (size_t i = 0; i < t->ch.n; i++) {
                const struct vhc_file_change *c = &t->ch.v[i];
                const char *verb = !c->old ? "created" : !c->new ? "removed" : "updated";

                if (c->touch)
                        continue;
                printf("%s%-8s%s %s%s  (%s)\n", vhc_color(ctx, ANSI_BOLD), verb, vhc_color(ctx, ANSI_RESET),
                       vhc_root_dir(ctx->root), c->abs, c->what);
        }
        if (vhc_txn_n_shown(t) > 0)
                return;
        if (t->after.pending == 0)
                printf("nothing to do: %s\n",
                       reverting ? "nothing of virt-host-config's is applied" : "the system matches the config");
        else {
                _cleanup_free_ char *steps = vhc_regen_names(t->after.pending);

                printf("the files match the %s; still pending: %s\n", reverting ? "revert" : "config",
                       strempty(steps));
        }
}

/* When the changes take effect: said once the boot files are rebuilt. */
static void print_effect(const struct vhc_txn *t) {
        bool effect[VHC_EFFECT_LIBVIRT + 1] = {};

        for (size_t i = 0; i < t->ch.n; i++)
                if (!t->ch.v[i].touch)
                        effect[t->ch.v[i].effect] = true;
        /* A reboot covers a new login and libvirt's next guest as well. */
        if (effect[VHC_EFFECT_REBOOT])
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

/* Rebuilds the boot files the changes (and an earlier run) left owed, or
 * with --defer leaves them pending for the next apply (rpm's %posttrans). */
static int regenerate(struct vhc_ctx *ctx, struct vhc_txn *t) {
        _cleanup_strv_free_ char **lines = NULL;
        const char *verb = t->reverting ? "revert" : "apply";
        int r;

        t->boot.verb = verb;
        if (ctx->defer && t->after.pending) {
                _cleanup_free_ char *steps = vhc_regen_names(t->after.pending);

                if (!steps)
                        return -ENOMEM;
                printf("boot files to rebuild: %s (the next 'virt-host-config apply' does it)\n", steps);
                return 0;
        }
        r = vhc_txn_regenerate(t, false, &lines, &ctx->err);
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
                                   "regenerating the boot files failed (see above); it stays pending: run "
                                   "'virt-host-config %s' again once that is fixed",
                                   verb);
        /* Skipped steps said what to run; the changes take effect with them. */
        print_effect(t);
        return 0;
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
