/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cmdline.h"
#include "strv.h"

/* Splits s and compares with the expected tokens (NULL-terminated). */
static void check_split(const char *s, ...) {
        _cleanup_strv_free_ char **l = NULL;
        const char *want;
        size_t i = 0;
        va_list ap;

        assert_int_equal(vhc_cmdline_split(s, &l), 0);
        assert_non_null(l);
        va_start(ap, s);
        while ((want = va_arg(ap, const char *))) {
                assert_non_null(l[i]);
                assert_string_equal(l[i], want);
                i++;
        }
        va_end(ap);
        assert_null(l[i]);
}

static void test_split_plain(void **state) {
        check_split("ro rhgb quiet", "ro", "rhgb", "quiet", NULL);
        check_split("BOOT_IMAGE=(hd0,gpt2)/vmlinuz-6.5.6-300.fc39.x86_64 root=UUID=1-2 ro",
                    "BOOT_IMAGE=(hd0,gpt2)/vmlinuz-6.5.6-300.fc39.x86_64", "root=UUID=1-2", "ro", NULL);
        check_split("single", "single", NULL);
}

static void test_split_empty(void **state) {
        check_split("", NULL);
        check_split(NULL, NULL);
        check_split("   ", NULL);
        check_split(" \t\n\r\v\f ", NULL);
}

static void test_split_whitespace(void **state) {
        check_split("  a   b  ", "a", "b", NULL);
        check_split("a\tb\nc\rd\ve\ff", "a", "b", "c", "d", "e", "f", NULL);
        check_split("\n\tquiet\n", "quiet", NULL);
        /* The kernel's ctype table marks 0xA0 as a space too. */
        check_split("a\xa0"
                    "b",
                    "a", "b", NULL);
        /* Other high bytes are ordinary characters (UTF-8 stays whole). */
        check_split("lang=fr_FR.\xc3\xa9t\xc3\xa9", "lang=fr_FR.\xc3\xa9t\xc3\xa9", NULL);
}

static void test_split_quotes(void **state) {
        check_split("foo=\"a b\" bar", "foo=\"a b\"", "bar", NULL);
        check_split("\"foo=a b\" bar", "\"foo=a b\"", "bar", NULL);
        check_split("a\"b c\"d e", "a\"b c\"d", "e", NULL);
        check_split("x=\"\" y", "x=\"\"", "y", NULL);
        check_split("\"\"", "\"\"", NULL);
        check_split("dyndbg=\"file drivers/x.c +p\" quiet", "dyndbg=\"file drivers/x.c +p\"", "quiet", NULL);
        /* Tabs and newlines inside quotes stay in the token. */
        check_split("a=\"1\t2\n3\"", "a=\"1\t2\n3\"", NULL);
        /* Two quoted parts in one token. */
        check_split("a=\"1 2\"\"3 4\" b", "a=\"1 2\"\"3 4\"", "b", NULL);
        /* Single quotes do not group for the kernel. */
        check_split("a='b c'", "a='b", "c'", NULL);
        /* No escapes: a backslash is an ordinary character. */
        check_split("a=\\\"b c\\\" d", "a=\\\"b c\\\"", "d", NULL);
}

static void test_split_unbalanced(void **state) {
        char **l = (char **)0x1;

        assert_int_equal(vhc_cmdline_split("foo=\"a b", &l), -EINVAL);
        assert_ptr_equal(l, (char **)0x1); /* not written on failure */
        assert_int_equal(vhc_cmdline_split("\"", &l), -EINVAL);
        assert_int_equal(vhc_cmdline_split("a b c\"", &l), -EINVAL);
        assert_int_equal(vhc_cmdline_split("a=\"x\" b=\"y", &l), -EINVAL);
        assert_int_equal(vhc_cmdline_split("a=\"\"\"", &l), -EINVAL);
        assert_ptr_equal(l, (char **)0x1);
}

static void test_split_repeated(void **state) {
        check_split("console=tty0 console=ttyS0,115200 console=tty0", "console=tty0", "console=ttyS0,115200",
                    "console=tty0", NULL);
}

static void check_key(const char *token, const char *want) {
        _cleanup_free_ char *k = vhc_cmdline_key(token);

        assert_non_null(k);
        assert_string_equal(k, want);
}

