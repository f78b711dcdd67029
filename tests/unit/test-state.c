/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "state.h"
#include "strv.h"

/* What 0.1.0 wrote (version 1, src/lib/state.c before the boot stores):
 * every argument in /etc/default/grub, no "store", no created, boot_entries
 * or pending. */
static const char v1[] =
        "{\n"
        "  \"version\": 1,\n"
        "  \"kernel_args\": [\n"
        "    { \"file\": \"/etc/default/grub\", \"var\": \"GRUB_CMDLINE_LINUX\", \"arg\": \"iommu=pt\", "
        "\"space\": true, \"line_added\": false, \"newline_added\": false },\n"
        "    { \"file\": \"/etc/default/grub\", \"var\": \"GRUB_CMDLINE_LINUX\", \"arg\": \"intel_iommu=on\", "
        "\"replaced\": \"intel_iommu=off\" }\n"
        "  ],\n"
        "  \"files\": [\n"
        "    { \"path\": \"/etc/modprobe.d/virt-host-config-vfio.conf\", \"sha256\": "
        "\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\" }\n"
        "  ],\n"
        "  \"dirs\": [ \"/var/lib/virt-host-config\" ]\n"
        "}\n";

static void test_v1(void **state) {
        struct vhc_state s;
        struct vhc_err e = {};
        _cleanup_free_ char *out = NULL;

        vhc_state_init(&s);
        assert_int_equal(vhc_state_parse(&s, v1, "state.json", &e), 0);
        assert_true(s.from_v1);
        assert_int_equal(s.n_kargs, 2);
        assert_string_equal(s.kargs[0].store, "grub-defaults");
        assert_string_equal(s.kargs[0].file, "/etc/default/grub");
        assert_string_equal(s.kargs[0].var, "GRUB_CMDLINE_LINUX");
        assert_string_equal(s.kargs[0].arg, "iommu=pt");
        assert_null(s.kargs[0].replaced);
        assert_true(s.kargs[0].edit.space);
        assert_false(s.kargs[0].edit.line_added);
        assert_string_equal(s.kargs[1].store, "grub-defaults");
        assert_string_equal(s.kargs[1].replaced, "intel_iommu=off");
        assert_int_equal(s.n_files, 1);
        assert_string_equal(s.files[0].path, "/etc/modprobe.d/virt-host-config-vfio.conf");
        assert_int_equal(s.n_created, 0);
        assert_null(s.boot_entries);
        assert_int_equal(s.pending, 0);
        assert_int_equal(strv_length(s.dirs), 1);

        /* Written again, it is version 2, with the store; from_v1 is not kept. */
        assert_int_equal(vhc_state_format(&s, &out), 0);
        assert_non_null(strstr(out, "\"version\": 2"));
        assert_non_null(strstr(out, "\"store\": \"grub-defaults\""));
        vhc_state_done(&s);
        assert_int_equal(vhc_state_parse(&s, out, "state.json", &e), 0);
        assert_false(s.from_v1);
        assert_int_equal(s.n_kargs, 2);
        assert_string_equal(s.kargs[1].store, "grub-defaults");
        vhc_state_done(&s);
}

static void add_karg(struct vhc_state *s, const char *store, const char *file, const char *var, const char *arg,
                     const char *replaced, struct vhc_karg_edit edit) {
        struct vhc_karg_record k = {
                .store = (char *)store,
                .file = (char *)file,
                .var = (char *)var,
                .arg = (char *)arg,
                .replaced = (char *)replaced,
                .edit = edit,
        };

        assert_int_equal(vhc_state_add_karg(s, &k), 0);
}

#define ENTRY "/boot/loader/entries/3f1d2a7c9b8e4f0a8d6c5b4a39281706-6.17.7-300.fc43.x86_64.conf"
#define RESCUE "/boot/loader/entries/3f1d2a7c9b8e4f0a8d6c5b4a39281706-0-rescue.conf"

