/* SPDX-License-Identifier: MIT */
#include "boot/system.h"
#include "host.h"
#include "hostrole.h"
#include "kmodule.h"
#include "pcidev.h"
#include "plan.h"
#include "strv.h"
#include "vfiobind.h"

static void print_changes(struct vhc_ctx *ctx, const struct vhc_txn *t, bool reverting) {
        for (size_t i = 0; i < t->ch.n; i++) {
                const struct vhc_file_change *c = &t->ch.v[i];
                const char *verb = !c->old ? "created" : !c->new ? "removed" : "updated";

                if (c->touch)
                        continue;
                if (c->argv) /* rpm-ostree's: a label, not a path */
                        printf("%s%-8s%s %s  (%s)\n", vhc_color(ctx, ANSI_BOLD), "changed",
                               vhc_color(ctx, ANSI_RESET), c->abs, c->what);
                else if (c->save) /* an edited file of ours: out of the way, the user's bytes kept */
                        printf("%s%-8s%s %s%s  (%s; kept as %s%s)\n", vhc_color(ctx, ANSI_BOLD), verb,
                               vhc_color(ctx, ANSI_RESET), vhc_root_dir(ctx->root), c->abs, c->what, c->path,
                               c->save);
                else
                        printf("%s%-8s%s %s%s  (%s)\n", vhc_color(ctx, ANSI_BOLD), verb,
                               vhc_color(ctx, ANSI_RESET), vhc_root_dir(ctx->root), c->abs, c->what);
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
        if (effect[VHC_EFFECT_REBOOT] && t->boot.system.kind == VHC_SYSTEM_OSTREE)
                printf("reboot into the new deployment that rpm-ostree made for the changes to take effect "
                       "(systemctl reboot)\n");
        else if (effect[VHC_EFFECT_REBOOT])
                printf("reboot for the changes to take effect\n");
        else {
                if (effect[VHC_EFFECT_LOGIN])
                        printf("the memlock limit takes effect at the next login of each member of group kvm\n");
                if (effect[VHC_EFFECT_LIBVIRT])
                        printf("the libvirt hook takes effect with the next guest that libvirt starts\n");
        }
}

/* The warnings from *printed on: those of the plan, then those that
 * removing the directories (after the boot files are rebuilt) added. */
static void print_warnings(const struct vhc_txn *t, size_t *printed) {
        for (; *printed < strv_length(t->warnings); (*printed)++)
                fprintf(stderr, "virt-host-config: warning: %s\n", t->warnings[*printed]);
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
        size_t printed = 0;
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
        if (t.hands_off) {
                /* rpm's %post (--defer) and %posttrans both run here: one line, from the latter. */
                if (!ctx->defer)
                        printf("virt-host-config: %s\n", t.hands_off);
                goto out;
        }
        print_warnings(&t, &printed);
        if (ctx->dry_run) {
                r = vhc_txn_diff(&t, stdout);
                goto out;
        }
        print_changes(ctx, &t, reverting);
        r = regenerate(ctx, &t);
        print_warnings(&t, &printed);
out:
        vhc_txn_done(&t);
        return r;
}

/* --first-boot refuses where there is no booted target to bind devices of. */
static int first_boot_check(struct vhc_ctx *ctx) {
        struct vhc_system sys;
        int r;

        r = vhc_system_detect(ctx->root, &sys);
        if (r < 0)
                return r;
        if (sys.kind == VHC_SYSTEM_IMAGE_BUILD || sys.kind == VHC_SYSTEM_OSTREE_SANDBOX)
                return vhc_err_set(
                        &ctx->err, -EOPNOTSUPP, NULL, 0,
                        "--first-boot binds the devices of the booted machine, and this is a %s (%s): "
                        "nothing was changed; the unit runs it at the first boot of the target",
                        vhc_system_kind_describe(sys.kind), sys.evidence);
        return 0;
}

/* After apply: the devices the rule will reserve at later boots go to
 * vfio-pci now, since this boot's udev had no rule of ours (an image-mode
 * or rpm-ostree deployment booting for the first time). */
static int first_boot_bind(struct vhc_ctx *ctx) {
        _cleanup_(vhc_config_done) struct vhc_config c = {};
        _cleanup_(vhc_pci_list_freep) struct vhc_pci_list *l = NULL;
        _cleanup_(vhc_plan_freep) struct vhc_plan *plan = NULL;
        struct vhc_vfio_binding b = {};
        int r;

        if ((r = vhc_ctx_load_config(ctx, &c)) < 0 || (r = vhc_pci_scan(ctx->root, &l, &ctx->err)) < 0 ||
            (r = vhc_plan_make(l, &c, &plan, &ctx->err)) < 0)
                return r;
        if (vhc_plan_count_isolated(plan) == 0) {
                printf("no device to hand to vfio-pci\n");
                return 0;
        }
        /* Without the IOMMU (its arguments wait for the reboot into the new
         * deployment) vfio-pci refuses the device, which would be left with
         * no driver at all: the rule binds it at the next boot instead. */
        if (!l->groups_known) {
                printf("not bound now: the IOMMU is not on yet (no IOMMU groups); vfio-pci takes the devices "
                       "after the reboot\n");
                return 0;
        }
        /* vfio-pci's registration binds nothing that is bound: it comes first.
         * Never into this kernel for another --root. */
        if (vhc_root_is_host(ctx->root)) {
                _cleanup_(vhc_kmod_freep) struct vhc_kmod *k = NULL;

                if ((r = vhc_kmod_new(ctx->root, NULL, &k, &ctx->err)) < 0 ||
                    (r = vhc_kmod_load(k, "vfio-pci", &ctx->err)) < 0)
                        return r;
        }
        r = vhc_vfio_bind_plan(ctx->root, plan, &b, &ctx->err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < b.n; i++) {
                const struct vhc_vfio_bound *v = &b.v[i];

                if (!v->changed)
                        printf("%s%-8s%s %s  (on vfio-pci already)\n", vhc_color(ctx, ANSI_BOLD), "kept",
                               vhc_color(ctx, ANSI_RESET), v->address);
                else if (v->now && streq(v->now, "vfio-pci"))
                        printf("%s%-8s%s %s  (vfio-pci, was %s)\n", vhc_color(ctx, ANSI_BOLD), "bound",
                               vhc_color(ctx, ANSI_RESET), v->address, v->was ? v->was : "unbound");
                else
                        fprintf(stderr,
                                "virt-host-config: warning: %s: driver_override set, %s, probed: it is on %s "
                                "now; vfio-pci takes it at the next boot\n",
                                v->address, v->was ? "unbound" : "no driver", v->now ? v->now : "no driver");
        }
        vhc_vfio_binding_done(&b);
        return 0;
}

int cmd_apply(struct vhc_ctx *ctx) {
        int r;

        if (!ctx->first_boot)
                return run(ctx, false);
        r = first_boot_check(ctx);
        if (r < 0)
                return r;
        r = run(ctx, false);
        if (r < 0)
                return r;
        return first_boot_bind(ctx);
}

int cmd_revert(struct vhc_ctx *ctx) {
        return run(ctx, true);
}
