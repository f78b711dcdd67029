/* SPDX-License-Identifier: MIT */
#include <json-c/json.h>

#include "check.h"
#include "host.h"
#include "state.h"

/* Whether apply ran, and what boot files it still owes. */
static bool is_applied(const struct vhc_root *root, unsigned *ret_pending) {
        _cleanup_free_ char *path = vhc_root_path(root, VHC_PATH_STATE_FILE);
        struct vhc_state s;
        bool applied;

        *ret_pending = 0;
        if (!path)
                return false;
        vhc_state_init(&s);
        applied = vhc_state_load(&s, path, NULL) == 0 && !vhc_state_empty(&s);
        if (applied)
                *ret_pending = s.pending;
        vhc_state_done(&s);
        return applied;
}

/* Everything the checks look at; what cannot be read becomes a message the
 * check that needs it shows. */
struct inputs {
        struct vhc_check_input in;
        struct vhc_cpuinfo cpu;
        struct vhc_pci_list *pci;
        struct vhc_plan *plan;
        struct vhc_kmod *kmod;
        struct vhc_lastrun last_run;
        char *cpu_error, *pci_error, *plan_error, *kmod_error, *last_run_error;
};

static void inputs_done(struct inputs *x) {
        vhc_plan_free(x->plan);
        vhc_pci_list_free(x->pci);
        vhc_kmod_free(x->kmod);
        free(x->cpu_error);
        free(x->pci_error);
        free(x->plan_error);
        free(x->kmod_error);
        vhc_lastrun_done(&x->last_run);
        free(x->last_run_error);
}

static int gather(struct vhc_ctx *ctx, const struct vhc_config *c, struct inputs *x) {
        struct vhc_err e = {};
        int r;

        x->in.root = ctx->root;
        x->in.config = c;
        r = vhc_cpuinfo_read(ctx->root, &x->cpu, &e);
        if (r == -ENOMEM)
                return r;
        if (r < 0 && !(x->cpu_error = vhc_err_line(&e, r)))
                return -ENOMEM;
        x->in.cpu = r < 0 ? NULL : &x->cpu;

        e = (struct vhc_err){};
        r = vhc_pci_scan(ctx->root, &x->pci, &e);
        if (r == -ENOMEM)
                return r;
        if (r < 0 && !(x->pci_error = vhc_err_line(&e, r)))
                return -ENOMEM;
        if (x->pci) {
                e = (struct vhc_err){};
                r = vhc_plan_make(x->pci, c, &x->plan, &e);
                if (r == -ENOMEM)
                        return r;
                if (r < 0 && !(x->plan_error = vhc_err_line(&e, r)))
                        return -ENOMEM;
        }

        e = (struct vhc_err){};
        r = vhc_kmod_new(ctx->root, NULL, &x->kmod, &e);
        if (r == -ENOMEM)
                return r;
        if (r < 0 && !(x->kmod_error = vhc_err_line(&e, r)))
                return -ENOMEM;

        x->in.pci = x->pci;
        x->in.pci_error = x->pci_error;
        x->in.plan = x->plan;
        x->in.plan_error = x->plan_error;
        x->in.kmod = x->kmod;
        x->in.kmod_error = x->kmod_error;
        x->in.cpu_error = x->cpu_error;
        x->in.applied = is_applied(ctx->root, &x->in.pending);

        e = (struct vhc_err){};
        r = vhc_lastrun_load(ctx->root, &x->last_run, &e);
        if (r == -ENOMEM)
                return r;
        if (r < 0 && r != -ENOENT && !(x->last_run_error = vhc_err_line(&e, r)))
                return -ENOMEM;
        x->in.last_run = r == 0 ? &x->last_run : NULL;
        x->in.last_run_error = x->last_run_error;
        return 0;
}

static const char *status_color(enum vhc_check_status s) {
        switch (s) {
        case VHC_CHECK_PASS:
                return ANSI_GREEN;
        case VHC_CHECK_WARN:
                return ANSI_YELLOW;
        case VHC_CHECK_INFO:
                return ANSI_BOLD;
        case VHC_CHECK_FAIL:
        default:
                return ANSI_RED;
        }
}

