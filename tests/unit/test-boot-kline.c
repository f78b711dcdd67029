/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cmdline.h"
#include "fileio.h"
#include "kline.h"
#include "strv.h"

/* Fedora 43's entries as 20-grub.install writes them (one with
 * $tuned_params, one with the user's console=, the rescue entry) and the one
 * systemd 252's 90-loaderentry.install writes (key and value separated by
 * several spaces): tests/fixtures/boot/. */
#define BOOT SRCDIR "/tests/fixtures/boot"
#define MID "3f1d2a7c9b8e4f0a8d6c5b4a39281706"
static const char *const fedora_entries[] = {
        BOOT "/fedora-43/entries/" MID "-0-rescue.conf",
        BOOT "/fedora-43/entries/" MID "-6.17.5-200.fc43.x86_64.conf",
        BOOT "/fedora-43/entries/" MID "-6.17.7-300.fc43.x86_64.conf",
        BOOT "/sdboot/" MID "-6.17.7-300.fc43.x86_64.conf",
};

#define BLS VHC_KLINE_BLS
#define CMDLINE VHC_KLINE_CMDLINE

static struct vhc_kline *parse_len(const char *text, size_t len, enum vhc_kline_format f, bool first_only) {
        struct vhc_kline *k = NULL;
        struct vhc_err e = {};

        assert_int_equal(vhc_kline_parse(text, len, f, first_only, "test.conf", &k, &e), 0);
        assert_non_null(k);
        return k;
}

static struct vhc_kline *parse_ok(const char *text, enum vhc_kline_format f, bool first_only) {
        return parse_len(text, strlen(text), f, first_only);
}

static void assert_text(const struct vhc_kline *k, const char *want) {
        size_t len;
        const char *t = vhc_kline_text(k, &len);

        assert_string_equal(t, want);
        assert_int_equal(len, strlen(want));
}

/* The tokens that count, joined by one space. */
static void assert_tokens(const struct vhc_kline *k, const char *want) {
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_free_ char *j = NULL;

        assert_int_equal(vhc_kline_tokens(k, &l), 0);
        j = vhc_cmdline_join(l);
        assert_non_null(j);
        assert_string_equal(j, want);
}

/* Appends arg: the text must then be after (only arg's bytes added) and the
 * tokens tokens_after; removing it again gives before, byte for byte. */
static void append_undo(const char *before, enum vhc_kline_format f, bool first_only, const char *arg,
                        const char *after, const char *tokens_after) {
        _cleanup_(vhc_kline_freep) struct vhc_kline *k = parse_ok(before, f, first_only);
        struct vhc_karg_edit edit = {};
        struct vhc_err e = {};

        assert_int_equal(vhc_kline_append(k, arg, &edit, &e), 0);
        assert_text(k, after);
        assert_tokens(k, tokens_after);
        assert_int_equal(vhc_kline_remove(k, arg, &edit, &e), 0);
        assert_text(k, before);
}

/* Replaces old by new (text after), then back: before again. */
static void replace_back(const char *before, enum vhc_kline_format f, bool first_only, const char *old,
                         const char *new, const char *after) {
        _cleanup_(vhc_kline_freep) struct vhc_kline *k = parse_ok(before, f, first_only);
        struct vhc_err e = {};

        assert_int_equal(vhc_kline_replace(k, old, new, &e), 0);
        assert_text(k, after);
        assert_int_equal(vhc_kline_replace(k, new, old, &e), 0);
        assert_text(k, before);
}

/* ---- BLS entries ------------------------------------------------------------- */

/* Every real entry: the options line takes the argument at its end, and only
 * there; removing it gives the file back. Both readers agree on entries with
 * one options line. */