static void test_key(void **state) {
        check_key("intel_iommu=on", "intel_iommu");
        check_key("intel-iommu=off", "intel_iommu");
        check_key("rd.lvm.lv=fedora/root", "rd.lvm.lv");
        check_key("quiet", "quiet");
        check_key("root=UUID=abc", "root");
        check_key("foo=\"a=b c\"", "foo");
        check_key("\"foo=a b\"", "foo");
        check_key("\"foo-bar\"", "foo_bar");
        check_key("=x", "");
        check_key("", "");
        check_key("-s", "_s");
        check_key("vfio-pci.ids=10de:1b80", "vfio_pci.ids");
        /* Only the name folds, not the value. */
        check_key("a-b=c-d", "a_b");
}

static void test_same_key(void **state) {
        assert_true(vhc_cmdline_same_key("intel_iommu=on", "intel-iommu=off"));
        assert_true(vhc_cmdline_same_key("intel_iommu", "intel_iommu=on"));
        assert_true(vhc_cmdline_same_key("quiet", "quiet"));
        assert_false(vhc_cmdline_same_key("iommu=pt", "intel_iommu=on"));
        assert_false(vhc_cmdline_same_key("iommu=pt", "amd_iommu=on"));
        assert_false(vhc_cmdline_same_key("rd.lvm", "rd.lvm.lv=x"));
        /* Case matters to the kernel. */
        assert_false(vhc_cmdline_same_key("Quiet", "quiet"));
}

static void test_find(void **state) {
        _cleanup_strv_free_ char **l = NULL;

        assert_int_equal(vhc_cmdline_split("a=1 iommu=pt b a=1 c iommu=soft a=2", &l), 0);
        assert_int_equal(vhc_cmdline_find(l, "a=1"), 3);
        assert_int_equal(vhc_cmdline_find(l, "iommu=pt"), 1);
        assert_int_equal(vhc_cmdline_find(l, "a=2"), 6);
        assert_int_equal(vhc_cmdline_find(l, "a"), -1);
        assert_int_equal(vhc_cmdline_find(l, "iommu=PT"), -1);
        assert_int_equal(vhc_cmdline_find(l, "b"), 2);
        assert_int_equal(vhc_cmdline_find(NULL, "b"), -1);
}

static void test_find_empty(void **state) {
        _cleanup_strv_free_ char **l = NULL;

        assert_int_equal(vhc_cmdline_split("", &l), 0);
        assert_int_equal(vhc_cmdline_find(l, ""), -1);
        assert_int_equal(vhc_cmdline_find_key(l, "quiet"), -1);
}

static void test_find_key(void **state) {
        _cleanup_strv_free_ char **l = NULL;

        assert_int_equal(
                vhc_cmdline_split("intel_iommu=off rhgb iommu=pt intel-iommu=igfx_off quiet iommu", &l), 0);
        assert_int_equal(vhc_cmdline_find_key(l, "intel_iommu=on"), 3);
        assert_int_equal(vhc_cmdline_find_key(l, "intel_iommu"), 3);
        assert_int_equal(vhc_cmdline_find_key(l, "intel-iommu"), 3);
        assert_int_equal(vhc_cmdline_find_key(l, "iommu=pt"), 5);
        assert_int_equal(vhc_cmdline_find_key(l, "rhgb"), 1);
        assert_int_equal(vhc_cmdline_find_key(l, "amd_iommu=on"), -1);
        assert_int_equal(vhc_cmdline_find_key(l, "iommu.strict=1"), -1);
}

static void test_find_key_quoted(void **state) {
        _cleanup_strv_free_ char **l = NULL;

        assert_int_equal(vhc_cmdline_split("\"intel_iommu=a b\" x", &l), 0);
        assert_int_equal(vhc_cmdline_find_key(l, "intel_iommu=on"), 0);
}

static void check_join(const char *in, const char *want) {
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_free_ char *j = NULL;

        assert_int_equal(vhc_cmdline_split(in, &l), 0);
        j = vhc_cmdline_join(l);
        assert_non_null(j);
        assert_string_equal(j, want);
}

static void test_join(void **state) {
        _cleanup_free_ char *j = NULL;
        char *none[] = {NULL};

        check_join("  rhgb\tquiet\n", "rhgb quiet");
        check_join("", "");
        check_join("a=\"x  y\"   b", "a=\"x  y\" b");
        check_join("one", "one");
        j = vhc_cmdline_join(none);
        assert_non_null(j);
        assert_string_equal(j, "");
        free(j);
        j = vhc_cmdline_join(NULL);
        assert_non_null(j);
        assert_string_equal(j, "");
}

