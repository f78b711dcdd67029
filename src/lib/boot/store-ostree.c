/* SPDX-License-Identifier: MIT */
#include "kline.h"
#include "spawn-cmd.h"
#include "store.h"
#include "strv.h"

/* rpm-ostree kargs (coreos/rpm-ostree, src/app/rpmostree-builtin-kargs.cxx
 * and kernel_arg_apply_patching() in src/daemon/rpmostreed-transaction-types.cxx):
 * without options it prints the arguments of the pending deployment (the
 * booted one when none is pending) on one line, as ostree_kernel_args_to_string()
 * joins them: one space between tokens. Each change makes a new pending
 * deployment with the edited arguments; the booted one keeps its own until
 * the reboot. Of its options we use only those that touch one token:
 *   --append-if-missing=ARG  appends ARG unless that exact token is there;
 *   --delete-if-present=ARG  deletes that exact token if it was there;
 *   --replace=KEY=OLD=NEW    replaces the value OLD of KEY in place.
 * So the engine's edits (kargs.h) become one call that changes only ours; the
 * text the engine sees is the line rpm-ostree printed, edited as it would
 * edit it. rpm-ostree exits 0 on success and 1 on any error. */

struct ostree_obj {
        struct vhc_kline *k;
        char **ops; /* the options, in the order the edits were made */
};

static void ostree_free(void *obj) {
        struct ostree_obj *o = obj;

        vhc_kline_free(o->k);
        strv_free(o->ops);
        free(o);
}

static int op(struct ostree_obj *o, char *s) {
        return s ? strv_consume(&o->ops, s) : -ENOMEM;
}

static int ostree_tokens(void *obj, const char *var, char ***ret, struct vhc_err *e) {
        return vhc_kline_tokens(((struct ostree_obj *)obj)->k, ret);
}

static int ostree_append(void *obj, const char *var, const char *arg, struct vhc_karg_edit *ret_edit,
                         struct vhc_err *e) {
        struct ostree_obj *o = obj;
        int r = vhc_kline_append(o->k, arg, ret_edit, e);

        return r < 0 ? r : op(o, strprintf("--append-if-missing=%s", arg));
}

static int ostree_remove(void *obj, const char *var, const char *arg, const struct vhc_karg_edit *edit,
                         struct vhc_err *e) {
        struct ostree_obj *o = obj;
        int r = vhc_kline_remove(o->k, arg, edit, e);

        return r < 0 ? r : op(o, strprintf("--delete-if-present=%s", arg));
}

/* In place where rpm-ostree can say it: KEY=OLD=NEW, with OLD holding no
 * "=" (rpm-ostree splits at the first two); else delete and append, which
 * puts the new token last. */
static int ostree_replace(void *obj, const char *var, const char *old_arg, const char *new_arg,
                          struct vhc_err *e) {
        struct ostree_obj *o = obj;
        const char *oe = strchr(old_arg, '='), *ne = strchr(new_arg, '=');
        int r;

        if (oe && ne && oe - old_arg == ne - new_arg && strncmp(old_arg, new_arg, oe - old_arg) == 0 &&
            !strchr(oe + 1, '=')) {
                r = vhc_kline_replace(o->k, old_arg, new_arg, e);
                return r < 0 ? r : op(o, strprintf("--replace=%s=%s", old_arg, ne + 1));
        }
        r = vhc_kline_remove(o->k, old_arg, &(struct vhc_karg_edit){.space = true}, e);
        if (r >= 0)
                r = vhc_kline_append(o->k, new_arg, &(struct vhc_karg_edit){}, e);
        if (r >= 0)
                r = op(o, strprintf("--delete-if-present=%s", old_arg));
        return r < 0 ? r : op(o, strprintf("--append-if-missing=%s", new_arg));
}

static int ostree_take_out(void *obj, const char *var, const char *arg, size_t *ret_at, char **ret_cut,
                           struct vhc_err *e) {
        struct ostree_obj *o = obj;
        int r = vhc_kline_take_out(o->k, arg, ret_at, ret_cut, e);

        return r < 0 ? r : op(o, strprintf("--delete-if-present=%s", arg));
}

/* rpm-ostree can only append: the token comes back last. */
static int ostree_put_back(void *obj, const char *var, const char *arg, size_t at, const char *cut,
                           struct vhc_err *e) {
        struct ostree_obj *o = obj;
        int r = vhc_kline_append(o->k, arg, NULL, e);

        return r < 0 ? r : op(o, strprintf("--append=%s", arg));
}

static const char *ostree_text(const void *obj, size_t *ret_len) {
        return vhc_kline_text(((const struct ostree_obj *)obj)->k, ret_len);
}

static int ostree_command(const struct vhc_boot *b, const void *obj, char ***ret) {
        const struct ostree_obj *o = obj;
        _cleanup_strv_free_ char **argv = NULL;

        *ret = NULL;
        if (strv_length(o->ops) == 0)
                return 0;
        if (strv_push_dup(&argv, b->rpm_ostree ? b->rpm_ostree : "rpm-ostree") < 0 ||
            strv_push_dup(&argv, "kargs") < 0)
                return -ENOMEM;
        for (size_t i = 0; o->ops[i]; i++)
                if (strv_push_dup(&argv, o->ops[i]) < 0)
                        return -ENOMEM;
        *ret = TAKE_PTR(argv);
        return 0;
}

