/* SPDX-License-Identifier: MIT */
/* /etc/default/grub editing on arbitrary bytes. What parses must take the
 * product's apply (iommu=pt, intel_iommu=on) such that: the arguments are in
 * the value afterwards, applying again changes nothing, the applied text
 * parses again, and undoing the recorded edits gives back the input bytes.
 * Taking any token out (as apply takes out amd_iommu=off) and putting it back
 * gives back the input bytes too. abort() on a violation. */
#include <stdint.h>

#include "cmdline.h"
#include "grub-default.h"
#include "strv.h"

static const char *const wanted[] = {"iommu=pt", "intel_iommu=on", NULL};
static const char *const vars[] = {"GRUB_CMDLINE_LINUX", "GRUB_CMDLINE_LINUX_DEFAULT"};

struct op {
        bool replace;
        size_t var;
        const char *arg;
        char *old;
        struct vhc_karg_edit edit;
};

struct ops {
        struct op op[4];
        size_t n;
};

static void ops_done(struct ops *o) {
        for (size_t i = 0; i < o->n; i++)
                free(o->op[i].old);
        o->n = 0;
}

static int tokens_of(const struct vhc_grub *g, size_t var, char ***ret) {
        _cleanup_free_ char *val = NULL;
        int r = vhc_grub_get(g, vars[var], &val);

        if (r == -ENOENT)
                return vhc_cmdline_split("", ret);
        if (r < 0)
                return r;
        return vhc_cmdline_split(val, ret);
}

/* As tests/unit/test-grub-default.c: keep an exact token; else replace the
 * last token with the same key, in _DEFAULT before GRUB_CMDLINE_LINUX; else
 * append to GRUB_CMDLINE_LINUX. A refusal is -EINVAL; anything else that
 * goes wrong after the tokenizer found a token is a disagreement between
 * the tokenizer and the editor, and aborts. */
static int apply(struct vhc_grub *g, struct ops *o) {
        for (size_t w = 0; wanted[w]; w++) {
                _cleanup_strv_free_ char **lin = NULL, **def = NULL;
                struct op *op = &o->op[o->n];
                ssize_t i;
                int r;

                if ((r = tokens_of(g, 0, &lin)) < 0 || (r = tokens_of(g, 1, &def)) < 0)
                        return r;
                if (vhc_cmdline_find(lin, wanted[w]) >= 0 || vhc_cmdline_find(def, wanted[w]) >= 0)
                        continue;
                *op = (struct op){.arg = wanted[w]};
                if ((i = vhc_cmdline_find_key(def, wanted[w])) >= 0)
                        *op = (struct op){
                                .replace = true, .var = 1, .arg = wanted[w], .old = strdup(def[i])};
                else if ((i = vhc_cmdline_find_key(lin, wanted[w])) >= 0)
                        *op = (struct op){
                                .replace = true, .var = 0, .arg = wanted[w], .old = strdup(lin[i])};
                if (op->replace && !op->old)
                        return -ENOMEM;
                o->n++;
                if (op->replace)
                        r = vhc_grub_replace_arg(g, vars[op->var], op->old, op->arg, NULL);
                else
                        r = vhc_grub_append_arg(g, vars[op->var], op->arg, &op->edit, NULL);
                if (r == -ENOENT)
                        abort();
                if (r < 0) {
                        o->n--; /* not done */
                        free(op->old);
                        return r;
                }
        }
        return 0;
}

static void undo(struct vhc_grub *g, const struct ops *o) {
        for (size_t i = o->n; i-- > 0;) {
                const struct op *op = &o->op[i];
                int r;

                if (op->replace)
                        r = vhc_grub_replace_arg(g, vars[op->var], op->arg, op->old, NULL);
                else
                        r = vhc_grub_remove_arg(g, vars[op->var], op->arg, &op->edit, NULL);
                if (r == -ENOMEM)
                        return;
                if (r < 0)
                        abort();
        }
}

static bool text_is(const struct vhc_grub *g, const uint8_t *data, size_t size) {
        size_t len;
        const char *t = vhc_grub_text(g, &len);

        return len == size && memcmp(t, data, size) == 0;
}

/* Each token of each variable (the first 8): taken out, the value holds the
 * others in order; put back, the text is the input again. */
static void take_out_round_trip(const uint8_t *data, size_t size) {
        for (size_t v = 0; v < ELEMENTSOF(vars); v++) {
                _cleanup_(vhc_grub_freep) struct vhc_grub *g = NULL;
                _cleanup_strv_free_ char **before = NULL;

                if (vhc_grub_parse((const char *)data, size, "fuzz", &g, NULL) < 0)
                        abort();
                if (tokens_of(g, v, &before) < 0)
                        continue; /* an unbalanced quote: apply refuses it */
                for (size_t i = 0; before[i] && i < 8; i++) {
                        _cleanup_strv_free_ char **after = NULL;
                        _cleanup_free_ char *cut = NULL;
                        size_t at;
                        int r = vhc_grub_take_out_arg(g, vars[v], before[i], &at, &cut, NULL);

                        if (r == -ENOMEM)
                                return;
                        if (r == -EINVAL)
                                continue; /* refused: split across quotes, escapes */
                        if (r < 0 || tokens_of(g, v, &after) < 0 ||
                            !vhc_cmdline_is_insertion(after, before, before[i]))
                                abort();
                        r = vhc_grub_put_back_arg(g, vars[v], before[i], at, cut, NULL);
                        if (r == -ENOMEM)
                                return;
                        if (r < 0 || !text_is(g, data, size))
                                abort();
                }
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(vhc_grub_freep) struct vhc_grub *g = NULL, *g2 = NULL;
        _cleanup_free_ char *applied = NULL;
        struct ops o = {}, o2 = {};
        size_t applied_len;
        const char *t;
        int r;

        if (vhc_grub_parse((const char *)data, size, "fuzz", &g, NULL) < 0)
                return 0;
        if (!text_is(g, data, size))
                abort();
        take_out_round_trip(data, size);

        r = apply(g, &o);
        if (r < 0) {
                /* Refused part way: what was done must still come undone. */
                undo(g, &o);
                if (r != -ENOMEM && !text_is(g, data, size))
                        abort();
                goto out;
        }

        /* The arguments are in the value. */
        for (size_t w = 0; wanted[w]; w++) {
                _cleanup_strv_free_ char **lin = NULL, **def = NULL;

                if (tokens_of(g, 0, &lin) < 0 || tokens_of(g, 1, &def) < 0)
                        abort();
                if (vhc_cmdline_find(lin, wanted[w]) < 0 && vhc_cmdline_find(def, wanted[w]) < 0)
                        abort();
        }

        t = vhc_grub_text(g, &applied_len);
        applied = malloc(applied_len + 1);
        if (!applied)
                goto out;
        memcpy(applied, t, applied_len + 1);

        /* Idempotent, on this object and on the text read again. */
        if (apply(g, &o2) < 0 || o2.n != 0 || !text_is(g, (const uint8_t *)applied, applied_len))
                abort();
        if (vhc_grub_parse(applied, applied_len, "fuzz", &g2, NULL) < 0)
                abort();
        if (apply(g2, &o2) < 0 || o2.n != 0 || !text_is(g2, (const uint8_t *)applied, applied_len))
                abort();

        /* Undo gives back the input, byte for byte. */
        undo(g, &o);
        if (!text_is(g, data, size))
                abort();
out:
        ops_done(&o);
        ops_done(&o2);
        return 0;
}
