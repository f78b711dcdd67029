/* SPDX-License-Identifier: MIT */
#include <json-c/json.h>

#include "cmdline.h"
#include "fileio.h"
#include "host.h"
#include "state.h"
#include "strv.h"

/* Kernel arguments of ours that the running kernel was not booted with. */
static int pending_args(struct vhc_ctx *ctx, const struct vhc_state *s, char ***ret) {
        _cleanup_free_ char *path = vhc_root_path(ctx->root, VHC_PATH_PROC_CMDLINE), *text = NULL;
        _cleanup_strv_free_ char **live = NULL, **pending = calloc(1, sizeof(char *));
        int r;

        if (!path || !pending)
                return -ENOMEM;
        r = vhc_read_file(path, 1 << 16, &text, NULL);
        if (r < 0)
                return vhc_err_set(&ctx->err, r, path, 0, "cannot read: %s", strerror(-r));
        r = vhc_cmdline_split(text, &live);
        if (r < 0)
                return vhc_err_set(&ctx->err, r, path, 0, "cannot split the kernel command line");
        for (size_t i = 0; i < s->n_kargs; i++)
                if (vhc_cmdline_find(live, s->kargs[i].arg) < 0 && !strv_contains(pending, s->kargs[i].arg))
                        if (strv_push_dup(&pending, s->kargs[i].arg) < 0)
                                return -ENOMEM;
        *ret = TAKE_PTR(pending);
        return 0;
}

int cmd_status(struct vhc_ctx *ctx) {
        _cleanup_free_ char *path = vhc_root_path(ctx->root, VHC_PATH_STATE_FILE);
        _cleanup_strv_free_ char **pending = NULL;
        struct vhc_state s;
        bool applied;
        int r;

        if (!path)
                return -ENOMEM;
        vhc_state_init(&s);
        r = vhc_state_load(&s, path, &ctx->err);
        if (r < 0 && r != -ENOENT)
                return r;
        applied = r == 0 && !vhc_state_empty(&s);
        r = pending_args(ctx, &s, &pending);
        if (r < 0)
                goto out;

        if (ctx->json) {
                json_object *o = json_object_new_object(), *a = json_object_new_array(), *p = json_object_new_array();

                json_object_object_add(o, "applied", json_object_new_boolean(applied));
                json_object_object_add(o, "reboot_pending", json_object_new_boolean(pending[0] != NULL));
                for (size_t i = 0; i < s.n_kargs; i++)
                        json_object_array_add(a, json_object_new_string(s.kargs[i].arg));
                for (size_t i = 0; pending[i]; i++)
                        json_object_array_add(p, json_object_new_string(pending[i]));
                json_object_object_add(o, "kernel_args", a);
                json_object_object_add(o, "pending_kernel_args", p);
                printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE));
                json_object_put(o);
                goto out;
        }

        printf("%-15s %s%s%s\n", "applied:", vhc_color(ctx, applied ? ANSI_GREEN : ANSI_DIM),
               applied ? "yes" : "no", vhc_color(ctx, ANSI_RESET));
        if (s.n_kargs > 0) {
                printf("%-15s", "kernel args:");
                for (size_t i = 0; i < s.n_kargs; i++)
                        if (s.kargs[i].replaced)
                                printf(" %s (was %s)", s.kargs[i].arg, s.kargs[i].replaced);
                        else
                                printf(" %s", s.kargs[i].arg);
                printf("\n");
        }
        if (pending[0]) {
                printf("%-15s %syes%s: not on the running kernel's command line:", "reboot pending:",
                       vhc_color(ctx, ANSI_YELLOW), vhc_color(ctx, ANSI_RESET));
                for (size_t i = 0; pending[i]; i++)
                        printf(" %s", pending[i]);
                printf("\n");
        } else
                printf("%-15s no\n", "reboot pending:");
out:
        vhc_state_done(&s);
        return r;
}
