/* SPDX-License-Identifier: MIT */
/* Fault injection: every write, fsync, rename, unlink and mkdir of apply and
 * revert is made to fail in turn; after each failure every file must be its
 * old or its new self (never torn, no temp file left), and a following run
 * must converge. */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "fileio.h"
#include "hostrole.h"
#include "strv.h"

/* A tree: sorted "path\0content" pairs, for regular files and symlinks. */
struct tree {
        char **paths;
        char **contents;
        size_t n;
};

static struct tree *cur_tree;
static size_t cur_prefix;

static int collect(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        struct tree *t = cur_tree;
        char *content = NULL;

        if (type == FTW_F) {
                size_t len;
                assert_int_equal(vhc_read_file(path, 1 << 20, &content, &len), 0);
        } else if (type == FTW_SL) {
                char buf[4096];
                ssize_t n = readlink(path, buf, sizeof(buf) - 1);
                assert_true(n >= 0);
                buf[n] = '\0';
                assert_int_not_equal(asprintf(&content, "-> %s", buf), -1);
        } else if (type == FTW_D) {
                assert_int_not_equal(asprintf(&content, "dir %o", st->st_mode & 07777), -1);
        } else
                return 0;
        t->paths = realloc(t->paths, (t->n + 1) * sizeof(char *));
        t->contents = realloc(t->contents, (t->n + 1) * sizeof(char *));
        t->paths[t->n] = strdup(path + cur_prefix);
        t->contents[t->n] = content;
        t->n++;
        return 0;
}

static void tree_read(const char *root, struct tree *t) {
        *t = (struct tree){};
        cur_tree = t;
        cur_prefix = strlen(root);
        assert_int_equal(nftw(root, collect, 16, FTW_PHYS), 0);
}

static void tree_free(struct tree *t) {
        for (size_t i = 0; i < t->n; i++) {
                free(t->paths[i]);
                free(t->contents[i]);
        }
        free(t->paths);
        free(t->contents);
}

static const char *tree_get(const struct tree *t, const char *path) {
        for (size_t i = 0; i < t->n; i++)
                if (streq(t->paths[i], path))
                        return t->contents[i];
        return NULL;
}

/* Every path of now is as in a or as in b; every path of a or b absent in now
 * is absent in the other. */
static void assert_old_or_new(const struct tree *now, const struct tree *a, const struct tree *b) {
        for (size_t i = 0; i < now->n; i++) {
                const char *x = tree_get(a, now->paths[i]), *y = tree_get(b, now->paths[i]);
                bool ok = (x && streq(x, now->contents[i])) || (y && streq(y, now->contents[i]));

                if (!ok && strstr(now->paths[i], "/state.json"))
                        ok = true; /* the record may hold more than both: checked by convergence */
                if (!ok)
                        fail_msg("%s is neither old nor new:\n%s", now->paths[i], now->contents[i]);
                assert_null(strstr(now->paths[i], "/.#"));
        }
        for (size_t i = 0; i < a->n; i++)
                if (!tree_get(now, a->paths[i]) && tree_get(b, a->paths[i]))
                        fail_msg("%s vanished", a->paths[i]);
}

static void assert_tree_equal(const struct tree *x, const struct tree *y) {
        for (size_t i = 0; i < x->n; i++) {
                const char *o = tree_get(y, x->paths[i]);
                if (!o || !streq(o, x->contents[i]))
                        fail_msg("%s differs", x->paths[i]);
        }
        assert_int_equal(x->n, y->n);
}

static void write_file(const char *root, const char *rel, const char *content) {
        _cleanup_free_ char *p = NULL;
        FILE *f;

        assert_int_not_equal(asprintf(&p, "%s/%s", root, rel), -1);
        f = fopen(p, "we");
        assert_non_null(f);
        fputs(content, f);
        fclose(f);
}

