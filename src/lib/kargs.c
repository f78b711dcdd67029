/* SPDX-License-Identifier: MIT */
#include <inttypes.h>

#include "cmdline.h"
#include "kargs.h"
#include "strv.h"

static const char *const vars[] = { "GRUB_CMDLINE_LINUX", "GRUB_CMDLINE_LINUX_DEFAULT" };

#define GIB (UINT64_C(1) << 30)
#define MIB (UINT64_C(1) << 20)

void vhc_hugepages_for(uint64_t bytes, const struct vhc_cpuinfo *cpu, struct vhc_hugepages *ret) {
        uint64_t size = cpu->pdpe1gb ? GIB : 2 * MIB;

        *ret = (struct vhc_hugepages){.page_size = size, .count = bytes / size + (bytes % size != 0)};
}

/* "31.3 GiB" */
static void format_gib(uint64_t bytes, char buf[static 32]) {
        snprintf(buf, 32, "%" PRIu64 ".%" PRIu64 " GiB", bytes / GIB, bytes % GIB * 10 / GIB);
}

int vhc_hugepages_check(const struct vhc_config *c, const struct vhc_cpuinfo *cpu, uint64_t mem_total,
                        struct vhc_hugepages *ret, struct vhc_err *e) {
        struct vhc_hugepages h;
        uint64_t limit = mem_total / 4 * 3, max;
        char ram[32], want[32], most[64];

        vhc_hugepages_for(c->hugepages_bytes, cpu, &h);
        if (h.count > limit / h.page_size) {
                format_gib(mem_total, ram);
                format_gib(h.count * h.page_size, want);
                max = limit / h.page_size * h.page_size;
                if (max == 0)
                        snprintf(most, sizeof(most), "none");
                else
                        snprintf(most, sizeof(most), "at most %" PRIu64 "%s, or none",
                                 max % GIB ? max / MIB : max / GIB, max % GIB ? "M" : "G");
                return vhc_config_err(c, e, c->hugepages_line,
                                      "hugepages: %s of %s pages is more than 75%% of this host's RAM (%s): "
                                      "give %s",
                                      want, h.page_size == GIB ? "1G" : "2M", ram, most);
        }
        *ret = h;
        return 0;
}

static int push_hugepages(char ***l, const struct vhc_config *c, const struct vhc_cpuinfo *cpu) {
        const char *size;
        struct vhc_hugepages h;
        char *s;

        vhc_hugepages_for(c->hugepages_bytes, cpu, &h);
        size = h.page_size == GIB ? "1G" : "2M";
        /* The default size is the one hugetlbfs mounts and libvirt's <hugepages/> use. */
        if (asprintf(&s, "default_hugepagesz=%s", size) < 0 || strv_consume(l, s) < 0)
                return -ENOMEM;
        if (asprintf(&s, "hugepagesz=%s", size) < 0 || strv_consume(l, s) < 0)
                return -ENOMEM;
        if (asprintf(&s, "hugepages=%" PRIu64, h.count) < 0 || strv_consume(l, s) < 0)
                return -ENOMEM;
        return 0;
}

int vhc_kargs_wanted(const struct vhc_config *c, const struct vhc_cpuinfo *cpu, char ***ret) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));

        if (!l)
                return -ENOMEM;
        if (c->iommu) {
                if (strv_push_dup(&l, "iommu=pt") < 0)
                        return -ENOMEM;
                /* AMD's IOMMU is on by default; "amd_iommu=on" is not even a valid value. */
                if (cpu->vendor == VHC_CPU_INTEL && strv_push_dup(&l, "intel_iommu=on") < 0)
                        return -ENOMEM;
        }
        if (c->hugepages_bytes && push_hugepages(&l, c, cpu) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(l);
        return 0;
}

