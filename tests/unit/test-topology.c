/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "topology.h"

static struct vhc_topology *read_fixture(const char *name) {
        _cleanup_(vhc_root_freep) struct vhc_root *r = NULL;
        _cleanup_free_ char *dir = NULL;
        struct vhc_topology *t = NULL;
        struct vhc_err e = {};

        assert_true(asprintf(&dir, "%s/tests/cpu/%s", SRCDIR, name) > 0);
        assert_int_equal(vhc_root_new(dir, &r), 0);
        assert_int_equal(vhc_topology_read(r, &t, &e), 0);
        assert_string_equal(e.msg, "");
        return t;
}

/* Picks and compares the vCPU → CPU map and the host's CPUs. */
static void check_pick(const struct vhc_topology *t, unsigned vcpus, const char *want_map, unsigned cores,
                       unsigned threads, const char *want_host, unsigned n_l3) {
        struct vhc_pinning p = {};
        struct vhc_err e = {};
        char map[1024] = "";
        size_t len = 0;

        assert_int_equal(vhc_topology_pick(t, vcpus, &p, &e), 0);
        for (unsigned i = 0; i < p.n_vcpus; i++)
                len += (size_t)snprintf(map + len, sizeof(map) - len, "%s%u", i ? " " : "", p.vcpu_cpu[i]);
        assert_string_equal(map, want_map);
        assert_int_equal(p.n_vcpus, vcpus);
        assert_int_equal(p.cores, cores);
        assert_int_equal(p.threads, threads);
        assert_string_equal(p.emulator_cpuset, want_host);
        assert_int_equal(p.n_l3, n_l3);
        vhc_pinning_done(&p);
}

static void check_pick_fails(const struct vhc_topology *t, unsigned vcpus, const char *want_msg) {
        struct vhc_pinning p = {};
        struct vhc_err e = {};

        assert_int_equal(vhc_topology_pick(t, vcpus, &p, &e), -EINVAL);
        assert_null(p.vcpu_cpu);
        assert_non_null(strstr(e.msg, want_msg));
}

static void test_cpulist(void **state) {
        static const struct {
                const char *in, *out;
        } good[] = {
                {"0-3,8,10-11\n", "0-3,8,10-11"},
                {"", ""},
                {"\n", ""},
                {"5", "5"},
                {"7,6,5,5", "5-7"},
                {"0-1,16-17", "0-1,16-17"},
                {"0,2,4", "0,2,4"},
        };
        static const char *const bad[] = {"1-", "a", "3-1", ",", "1,,2", "-1", "1 2", "70000"};

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                _cleanup_free_ unsigned *cpus = NULL;
                _cleanup_free_ char *s = NULL;
                unsigned n;

                assert_int_equal(vhc_cpulist_parse(good[i].in, &cpus, &n), 0);
                s = vhc_cpulist_format(cpus, n);
                assert_non_null(s);
                assert_string_equal(s, good[i].out);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                unsigned *cpus = NULL, n = 0;

                assert_int_equal(vhc_cpulist_parse(bad[i], &cpus, &n), -EINVAL);
                assert_null(cpus);
        }
}

static void test_read_5950x(void **state) {
        _cleanup_(vhc_topology_freep) struct vhc_topology *t = read_fixture("ryzen9-5950x");

        assert_int_equal(t->n_cpus, 32);
        assert_int_equal(t->n_cores, 16);
        assert_false(t->hybrid);
        for (size_t i = 0; i < t->n_cores; i++) {
                assert_int_equal(t->cores[i].n_cpus, 2);
                assert_int_equal(t->cores[i].cpus[0], i);
                assert_int_equal(t->cores[i].cpus[1], i + 16);
                assert_int_equal(t->cores[i].core_id, (int)i);
                /* Two CCDs: the L3 domains start at CPU 0 and CPU 8. */
                assert_int_equal(t->cores[i].l3, i < 8 ? 0 : 8);
                assert_int_equal(t->cores[i].kind, VHC_CORE_ANY);
        }
}

static void test_pick_5950x(void **state) {
        _cleanup_(vhc_topology_freep) struct vhc_topology *t = read_fixture("ryzen9-5950x");

        /* The second CCD has all 8 cores free: the guest goes there. */
        check_pick(t, 8, "8 24 9 25 10 26 11 27", 4, 2, "0-7,12-23,28-31", 1);
        check_pick(t, 16, "8 24 9 25 10 26 11 27 12 28 13 29 14 30 15 31", 8, 2, "0-7,16-23", 1);
        check_pick(t, 2, "8 24", 1, 2, "0-7,9-23,25-31", 1);
        /* Nine cores fit no CCD: the rest comes from the first one, after core 0. */
        check_pick(t, 18, "1 17 8 24 9 25 10 26 11 27 12 28 13 29 14 30 15 31", 9, 2, "0,2-7,16,18-23", 2);
        check_pick(t, 30, "1 17 2 18 3 19 4 20 5 21 6 22 7 23 8 24 9 25 10 26 11 27 12 28 13 29 14 30 15 31",
                   15, 2, "0,16", 2);
        check_pick_fails(t, 32, "at most 30 vCPUs");
        check_pick_fails(t, 5, "pin 4 or 6 vCPUs");
        check_pick_fails(t, 0, "at least one vCPU");
}