static void test_fixtures(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(fedora_entries); i++)
                for (int first_only = 0; first_only <= 1; first_only++) {
                        _cleanup_free_ char *text = NULL, *want = NULL;
                        const char *opt, *eol;
                        size_t len;

                        assert_int_equal(vhc_read_file(fedora_entries[i], 1 << 16, &text, &len), 0);
                        opt = strstr(text, "\noptions ");
                        assert_non_null(opt);
                        eol = strchr(opt + 1, '\n');
                        assert_non_null(eol);
                        assert_true(asprintf(&want, "%.*s iommu=pt%s", (int)(eol - text), text, eol) > 0);

                        _cleanup_(vhc_kline_freep) struct vhc_kline *k = parse_len(text, len, BLS, first_only);
                        _cleanup_strv_free_ char **tok = NULL;
                        struct vhc_karg_edit edit = {};
                        struct vhc_err e = {};

                        assert_int_equal(vhc_kline_tokens(k, &tok), 0);
                        assert_true(strv_length(tok) >= 3);
                        assert_string_equal(tok[0], "root=UUID=9a3c6e1f-4b2d-4e8a-b7f1-2c5d8e0a6b34");
                        assert_int_equal(vhc_kline_append(k, "iommu=pt", &edit, &e), 0);
                        assert_true(edit.space && !edit.line_added && !edit.newline_added);
                        assert_text(k, want);
                        assert_int_equal(vhc_kline_append(k, "intel_iommu=on", NULL, &e), 0);
                        assert_int_equal(vhc_kline_remove(k, "intel_iommu=on", &edit, &e), 0);
                        assert_text(k, want);
                        assert_int_equal(vhc_kline_remove(k, "iommu=pt", &edit, &e), 0);
                        assert_text(k, text);
                }
}

static void test_fixture_tokens_and_keys(void **state) {
        _cleanup_free_ char *text = NULL, *sd = NULL, *v = NULL, *t = NULL, *m = NULL;
        size_t len, sdlen;

        assert_int_equal(vhc_read_file(fedora_entries[2], 1 << 16, &text, &len), 0);
        _cleanup_(vhc_kline_freep) struct vhc_kline *k = parse_len(text, len, BLS, true);
        assert_tokens(k, "root=UUID=9a3c6e1f-4b2d-4e8a-b7f1-2c5d8e0a6b34 ro rootflags=subvol=root rhgb quiet "
                         "$tuned_params");
        assert_int_equal(vhc_kline_get(k, "version", &v), 0);
        assert_string_equal(v, "6.17.7-300.fc43.x86_64");
        assert_int_equal(vhc_kline_get(k, "title", &t), 0);
        assert_string_equal(t, "Fedora Linux (6.17.7-300.fc43.x86_64) 43 (Workstation Edition)");
        assert_int_equal(vhc_kline_get(k, "machine-id", &m), -ENOENT);

        /* kernel-install 252: "title      Fedora ...", several spaces. */
        free(v);
        free(t);
        v = t = NULL;
        assert_int_equal(vhc_read_file(fedora_entries[3], 1 << 16, &sd, &sdlen), 0);
        _cleanup_(vhc_kline_freep) struct vhc_kline *s = parse_len(sd, sdlen, BLS, false);
        assert_tokens(s, "root=UUID=9a3c6e1f-4b2d-4e8a-b7f1-2c5d8e0a6b34 ro rootflags=subvol=root rhgb quiet "
                         "systemd.machine_id=3f1d2a7c9b8e4f0a8d6c5b4a39281706");
        assert_int_equal(vhc_kline_get(s, "version", &v), 0);
        assert_string_equal(v, "6.17.7-300.fc43.x86_64");
        assert_int_equal(vhc_kline_get(s, "title", &t), 0);
        assert_string_equal(t, "Fedora Linux 43 (Workstation Edition)");
        assert_int_equal(vhc_kline_get(s, "machine-id", &m), 0);
        assert_string_equal(m, MID);
}

/* GRUB's blscfg takes the first options line only; systemd-boot joins all. */
static const char two_lines[] = "title Fedora Linux (6.17.7-300.fc43.x86_64) 43 (Workstation Edition)\n"
                                "version 6.17.7-300.fc43.x86_64\n"
                                "linux /vmlinuz-6.17.7-300.fc43.x86_64\n"
                                "options root=UUID=9a3c6e1f-4b2d-4e8a-b7f1-2c5d8e0a6b34 ro\n"
                                "options rhgb quiet\n"
                                "grub_class fedora\n";