int vhc_kargs_off(const struct vhc_config *c, const struct vhc_cpuinfo *cpu, char ***ret) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));

        if (!l)
                return -ENOMEM;
        if (c->iommu) {
                if (strv_push_dup(&l, "iommu=off") < 0)
                        return -ENOMEM;
                if (cpu->vendor == VHC_CPU_AMD && strv_push_dup(&l, "amd_iommu=off") < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

bool vhc_kargs_matches_off(const char *token, char *const *off) {
        for (size_t i = 0; off && off[i]; i++) {
                const char *item = strchr(off[i], '=');

                if (item && vhc_cmdline_same_key(token, off[i]) && vhc_cmdline_has_item(token, item + 1))
                        return true;
        }
        return false;
}

bool vhc_kargs_turns_iommu_off(const char *token) {
        static char *const all[] = { (char *)"iommu=off", (char *)"amd_iommu=off", NULL };

        return vhc_kargs_matches_off(token, all);
}

static int grub_tokens(void *obj, const char *var, char ***ret, struct vhc_err *e) {
        _cleanup_free_ char *val = NULL;
        int r;

        r = vhc_grub_get(obj, var, &val);
        if (r == -ENOENT) {
                *ret = calloc(1, sizeof(char *));
                return *ret ? 0 : -ENOMEM;
        }
        if (r < 0)
                return r;
        r = vhc_cmdline_split(val, ret);
        if (r == -EINVAL)
                return vhc_err_set(e, r, NULL, 0, "%s has an unbalanced double quote: fix it first", var);
        return r;
}

static int grub_append(void *obj, const char *var, const char *arg, struct vhc_karg_edit *ret_edit,
                       struct vhc_err *e) {
        return vhc_grub_append_arg(obj, var, arg, ret_edit, e);
}

static int grub_remove(void *obj, const char *var, const char *arg, const struct vhc_karg_edit *edit,
                       struct vhc_err *e) {
        return vhc_grub_remove_arg(obj, var, arg, edit, e);
}

static int grub_replace(void *obj, const char *var, const char *old_arg, const char *new_arg,
                        struct vhc_err *e) {
        return vhc_grub_replace_arg(obj, var, old_arg, new_arg, e);
}

static int grub_take_out(void *obj, const char *var, const char *arg, size_t *ret_at, char **ret_cut,
                         struct vhc_err *e) {
        return vhc_grub_take_out_arg(obj, var, arg, ret_at, ret_cut, e);
}

static int grub_put_back(void *obj, const char *var, const char *arg, size_t at, const char *cut,
                         struct vhc_err *e) {
        return vhc_grub_put_back_arg(obj, var, arg, at, cut, e);
}

void vhc_kargs_grub_target(struct vhc_grub *g, const char *file, struct vhc_kargs_target *ret) {
        *ret = (struct vhc_kargs_target){
                .store = "grub-defaults",
                .file = file,
                .vars = vars,
                .n_vars = ELEMENTSOF(vars),
                .obj = g,
                .tokens = grub_tokens,
                .append = grub_append,
                .remove = grub_remove,
                .replace = grub_replace,
                .take_out = grub_take_out,
                .put_back = grub_put_back,
        };
}

/* How many tokens of all the target's variables are exactly arg. */
static int count_token(const struct vhc_kargs_target *t, const char *arg, size_t *ret, struct vhc_err *e) {
        size_t n = 0;

        for (size_t v = 0; v < t->n_vars; v++) {
                _cleanup_strv_free_ char **l = NULL;
                int r = t->tokens(t->obj, t->vars[v], &l, e);

                if (r < 0)
                        return r;
                for (size_t i = 0; l[i]; i++)
                        n += streq(l[i], arg);
        }
        *ret = n;
        return 0;
}

static int undo(const struct vhc_kargs_target *t, const struct vhc_karg_record *k, struct vhc_err *e) {
        int r;

        if (k->removed)
                return t->put_back(t->obj, k->var, k->arg, k->cut_at, strempty(k->cut), e);
        if (k->replaced)
                r = t->replace(t->obj, k->var, k->arg, k->replaced, e);
        else
                r = t->remove(t->obj, k->var, k->arg, &k->edit, e);
        /* Gone already: the user took it out, which is what undoing wants. */
        return r == -ENOENT ? 0 : r;
}

static bool ours(const struct vhc_karg_record *k, const struct vhc_kargs_target *t) {
        return streq(k->file, t->file);
}

/* Replaces each token with the key of arg but another value that the kernel
 * would take over arg: those after arg's last exact occurrence (the kernel
 * takes the last value), first to last. So undoing the records newest first,
 * each on the last exact arg, puts every original back in its place. */
static int replace_contradicting(const struct vhc_kargs_target *t, const char *arg, struct vhc_state *new_state,
                                 struct vhc_err *e) {
        size_t from_var = 0;

        for (size_t k = 0; t->readonly && t->readonly[k]; k++)
                if (vhc_cmdline_same_key(t->readonly[k], arg) && !streq(t->readonly[k], arg))
                        return vhc_err_set(e, -EINVAL, t->file, 0,
                                           "%s, which contradicts %s, comes from a boot loader variable of its "
                                           "options line (grubenv): take it out there first",
                                           t->readonly[k], arg);
        /* An exact one in a later variable wins over the earlier ones. */
        for (size_t v = 0; v < t->n_vars; v++) {
                _cleanup_strv_free_ char **l = NULL;
                int r = t->tokens(t->obj, t->vars[v], &l, e);

                if (r < 0)
                        return r;
                for (size_t k = 0; l[k]; k++)
                        if (streq(l[k], arg))
                                from_var = v;
        }
        for (size_t v = from_var; v < t->n_vars; v++)
                for (;;) {
                        _cleanup_strv_free_ char **l = NULL;
                        ssize_t i = -1, start = 0;
                        int r;

                        r = t->tokens(t->obj, t->vars[v], &l, e);
                        if (r < 0)
                                return r;
                        for (size_t k = 0; l[k]; k++)
                                if (streq(l[k], arg))
                                        start = (ssize_t)k + 1;
                        for (size_t k = start; l[k] && i < 0; k++)
                                if (vhc_cmdline_same_key(l[k], arg) && !streq(l[k], arg))
                                        i = (ssize_t)k;
                        if (i < 0)
                                break;
                        r = t->replace(t->obj, t->vars[v], l[i], arg, e);
                        if (r < 0)
                                return r;
                        r = vhc_state_add_karg(new_state, &(struct vhc_karg_record){
                                                                  .store = (char *)t->store,
                                                                  .file = (char *)t->file,
                                                                  .var = (char *)t->vars[v],
                                                                  .arg = (char *)arg,
                                                                  .replaced = l[i],
                                                          });
                        if (r < 0)
                                return r;
                }
        return 0;
}

/* Takes out every token that matches off, recording each. The user's own
 * tokens taken out by an earlier apply stay recorded first, newest last, so
 * that undoing newest first puts them back in their places. */
static int take_out_off(const struct vhc_kargs_target *t, char *const *off, const struct vhc_state *old,
                        struct vhc_state *new_state, struct vhc_err *e) {
        int r;

        for (size_t i = 0; i < old->n_kargs; i++) {
                const struct vhc_karg_record *k = &old->kargs[i];

                if (ours(k, t) && k->removed && vhc_kargs_matches_off(k->arg, off)) {
                        r = vhc_state_add_karg(new_state, k);
                        if (r < 0)
                                return r;
                }
        }
        if (!off || !off[0])
                return 0;
        for (size_t k = 0; t->readonly && t->readonly[k]; k++)
                if (vhc_kargs_matches_off(t->readonly[k], off))
                        return vhc_err_set(e, -EINVAL, t->file, 0,
                                           "%s, which turns the IOMMU off, comes from a boot loader variable of "
                                           "its options line (grubenv): take it out there first",
                                           t->readonly[k]);
        for (size_t v = 0; v < t->n_vars; v++)
                for (;;) {
                        _cleanup_strv_free_ char **l = NULL;
                        _cleanup_free_ char *cut = NULL;
                        ssize_t i = -1;
                        size_t at;

                        r = t->tokens(t->obj, t->vars[v], &l, e);
                        if (r < 0)
                                return r;
                        for (size_t k = 0; l[k]; k++)
                                if (vhc_kargs_matches_off(l[k], off))
                                        i = (ssize_t)k;
                        if (i < 0)
                                break;
                        r = t->take_out(t->obj, t->vars[v], l[i], &at, &cut, e);
                        if (r < 0)
                                return r;
                        r = vhc_state_add_karg(new_state, &(struct vhc_karg_record){
                                                                  .store = (char *)t->store,
                                                                  .file = (char *)t->file,
                                                                  .var = (char *)t->vars[v],
                                                                  .arg = l[i],
                                                                  .removed = true,
                                                                  .cut_at = at,
                                                                  .cut = cut,
                                                          });
                        if (r < 0)
                                return r;
                }
        return 0;
}

int vhc_kargs_apply(const struct vhc_kargs_target *t, char *const *wanted, char *const *off,
                    const struct vhc_state *old, struct vhc_state *new_state, struct vhc_err *e) {
        int r;

        /* What an earlier apply put there (or took out) and the config no
         * longer wants goes first. */
        for (size_t i = old->n_kargs; i-- > 0;) {
                const struct vhc_karg_record *k = &old->kargs[i];

                if (ours(k, t) && (k->removed ? !vhc_kargs_matches_off(k->arg, off) : !strv_contains(wanted, k->arg))) {
                        r = undo(t, k, e);
                        if (r < 0)
                                return r;
                }
        }

        for (size_t w = 0; wanted[w]; w++) {
                const char *arg = wanted[w];
                size_t n;

                /* Our earlier records for arg stay valid for as many tokens of it as are there. */
                r = count_token(t, arg, &n, e);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < old->n_kargs && n > 0; i++) {
                        const struct vhc_karg_record *k = &old->kargs[i];

                        if (!ours(k, t) || k->removed || !streq(k->arg, arg))
                                continue;
                        r = vhc_state_add_karg(new_state, k);
                        if (r < 0)
                                return r;
                        n--;
                }

                r = replace_contradicting(t, arg, new_state, e);
                if (r < 0)
                        return r;

                r = count_token(t, arg, &n, e);
                if (r < 0)
                        return r;
                if (n == 0 && !strv_contains(t->readonly, arg)) {
                        struct vhc_karg_record k = {
                                .store = (char *)t->store,
                                .file = (char *)t->file,
                                .var = (char *)t->vars[0],
                                .arg = (char *)arg,
                        };

                        r = t->append(t->obj, t->vars[0], arg, &k.edit, e);
                        if (r < 0)
                                return r;
                        r = vhc_state_add_karg(new_state, &k);
                        if (r < 0)
                                return r;
                }
        }
        return take_out_off(t, off, old, new_state, e);
}

int vhc_kargs_revert(const struct vhc_kargs_target *t, const struct vhc_state *old, struct vhc_err *e) {
        for (size_t i = old->n_kargs; i-- > 0;) {
                int r;

                if (!ours(&old->kargs[i], t))
                        continue;
                r = undo(t, &old->kargs[i], e);
                if (r < 0)
                        return r;
        }
        return 0;
}