static void print_text(const struct vhc_ctx *ctx, const struct vhc_check_report *rep,
                       const struct vhc_packages *pkgs) {
        size_t w = 0, cols = vhc_terminal_columns();

        for (size_t i = 0; i < rep->n; i++)
                if (strlen(rep->results[i].title) > w)
                        w = strlen(rep->results[i].title);
        for (size_t i = 0; i < rep->n; i++) {
                const struct vhc_check_result *res = &rep->results[i];

                /* On a terminal, message and hint wrap under their start. */
                printf("%s%s%s  %-*s  ", vhc_color(ctx, status_color(res->status)),
                       vhc_check_status_name(res->status), vhc_color(ctx, ANSI_RESET), (int)w, res->title);
                vhc_print_wrapped(res->message, 6 + w + 2, cols);
                if (res->hint) {
                        printf("      %*s  %shint:%s ", (int)w, "", vhc_color(ctx, ANSI_BOLD),
                               vhc_color(ctx, ANSI_RESET));
                        vhc_print_wrapped(res->hint, 6 + w + 2 + 6, cols);
                }
        }
        /* What the checks were made against, from the rpm database (none on Debian). */
        if (pkgs->v.have_db || pkgs->error) {
                putchar('\n');
                vhc_packages_print(ctx, pkgs);
        }
        printf("\n%zu passed, %zu warning%s, %zu failed", rep->n_status[VHC_CHECK_PASS],
               rep->n_status[VHC_CHECK_WARN], rep->n_status[VHC_CHECK_WARN] == 1 ? "" : "s",
               rep->n_status[VHC_CHECK_FAIL]);
        /* Advice for the guest counts for nothing on the host: named only when there is some. */
        if (rep->n_status[VHC_CHECK_INFO] > 0)
                printf(", %zu for information", rep->n_status[VHC_CHECK_INFO]);
        putchar('\n');
}

static int print_json(const struct vhc_check_report *rep, const struct vhc_packages *pkgs) {
        json_object *o = json_object_new_object(), *a = json_object_new_array();

        if (!o || !a) {
                json_object_put(o);
                json_object_put(a);
                return -ENOMEM;
        }
        json_object_object_add(o, "checks", a);
        for (size_t i = 0; i < rep->n; i++) {
                const struct vhc_check_result *res = &rep->results[i];
                json_object *e = json_object_new_object();
                char st[8];

                if (!e) {
                        json_object_put(o);
                        return -ENOMEM;
                }
                snprintf(st, sizeof(st), "%s", vhc_check_status_name(res->status));
                for (char *p = st; *p; p++)
                        *p = (char)(*p - 'A' + 'a');
                json_object_array_add(a, e);
                json_object_object_add(e, "id", json_object_new_string(res->id));
                json_object_object_add(e, "status", json_object_new_string(st));
                json_object_object_add(e, "title", json_object_new_string(res->title));
                json_object_object_add(e, "device",
                                       res->device ? json_object_new_string(res->device) : NULL);
                json_object_object_add(e, "message", json_object_new_string(res->message));
                json_object_object_add(e, "hint", res->hint ? json_object_new_string(res->hint) : NULL);
        }
        json_object_object_add(o, "passed", json_object_new_int64((int64_t)rep->n_status[VHC_CHECK_PASS]));
        json_object_object_add(o, "warnings", json_object_new_int64((int64_t)rep->n_status[VHC_CHECK_WARN]));
        json_object_object_add(o, "failed", json_object_new_int64((int64_t)rep->n_status[VHC_CHECK_FAIL]));
        json_object_object_add(o, "info", json_object_new_int64((int64_t)rep->n_status[VHC_CHECK_INFO]));
        vhc_packages_json(pkgs, o);
        vhc_print_json(o);
        json_object_put(o);
        return 0;
}

int cmd_check(struct vhc_ctx *ctx) {
        _cleanup_(vhc_config_done) struct vhc_config c = {};
        _cleanup_(vhc_check_report_freep) struct vhc_check_report *rep = NULL;
        _cleanup_(inputs_done) struct inputs x = {};
        _cleanup_(vhc_packages_done) struct vhc_packages pkgs = {};
        int r;

        r = vhc_ctx_load_config(ctx, &c);
        if (r < 0)
                return r;
        r = gather(ctx, &c, &x);
        if (r < 0)
                return r;
        r = vhc_check_run(&x.in, &rep);
        if (r < 0)
                return r;
        r = vhc_packages_read(ctx, &pkgs);
        if (r < 0)
                return r;
        if (ctx->json) {
                r = print_json(rep, &pkgs);
                if (r < 0)
                        return r;
        } else
                print_text(ctx, rep, &pkgs);
        return rep->n_status[VHC_CHECK_FAIL] > 0 ? 1 : 0;
}