static void full_state(struct vhc_state *s) {
        vhc_state_init(s);
        add_karg(s, "grub-defaults", "/etc/default/grub", "GRUB_CMDLINE_LINUX", "iommu=pt", NULL,
                 (struct vhc_karg_edit){ .space = true });
        add_karg(s, "bls-entry", ENTRY, "options", "iommu=pt", NULL, (struct vhc_karg_edit){ .space = true });
        add_karg(s, "bls-entry", RESCUE, "options", "iommu=pt", NULL,
                 (struct vhc_karg_edit){ .line_added = true, .newline_added = true });
        add_karg(s, "bls-entry", ENTRY, "options", "intel_iommu=on", "intel_iommu=off", (struct vhc_karg_edit){});
        add_karg(s, "kernel-cmdline", "/etc/kernel/cmdline", "cmdline", "iommu=pt", NULL, (struct vhc_karg_edit){});
        assert_int_equal(vhc_state_add_file(s, "/etc/modprobe.d/virt-host-config-vfio.conf",
                                            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"),
                         0);
        assert_int_equal(vhc_state_add_created(s, "/etc/kernel/cmdline",
                                               "root=UUID=9a3c6e1f-4b2d-4e8a-b7f1-2c5d8e0a6b34 ro rhgb quiet\n"),
                         0);
        assert_int_equal(vhc_state_add_entry(s, ENTRY), 0);
        assert_int_equal(vhc_state_add_entry(s, RESCUE), 0);
        assert_int_equal(vhc_state_add_dir(s, "/var/lib/virt-host-config"), 0);
        s->pending = VHC_REGEN_INITRAMFS | VHC_REGEN_UKI;
}

static void assert_same_state(const struct vhc_state *a, const struct vhc_state *b) {
        assert_int_equal(a->n_kargs, b->n_kargs);
        for (size_t i = 0; i < a->n_kargs; i++) {
                assert_true(vhc_karg_record_same(&a->kargs[i], &b->kargs[i]));
                assert_memory_equal(&a->kargs[i].edit, &b->kargs[i].edit, sizeof(a->kargs[i].edit));
        }
        assert_int_equal(a->n_files, b->n_files);
        for (size_t i = 0; i < a->n_files; i++) {
                assert_string_equal(a->files[i].path, b->files[i].path);
                assert_string_equal(a->files[i].sha256, b->files[i].sha256);
        }
        assert_int_equal(a->n_created, b->n_created);
        for (size_t i = 0; i < a->n_created; i++) {
                assert_string_equal(a->created[i].path, b->created[i].path);
                assert_string_equal(a->created[i].base, b->created[i].base);
        }
        assert_int_equal(strv_length(a->boot_entries), strv_length(b->boot_entries));
        for (size_t i = 0; i < strv_length(a->boot_entries); i++)
                assert_string_equal(a->boot_entries[i], b->boot_entries[i]);
        assert_int_equal(strv_length(a->dirs), strv_length(b->dirs));
        for (size_t i = 0; i < strv_length(a->dirs); i++)
                assert_string_equal(a->dirs[i], b->dirs[i]);
        assert_int_equal(strv_length(a->initramfs_etc), strv_length(b->initramfs_etc));
        for (size_t i = 0; i < strv_length(a->initramfs_etc); i++)
                assert_string_equal(a->initramfs_etc[i], b->initramfs_etc[i]);
        assert_int_equal(a->pending, b->pending);
        assert_int_equal(a->from_v1, b->from_v1);
}

/* rpm-ostree: a record of the kargs store and the tracked files, kept
 * through a round trip and a union; untracked (none left) it is clean. */
static void test_ostree_round_trip(void **state) {
        struct vhc_state s, t, u;
        struct vhc_err e = {};
        _cleanup_free_ char *out = NULL;

        vhc_state_init(&s);
        assert_int_equal(
                vhc_state_add_karg(&s, &(struct vhc_karg_record){.store = (char *)"rpm-ostree",
                                                                 .file = (char *)"/ostree/deploy",
                                                                 .var = (char *)"kargs",
                                                                 .arg = (char *)"intel_iommu=on",
                                                                 .replaced = (char *)"intel_iommu=off"}),
                0);
        assert_int_equal(vhc_state_add_initramfs_etc(&s, "/etc/udev/rules.d/61-virt-host-config-vfio.rules"),
                         0);
        assert_int_equal(vhc_state_add_initramfs_etc(&s, "/etc/modprobe.d/virt-host-config.conf"), 0);
        assert_int_equal(vhc_state_add_initramfs_etc(&s, "/etc/modprobe.d/virt-host-config.conf"), 0);
        assert_int_equal(strv_length(s.initramfs_etc), 2);
        assert_int_equal(vhc_state_format(&s, &out), 0);
        assert_non_null(strstr(out, "\"initramfs_etc\": ["));
        vhc_state_init(&t);
        assert_int_equal(vhc_state_parse(&t, out, "state.json", &e), 0);
        assert_same_state(&s, &t);
        assert_int_equal(vhc_state_union(&(struct vhc_state){}, &t, &u), 0);
        assert_same_state(&s, &u);
        vhc_state_done(&u);
        vhc_state_done(&t);
        vhc_state_done(&s);

        vhc_state_init(&s);
        assert_int_equal(vhc_state_add_initramfs_etc(&s, "/etc/modprobe.d/virt-host-config.conf"), 0);
        assert_false(vhc_state_clean(&s));
        vhc_state_done(&s);
        assert_int_equal(
                vhc_state_parse(&t, "{\"version\": 2, \"initramfs_etc\": [\"etc/x\"]}", "state.json", &e),
                -EINVAL);
}

static void test_v2_round_trip(void **state) {
        struct vhc_state s, t;
        struct vhc_err e = {};
        _cleanup_free_ char *out = NULL, *out2 = NULL;

        full_state(&s);
        assert_int_equal(vhc_state_format(&s, &out), 0);
        assert_int_equal(out[strlen(out) - 1], '\n');
        assert_non_null(strstr(out, "\"pending\": ["));
        assert_non_null(strstr(strstr(out, "\"pending\": ["), "\"initramfs\",\n    \"uki\"\n  ]"));
        vhc_state_init(&t);
        assert_int_equal(vhc_state_parse(&t, out, "state.json", &e), 0);
        assert_false(t.from_v1);
        assert_same_state(&s, &t);
        assert_int_equal(t.n_created, 1);
        assert_int_equal(strv_length(t.boot_entries), 2);
        assert_int_equal(t.pending, VHC_REGEN_INITRAMFS | VHC_REGEN_UKI);
        /* Deterministic: the same text again. */
        assert_int_equal(vhc_state_format(&t, &out2), 0);
        assert_string_equal(out, out2);
        vhc_state_done(&s);
        vhc_state_done(&t);

        /* Empty. */
        vhc_state_init(&s);
        free(out);
        out = NULL;
        assert_int_equal(vhc_state_format(&s, &out), 0);
        vhc_state_init(&t);
        assert_int_equal(vhc_state_parse(&t, out, "state.json", &e), 0);
        assert_true(vhc_state_empty(&t));
        vhc_state_done(&t);
}

static size_t count(const struct vhc_state *s, const char *file, const char *arg) {
        size_t n = 0;

        for (size_t i = 0; i < s->n_kargs; i++)
                n += streq(s->kargs[i].file, file) && streq(s->kargs[i].arg, arg);
        return n;
}

/* Equal records stand for as many tokens: the union keeps the larger count,
 * not the sum. */
static void test_union(void **state) {
        struct vhc_state a, b, u;

        vhc_state_init(&a);
        vhc_state_init(&b);
        add_karg(&a, "bls-entry", ENTRY, "options", "iommu=pt", NULL, (struct vhc_karg_edit){ .space = true });
        add_karg(&a, "bls-entry", ENTRY, "options", "iommu=pt", NULL, (struct vhc_karg_edit){ .space = true });
        add_karg(&a, "kernel-cmdline", "/etc/kernel/cmdline", "cmdline", "iommu=pt", NULL, (struct vhc_karg_edit){});
        add_karg(&b, "bls-entry", ENTRY, "options", "iommu=pt", NULL, (struct vhc_karg_edit){ .space = true });
        add_karg(&b, "kernel-cmdline", "/etc/kernel/cmdline", "cmdline", "iommu=pt", NULL, (struct vhc_karg_edit){});
        add_karg(&b, "kernel-cmdline", "/etc/kernel/cmdline", "cmdline", "iommu=pt", NULL, (struct vhc_karg_edit){});
        add_karg(&b, "kernel-cmdline", "/etc/kernel/cmdline", "cmdline", "iommu=pt", NULL, (struct vhc_karg_edit){});
        /* Same argument, another record: a replacement is not an addition. */
        add_karg(&b, "bls-entry", ENTRY, "options", "iommu=pt", "iommu=off", (struct vhc_karg_edit){});
        assert_int_equal(vhc_state_add_file(&a, "/etc/x", "aaaa"), 0);
        assert_int_equal(vhc_state_add_file(&b, "/etc/x", "bbbb"), 0);
        assert_int_equal(vhc_state_add_created(&a, "/etc/kernel/cmdline", "ro\n"), 0);
        assert_int_equal(vhc_state_add_created(&b, "/etc/kernel/cmdline", "ro quiet\n"), 0);
        assert_int_equal(vhc_state_add_entry(&a, ENTRY), 0);
        assert_int_equal(vhc_state_add_entry(&b, RESCUE), 0);
        assert_int_equal(vhc_state_add_entry(&b, ENTRY), 0);
        a.pending = VHC_REGEN_INITRAMFS;
        b.pending = VHC_REGEN_UKI;

        assert_int_equal(vhc_state_union(&a, &b, &u), 0);
        assert_int_equal(u.n_kargs, 2 + 3 + 1);
        assert_int_equal(count(&u, ENTRY, "iommu=pt"), 3);
        assert_int_equal(count(&u, "/etc/kernel/cmdline", "iommu=pt"), 3);
        /* a's first, in a's order. */
        assert_string_equal(u.kargs[0].file, ENTRY);
        assert_null(u.kargs[0].replaced);
        assert_string_equal(u.kargs[2].file, "/etc/kernel/cmdline");
        /* A file b wrote later: b's hash. A created file: the first base. */
        assert_int_equal(u.n_files, 1);
        assert_string_equal(u.files[0].sha256, "bbbb");
        assert_int_equal(u.n_created, 1);
        assert_string_equal(u.created[0].base, "ro\n");
        assert_int_equal(strv_length(u.boot_entries), 2);
        assert_int_equal(u.pending, VHC_REGEN_INITRAMFS | VHC_REGEN_UKI);
        vhc_state_done(&u);

        /* The other way round: the same counts. */
        assert_int_equal(vhc_state_union(&b, &a, &u), 0);
        assert_int_equal(count(&u, ENTRY, "iommu=pt"), 3);
        assert_int_equal(count(&u, "/etc/kernel/cmdline", "iommu=pt"), 3);
        assert_int_equal(u.n_kargs, 6);
        vhc_state_done(&u);

        /* With itself: nothing doubled. */
        assert_int_equal(vhc_state_union(&a, &a, &u), 0);
        assert_int_equal(u.n_kargs, a.n_kargs);
        vhc_state_done(&u);
        vhc_state_done(&a);
        vhc_state_done(&b);
}

static void parse_fails(const char *text, const char *msg) {
        struct vhc_state s;
        struct vhc_err e = {};

        vhc_state_init(&s);
        assert_int_equal(vhc_state_parse(&s, text, "/var/lib/virt-host-config/state.json", &e), -EINVAL);
        assert_string_equal(e.file, "/var/lib/virt-host-config/state.json");
        if (!strstr(e.msg, msg)) {
                print_error("message: %s\nwanted: %s\n", e.msg, msg);
                fail();
        }
        assert_true(vhc_state_empty(&s));
        assert_false(s.from_v1);
}

static void test_refused(void **state) {
        parse_fails("{ \"version\": 3, \"kernel_args\": [] }",
                    "unknown state record version 3 (this virt-host-config reads 1 and 2)");
        parse_fails("{ \"version\": 0 }", "unknown state record version 0");
        parse_fails("{ \"kernel_args\": [] }", "unknown state record version 0");
        parse_fails("{ \"version\": 2, \"kernel_args\": [", "broken JSON");
        parse_fails("[ 2 ]", "broken JSON");
        /* Version 2 needs the store. */
        parse_fails("{ \"version\": 2, \"kernel_args\": [ { \"file\": \"/etc/default/grub\", \"var\": "
                    "\"GRUB_CMDLINE_LINUX\", \"arg\": \"iommu=pt\" } ] }",
                    "kernel_args entry 0 lacks store, file, var or arg");
        parse_fails("{ \"version\": 2, \"kernel_args\": [ { \"store\": \"bls-entry\", \"file\": \"entry.conf\", "
                    "\"var\": \"options\", \"arg\": \"iommu=pt\" } ] }",
                    "kernel_args entry 0");
        parse_fails("{ \"version\": 2, \"pending\": [ \"grub\" ] }", "pending entry 0 is not a known regeneration");
        parse_fails("{ \"version\": 2, \"boot_entries\": [ \"a.conf\" ] }", "boot_entries entry 0");
        parse_fails("{ \"version\": 2, \"created\": [ { \"path\": \"/etc/kernel/cmdline\" } ] }",
                    "created entry 0 lacks path or base");
        /* A good record before the bad part leaves nothing behind. */
        parse_fails(
                "{ \"version\": 1, \"kernel_args\": [ { \"file\": \"/etc/default/grub\", \"var\": \"V\", "
                "\"arg\": \"a\" } ], \"dirs\": [ 5 ] }",
                "dirs entry 0 is not a string");
}

/* Issue 16, item 9: a record that does not parse to the schema is refused
 * whole, not read as if the bad part were absent. */
static void test_schema(void **state) {
        parse_fails("{ \"version\": 2, \"files\": \"x\" }", "\"files\" is not an array");
        parse_fails("{ \"version\": 2, \"kernel_args\": {} }", "\"kernel_args\" is not an array");
        parse_fails("{ \"version\": 2, \"dirs\": \"/etc\" }", "\"dirs\" is not an array");
        parse_fails("{ \"version\": \"2\" }", "\"version\" is not a number");
        parse_fails("{ \"version\": 2, \"files\": [ 1 ] }", "files entry 0 is not an object");
        parse_fails("{ \"version\": 2, \"files\": [ { \"path\": 7, \"sha256\": \"\" } ] }",
                    "files entry 0: \"path\" is not a string");
        parse_fails("{ \"version\": 2, \"kernel_args\": [ { \"store\": \"grub-defaults\", \"file\": "
                    "\"/etc/default/grub\", \"var\": \"V\", \"arg\": \"a\", \"space\": \"yes\" } ] }",
                    "kernel_args entry 0: \"space\" is not true or false");
        parse_fails("{ \"version\": 2, \"files\": [ { \"path\": \"/etc/modprobe.d/virt-host-config.conf\", "
                    "\"sha256\": \"abc\" } ] }",
                    "files entry 0 lacks a clean absolute path or a sha256");
        /* ".." and "." are not clean paths: never joined to the root. */
        parse_fails("{ \"version\": 2, \"files\": [ { \"path\": \"/../victim\", \"sha256\": "
                    "\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\" } ] }",
                    "files entry 0 lacks a clean absolute path");
        parse_fails("{ \"version\": 2, \"dirs\": [ \"/etc/./x\" ] }",
                    "dirs entry 0 is not an absolute path");
        parse_fails("{ \"version\": 2, \"boot_entries\": [ \"/boot//a.conf\" ] }", "boot_entries entry 0");
        /* Strict JSON: json-c's lax mode would take these. */
        parse_fails("{ \"version\": 2, }", "broken JSON");
        parse_fails("{ \"version\": 2 } {", "broken JSON");
}

/* Issue 15, item 14: a user's argument taken out, with where and what was cut. */
static void test_removed_round_trip(void **state) {
        struct vhc_state s, t;
        struct vhc_err e = {};
        _cleanup_free_ char *out = NULL;

        vhc_state_init(&s);
        assert_int_equal(vhc_state_add_karg(&s, &(struct vhc_karg_record){.store = (char *)"grub-defaults",
                                                                           .file = (char *)"/etc/default/grub",
                                                                           .var = (char *)"GRUB_CMDLINE_LINUX",
                                                                           .arg = (char *)"amd_iommu=off",
                                                                           .removed = true,
                                                                           .cut_at = 188,
                                                                           .cut = (char *)"amd_iommu=off "}),
                         0);
        assert_int_equal(vhc_state_format(&s, &out), 0);
        assert_non_null(strstr(out, "\"removed\": true"));
        assert_non_null(strstr(out, "\"cut_at\": 188"));
        assert_null(strstr(out, "\"space\""));
        vhc_state_init(&t);
        assert_int_equal(vhc_state_parse(&t, out, "state.json", &e), 0);
        assert_same_state(&s, &t);
        assert_true(t.kargs[0].removed);
        assert_int_equal(t.kargs[0].cut_at, 188);
        assert_string_equal(t.kargs[0].cut, "amd_iommu=off ");
        vhc_state_done(&t);
        vhc_state_done(&s);

#define REMOVED(extra) \
        "{ \"version\": 2, \"kernel_args\": [ { \"store\": \"grub-defaults\", \"file\": \"/etc/default/grub\", " \
        "\"var\": \"V\", \"arg\": \"amd_iommu=off\", \"removed\": true" extra " } ] }"
        parse_fails(REMOVED(""), "kernel_args entry 0: a removed argument needs its cut");
        parse_fails(REMOVED(", \"cut_at\": 3, \"cut\": \"init=/bin/sh \""), "a removed argument needs its cut");
        parse_fails(REMOVED(", \"cut_at\": 3, \"cut\": \"amd_iommu=off\", \"replaced\": \"x\""),
                    "and no replaced");
        parse_fails(REMOVED(", \"cut_at\": -1, \"cut\": \"amd_iommu=off\""), "\"cut_at\" is not a byte offset");
        parse_fails(REMOVED(", \"cut_at\": \"3\", \"cut\": \"amd_iommu=off\""), "\"cut_at\" is not a byte offset");
        parse_fails(REMOVED(", \"cut_at\": 3, \"cut\": 5"), "\"cut\" is not a string");
#undef REMOVED
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_v1),
                cmocka_unit_test(test_v2_round_trip),
                cmocka_unit_test(test_ostree_round_trip),
                cmocka_unit_test(test_union),
                cmocka_unit_test(test_refused),
                cmocka_unit_test(test_schema),
                cmocka_unit_test(test_removed_round_trip),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
