/* SPDX-License-Identifier: MIT */
#include <inttypes.h>

#include "cmdline.h"
#include "kargs.h"
#include "strv.h"

static const char *const vars[] = { "GRUB_CMDLINE_LINUX", "GRUB_CMDLINE_LINUX_DEFAULT" };
#define VAR_MAIN vars[0]

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

static int tokens_of(const struct vhc_grub *g, const char *var, char ***ret, struct vhc_err *e) {
        _cleanup_free_ char *val = NULL;
        int r;

        r = vhc_grub_get(g, var, &val);
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

static int has_token(const struct vhc_grub *g, const char *var, const char *arg, struct vhc_err *e) {
        _cleanup_strv_free_ char **t = NULL;
        int r = tokens_of(g, var, &t, e);

        return r < 0 ? r : vhc_cmdline_find(t, arg) >= 0;
}

static int undo(struct vhc_grub *g, const struct vhc_karg_record *k, struct vhc_err *e) {
        int r;

        if (k->replaced)
                r = vhc_grub_replace_arg(g, k->var, k->arg, k->replaced, e);
        else
                r = vhc_grub_remove_arg(g, k->var, k->arg, &k->edit, e);
        /* Gone already: the user took it out, which is what undoing wants. */
        return r == -ENOENT ? 0 : r;
}

static bool ours(const struct vhc_karg_record *k, const char *file) {
        return streq(k->file, file);
}

/* Replaces, in every variable, each token with the key of arg but another value. */
static int replace_contradicting(struct vhc_grub *g, const char *file, const char *arg,
                                 const struct vhc_state *old, struct vhc_state *new_state, struct vhc_err *e) {
        for (size_t v = 0; v < ELEMENTSOF(vars); v++)
                for (;;) {
                        _cleanup_strv_free_ char **t = NULL;
                        ssize_t i = -1;
                        int r;

                        r = tokens_of(g, vars[v], &t, e);
                        if (r < 0)
                                return r;
                        for (size_t k = 0; t[k]; k++)
                                if (vhc_cmdline_same_key(t[k], arg) && !streq(t[k], arg))
                                        i = (ssize_t)k;
                        if (i < 0)
                                break;
                        r = vhc_grub_replace_arg(g, vars[v], t[i], arg, e);
                        if (r < 0)
                                return r;
                        r = vhc_state_add_karg(new_state, &(struct vhc_karg_record){
                                                                  .file = (char *)file,
                                                                  .var = (char *)vars[v],
                                                                  .arg = (char *)arg,
                                                                  .replaced = t[i],
                                                          });
                        if (r < 0)
                                return r;
                }
        return 0;
}

int vhc_kargs_apply(struct vhc_grub *g, const char *file, char *const *wanted, const struct vhc_state *old,
                    struct vhc_state *new_state, struct vhc_err *e) {
        int r;

        /* What an earlier apply put there and the config no longer wants goes first. */
        for (size_t i = old->n_kargs; i-- > 0;) {
                const struct vhc_karg_record *k = &old->kargs[i];

                if (ours(k, file) && !strv_contains(wanted, k->arg)) {
                        r = undo(g, k, e);
                        if (r < 0)
                                return r;
                }
        }

        for (size_t w = 0; wanted[w]; w++) {
                const char *arg = wanted[w];
                bool present = false;

                r = replace_contradicting(g, file, arg, old, new_state, e);
                if (r < 0)
                        return r;

                /* Our earlier records for arg stay valid while the token is there. */
                for (size_t i = 0; i < old->n_kargs; i++) {
                        const struct vhc_karg_record *k = &old->kargs[i];

                        if (!ours(k, file) || !streq(k->arg, arg))
                                continue;
                        r = has_token(g, k->var, arg, e);
                        if (r < 0)
                                return r;
                        if (r > 0) {
                                r = vhc_state_add_karg(new_state, k);
                                if (r < 0)
                                        return r;
                        }
                }

                for (size_t v = 0; v < ELEMENTSOF(vars) && !present; v++) {
                        r = has_token(g, vars[v], arg, e);
                        if (r < 0)
                                return r;
                        present = r > 0;
                }
                if (!present) {
                        struct vhc_karg_record k = {
                                .file = (char *)file,
                                .var = (char *)VAR_MAIN,
                                .arg = (char *)arg,
                        };

                        r = vhc_grub_append_arg(g, VAR_MAIN, arg, &k.edit, e);
                        if (r < 0)
                                return r;
                        r = vhc_state_add_karg(new_state, &k);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

int vhc_kargs_revert(struct vhc_grub *g, const char *file, const struct vhc_state *old, struct vhc_err *e) {
        for (size_t i = old->n_kargs; i-- > 0;) {
                int r;

                if (!ours(&old->kargs[i], file))
                        continue;
                r = undo(g, &old->kargs[i], e);
                if (r < 0)
                        return r;
        }
        return 0;
}
