/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <dirent.h>
#include <stdarg.h>

#include "fileio.h"
#include "topology.h"

/* sysfs never numbers CPUs this high; the bound keeps a corrupt list from
 * asking for gigabytes. */
#define CPU_MAX 65536U
#define SMALL_FILE 65536

static int cmp_unsigned(const void *a, const void *b) {
        unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

        return x < y ? -1 : x > y;
}

int vhc_cpulist_parse(const char *s, unsigned **ret, unsigned *ret_n) {
        _cleanup_free_ unsigned *cpus = NULL;
        unsigned n = 0, cap = 0;
        const char *p = s;

        while (*p && *p != '\n') {
                unsigned long a, b;
                char *end;

                if (!isdigit((unsigned char)*p))
                        return -EINVAL;
                a = strtoul(p, &end, 10);
                b = a;
                if (*end == '-') {
                        if (!isdigit((unsigned char)end[1]))
                                return -EINVAL;
                        b = strtoul(end + 1, &end, 10);
                }
                if (a > b || b >= CPU_MAX)
                        return -EINVAL;
                for (unsigned long c = a; c <= b; c++) {
                        if (n == cap) {
                                unsigned *m;

                                cap = cap ? cap * 2 : 16;
                                m = realloc(cpus, cap * sizeof(*cpus));
                                if (!m)
                                        return -ENOMEM;
                                cpus = m;
                        }
                        cpus[n++] = (unsigned)c;
                }
                p = end;
                if (*p == ',')
                        p++;
                else if (*p && *p != '\n')
                        return -EINVAL;
        }
        if (n > 0) {
                unsigned k = 1;

                qsort(cpus, n, sizeof(*cpus), cmp_unsigned);
                for (unsigned i = 1; i < n; i++)
                        if (cpus[i] != cpus[k - 1])
                                cpus[k++] = cpus[i];
                n = k;
        }
        *ret = TAKE_PTR(cpus);
        *ret_n = n;
        return 0;
}

char *vhc_cpulist_format(const unsigned *cpus, unsigned n) {
        char *buf;
        size_t size, len = 0;

        size = (size_t)n * 12 + 1;
        buf = malloc(size);
        if (!buf)
                return NULL;
        buf[0] = '\0';
        for (unsigned i = 0; i < n;) {
                unsigned j = i;

                while (j + 1 < n && cpus[j + 1] == cpus[j] + 1)
                        j++;
                if (j == i)
                        len += (size_t)snprintf(buf + len, size - len, "%s%u", len ? "," : "", cpus[i]);
                else
                        len += (size_t)snprintf(buf + len, size - len, "%s%u-%u", len ? "," : "", cpus[i],
                                                cpus[j]);
                i = j + 1;
        }
        return buf;
}

static bool cpulist_has(const unsigned *cpus, unsigned n, unsigned cpu) {
        return bsearch(&cpu, cpus, n, sizeof(*cpus), cmp_unsigned) != NULL;
}

/* Reads a small sysfs file into a string without its trailing newline;
 * -ENOENT when absent. */
static int read_attr(const char *path, char **ret) {
        _cleanup_free_ char *s = NULL;
        size_t len;
        int r;

        r = vhc_read_file(path, SMALL_FILE, &s, &len);
        if (r < 0)
                return r;
        while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == ' '))
                s[--len] = '\0';
        *ret = TAKE_PTR(s);
        return 0;
}