static void test_first_only(void **state) {
        _cleanup_(vhc_kline_freep) struct vhc_kline *g = parse_ok(two_lines, BLS, true);
        _cleanup_(vhc_kline_freep) struct vhc_kline *s = parse_ok(two_lines, BLS, false);
        struct vhc_err e = {};

        assert_tokens(g, "root=UUID=9a3c6e1f-4b2d-4e8a-b7f1-2c5d8e0a6b34 ro");
        assert_tokens(s, "root=UUID=9a3c6e1f-4b2d-4e8a-b7f1-2c5d8e0a6b34 ro rhgb quiet");
        /* What GRUB does not read is not there for it. */
        assert_int_equal(vhc_kline_remove(g, "quiet", NULL, &e), -ENOENT);
        assert_int_equal(vhc_kline_replace(g, "quiet", "splash", &e), -ENOENT);
        assert_text(g, two_lines);
}

static void test_first_only_append(void **state) {
        append_undo(two_lines, BLS, true, "iommu=pt",
                    "title Fedora Linux (6.17.7-300.fc43.x86_64) 43 (Workstation Edition)\n"
                    "version 6.17.7-300.fc43.x86_64\n"
                    "linux /vmlinuz-6.17.7-300.fc43.x86_64\n"
                    "options root=UUID=9a3c6e1f-4b2d-4e8a-b7f1-2c5d8e0a6b34 ro iommu=pt\n"
                    "options rhgb quiet\n"
                    "grub_class fedora\n",
                    "root=UUID=9a3c6e1f-4b2d-4e8a-b7f1-2c5d8e0a6b34 ro iommu=pt");
        append_undo(two_lines, BLS, false, "iommu=pt",
                    "title Fedora Linux (6.17.7-300.fc43.x86_64) 43 (Workstation Edition)\n"
                    "version 6.17.7-300.fc43.x86_64\n"
                    "linux /vmlinuz-6.17.7-300.fc43.x86_64\n"
                    "options root=UUID=9a3c6e1f-4b2d-4e8a-b7f1-2c5d8e0a6b34 ro\n"
                    "options rhgb quiet iommu=pt\n"
                    "grub_class fedora\n",
                    "root=UUID=9a3c6e1f-4b2d-4e8a-b7f1-2c5d8e0a6b34 ro rhgb quiet iommu=pt");
}

/* The same token in both lines: GRUB's is the first line's, systemd-boot's
 * the last one (the last that is exactly it). */
static void test_remove_which_line(void **state) {
        static const char text[] = "options a iommu=pt\noptions iommu=pt b\n";
        _cleanup_(vhc_kline_freep) struct vhc_kline *g = parse_ok(text, BLS, true);
        _cleanup_(vhc_kline_freep) struct vhc_kline *s = parse_ok(text, BLS, false);
        struct vhc_karg_edit space = { .space = true };
        struct vhc_err e = {};

        assert_int_equal(vhc_kline_remove(g, "iommu=pt", &space, &e), 0);
        assert_text(g, "options a\noptions iommu=pt b\n");
        assert_int_equal(vhc_kline_remove(s, "iommu=pt", &space, &e), 0);
        assert_text(s, "options a iommu=pt\noptions b\n");
}

/* No options line at all (an entry written without one): "options ARG" at
 * its end; removing it takes the line away again. */
