/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kargs.h"
#include "spawn-cmd.h"
#include "state.h"
#include "store.h"
#include "strv.h"

/* The rpm-ostree store (store-ostree.c): the engine's edits of the line
 * `rpm-ostree kargs` printed become the options of one rpm-ostree kargs
 * call, and only ours. The line is a Silverblue 43 deployment's. */
#define SILVERBLUE                                                                                          \
        "rhgb quiet root=UUID=6f0a1c7e-5b0e-4d6b-9b1c-2f7c7b1d9e43 rootflags=subvol=root rw "               \
        "ostree=/ostree/boot.1/fedora/6c9e7d5f1b0a4e38d2c7a91f0e6b5d4c3a2918f7e6d5c4b3a29180f7e6d5c4b3/0"

static const struct vhc_boot boot = {.rpm_ostree = (char *)"/usr/bin/rpm-ostree"};

/* Applies wanted (NULL: reverts the records of before) to text; returns the
 * command (NULL: none) and the text after, records to after. */
static char **run(const char *text, char *const *wanted, const struct vhc_state *before,
                  struct vhc_state *after, char **ret_text) {
        struct vhc_store_file f = {};
        struct vhc_err e = {};
        char **argv = NULL;
        size_t len;

        assert_int_equal(vhc_store_rpm_ostree.open(&boot, VHC_STORE_OSTREE_FILE, text, strlen(text), &f, &e),
                         0);
        if (wanted)
                assert_int_equal(vhc_kargs_apply(&f.target, wanted, NULL, before, after, &e), 0);
        else
                assert_int_equal(vhc_kargs_revert(&f.target, before, &e), 0);
        assert_int_equal(vhc_store_rpm_ostree.command(&boot, f.obj, &argv), 0);
        *ret_text = strdup(f.text(f.obj, &len));
        vhc_store_file_done(&f);
        return argv;
}

static char *joined(char **argv) {
        char *s = argv ? vhc_argv_to_string(argv) : strdup("");

        strv_free(argv);
        return s;
}

static void test_append_only_ours(void **state) {
        char *const wanted[] = {(char *)"iommu=pt", (char *)"intel_iommu=on", NULL};
        struct vhc_state none, after, after2;
        char *text, *text2, *cmd;

        vhc_state_init(&none);
        vhc_state_init(&after);
        vhc_state_init(&after2);
        /* The user's own iommu=pt, from rpm-ostree kargs --append before. */
        cmd = joined(run(SILVERBLUE " iommu=pt", wanted, &none, &after, &text));
        assert_string_equal(cmd, "/usr/bin/rpm-ostree kargs --append-if-missing=intel_iommu=on");
        assert_string_equal(text, SILVERBLUE " iommu=pt intel_iommu=on");
        assert_int_equal(after.n_kargs, 1);
        assert_string_equal(after.kargs[0].store, "rpm-ostree");
        assert_string_equal(after.kargs[0].file, VHC_STORE_OSTREE_FILE);
        assert_string_equal(after.kargs[0].arg, "intel_iommu=on");
        assert_null(after.kargs[0].replaced);
        free(cmd);

        /* Applied again: no call. */
        cmd = joined(run(text, wanted, &after, &after2, &text2));
        assert_string_equal(cmd, "");
        assert_string_equal(text2, text);
        free(cmd);
        free(text2);

        /* Reverted: only ours goes, iommu=pt stays. */
        cmd = joined(run(text, NULL, &after, NULL, &text2));
        assert_string_equal(cmd, "/usr/bin/rpm-ostree kargs --delete-if-present=intel_iommu=on");
        assert_string_equal(text2, SILVERBLUE " iommu=pt");
        free(cmd);
        free(text2);
        free(text);
        vhc_state_done(&after);
        vhc_state_done(&after2);
}

static void test_replace_in_place(void **state) {
        char *const wanted[] = {(char *)"iommu=pt", (char *)"intel_iommu=on", NULL};
        struct vhc_state none, after;
        char *text, *text2, *cmd;

        vhc_state_init(&none);
        vhc_state_init(&after);
        cmd = joined(run(SILVERBLUE " intel_iommu=off quiet", wanted, &none, &after, &text));
        assert_string_equal(
                cmd, "/usr/bin/rpm-ostree kargs --append-if-missing=iommu=pt --replace=intel_iommu=off=on");
        assert_string_equal(text, SILVERBLUE " intel_iommu=on quiet iommu=pt");
        free(cmd);
        cmd = joined(run(text, NULL, &after, NULL, &text2));
        /* Newest record first; rpm-ostree applies --replace before
         * --delete-if-present whatever the order of the options. */
        assert_string_equal(
                cmd, "/usr/bin/rpm-ostree kargs --replace=intel_iommu=on=off --delete-if-present=iommu=pt");
        assert_string_equal(text2, SILVERBLUE " intel_iommu=off quiet");
        free(cmd);
        free(text2);
        free(text);
        vhc_state_done(&after);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_append_only_ours),
                cmocka_unit_test(test_replace_in_place),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