_printf_(3, 4) static int cpu_attr_path(const struct vhc_root *r, char **ret, const char *fmt, ...) {
        _cleanup_free_ char *tail = NULL;
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vasprintf(&tail, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -ENOMEM;
        *ret = vhc_root_pathf(r, VHC_PATH_SYS_CPU, "%s", tail);
        return *ret ? 0 : -ENOMEM;
}

/* An integer attribute; def when the file is absent. */
static int read_int(const struct vhc_root *r, unsigned cpu, const char *name, int def, int *ret,
                    struct vhc_err *e) {
        _cleanup_free_ char *path = NULL, *s = NULL;
        char *end;
        long v;
        int k;

        k = cpu_attr_path(r, &path, "cpu%u/topology/%s", cpu, name);
        if (k < 0)
                return k;
        k = read_attr(path, &s);
        if (k == -ENOENT) {
                *ret = def;
                return 0;
        }
        if (k < 0)
                return vhc_err_set(e, k, path, 0, "cannot read: %s", strerror(-k));
        errno = 0;
        v = strtol(s, &end, 10);
        if (errno || end == s || *end || v < -1 || v > INT_MAX)
                return vhc_err_set(e, -EINVAL, path, 0, "'%s' is not a number", s);
        *ret = (int)v;
        return 0;
}

/* The list in the first of the files that exists; -ENOENT if none. */
static int read_list(const char *path, unsigned **ret, unsigned *ret_n, struct vhc_err *e) {
        _cleanup_free_ char *s = NULL;
        int r;

        r = read_attr(path, &s);
        if (r == -ENOENT)
                return r;
        if (r < 0)
                return vhc_err_set(e, r, path, 0, "cannot read: %s", strerror(-r));
        r = vhc_cpulist_parse(s, ret, ret_n);
        if (r < 0)
                return vhc_err_set(e, r, path, 0, "'%s' is not a CPU list like 0-3,8", s);
        return 0;
}

/* The online CPUs: the "online" list, or every cpuN directory when the
 * kernel has no such file (no CPU hotplug). */
static int read_online(const struct vhc_root *r, unsigned **ret, unsigned *ret_n, struct vhc_err *e) {
        _cleanup_free_ char *path = NULL, *dir = NULL;
        _cleanup_free_ unsigned *cpus = NULL;
        unsigned n = 0, cap = 0;
        DIR *d;
        int k;

        path = vhc_root_pathf(r, VHC_PATH_SYS_CPU, "online");
        if (!path)
                return -ENOMEM;
        k = read_list(path, ret, ret_n, e);
        if (k != -ENOENT)
                return k;

        dir = vhc_root_path(r, VHC_PATH_SYS_CPU);
        if (!dir)
                return -ENOMEM;
        d = opendir(dir);
        if (!d)
                return vhc_err_set(e, negative_errno(), dir, 0, "no CPU topology here: %s", strerror(errno));
        for (struct dirent *de; (de = readdir(d));) {
                unsigned long v;
                char *end;

                if (!startswith(de->d_name, "cpu") || !isdigit((unsigned char)de->d_name[3]))
                        continue;
                v = strtoul(de->d_name + 3, &end, 10);
                if (*end || v >= CPU_MAX)
                        continue;
                if (n == cap) {
                        unsigned *m;

                        cap = cap ? cap * 2 : 16;
                        m = realloc(cpus, cap * sizeof(*cpus));
                        if (!m) {
                                closedir(d);
                                return -ENOMEM;
                        }
                        cpus = m;
                }
                cpus[n++] = (unsigned)v;
        }
        closedir(d);
        qsort(cpus, n, sizeof(*cpus), cmp_unsigned);
        *ret = TAKE_PTR(cpus);
        *ret_n = n;
        return 0;
}

/* The first CPU sharing cpu's L3 cache; -1 when no L3 is described. */
static int read_l3(const struct vhc_root *r, unsigned cpu, int *ret, struct vhc_err *e) {
        for (unsigned idx = 0; idx < 16; idx++) {
                _cleanup_free_ char *lpath = NULL, *spath = NULL, *level = NULL;
                _cleanup_free_ unsigned *shared = NULL;
                unsigned n;
                int k;

                k = cpu_attr_path(r, &lpath, "cpu%u/cache/index%u/level", cpu, idx);
                if (k < 0)
                        return k;
                k = read_attr(lpath, &level);
                if (k == -ENOENT)
                        break;
                if (k < 0)
                        return vhc_err_set(e, k, lpath, 0, "cannot read: %s", strerror(-k));
                if (!streq(level, "3"))
                        continue;
                k = cpu_attr_path(r, &spath, "cpu%u/cache/index%u/shared_cpu_list", cpu, idx);
                if (k < 0)
                        return k;
                k = read_list(spath, &shared, &n, e);
                if (k == -ENOENT)
                        break;
                if (k < 0)
                        return k;
                *ret = n > 0 ? (int)shared[0] : (int)cpu;
                return 0;
        }
        *ret = -1;
        return 0;
}

/* Hybrid Intel CPUs register one PMU per core type; its "cpus" file lists the
 * CPUs of that type. */
static int read_hybrid(const struct vhc_root *r, const char *pmu, unsigned **ret, unsigned *ret_n,
                       struct vhc_err *e) {
        _cleanup_free_ char *path = vhc_root_pathf(r, VHC_PATH_SYS_DEVICES, "%s/cpus", pmu);

        if (!path)
                return -ENOMEM;
        return read_list(path, ret, ret_n, e);
}

struct vhc_topology *vhc_topology_free(struct vhc_topology *t) {
        if (!t)
                return NULL;
        for (size_t i = 0; i < t->n_cores; i++)
                free(t->cores[i].cpus);
        free(t->cores);
        free(t);
        return NULL;
}

static int add_core(struct vhc_topology *t, const struct vhc_root *r, unsigned cpu, const unsigned *online,
                    unsigned n_online, bool *taken, unsigned max_cpu, struct vhc_err *e) {
        _cleanup_free_ char *path = NULL;
        _cleanup_free_ unsigned *sib = NULL;
        struct vhc_core c = {.cluster = -1};
        unsigned n_sib = 0, k = 0;
        struct vhc_core *m;
        int q;

        q = cpu_attr_path(r, &path, "cpu%u/topology/thread_siblings_list", cpu);
        if (q < 0)
                return q;
        q = read_list(path, &sib, &n_sib, e);
        if (q == -ENOENT) {
                free(path);
                q = cpu_attr_path(r, &path, "cpu%u/topology/core_cpus_list", cpu);
                if (q < 0)
                        return q;
                q = read_list(path, &sib, &n_sib, e);
        }
        if (q == -ENOENT) {
                /* No topology: each CPU is a core of its own. */
                sib = malloc(sizeof(*sib));
                if (!sib)
                        return -ENOMEM;
                sib[0] = cpu;
                n_sib = 1;
        } else if (q < 0)
                return q;

        c.cpus = calloc(n_sib + 1, sizeof(*c.cpus));
        if (!c.cpus)
                return -ENOMEM;
        for (unsigned i = 0; i < n_sib; i++)
                if (sib[i] <= max_cpu && cpulist_has(online, n_online, sib[i]) && !taken[sib[i]]) {
                        c.cpus[k++] = sib[i];
                        taken[sib[i]] = true;
                }
        if (!taken[cpu]) {
                /* The siblings list did not name the CPU itself: trust the CPU. */
                c.cpus[k++] = cpu;
                taken[cpu] = true;
                qsort(c.cpus, k, sizeof(*c.cpus), cmp_unsigned);
        }
        c.n_cpus = k;

        if ((q = read_int(r, cpu, "physical_package_id", 0, &c.package, e)) < 0 ||
            (q = read_int(r, cpu, "die_id", 0, &c.die, e)) < 0 ||
            (q = read_int(r, cpu, "cluster_id", -1, &c.cluster, e)) < 0 ||
            (q = read_int(r, cpu, "core_id", (int)cpu, &c.core_id, e)) < 0 ||
            (q = read_l3(r, cpu, &c.l3, e)) < 0) {
                free(c.cpus);
                return q;
        }

        m = realloc(t->cores, (t->n_cores + 1) * sizeof(*m));
        if (!m) {
                free(c.cpus);
                return -ENOMEM;
        }
        t->cores = m;
        t->cores[t->n_cores++] = c;
        return 0;
}

int vhc_topology_read(const struct vhc_root *r, struct vhc_topology **ret, struct vhc_err *e) {
        _cleanup_(vhc_topology_freep) struct vhc_topology *t = NULL;
        _cleanup_free_ unsigned *online = NULL, *pcores = NULL, *ecores = NULL;
        _cleanup_free_ bool *taken = NULL;
        unsigned n_online = 0, n_p = 0, n_e = 0;
        int k;

        k = read_online(r, &online, &n_online, e);
        if (k < 0)
                return k;
        if (n_online == 0)
                return vhc_err_set(e, -ENOENT, vhc_path_abs(VHC_PATH_SYS_CPU), 0, "no online CPU found");

        t = calloc(1, sizeof(*t));
        taken = calloc(online[n_online - 1] + 1, sizeof(*taken));
        if (!t || !taken)
                return -ENOMEM;
        t->n_cpus = n_online;
        t->max_cpu = online[n_online - 1];

        for (unsigned i = 0; i < n_online; i++) {
                if (taken[online[i]])
                        continue;
                k = add_core(t, r, online[i], online, n_online, taken, t->max_cpu, e);
                if (k < 0)
                        return k;
        }

        k = read_hybrid(r, "cpu_core", &pcores, &n_p, e);
        if (k < 0 && k != -ENOENT)
                return k;
        k = read_hybrid(r, "cpu_atom", &ecores, &n_e, e);
        if (k < 0 && k != -ENOENT)
                return k;
        t->hybrid = n_p > 0 && n_e > 0;
        if (t->hybrid)
                for (size_t i = 0; i < t->n_cores; i++) {
                        unsigned first = t->cores[i].cpus[0];

                        if (cpulist_has(pcores, n_p, first))
                                t->cores[i].kind = VHC_CORE_PERFORMANCE;
                        else if (cpulist_has(ecores, n_e, first))
                                t->cores[i].kind = VHC_CORE_EFFICIENCY;
                }

        *ret = TAKE_PTR(t);
        return 0;
}

void vhc_pinning_done(struct vhc_pinning *p) {
        free(p->vcpu_cpu);
        free(p->emulator_cpuset);
        *p = (struct vhc_pinning){};
}

/* An L3 domain and how many usable cores it has. */
struct domain {
        int l3;
        unsigned free;
};

static int cmp_domain(const void *a, const void *b) {
        const struct domain *x = a, *y = b;

        if (x->free != y->free)
                return x->free > y->free ? -1 : 1;
        return x->l3 < y->l3 ? -1 : x->l3 > y->l3;
}

/* The host's share: every online CPU the guest does not run on. */
static char *host_cpus(const struct vhc_topology *t, const bool *guest_cpu) {
        _cleanup_free_ unsigned *host = calloc(t->n_cpus + 1, sizeof(*host));
        unsigned n = 0;

        if (!host)
                return NULL;
        for (size_t i = 0; i < t->n_cores; i++)
                for (unsigned c = 0; c < t->cores[i].n_cpus; c++)
                        if (!guest_cpu[t->cores[i].cpus[c]])
                                host[n++] = t->cores[i].cpus[c];
        qsort(host, n, sizeof(*host), cmp_unsigned);
        return vhc_cpulist_format(host, n);
}

/* Every free performance core's threads, then whole efficiency cores in CPU
 * order. The guest sees vcpus single-thread cores: a uniform topology that
 * says SMT pairs would be false for the efficiency cores. */
static int pick_hybrid(const struct vhc_topology *t, unsigned vcpus, const bool *usable, unsigned p_threads,
                       struct vhc_pinning *ret) {
        _cleanup_free_ unsigned *map = calloc(vcpus, sizeof(*map));
        _cleanup_free_ bool *guest_cpu = calloc(t->max_cpu + 1, sizeof(*guest_cpu));
        struct vhc_pinning p = {};
        unsigned v = 0;

        if (!map || !guest_cpu)
                return -ENOMEM;
        for (size_t i = 0; i < t->n_cores && v < p_threads; i++)
                if (usable[i])
                        for (unsigned c = 0; c < t->cores[i].n_cpus; c++)
                                map[v++] = t->cores[i].cpus[c];
        for (size_t i = 1; i < t->n_cores && v < vcpus; i++)
                if (t->cores[i].kind == VHC_CORE_EFFICIENCY) {
                        map[v++] = t->cores[i].cpus[0];
                        p.n_efficiency++;
                }
        for (unsigned i = 0; i < vcpus; i++)
                guest_cpu[map[i]] = true;
        /* The siblings of an efficiency core (none on today's CPUs) stay with the host. */
        p.emulator_cpuset = host_cpus(t, guest_cpu);
        if (!p.emulator_cpuset)
                return -ENOMEM;
        p.n_vcpus = vcpus;
        p.vcpu_cpu = TAKE_PTR(map);
        p.cores = vcpus;
        p.threads = 1;
        p.n_l3 = 1;
        *ret = p;
        return 0;
}

int vhc_topology_pick(const struct vhc_topology *t, unsigned vcpus, struct vhc_pinning *ret,
                      struct vhc_err *e) {
        _cleanup_free_ bool *usable = NULL, *chosen = NULL, *guest_cpu = NULL;
        _cleanup_free_ struct domain *doms = NULL;
        _cleanup_free_ unsigned *map = NULL, *host = NULL;
        unsigned threads = 0, n_usable = 0, need, n_doms = 0, got = 0, n_host = 0, used_doms = 0;
        const size_t host_core = 0;
        struct vhc_pinning p = {};

        if (vcpus == 0)
                return vhc_err_set(e, -EINVAL, NULL, 0, "a guest needs at least one vCPU");

        usable = calloc(t->n_cores + 1, sizeof(*usable));
        chosen = calloc(t->n_cores + 1, sizeof(*chosen));
        doms = calloc(t->n_cores + 1, sizeof(*doms));
        guest_cpu = calloc(t->max_cpu + 1, sizeof(*guest_cpu));
        if (!usable || !chosen || !doms || !guest_cpu)
                return -ENOMEM;

        /* The host keeps cores[0], the core of its lowest CPU (CPU 0 on any
         * machine that has it online): interrupts and housekeeping run there. */
        for (size_t i = 0; i < t->n_cores; i++) {
                if (i == host_core)
                        continue;
                if (t->hybrid && t->cores[i].kind != VHC_CORE_PERFORMANCE)
                        continue;
                if (t->cores[i].n_cpus > threads)
                        threads = t->cores[i].n_cpus;
        }
        for (size_t i = 0; i < t->n_cores; i++)
                if (i != host_core && (!t->hybrid || t->cores[i].kind == VHC_CORE_PERFORMANCE) &&
                    t->cores[i].n_cpus == threads) {
                        usable[i] = true;
                        n_usable++;
                }

        /* Hybrid: when the guest has more vCPUs than the free performance
         * cores' threads, whole efficiency cores come next, one vCPU each. */
        if (t->hybrid && n_usable > 0 && vcpus > n_usable * threads) {
                unsigned n_e = 0;

                for (size_t i = 0; i < t->n_cores; i++)
                        if (i != host_core && t->cores[i].kind == VHC_CORE_EFFICIENCY)
                                n_e++;
                if (vcpus - n_usable * threads > n_e)
                        return vhc_err_set(
                                e, -EINVAL, NULL, 0,
                                "%u vCPUs do not fit: this host has %u performance-core threads and %u "
                                "efficiency cores to spare (the core of CPU 0 stays with the host): at "
                                "most %u vCPUs",
                                vcpus, n_usable * threads, n_e, n_usable * threads + n_e);
                return pick_hybrid(t, vcpus, usable, n_usable * threads, ret);
        }
        if (n_usable == 0)
                return vhc_err_set(
                        e, -EINVAL, NULL, 0,
                        "this host has no core to spare for a pinned guest: the core of CPU 0 stays "
                        "with the host%s",
                        t->hybrid ? ", and only performance cores are used" : "");
        if (vcpus % threads != 0)
                return vhc_err_set(e, -EINVAL, NULL, 0,
                                   "%u vCPUs do not fill whole cores of %u threads: pin %u or %u vCPUs",
                                   vcpus, threads, vcpus / threads * threads,
                                   (vcpus / threads + 1) * threads);
        need = vcpus / threads;
        if (need > n_usable)
                return vhc_err_set(
                        e, -EINVAL, NULL, 0,
                        "%u vCPUs need %u whole cores, but this host has %u to spare (the core of "
                        "CPU 0 stays with the host%s): at most %u vCPUs",
                        vcpus, need, n_usable, t->hybrid ? "; performance cores only" : "",
                        n_usable * threads);

        for (size_t i = 0; i < t->n_cores; i++) {
                unsigned d;

                if (!usable[i])
                        continue;
                for (d = 0; d < n_doms && doms[d].l3 != t->cores[i].l3; d++)
                        ;
                if (d == n_doms)
                        doms[n_doms++] = (struct domain){.l3 = t->cores[i].l3};
                doms[d].free++;
        }
        qsort(doms, n_doms, sizeof(*doms), cmp_domain);

        for (unsigned d = 0; d < n_doms && got < need; d++) {
                used_doms++;
                for (size_t i = 0; i < t->n_cores && got < need; i++)
                        if (usable[i] && t->cores[i].l3 == doms[d].l3) {
                                chosen[i] = true;
                                got++;
                        }
        }

        map = calloc(vcpus, sizeof(*map));
        host = calloc(t->n_cpus, sizeof(*host));
        if (!map || !host)
                return -ENOMEM;
        for (size_t i = 0, v = 0; i < t->n_cores; i++)
                if (chosen[i])
                        for (unsigned c = 0; c < t->cores[i].n_cpus; c++) {
                                map[v++] = t->cores[i].cpus[c];
                                guest_cpu[t->cores[i].cpus[c]] = true;
                        }
        for (size_t i = 0; i < t->n_cores; i++)
                for (unsigned c = 0; c < t->cores[i].n_cpus; c++)
                        if (!guest_cpu[t->cores[i].cpus[c]])
                                host[n_host++] = t->cores[i].cpus[c];
        qsort(host, n_host, sizeof(*host), cmp_unsigned);

        p.emulator_cpuset = vhc_cpulist_format(host, n_host);
        if (!p.emulator_cpuset)
                return -ENOMEM;
        p.n_vcpus = vcpus;
        p.vcpu_cpu = TAKE_PTR(map);
        p.cores = need;
        p.threads = threads;
        p.n_l3 = n_doms == 1 && doms[0].l3 < 0 ? 0 : used_doms;
        p.performance_only = t->hybrid;
        *ret = p;
        return 0;
}