static void copy_tree(const char *from, const char *to) {
        pid_t pid = fork();
        int status;

        assert_true(pid >= 0);
        if (pid == 0) {
                execlp("cp", "cp", "-a", from, to, (char *)NULL);
                _exit(127);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* A copy of a shipped machine, with a grub file that has something to replace. */
static char *make_root(void) {
        char tmpl[] = "/tmp/vhc-fault-XXXXXX";
        char *root = strdup(mkdtemp(tmpl));
        _cleanup_free_ char *sysconfig = NULL, *var = NULL, *link = NULL;

        assert_int_equal(rmdir(root), 0);
        copy_tree(SRCDIR "/tests/machines/intel-nvidia", root);
        assert_int_not_equal(asprintf(&sysconfig, "%s/etc/sysconfig", root), -1);
        assert_int_not_equal(asprintf(&var, "%s/var", root), -1);
        (void)mkdir(sysconfig, 0755);
        (void)mkdir(var, 0755);
        write_file(root, "etc/default/grub",
                   "GRUB_TIMEOUT=5\n"
                   "GRUB_DISTRIBUTOR=\"$(sed 's, release .*$,,g' /etc/system-release)\"\n"
                   "GRUB_DEFAULT=saved\n"
                   "GRUB_DISABLE_SUBMENU=true\n"
                   "GRUB_TERMINAL_OUTPUT=\"console\"\n"
                   "GRUB_CMDLINE_LINUX=\"rd.luks.uuid=luks-6f2e0f6c rhgb quiet intel_iommu=off\"\n"
                   "GRUB_DISABLE_RECOVERY=\"true\"\n"
                   "GRUB_ENABLE_BLSCFG=true\n");
        assert_int_not_equal(asprintf(&link, "%s/etc/sysconfig/grub", root), -1);
        (void)unlink(link);
        assert_int_equal(symlink("../default/grub", link), 0);
        return root;
}

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        return remove(path);
}

static void remove_root(char *root) {
        nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        free(root);
}

static int fail_at = -1, n_ops;

static int hook(enum vhc_fault_op op, const char *path) {
        return n_ops++ == fail_at ? -EIO : 0;
}

/* apply (reverting false) or revert; returns the run's result. */
static int run(const char *dir, bool reverting) {
        _cleanup_(vhc_root_freep) struct vhc_root *r = NULL;
        struct vhc_config c;
        struct vhc_err e = {};
        struct vhc_txn t;
        int k;

        assert_int_equal(vhc_root_new(dir, &r), 0);
        vhc_config_init(&c);
        vhc_txn_init(&t, r);
        k = vhc_txn_run(&t, reverting ? NULL : &c, false, &e);
        /* As the program does: the boot files next (here: no tool, skipped). */
        if (k >= 0) {
                char **lines = NULL;

                k = vhc_txn_regenerate(&t, false, &lines, &e);
                strv_free(lines);
        }
        vhc_txn_done(&t);
        vhc_config_done(&c);
        return k;
}

static void faults(bool reverting) {
        struct tree pristine, applied;
        char *root = make_root();
        int total;

        tree_read(root, &pristine);
        n_ops = 0;
        vhc_fault_hook = hook;
        assert_int_equal(run(root, false), 0);
        tree_read(root, &applied);
        if (reverting) {
                n_ops = 0;
                assert_int_equal(run(root, true), 0);
        }
        total = n_ops;
        assert_true(total >= (reverting ? 12 : 20)); /* the grub file, the drop-ins, the record */
        remove_root(root);

        for (int i = 0; i < total; i++) {
                const struct tree *from = reverting ? &applied : &pristine, *to = reverting ? &pristine : &applied;
                struct tree now, again;

                root = make_root();
                fail_at = -1;
                if (reverting)
                        assert_int_equal(run(root, false), 0);
                n_ops = 0;
                fail_at = i;
                fprintf(stderr, "fault at op %d of %d\n", i, total);
                assert_int_equal(run(root, reverting), -EIO);
                fail_at = -1;

                tree_read(root, &now);
                assert_old_or_new(&now, from, to);

                /* The next run converges to the same tree as an undisturbed one. */
                assert_int_equal(run(root, reverting), 0);
                tree_read(root, &again);
                assert_tree_equal(&again, to);
                /* And the way back is still exact. */
                assert_int_equal(run(root, !reverting), 0);
                tree_free(&again);
                tree_read(root, &again);
                assert_tree_equal(&again, from);

                tree_free(&now);
                tree_free(&again);
                remove_root(root);
        }
        vhc_fault_hook = NULL;
        tree_free(&pristine);
        tree_free(&applied);
}

static void test_apply_faults(void **state) {
        faults(false);
}

static void test_revert_faults(void **state) {
        faults(true);
}

#define RULE "/etc/udev/rules.d/61-virt-host-config-vfio.rules"

/* A root after apply, with the udev rule edited by the user; its content
 * into *ret_edited. */
static char *make_edited_root(char **ret_edited) {
        char *root = make_root();
        _cleanup_free_ char *p = NULL;
        size_t len;
        FILE *f;

        fail_at = -1;
        assert_int_equal(run(root, false), 0);
        assert_int_not_equal(asprintf(&p, "%s" RULE, root), -1);
        f = fopen(p, "ae");
        assert_non_null(f);
        fputs("# mine\n", f);
        fclose(f);
        assert_int_equal(vhc_read_file(p, 1 << 20, ret_edited, &len), 0);
        return root;
}

/* Where the edit is: 1 at the rule itself, 2 at .rpmsave (and never both,
 * never lost, no .rpmsave.1). */
static int where_edit(const char *root, const char *edited) {
        _cleanup_free_ char *p = NULL, *save = NULL, *save1 = NULL, *a = NULL, *b = NULL;
        size_t len;
        int ra, rb;

        assert_int_not_equal(asprintf(&p, "%s" RULE, root), -1);
        assert_int_not_equal(asprintf(&save, "%s" RULE ".rpmsave", root), -1);
        assert_int_not_equal(asprintf(&save1, "%s" RULE ".rpmsave.1", root), -1);
        ra = vhc_read_file(p, 1 << 20, &a, &len);
        rb = vhc_read_file(save, 1 << 20, &b, &len);
        assert_int_equal(access(save1, F_OK), -1);
        if (rb == 0) {
                assert_string_equal(b, edited);
                /* both only with the same bytes: the next run removes the first */
                if (ra == 0)
                        assert_string_equal(a, edited);
                return 2;
        }
        assert_int_equal(ra, 0);
        assert_string_equal(a, edited);
        return 1;
}

static bool rule_there(const char *root) {
        _cleanup_free_ char *p = NULL;
        struct stat st;

        assert_int_not_equal(asprintf(&p, "%s" RULE, root), -1);
        return lstat(p, &st) == 0;
}

/* A revert that keeps an edited file as .rpmsave, failed at each step: the
 * edit is at one of the two names, and the next revert converges. */
static void test_revert_edited_faults(void **state) {
        char *edited = NULL, *root = make_edited_root(&edited);
        int total;

        n_ops = 0;
        vhc_fault_hook = hook;
        assert_int_equal(run(root, true), 0);
        total = n_ops;
        assert_int_equal(where_edit(root, edited), 2);
        assert_false(rule_there(root));
        remove_root(root);
        free(edited);
        for (int i = 0; i < total; i++) {
                root = make_edited_root(&edited);
                n_ops = 0;
                fail_at = i;
                fprintf(stderr, "edited: fault at op %d of %d\n", i, total);
                assert_int_equal(run(root, true), -EIO);
                fail_at = -1;
                (void)where_edit(root, edited);
                assert_int_equal(run(root, true), 0);
                assert_int_equal(where_edit(root, edited), 2);
                assert_false(rule_there(root));
                remove_root(root);
                free(edited);
        }
        vhc_fault_hook = NULL;
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_apply_faults),
                cmocka_unit_test(test_revert_faults),
                cmocka_unit_test(test_revert_edited_faults),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