static void test_no_options_line(void **state) {
        static const char nl[] = "title Fedora Linux\nversion 6.17.7-300.fc43.x86_64\nlinux /vmlinuz\n";
        static const char no_nl[] = "title Fedora Linux\nversion 6.17.7-300.fc43.x86_64\nlinux /vmlinuz";
        static const char commented[] = "title Fedora Linux\n# options quiet\nlinux /vmlinuz\n";

        for (int first_only = 0; first_only <= 1; first_only++) {
                _cleanup_(vhc_kline_freep) struct vhc_kline *k = parse_ok(nl, BLS, first_only);
                struct vhc_karg_edit edit = {}, edit2 = {};
                struct vhc_err e = {};

                assert_tokens(k, "");
                assert_int_equal(vhc_kline_append(k, "iommu=pt", &edit, &e), 0);
                assert_true(edit.line_added && !edit.newline_added && !edit.space);
                assert_text(k, "title Fedora Linux\nversion 6.17.7-300.fc43.x86_64\nlinux /vmlinuz\n"
                               "options iommu=pt\n");
                /* A second one joins the line; undone newest first. */
                assert_int_equal(vhc_kline_append(k, "intel_iommu=on", &edit2, &e), 0);
                assert_true(edit2.space && !edit2.line_added);
                assert_text(k, "title Fedora Linux\nversion 6.17.7-300.fc43.x86_64\nlinux /vmlinuz\n"
                               "options iommu=pt intel_iommu=on\n");
                assert_int_equal(vhc_kline_remove(k, "intel_iommu=on", &edit2, &e), 0);
                assert_int_equal(vhc_kline_remove(k, "iommu=pt", &edit, &e), 0);
                assert_text(k, nl);

                append_undo(no_nl, BLS, first_only, "iommu=pt",
                            "title Fedora Linux\nversion 6.17.7-300.fc43.x86_64\nlinux /vmlinuz\noptions iommu=pt\n",
                            "iommu=pt");
                append_undo(commented, BLS, first_only, "iommu=pt",
                            "title Fedora Linux\n# options quiet\nlinux /vmlinuz\noptions iommu=pt\n", "iommu=pt");
                append_undo("", BLS, first_only, "iommu=pt", "options iommu=pt\n", "iommu=pt");
        }
}

/* The line goes only when nothing but our argument was in it. */
static void test_added_line_kept_with_user_token(void **state) {
        _cleanup_(vhc_kline_freep) struct vhc_kline *k = parse_ok("linux /vmlinuz\n", BLS, true);
        struct vhc_karg_edit edit = {}, user = { .space = true };
        struct vhc_err e = {};

        assert_int_equal(vhc_kline_append(k, "iommu=pt", &edit, &e), 0);
        /* The user adds quiet by hand. */
        assert_int_equal(vhc_kline_append(k, "quiet", &user, &e), 0);
        assert_int_equal(vhc_kline_remove(k, "iommu=pt", &edit, &e), 0);
        assert_tokens(k, "quiet");
        assert_string_equal(vhc_kline_text(k, NULL), "linux /vmlinuz\noptions  quiet\n");
}

/* "options" alone: the separating blank goes in with the argument. */
static void test_options_alone(void **state) {
        append_undo("title x\noptions\nlinux /v\n", BLS, true, "iommu=pt", "title x\noptions iommu=pt\nlinux /v\n",
                    "iommu=pt");
        append_undo("title x\noptions\r\nlinux /v\r\n", BLS, false, "iommu=pt",
                    "title x\noptions iommu=pt\r\nlinux /v\r\n", "iommu=pt");
        append_undo("options   \n", BLS, true, "iommu=pt", "options   iommu=pt\n", "iommu=pt");
}

static void test_crlf(void **state) {
        static const char text[] = "title Fedora Linux\r\nversion 6.17.7-300.fc43.x86_64\r\n"
                                   "options root=UUID=9a3c6e1f ro quiet\r\nlinux /vmlinuz\r\n";
        _cleanup_(vhc_kline_freep) struct vhc_kline *k = parse_ok(text, BLS, true);
        _cleanup_free_ char *v = NULL;

        assert_tokens(k, "root=UUID=9a3c6e1f ro quiet");
        assert_int_equal(vhc_kline_get(k, "version", &v), 0);
        assert_string_equal(v, "6.17.7-300.fc43.x86_64");
        append_undo(text, BLS, true, "iommu=pt",
                    "title Fedora Linux\r\nversion 6.17.7-300.fc43.x86_64\r\n"
                    "options root=UUID=9a3c6e1f ro quiet iommu=pt\r\nlinux /vmlinuz\r\n",
                    "root=UUID=9a3c6e1f ro quiet iommu=pt");
        /* The last line without its newline. */
        append_undo("title x\r\noptions quiet\r", BLS, false, "iommu=pt", "title x\r\noptions quiet iommu=pt\r",
                    "quiet iommu=pt");
        /* No options line: ours is a line of its own, removed again. */
        append_undo("title x\r\nlinux /v\r\n", BLS, true, "iommu=pt", "title x\r\nlinux /v\r\noptions iommu=pt\n",
                    "iommu=pt");
        append_undo("title x\r\nlinux /v\r", BLS, true, "iommu=pt", "title x\r\nlinux /v\r\noptions iommu=pt\n",
                    "iommu=pt");
        replace_back(text, BLS, true, "ro", "rw",
                     "title Fedora Linux\r\nversion 6.17.7-300.fc43.x86_64\r\n"
                     "options root=UUID=9a3c6e1f rw quiet\r\nlinux /vmlinuz\r\n");
}

