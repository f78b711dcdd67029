/* SPDX-License-Identifier: MIT */
#include "boot/system.h"
#include "host.h"
#include "hostrole.h"
#include "lastrun.h"
#include "log.h"
#include "state.h"

/* Whether anything of ours is still applied: a state record with records. */
static bool applied(const struct vhc_root *root) {
        _cleanup_free_ char *path = vhc_root_path(root, VHC_PATH_STATE_FILE);
        struct vhc_state s;
        int r;

        if (!path)
                return true;
        vhc_state_init(&s);
        r = vhc_state_load(&s, path, NULL);
        if (r == -ENOENT)
                return false;
        r = r < 0 || !vhc_state_empty(&s);
        vhc_state_done(&s);
        return r;
}

/* The record, under the lock of apply and revert. A successful revert that
 * leaves nothing applied removes it (revert leaves no file of ours). */
static int write_record(struct vhc_ctx *ctx, const char *run, const char *error, const char *next_step,
                        struct vhc_err *e) {
        _cleanup_(vhc_lastrun_done) struct vhc_lastrun prev = {}, l = {};
        struct vhc_txn t;
        int r;

        vhc_txn_init(&t, ctx->root);
        r = vhc_txn_lock(&t, false, e);
        if (r < 0)
                goto out;
        /* The directories an earlier record made stay listed; an unreadable
         * record is replaced. */
        if (vhc_lastrun_load(ctx->root, &prev, &(struct vhc_err){}) < 0)
                vhc_lastrun_done(&prev);
        if (!error && ctx->reverting && !applied(ctx->root)) {
                r = vhc_lastrun_remove(ctx->root, &prev, e);
                goto out;
        }
        /* The same outcome again keeps the record, its command and its time:
         * a second apply changes no byte, nor does rpm's reinstall (%post's
         * "apply --defer", then %posttrans's "apply"). */
        if (prev.command && startswith(prev.command, "revert") == ctx->reverting &&
            prev.failed == (error != NULL) && streq(strempty(prev.error), strempty(error)) &&
            streq(strempty(prev.next_step), strempty(next_step)))
                goto out;
        l = (struct vhc_lastrun){
                .command = strdup(run),
                .time = vhc_lastrun_now(),
                .failed = error != NULL,
                .error = error ? strdup(error) : NULL,
                .next_step = next_step ? strdup(next_step) : NULL,
                .dirs = TAKE_PTR(prev.dirs),
        };
        if (!l.command || !l.time || (error && !l.error) || (next_step && !l.next_step)) {
                r = -ENOMEM;
                goto out;
        }
        /* One line, as the record's reader wants it (a path may hold a tab). */
        for (char *c = l.error; c && *c; c++)
                if ((unsigned char)*c < 0x20 || *c == 0x7f)
                        *c = '?';
        r = vhc_lastrun_save(ctx->root, &l, e);
out:
        vhc_txn_done(&t);
        return r;
}

void vhc_outcome_record(struct vhc_ctx *ctx, const char *error) {
        const char *run = ctx->reverting    ? "revert"
                          : ctx->defer      ? "apply --defer"
                          : ctx->first_boot ? "apply --first-boot"
                                            : "apply";
        const char *next_step = !error            ? NULL
                                : ctx->reverting  ? "sudo virt-host-config revert"
                                : ctx->first_boot ? "sudo virt-host-config apply --first-boot"
                                                  : "sudo virt-host-config apply";
        struct vhc_err e = {};
        struct vhc_system sys;
        int r;

        if (ctx->dry_run)
                return;
        vhc_log_outcome(run, error != NULL, error, next_step);
        /* An image build or rpm-ostree's sandbox: nothing of ours is written there. */
        if (vhc_system_detect(ctx->root, &sys) < 0 || sys.kind == VHC_SYSTEM_IMAGE_BUILD ||
            sys.kind == VHC_SYSTEM_OSTREE_SANDBOX)
                return;
        r = write_record(ctx, run, error, next_step, &e);
        /* A failed run's one line on stderr is its own error; the journal has the outcome. */
        if (r < 0 && !error) {
                char line[sizeof(e.file) + sizeof(e.msg) + 32];

                if (!e.msg[0])
                        snprintf(e.msg, sizeof(e.msg), "%s", strerror(-r));
                vhc_err_format(&e, line, sizeof(line));
                fprintf(stderr, "virt-host-config: warning: the outcome was not recorded: %s\n", line);
        }
}