static void test_join_roundtrip(void **state) {
        static const char *const inputs[] = {
                "rhgb quiet",
                "  a=\"1 2\"\t\"b c\" d\"e f\"g ",
                "resume=UUID=9b9e rd.lvm.lv=fedora/root rd.lvm.lv=fedora/swap rhgb quiet",
                "",
        };

        for (size_t i = 0; i < ELEMENTSOF(inputs); i++) {
                _cleanup_strv_free_ char **a = NULL, **b = NULL;
                _cleanup_free_ char *j = NULL;

                assert_int_equal(vhc_cmdline_split(inputs[i], &a), 0);
                j = vhc_cmdline_join(a);
                assert_non_null(j);
                assert_int_equal(vhc_cmdline_split(j, &b), 0);
                assert_int_equal(strv_length(a), strv_length(b));
                for (size_t k = 0; a[k]; k++)
                        assert_string_equal(a[k], b[k]);
        }
}

/* As the kernel's iommu=, amd_iommu= and intel_iommu= parsers walk the items. */
static void test_has_item(void **state) {
        assert_true(vhc_cmdline_has_item("amd_iommu=off", "off"));
        assert_true(vhc_cmdline_has_item("amd_iommu=fullflush,off", "off"));
        assert_true(vhc_cmdline_has_item("amd_iommu=fullflush,,off", "off"));
        assert_true(vhc_cmdline_has_item("amd_iommu=\"off\"", "off"));
        assert_true(vhc_cmdline_has_item("\"amd_iommu=off\"", "off"));
        assert_true(vhc_cmdline_has_item("iommu=pt,off", "off"));
        assert_false(vhc_cmdline_has_item("amd_iommu=pgtbl_v2", "off"));
        assert_false(vhc_cmdline_has_item("intel_iommu=igfx_off", "off"));
        assert_false(vhc_cmdline_has_item("iommu=pt", "off"));
        assert_false(vhc_cmdline_has_item("off", "off"));
}

static void test_cut_valid(void **state) {
        assert_true(vhc_cmdline_cut_valid("amd_iommu=off", "amd_iommu=off"));
        assert_true(vhc_cmdline_cut_valid("amd_iommu=off", "amd_iommu=off "));
        assert_true(vhc_cmdline_cut_valid("amd_iommu=off", "\tamd_iommu=off"));
        assert_false(vhc_cmdline_cut_valid("amd_iommu=off", "amd_iommu=off\n"));
        assert_false(vhc_cmdline_cut_valid("amd_iommu=off", " amd_iommu=off "));
        assert_false(vhc_cmdline_cut_valid("amd_iommu=off", "amd_iommu=offx"));
        assert_false(vhc_cmdline_cut_valid("amd_iommu=off", "init=/bin/sh"));
}

static void test_is_insertion(void **state) {
        char *a[] = {(char *)"a", (char *)"b", NULL}, *b[] = {(char *)"a", (char *)"x", (char *)"b", NULL};
        char *c[] = {(char *)"a", (char *)"b", (char *)"x", NULL}, *d[] = {(char *)"ax", (char *)"b", NULL};
        char *none[] = {NULL}, *x[] = {(char *)"x", NULL};

        assert_true(vhc_cmdline_is_insertion(a, b, "x"));
        assert_true(vhc_cmdline_is_insertion(a, c, "x"));
        assert_true(vhc_cmdline_is_insertion(none, x, "x"));
        assert_false(vhc_cmdline_is_insertion(a, d, "x"));
        assert_false(vhc_cmdline_is_insertion(a, a, "x"));
        assert_false(vhc_cmdline_is_insertion(a, b, "y"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_split_plain),
                cmocka_unit_test(test_split_empty),
                cmocka_unit_test(test_split_whitespace),
                cmocka_unit_test(test_split_quotes),
                cmocka_unit_test(test_split_unbalanced),
                cmocka_unit_test(test_split_repeated),
                cmocka_unit_test(test_key),
                cmocka_unit_test(test_same_key),
                cmocka_unit_test(test_find),
                cmocka_unit_test(test_find_empty),
                cmocka_unit_test(test_find_key),
                cmocka_unit_test(test_find_key_quoted),
                cmocka_unit_test(test_join),
                cmocka_unit_test(test_join_roundtrip),
                cmocka_unit_test(test_has_item),
                cmocka_unit_test(test_cut_valid),
                cmocka_unit_test(test_is_insertion),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