/* Comments, blank lines, leading blanks; keys separated by tabs or by
 * several spaces (kernel-install 252: "options    root=..."). */
static void test_layout(void **state) {
        static const char text[] = "# Boot Loader Specification type#1 entry\n"
                                   "\n"
                                   "   \t\n"
                                   "  # options commented out\n"
                                   "#options neither\n"
                                   "optionsx not-options\n"
                                   "title      Fedora Linux 43\n"
                                   "options\troot=UUID=9a3c6e1f\tro  \t\n"
                                   "\t options    rhgb   quiet\n";
        _cleanup_(vhc_kline_freep) struct vhc_kline *g = parse_ok(text, BLS, true);
        _cleanup_(vhc_kline_freep) struct vhc_kline *s = parse_ok(text, BLS, false);
        _cleanup_free_ char *t = NULL, *c = NULL;

        assert_tokens(g, "root=UUID=9a3c6e1f ro");
        assert_tokens(s, "root=UUID=9a3c6e1f ro rhgb quiet");
        assert_int_equal(vhc_kline_get(g, "title", &t), 0);
        assert_string_equal(t, "Fedora Linux 43");
        assert_int_equal(vhc_kline_get(g, "#options", &c), -ENOENT);

        append_undo(text, BLS, true, "iommu=pt",
                    "# Boot Loader Specification type#1 entry\n"
                    "\n"
                    "   \t\n"
                    "  # options commented out\n"
                    "#options neither\n"
                    "optionsx not-options\n"
                    "title      Fedora Linux 43\n"
                    "options\troot=UUID=9a3c6e1f\tro iommu=pt  \t\n"
                    "\t options    rhgb   quiet\n",
                    "root=UUID=9a3c6e1f ro iommu=pt");
        append_undo(text, BLS, false, "iommu=pt",
                    "# Boot Loader Specification type#1 entry\n"
                    "\n"
                    "   \t\n"
                    "  # options commented out\n"
                    "#options neither\n"
                    "optionsx not-options\n"
                    "title      Fedora Linux 43\n"
                    "options\troot=UUID=9a3c6e1f\tro  \t\n"
                    "\t options    rhgb   quiet iommu=pt\n",
                    "root=UUID=9a3c6e1f ro rhgb quiet iommu=pt");
        replace_back(text, BLS, false, "rhgb", "nomodeset",
                     "# Boot Loader Specification type#1 entry\n"
                     "\n"
                     "   \t\n"
                     "  # options commented out\n"
                     "#options neither\n"
                     "optionsx not-options\n"
                     "title      Fedora Linux 43\n"
                     "options\troot=UUID=9a3c6e1f\tro  \t\n"
                     "\t options    nomodeset   quiet\n");
}