/* "No tracked files." or "Tracked files:" and one indented path a line
 * (src/app/rpmostree-builtin-initramfs-etc.cxx). */
int vhc_store_ostree_tracked(const struct vhc_boot *b, char ***ret, struct vhc_err *e) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        _cleanup_free_ char *out = NULL;
        char *argv[] = {b->rpm_ostree, (char *)"initramfs-etc", NULL};
        int status, r;

        if (!l)
                return -ENOMEM;
        if (!b->rpm_ostree)
                return vhc_err_set(
                        e, -ENOENT, NULL, 0,
                        "rpm-ostree is not installed: it carried virt-host-config's files into the "
                        "initramfs; install it and run again");
        r = vhc_store_ostree_run(b, argv, &out, &status);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || status != 0)
                return vhc_err_set(
                        e, r < 0 ? r : -EIO, b->rpm_ostree, 0,
                        "'rpm-ostree initramfs-etc' failed (%s): nothing was changed; run again once "
                        "'rpm-ostree status' works",
                        r < 0 ? strerror(-r) : "see 'rpm-ostree status'");
        for (char *p = out, *nl; p && *p; p = nl ? nl + 1 : NULL) {
                nl = strchr(p, '\n');
                if (nl)
                        *nl = '\0';
                p += strspn(p, " \t");
                if (p[0] == '/' && strv_push_dup(&l, p) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

int vhc_store_ostree_run(const struct vhc_boot *b, char *const *argv, char **ret_output, int *ret_status) {
        return vhc_spawn(argv, vhc_root_is_host(b->root) ? NULL : vhc_root_dir(b->root), ret_output,
                         ret_status);
}

/* The line `rpm-ostree kargs` prints: its last line (a notice on stderr
 * would come before it). */
static int ostree_read(const struct vhc_boot *b, char **ret_text, size_t *ret_len, struct vhc_err *e) {
        _cleanup_free_ char *out = NULL;
        char *argv[] = {b->rpm_ostree, (char *)"kargs", NULL};
        char *end, *start;
        int status, r;

        if (!b->rpm_ostree)
                return vhc_err_set(
                        e, -ENOENT, NULL, 0,
                        "this is an ostree system (/run/ostree-booted) without rpm-ostree: set the "
                        "kernel arguments with 'ostree admin kargs edit-in-place' by hand");
        r = vhc_store_ostree_run(b, argv, &out, &status);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return vhc_err_set(e, r, b->rpm_ostree, 0, "cannot run 'rpm-ostree kargs': %s",
                                   strerror(-r));
        end = out + strlen(out);
        while (end > out && (end[-1] == '\n' || end[-1] == ' '))
                end--;
        *end = '\0';
        if (status != 0)
                return vhc_err_set(
                        e, -EIO, b->rpm_ostree, 0,
                        "'rpm-ostree kargs' failed with exit status %d (%s): nothing was changed; run "
                        "again once 'rpm-ostree status' works",
                        status, out);
        start = strrchr(out, '\n');
        start = start ? start + 1 : out;
        *ret_text = strdup(start);
        if (!*ret_text)
                return -ENOMEM;
        *ret_len = strlen(*ret_text);
        return 0;
}

static int ostree_open(const struct vhc_boot *b, const char *abs, const char *text, size_t len,
                       struct vhc_store_file *ret, struct vhc_err *e) {
        static const char *const vars[] = {"kargs"};
        struct ostree_obj *o = calloc(1, sizeof(*o));
        int r;

        if (!o)
                return -ENOMEM;
        r = vhc_kline_parse(text, len, VHC_KLINE_CMDLINE, false, "rpm-ostree kargs", &o->k, e);
        if (r < 0) {
                free(o);
                return r;
        }
        *ret = (struct vhc_store_file){
                .obj = o,
                .text = ostree_text,
                .free = ostree_free,
                .label = strdup("rpm-ostree kargs"),
                .target =
                        {
                                .store = vhc_store_rpm_ostree.name,
                                .file = abs,
                                .vars = vars,
                                .n_vars = 1,
                                .obj = o,
                                .tokens = ostree_tokens,
                                .append = ostree_append,
                                .remove = ostree_remove,
                                .replace = ostree_replace,
                                .take_out = ostree_take_out,
                                .put_back = ostree_put_back,
                        },
        };
        if (!ret->label) {
                vhc_store_file_done(ret);
                return -ENOMEM;
        }
        return 0;
}

const struct vhc_store vhc_store_rpm_ostree = {
        .name = "rpm-ostree",
        .what = "kernel arguments of the next deployment (rpm-ostree kargs)",
        .open = ostree_open,
        .read = ostree_read,
        .command = ostree_command,
};