static void test_read_12900k(void **state) {
        _cleanup_(vhc_topology_freep) struct vhc_topology *t = read_fixture("i9-12900k");
        size_t p = 0, e = 0;

        assert_int_equal(t->n_cpus, 24);
        assert_int_equal(t->n_cores, 16);
        assert_true(t->hybrid);
        for (size_t i = 0; i < t->n_cores; i++) {
                if (t->cores[i].kind == VHC_CORE_PERFORMANCE) {
                        assert_int_equal(t->cores[i].n_cpus, 2);
                        assert_int_equal(t->cores[i].cpus[1], t->cores[i].cpus[0] + 1);
                        p++;
                } else {
                        assert_int_equal(t->cores[i].kind, VHC_CORE_EFFICIENCY);
                        assert_int_equal(t->cores[i].n_cpus, 1);
                        e++;
                }
                assert_int_equal(t->cores[i].l3, 0);
        }
        assert_int_equal(p, 8);
        assert_int_equal(e, 8);
}

static void test_pick_12900k(void **state) {
        _cleanup_(vhc_topology_freep) struct vhc_topology *t = read_fixture("i9-12900k");
        struct vhc_pinning p = {};
        struct vhc_err e = {};

        /* Performance cores only, the first (CPUs 0-1) left to the host with
         * every E-core. */
        check_pick(t, 8, "2 3 4 5 6 7 8 9", 4, 2, "0-1,10-23", 1);
        check_pick(t, 14, "2 3 4 5 6 7 8 9 10 11 12 13 14 15", 7, 2, "0-1,16-23", 1);
        check_pick_fails(t, 3, "pin 2 or 4 vCPUs");
        /* Past the P-cores' 14 threads: whole E-cores, one vCPU each, every
         * vCPU a core of its own to the guest. */
        check_pick(t, 16, "2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17", 16, 1, "0-1,18-23", 1);
        check_pick(t, 22, "2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23", 22, 1, "0-1", 1);
        check_pick_fails(t, 23, "at most 22 vCPUs");

        assert_int_equal(vhc_topology_pick(t, 4, &p, &e), 0);
        assert_true(p.performance_only);
        assert_int_equal(p.n_efficiency, 0);
        vhc_pinning_done(&p);
        assert_int_equal(vhc_topology_pick(t, 15, &p, &e), 0);
        assert_false(p.performance_only);
        assert_int_equal(p.n_efficiency, 1);
        vhc_pinning_done(&p);
}

/* The two machines: an i9-13900K guest of 16 vCPUs and an i7-12700H
 * one of 12, which "at most 14" and "at most 10" refused before. */
static void test_pick_13900k_12700h(void **state) {
        _cleanup_(vhc_topology_freep) struct vhc_topology *k = read_fixture("i9-13900k");
        _cleanup_(vhc_topology_freep) struct vhc_topology *h = read_fixture("i7-12700h");

        check_pick(k, 14, "2 3 4 5 6 7 8 9 10 11 12 13 14 15", 7, 2, "0-1,16-31", 1);
        check_pick(k, 16, "2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17", 16, 1, "0-1,18-31", 1);
        check_pick(h, 12, "2 3 4 5 6 7 8 9 10 11 12 13", 12, 1, "0-1,14-19", 1);
        check_pick(h, 10, "2 3 4 5 6 7 8 9 10 11", 5, 2, "0-1,12-19", 1);
        check_pick_fails(h, 19, "at most 18 vCPUs");
}

static void test_pick_7700(void **state) {
        _cleanup_(vhc_topology_freep) struct vhc_topology *t = read_fixture("i7-7700");

        assert_int_equal(t->n_cores, 4);
        check_pick(t, 6, "1 5 2 6 3 7", 3, 2, "0,4", 1);
        check_pick(t, 4, "1 5 2 6", 2, 2, "0,3-4,7", 1);
        check_pick_fails(t, 8, "4 whole cores, but this host has 3 to spare");
}

/* A real capture: a 2-CPU KVM guest without SMT. */
static void test_real_kvm_guest(void **state) {
        _cleanup_(vhc_topology_freep) struct vhc_topology *t = read_fixture("kvm-epyc-2cpu");

        assert_int_equal(t->n_cpus, 2);
        assert_int_equal(t->n_cores, 2);
        assert_false(t->hybrid);
        check_pick(t, 1, "1", 1, 1, "0", 1);
        check_pick_fails(t, 2, "at most 1 vCPUs");
}

static void test_missing(void **state) {
        _cleanup_(vhc_root_freep) struct vhc_root *r = NULL;
        struct vhc_topology *t = NULL;
        struct vhc_err e = {};

        assert_int_equal(vhc_root_new(SRCDIR "/tests/unit", &r), 0);
        assert_int_equal(vhc_topology_read(r, &t, &e), -ENOENT);
        assert_null(t);
        assert_non_null(strstr(e.msg, "no CPU topology"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_cpulist),        cmocka_unit_test(test_read_5950x),
                cmocka_unit_test(test_pick_5950x),     cmocka_unit_test(test_read_12900k),
                cmocka_unit_test(test_pick_12900k),    cmocka_unit_test(test_pick_13900k_12700h),
                cmocka_unit_test(test_pick_7700),
                cmocka_unit_test(test_real_kvm_guest), cmocka_unit_test(test_missing),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