static void test_replace(void **state) {
        static const char text[] = "options root=UUID=9a3c6e1f ro intel_iommu=off quiet intel_iommu=off\n";

        /* The last one that is exactly it: the one the kernel takes. */
        replace_back(text, BLS, true, "intel_iommu=off", "intel_iommu=on",
                     "options root=UUID=9a3c6e1f ro intel_iommu=off quiet intel_iommu=on\n");
        /* Quoted tokens are matched as written. */
        replace_back("options a \"dyndbg=file x +p\" b\n", BLS, true, "\"dyndbg=file x +p\"", "dyndbg",
                     "options a dyndbg b\n");
        {
                _cleanup_(vhc_kline_freep) struct vhc_kline *k = parse_ok(text, BLS, true);
                struct vhc_err e = {};

                assert_int_equal(vhc_kline_replace(k, "intel_iommu", "intel_iommu=on", &e), -ENOENT);
                assert_int_equal(vhc_kline_replace(k, "iommu=off", "iommu=on", &e), -ENOENT);
                assert_text(k, text);
        }
}

static void test_remove(void **state) {
        static const char text[] = "options iommu=pt root=UUID=9a3c6e1f iommu=pt ro\n";
        _cleanup_(vhc_kline_freep) struct vhc_kline *k = parse_ok(text, BLS, true);
        struct vhc_karg_edit space = { .space = true }, none = {};
        struct vhc_err e = {};

        assert_int_equal(vhc_kline_remove(k, "iommu", &space, &e), -ENOENT);
        assert_int_equal(vhc_kline_remove(k, "pt", &space, &e), -ENOENT);
        assert_text(k, text);
        /* The last; with the blank before it. */
        assert_int_equal(vhc_kline_remove(k, "iommu=pt", &space, &e), 0);
        assert_text(k, "options iommu=pt root=UUID=9a3c6e1f ro\n");
        /* First in the line: the blank after "options" goes, the key stays. */
        assert_int_equal(vhc_kline_remove(k, "iommu=pt", &space, &e), 0);
        assert_text(k, "options root=UUID=9a3c6e1f ro\n");
        /* An append that put no blank takes none. */
        assert_int_equal(vhc_kline_remove(k, "ro", &none, &e), 0);
        assert_text(k, "options root=UUID=9a3c6e1f \n");
        assert_int_equal(vhc_kline_remove(k, "ro", &none, &e), -ENOENT);
}

static void test_unsafe_arg(void **state) {
        _cleanup_(vhc_kline_freep) struct vhc_kline *k = parse_ok("options quiet\n", BLS, true);
        struct vhc_err e = {};

        assert_int_equal(vhc_kline_append(k, "a b", NULL, &e), -EINVAL);
        assert_int_equal(vhc_kline_append(k, "$tuned_params", NULL, NULL), -EINVAL);
        assert_int_equal(vhc_kline_append(k, "\"x\"", NULL, NULL), -EINVAL);
        assert_int_equal(vhc_kline_append(k, "", NULL, NULL), -EINVAL);
        assert_text(k, "options quiet\n");
}

/* ---- /etc/kernel/cmdline ------------------------------------------------------ */

static void test_cmdline(void **state) {
        _cleanup_free_ char *text = NULL;
        size_t len;

        assert_int_equal(vhc_read_file(BOOT "/fedora-43/kernel-cmdline", 1 << 16, &text, &len), 0);
        for (int first_only = 0; first_only <= 1; first_only++)
                append_undo(text, CMDLINE, first_only, "iommu=pt",
                            "root=UUID=9a3c6e1f-4b2d-4e8a-b7f1-2c5d8e0a6b34 ro rootflags=subvol=root rhgb quiet "
                            "iommu=pt\n",
                            "root=UUID=9a3c6e1f-4b2d-4e8a-b7f1-2c5d8e0a6b34 ro rootflags=subvol=root rhgb quiet "
                            "iommu=pt");
        replace_back(text, CMDLINE, false, "rhgb", "nomodeset",
                     "root=UUID=9a3c6e1f-4b2d-4e8a-b7f1-2c5d8e0a6b34 ro rootflags=subvol=root nomodeset quiet\n");
}

static void test_cmdline_shapes(void **state) {
        /* Several lines: all count, newlines are blanks; ours goes last. */
        append_undo("root=UUID=9a3c6e1f ro\nrhgb quiet\n\n", CMDLINE, false, "iommu=pt",
                    "root=UUID=9a3c6e1f ro\nrhgb quiet iommu=pt\n\n", "root=UUID=9a3c6e1f ro rhgb quiet iommu=pt");
        /* An "options" word is just a token here, and '#' is not a comment. */
        append_undo("options quiet\n# x\n", CMDLINE, true, "iommu=pt", "options quiet\n# x iommu=pt\n",
                    "options quiet # x iommu=pt");
        /* No trailing newline. */
        append_undo("root=UUID=9a3c6e1f ro", CMDLINE, false, "iommu=pt", "root=UUID=9a3c6e1f ro iommu=pt",
                    "root=UUID=9a3c6e1f ro iommu=pt");
        append_undo("root=UUID=9a3c6e1f ro  \t", CMDLINE, false, "iommu=pt", "root=UUID=9a3c6e1f ro iommu=pt  \t",
                    "root=UUID=9a3c6e1f ro iommu=pt");
        /* Empty, or only a newline. */
        append_undo("", CMDLINE, false, "iommu=pt", "iommu=pt", "iommu=pt");
        append_undo("\n", CMDLINE, false, "iommu=pt", "iommu=pt\n", "iommu=pt");
        replace_back("ro\nintel_iommu=off\r\n", CMDLINE, false, "intel_iommu=off", "intel_iommu=on",
                     "ro\nintel_iommu=on\r\n");
        {
                _cleanup_(vhc_kline_freep) struct vhc_kline *k = parse_ok("a\nb c\n", CMDLINE, true);
                _cleanup_free_ char *v = NULL;

                assert_tokens(k, "a b c");
                assert_int_equal(vhc_kline_get(k, "options", &v), -ENOENT);
        }
}

/* ---- what cannot be read safely ------------------------------------------------ */

static void test_nul_byte(void **state) {
        static const char text[] = "title x\nversion 1\noptions quiet\0rd.break\nlinux /v\n";
        struct vhc_kline *k = NULL;
        struct vhc_err e = {};

        assert_int_equal(vhc_kline_parse(text, sizeof(text) - 1, BLS, true, "/boot/loader/entries/a.conf", &k, &e),
                         -EINVAL);
        assert_null(k);
        assert_string_equal(e.file, "/boot/loader/entries/a.conf");
        assert_int_equal(e.line, 3);
        assert_non_null(strstr(e.msg, "NUL"));
        e = (struct vhc_err){};
        assert_int_equal(vhc_kline_parse("ro\0", 3, CMDLINE, false, "/etc/kernel/cmdline", &k, &e), -EINVAL);
        assert_int_equal(e.line, 1);
}

static void test_unbalanced_quote(void **state) {
        static const char second[] = "title x\noptions root=UUID=9a3c6e1f ro\noptions dyndbg=\"file x +p\n";
        struct vhc_kline *k = NULL;
        struct vhc_err e = {};

        assert_int_equal(vhc_kline_parse("title x\noptions a=\"b c\n", strlen("title x\noptions a=\"b c\n"), BLS, true, "a.conf", &k, &e), -EINVAL);
        assert_null(k);
        assert_int_equal(e.line, 2);
        assert_non_null(strstr(e.msg, "unbalanced double quote"));

        /* A line GRUB does not read cannot stop it; systemd-boot reads it. */
        e = (struct vhc_err){};
        assert_int_equal(vhc_kline_parse(second, strlen(second), BLS, false, "a.conf", &k, &e), -EINVAL);
        assert_int_equal(e.line, 3);
        assert_int_equal(vhc_kline_parse(second, strlen(second), BLS, true, "a.conf", &k, &e), 0);
        assert_non_null(k);
        assert_tokens(k, "root=UUID=9a3c6e1f ro");
        vhc_kline_free(k);
        k = NULL;

        /* A quote in a comment or another key is no matter. */
        assert_int_equal(vhc_kline_parse("# \"\ntitle \"x\noptions ro\n", strlen("# \"\ntitle \"x\noptions ro\n"), BLS, true, "a.conf", &k, &e), 0);
        vhc_kline_free(k);
        k = NULL;

        e = (struct vhc_err){};
        assert_int_equal(vhc_kline_parse("ro\nquiet\na=\"b\n", strlen("ro\nquiet\na=\"b\n"), CMDLINE, false, "cmdline", &k, &e), -EINVAL);
        assert_null(k);
        /* The file is one value: its line is where that starts. */
        assert_int_equal(e.line, 1);
}

/* Takes arg out (text after, the cut bytes cut), then puts it back: before. */
static void take_out_back(const char *before, enum vhc_kline_format f, bool first_only, const char *arg,
                          const char *after, const char *cut) {
        _cleanup_(vhc_kline_freep) struct vhc_kline *k = parse_ok(before, f, first_only);
        _cleanup_free_ char *got = NULL;
        struct vhc_err e = {};
        size_t at;

        assert_int_equal(vhc_kline_take_out(k, arg, &at, &got, &e), 0);
        assert_text(k, after);
        assert_string_equal(got, cut);
        assert_int_equal(vhc_kline_put_back(k, arg, at, got, &e), 0);
        assert_text(k, before);
}

static void test_take_out(void **state) {
        take_out_back("title F\noptions root=UUID=1 ro amd_iommu=off iommu=pt rhgb\n", BLS, true, "amd_iommu=off",
                      "title F\noptions root=UUID=1 ro iommu=pt rhgb\n", "amd_iommu=off ");
        /* Alone on its line: the blank after "options" goes. */
        take_out_back("options amd_iommu=off\nlinux /vmlinuz\n", BLS, false, "amd_iommu=off",
                      "options\nlinux /vmlinuz\n", " amd_iommu=off");
        /* systemd-boot joins every options line: the one on the second. */
        take_out_back("options root=UUID=1\noptions  iommu=off\n", BLS, false, "iommu=off",
                      "options root=UUID=1\noptions \n", " iommu=off");
        /* /etc/kernel/cmdline: a newline is not a blank taken with it. */
        take_out_back("root=UUID=1 ro amd_iommu=off\n", CMDLINE, false, "amd_iommu=off", "root=UUID=1 ro\n",
                      " amd_iommu=off");
        take_out_back("amd_iommu=off\nrhgb\n", CMDLINE, false, "amd_iommu=off", "\nrhgb\n", "amd_iommu=off");
}

static void test_put_back_after_edit(void **state) {
        _cleanup_(vhc_kline_freep) struct vhc_kline *k = parse_ok("root=UUID=1 ro amd_iommu=off\n", CMDLINE, false);
        _cleanup_(vhc_kline_freep) struct vhc_kline *edited = NULL;
        _cleanup_free_ char *cut = NULL;
        struct vhc_err e = {};
        size_t at;

        assert_int_equal(vhc_kline_take_out(k, "amd_iommu=off", &at, &cut, &e), 0);
        assert_int_equal(vhc_kline_take_out(k, "iommu=off", &at, &cut, &e), -ENOENT);
        /* Shorter now: the offset falls inside a token, so it goes last. */
        edited = parse_ok("ro\n", CMDLINE, false);
        assert_int_equal(vhc_kline_put_back(edited, "amd_iommu=off", at, cut, &e), 0);
        assert_text(edited, "ro amd_iommu=off\n");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_fixtures),
                cmocka_unit_test(test_fixture_tokens_and_keys),
                cmocka_unit_test(test_first_only),
                cmocka_unit_test(test_first_only_append),
                cmocka_unit_test(test_remove_which_line),
                cmocka_unit_test(test_no_options_line),
                cmocka_unit_test(test_added_line_kept_with_user_token),
                cmocka_unit_test(test_options_alone),
                cmocka_unit_test(test_crlf),
                cmocka_unit_test(test_layout),
                cmocka_unit_test(test_replace),
                cmocka_unit_test(test_remove),
                cmocka_unit_test(test_unsafe_arg),
                cmocka_unit_test(test_cmdline),
                cmocka_unit_test(test_cmdline_shapes),
                cmocka_unit_test(test_nul_byte),
                cmocka_unit_test(test_unbalanced_quote),
                cmocka_unit_test(test_take_out),
                cmocka_unit_test(test_put_back_after_edit),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
