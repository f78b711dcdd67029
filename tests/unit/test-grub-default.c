/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "cmdline.h"
#include "fileio.h"
#include "grub-default.h"
#include "strv.h"

#define FIXTURES SRCDIR "/tests/fixtures/grub"
#define MIN_FIXTURES 25
#define MAX_FIXTURE_SIZE (1024 * 1024)

static const char *const wanted[] = {"iommu=pt", "intel_iommu=on", NULL};
static const char *const vars[] = {"GRUB_CMDLINE_LINUX", "GRUB_CMDLINE_LINUX_DEFAULT"};
#define VAR_LINUX 0
#define VAR_DEFAULT 1

/* Failures are reported per fixture and counted, so one run names every
 * fixture that fails rather than stopping at the first. */
#define CHECK(cond, ...)                                                                                    \
        do {                                                                                                \
                if (!(cond)) {                                                                              \
                        print_error("%s:%d: %s: check failed: %s: ", __FILE__, __LINE__, fixture, #cond);   \
                        print_error(__VA_ARGS__);                                                           \
                        print_error("\n");                                                                  \
                        return -1;                                                                          \
                }                                                                                           \
        } while (0)

/* ---- running bash on a text ------------------------------------------------ */

static int write_temp(const char *text, size_t len, char *path, size_t size) {
        int fd;

        snprintf(path, size, "%s/vhc-grub-XXXXXX", getenv("TMPDIR") ?: "/tmp");
        fd = mkostemp(path, O_CLOEXEC);
        if (fd < 0)
                return -errno;
        for (size_t done = 0; done < len;) {
                ssize_t n = write(fd, text + done, len - done);

                if (n < 0) {
                        close(fd);
                        unlink(path);
                        return -errno;
                }
                done += (size_t)n;
        }
        close(fd);
        return 0;
}

/* What "$var" is once bash has sourced path: an argv, no shell string built
 * from data. Unset and empty are both "". */
static int bash_value(const char *path, const char *var, char **ret) {
        _cleanup_free_ char *script = NULL, *out = NULL;
        size_t len = 0, cap = 0;
        int pipefd[2], status;
        pid_t pid;

        if (asprintf(&script, ". \"$1\" >/dev/null 2>&1; printf %%s \"$%s\"", var) < 0)
                return -ENOMEM;
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return -errno;
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                char *const argv[] = {(char *)"bash", (char *)"-c", script,
                                      (char *)"bash", (char *)path, NULL};
                char *const envp[] = {(char *)"PATH=/usr/bin:/bin", (char *)"LC_ALL=C", NULL};
                int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);

                if (devnull < 0 || dup2(devnull, STDIN_FILENO) < 0 || dup2(pipefd[1], STDOUT_FILENO) < 0)
                        _exit(127);
                execve("/bin/bash", argv, envp);
                _exit(127);
        }
        close(pipefd[1]);
        for (;;) {
                ssize_t n;

                if (len + 4096 + 1 > cap) {
                        char *t = realloc(out, cap = len + 65536);

                        if (!t) {
                                close(pipefd[0]);
                                waitpid(pid, NULL, 0);
                                return -ENOMEM;
                        }
                        out = t;
                }
                n = read(pipefd[0], out + len, cap - len - 1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                len += (size_t)n;
        }
        close(pipefd[0]);
        if (waitpid(pid, &status, 0) < 0)
                return -errno;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return -EIO;
        if (!out && !(out = malloc(1)))
                return -ENOMEM;
        out[len] = '\0';
        *ret = TAKE_PTR(out);
        return 0;
}

/* bash's values of both variables for a text. */
static int bash_values(const char *text, size_t len, char *ret[2]) {
        char path[PATH_MAX];
        int r = write_temp(text, len, path, sizeof(path));

        if (r < 0)
                return r;
        for (size_t i = 0; i < 2 && r >= 0; i++)
                r = bash_value(path, vars[i], &ret[i]);
        unlink(path);
        return r;
}

/* ---- the apply operation of the product, on one vhc_grub ------------------- */

enum op_kind { OP_APPEND, OP_REPLACE };

struct op {
        enum op_kind kind;
        size_t var;
        const char *arg;
        char *old; /* OP_REPLACE: the token that was there */
        struct vhc_karg_edit edit;
};

struct ops {
        struct op op[8];
        size_t n;
};

static void ops_done(struct ops *o) {
        for (size_t i = 0; i < o->n; i++)
                free(o->op[i].old);
        o->n = 0;
}

/* Tokens of a variable's value; an unset variable has none. */
static int tokens_of(const struct vhc_grub *g, size_t var, char ***ret) {
        _cleanup_free_ char *val = NULL;
        int r = vhc_grub_get(g, vars[var], &val);

        if (r == -ENOENT)
                return vhc_cmdline_split("", ret);
        if (r < 0)
                return r;
        return vhc_cmdline_split(val, ret);
}

/* For each wanted argument: if the exact token is in either variable, leave
 * it; else if a token with its key is there, replace that one where the kernel
 * sees it last (GRUB_CMDLINE_LINUX_DEFAULT comes after GRUB_CMDLINE_LINUX);
 * else append it to GRUB_CMDLINE_LINUX. */
static int apply(struct vhc_grub *g, struct ops *o, struct vhc_err *e) {
        for (size_t w = 0; wanted[w]; w++) {
                _cleanup_strv_free_ char **lin = NULL, **def = NULL;
                struct op *op = &o->op[o->n];
                ssize_t i;
                int r;

                if ((r = tokens_of(g, VAR_LINUX, &lin)) < 0 || (r = tokens_of(g, VAR_DEFAULT, &def)) < 0)
                        return r;
                if (vhc_cmdline_find(lin, wanted[w]) >= 0 || vhc_cmdline_find(def, wanted[w]) >= 0)
                        continue;

                *op = (struct op){.arg = wanted[w]};
                if ((i = vhc_cmdline_find_key(def, wanted[w])) >= 0) {
                        op->kind = OP_REPLACE;
                        op->var = VAR_DEFAULT;
                        op->old = strdup(def[i]);
                } else if ((i = vhc_cmdline_find_key(lin, wanted[w])) >= 0) {
                        op->kind = OP_REPLACE;
                        op->var = VAR_LINUX;
                        op->old = strdup(lin[i]);
                } else {
                        op->kind = OP_APPEND;
                        op->var = VAR_LINUX;
                }
                if (op->kind == OP_REPLACE && !op->old)
                        return -ENOMEM;
                o->n++;
                if (op->kind == OP_REPLACE)
                        r = vhc_grub_replace_arg(g, vars[op->var], op->old, op->arg, e);
                else
                        r = vhc_grub_append_arg(g, vars[op->var], op->arg, &op->edit, e);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int undo(struct vhc_grub *g, const struct ops *o, struct vhc_err *e) {
        for (size_t i = o->n; i-- > 0;) {
                const struct op *op = &o->op[i];
                int r;

                if (op->kind == OP_REPLACE)
                        r = vhc_grub_replace_arg(g, vars[op->var], op->arg, op->old, e);
                else
                        r = vhc_grub_remove_arg(g, vars[op->var], op->arg, &op->edit, e);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The tokens each variable should have after the ops, from the tokens before. */
static int expected_tokens(char **before[2], const struct ops *o, char **ret[2]) {
        for (size_t v = 0; v < 2; v++) {
                ret[v] = strv_copy(before[v]);
                if (!ret[v])
                        return -ENOMEM;
        }
        for (size_t i = 0; i < o->n; i++) {
                const struct op *op = &o->op[i];
                char **t = ret[op->var];

                if (op->kind == OP_APPEND) {
                        if (strv_push_dup(&ret[op->var], op->arg) < 0)
                                return -ENOMEM;
                        continue;
                }
                ssize_t k = vhc_cmdline_find(t, op->old);
                if (k < 0)
                        return -ENOENT;
                free(t[k]);
                if (!(t[k] = strdup(op->arg)))
                        return -ENOMEM;
        }
        return 0;
}

/* The parameter name as the kernel compares it, written here again so the
 * check does not lean on the code it checks. */
static bool same_param(const char *a, const char *b) {
        for (;;) {
                while (*a == '"')
                        a++;
                while (*b == '"')
                        b++;
                bool end_a = !*a || *a == '=', end_b = !*b || *b == '=';
                if (end_a || end_b)
                        return end_a && end_b;
                if ((*a == '-' ? '_' : *a) != (*b == '-' ? '_' : *b))
                        return false;
                a++, b++;
        }
}

/* On the kernel command line (GRUB_CMDLINE_LINUX, then _DEFAULT), the last
 * token naming arg's parameter. */
static const char *effective(char **tok[2], const char *arg) {
        const char *last = NULL;

        for (size_t v = 0; v < 2; v++)
                for (size_t i = 0; tok[v][i]; i++)
                        if (same_param(tok[v][i], arg))
                                last = tok[v][i];
        return last;
}

static bool strv_equal(char *const *a, char *const *b) {
        size_t i;

        for (i = 0; a[i] && b[i]; i++)
                if (!streq(a[i], b[i]))
                        return false;
        return !a[i] && !b[i];
}

static size_t count(char *const *l, const char *s) {
        size_t n = 0;

        for (size_t i = 0; l && l[i]; i++)
                n += streq(l[i], s);
        return n;
}

/* vhc_grub_get() must say what bash says; an unset variable is "" to bash. */
static int check_get(const char *fixture, const char *when, const struct vhc_grub *g, char *bash[2]) {
        for (size_t v = 0; v < 2; v++) {
                _cleanup_free_ char *val = NULL;
                int r = vhc_grub_get(g, vars[v], &val);

                CHECK(r == 0 || r == -ENOENT, "%s: vhc_grub_get(%s) = %d", when, vars[v], r);
                CHECK(streq(r == 0 ? val : "", bash[v]), "%s: %s: vhc_grub_get '%s', bash '%s'", when,
                      vars[v], r == 0 ? val : "(unset)", bash[v]);
        }
        return 0;
}

static void free_pair(char *p[2]) {
        free(p[0]);
        free(p[1]);
        p[0] = p[1] = NULL;
}

static void strv_free_pair(char **p[2]) {
        strv_free(p[0]);
        strv_free(p[1]);
        p[0] = p[1] = NULL;
}

static int check_fixture_text(const char *fixture, const char *text, size_t len) {
        _cleanup_(vhc_grub_freep) struct vhc_grub *g = NULL, *g2 = NULL;
        char *bash_before[2] = {}, *bash_after[2] = {};
        char **tok_before[2] = {}, **tok_after[2] = {}, **tok_want[2] = {};
        struct ops o = {}, o2 = {};
        _cleanup_free_ char *applied = NULL;
        struct vhc_err e = {};
        const char *t;
        size_t tlen, applied_len;
        int r, ret = -1;

        r = vhc_grub_parse(text, len, fixture, &g, &e);
        CHECK(r == 0, "parse: %d: %s:%u: %s", r, e.file, e.line, e.msg);

        /* As read: vhc_grub_get agrees with bash. */
        if (bash_values(text, len, bash_before) < 0) {
                print_error("%s: running bash on the original\n", fixture);
                goto out;
        }
        if (check_get(fixture, "original", g, bash_before) < 0)
                goto out;
        for (size_t v = 0; v < 2; v++)
                if (vhc_cmdline_split(bash_before[v], &tok_before[v]) < 0) {
                        print_error("%s: %s does not split\n", fixture, vars[v]);
                        goto out;
                }

        /* Apply, then bash sees each argument, once, and the rest unchanged. */
        r = apply(g, &o, &e);
        if (r < 0) {
                print_error("%s: apply: %d: %s:%u: %s\n", fixture, r, e.file, e.line, e.msg);
                goto out;
        }
        t = vhc_grub_text(g, &tlen);
        if (bash_values(t, tlen, bash_after) < 0) {
                print_error("%s: running bash on the applied text\n", fixture);
                goto out;
        }
        if (check_get(fixture, "applied", g, bash_after) < 0)
                goto out;
        if (expected_tokens(tok_before, &o, tok_want) < 0) {
                print_error("%s: expected tokens\n", fixture);
                goto out;
        }
        for (size_t v = 0; v < 2; v++) {
                if (vhc_cmdline_split(bash_after[v], &tok_after[v]) < 0 ||
                    !strv_equal(tok_after[v], tok_want[v])) {
                        _cleanup_free_ char *want = vhc_cmdline_join(tok_want[v]);

                        print_error("%s: %s after apply is '%s', want '%s'\n", fixture, vars[v],
                                    bash_after[v], strempty(want));
                        goto out;
                }
        }
        for (size_t w = 0; wanted[w]; w++) {
                size_t before = count(tok_before[0], wanted[w]) + count(tok_before[1], wanted[w]);
                size_t after = count(tok_after[0], wanted[w]) + count(tok_after[1], wanted[w]);

                if (after != (before > 0 ? before : 1)) {
                        print_error("%s: %s is there %zu times after apply (%zu before)\n", fixture,
                                    wanted[w], after, before);
                        goto out;
                }
                /* What we put there is what the kernel takes. */
                if (before == 0 && !streq(strempty(effective(tok_after, wanted[w])), wanted[w])) {
                        print_error("%s: after apply the kernel takes '%s', not %s\n", fixture,
                                    strempty(effective(tok_after, wanted[w])), wanted[w]);
                        goto out;
                }
        }
        applied_len = tlen;
        applied = malloc(tlen + 1);
        if (!applied)
                goto out;
        memcpy(applied, t, tlen + 1);

        /* Applying again changes nothing, on this object and on a fresh parse. */
        r = apply(g, &o2, &e);
        if (r < 0 || o2.n != 0) {
                print_error("%s: second apply: %d, %zu edits\n", fixture, r, o2.n);
                goto out;
        }
        t = vhc_grub_text(g, &tlen);
        if (tlen != applied_len || memcmp(t, applied, tlen) != 0) {
                print_error("%s: second apply changed the text\n", fixture);
                goto out;
        }
        r = vhc_grub_parse(applied, applied_len, fixture, &g2, &e);
        if (r < 0) {
                print_error("%s: applied text does not parse: %s:%u: %s\n", fixture, e.file, e.line, e.msg);
                goto out;
        }
        r = apply(g2, &o2, &e);
        t = vhc_grub_text(g2, &tlen);
        if (r < 0 || o2.n != 0 || tlen != applied_len || memcmp(t, applied, tlen) != 0) {
                print_error("%s: apply on the re-read applied text: %d, %zu edits\n", fixture, r, o2.n);
                goto out;
        }

        /* Undo gives back the original bytes. */
        r = undo(g, &o, &e);
        if (r < 0) {
                print_error("%s: undo: %d: %s:%u: %s\n", fixture, r, e.file, e.line, e.msg);
                goto out;
        }
        t = vhc_grub_text(g, &tlen);
        if (tlen != len || memcmp(t, text, len) != 0) {
                print_error("%s: undo left %zu bytes, not the original %zu:\n%s\n", fixture, tlen, len, t);
                goto out;
        }
        ret = 0;
out:
        ops_done(&o);
        ops_done(&o2);
        free_pair(bash_before);
        free_pair(bash_after);
        strv_free_pair(tok_before);
        strv_free_pair(tok_after);
        strv_free_pair(tok_want);
        return ret;
}

/* ---- fixtures from the tree ---------------------------------------------- */

static int grub_file(const struct dirent *d) {
        size_t n = strlen(d->d_name);

        return n > 5 && streq(d->d_name + n - 5, ".grub");
}

static int check_fixture_file(const char *dir, const char *name) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        const char *fixture = name;
        size_t len;

        CHECK(asprintf(&path, "%s/%s", dir, name) >= 0, "OOM");
        CHECK(vhc_read_file(path, MAX_FIXTURE_SIZE, &text, &len) == 0, "cannot read %s", path);
        return check_fixture_text(name, text, len);
}

static void test_fixtures(void **state) {
        struct dirent **list = NULL;
        int n = scandir(FIXTURES, &list, grub_file, alphasort), failed = 0;

        assert_true(n >= 0);
        print_message("%d fixtures in %s\n", n, FIXTURES);
        assert_true(n >= MIN_FIXTURES);
        for (int i = 0; i < n; i++) {
                if (check_fixture_file(FIXTURES, list[i]->d_name) < 0)
                        failed++;
                free(list[i]);
        }
        free(list);
        assert_int_equal(failed, 0);
}

/* bad/NAME.line-N.grub: the parse fails with -EINVAL at line N. */
static int check_bad_file(const char *name) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        _cleanup_(vhc_grub_freep) struct vhc_grub *g = NULL;
        struct vhc_err e = {};
        const char *fixture = name, *l = strstr(name, ".line-");
        unsigned line;
        size_t len;
        int r;

        CHECK(l && sscanf(l, ".line-%u.grub", &line) == 1, "name has no .line-N.grub");
        CHECK(asprintf(&path, "%s/bad/%s", FIXTURES, name) >= 0, "OOM");
        CHECK(vhc_read_file(path, MAX_FIXTURE_SIZE, &text, &len) == 0, "cannot read %s", path);
        r = vhc_grub_parse(text, len, name, &g, &e);
        CHECK(r == -EINVAL, "parse returned %d, want -EINVAL", r);
        CHECK(!g, "the result was written on failure");
        CHECK(e.line == line, "error at line %u, want %u (%s)", e.line, line, e.msg);
        CHECK(streq(e.file, name), "error names '%s'", e.file);
        CHECK(e.msg[0] != '\0', "no message");
        return 0;
}

static void test_bad_fixtures(void **state) {
        struct dirent **list = NULL;
        int n = scandir(FIXTURES "/bad", &list, grub_file, alphasort), failed = 0;

        assert_true(n >= 10);
        for (int i = 0; i < n; i++) {
                if (check_bad_file(list[i]->d_name) < 0)
                        failed++;
                free(list[i]);
        }
        free(list);
        assert_int_equal(failed, 0);
}

/* ---- explicit cases -------------------------------------------------------- */

static struct vhc_grub *parse_ok(const char *text) {
        struct vhc_grub *g = NULL;
        struct vhc_err e = {};
        int r = vhc_grub_parse(text, strlen(text), "test", &g, &e);

        if (r < 0)
                print_error("parse: %d: %u: %s\n", r, e.line, e.msg);
        assert_int_equal(r, 0);
        return g;
}

static void assert_text(const struct vhc_grub *g, const char *want) {
        size_t len;
        const char *t = vhc_grub_text(g, &len);

        assert_string_equal(t, want);
        assert_int_equal(len, strlen(want));
}

static void assert_value(const struct vhc_grub *g, const char *var, const char *want) {
        _cleanup_free_ char *v = NULL;

        assert_int_equal(vhc_grub_get(g, var, &v), 0);
        assert_string_equal(v, want);
}

static void assert_bash(const struct vhc_grub *g, const char *want_linux) {
        char *b[2] = {};
        size_t len;
        const char *t = vhc_grub_text(g, &len);

        assert_int_equal(bash_values(t, len, b), 0);
        assert_string_equal(b[0], want_linux);
        free_pair(b);
}

static void append_undo(const char *before, const char *after, const char *value_after) {
        _cleanup_(vhc_grub_freep) struct vhc_grub *g = parse_ok(before);
        struct vhc_karg_edit edit;

        assert_int_equal(vhc_grub_append_arg(g, "GRUB_CMDLINE_LINUX", "iommu=pt", &edit, NULL), 0);
        if (after)
                assert_text(g, after);
        assert_value(g, "GRUB_CMDLINE_LINUX", value_after);
        assert_bash(g, value_after);
        assert_int_equal(vhc_grub_remove_arg(g, "GRUB_CMDLINE_LINUX", "iommu=pt", &edit, NULL), 0);
        assert_text(g, before);
}

static void test_append_empty(void **state) {
        append_undo("GRUB_CMDLINE_LINUX=\"\"\n", "GRUB_CMDLINE_LINUX=\"iommu=pt\"\n", "iommu=pt");
        append_undo("GRUB_CMDLINE_LINUX=''\n", "GRUB_CMDLINE_LINUX='iommu=pt'\n", "iommu=pt");
        append_undo("GRUB_CMDLINE_LINUX=\n", NULL, "iommu=pt");
}

static void test_append_unquoted(void **state) {
        append_undo("GRUB_CMDLINE_LINUX=quiet\n", NULL, "quiet iommu=pt");
        append_undo("GRUB_CMDLINE_LINUX=quiet # mine\nGRUB_TIMEOUT=5\n", NULL, "quiet iommu=pt");
}

static void test_append_single_quoted(void **state) {
        append_undo("GRUB_CMDLINE_LINUX='rhgb quiet'\n", "GRUB_CMDLINE_LINUX='rhgb quiet iommu=pt'\n",
                    "rhgb quiet iommu=pt");
}

static void test_append_double_quoted(void **state) {
        append_undo("GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX=\"rhgb quiet\"\nGRUB_DEFAULT=saved\n",
                    "GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX=\"rhgb quiet iommu=pt\"\nGRUB_DEFAULT=saved\n",
                    "rhgb quiet iommu=pt");
        /* The last assignment gets it. */
        append_undo("GRUB_CMDLINE_LINUX=\"a\"\nGRUB_CMDLINE_LINUX=\"b\"\n",
                    "GRUB_CMDLINE_LINUX=\"a\"\nGRUB_CMDLINE_LINUX=\"b iommu=pt\"\n", "b iommu=pt");
        append_undo("GRUB_CMDLINE_LINUX=\"a\"\nGRUB_CMDLINE_LINUX=\"$GRUB_CMDLINE_LINUX b\"\n",
                    "GRUB_CMDLINE_LINUX=\"a\"\nGRUB_CMDLINE_LINUX=\"$GRUB_CMDLINE_LINUX b iommu=pt\"\n",
                    "a b iommu=pt");
        /* A value that ends in a space gets none more. */
        append_undo("GRUB_CMDLINE_LINUX=\"rhgb quiet \"\n", "GRUB_CMDLINE_LINUX=\"rhgb quiet iommu=pt\"\n",
                    "rhgb quiet iommu=pt");
}

static void test_remove_after_user_arg(void **state) {
        static const char before[] = "GRUB_CMDLINE_LINUX=\"rhgb quiet\"\n";
        _cleanup_(vhc_grub_freep) struct vhc_grub *g = parse_ok(before), *g2 = NULL;
        struct vhc_karg_edit edit;
        struct vhc_err e = {};
        size_t len;
        const char *t;

        assert_int_equal(vhc_grub_append_arg(g, "GRUB_CMDLINE_LINUX", "iommu=pt", &edit, NULL), 0);
        assert_true(edit.space);
        assert_false(edit.line_added);
        t = vhc_grub_text(g, &len);
        assert_string_equal(t, "GRUB_CMDLINE_LINUX=\"rhgb quiet iommu=pt\"\n");

        /* The user adds an argument after ours, and one before. */
        g2 = parse_ok("GRUB_CMDLINE_LINUX=\"rhgb quiet iommu=pt nomodeset\"\n");
        assert_int_equal(vhc_grub_remove_arg(g2, "GRUB_CMDLINE_LINUX", "iommu=pt", &edit, &e), 0);
        assert_text(g2, "GRUB_CMDLINE_LINUX=\"rhgb quiet nomodeset\"\n");
        g2 = vhc_grub_free(g2);

        g2 = parse_ok("GRUB_CMDLINE_LINUX=\"splash rhgb quiet iommu=pt\"\n");
        assert_int_equal(vhc_grub_remove_arg(g2, "GRUB_CMDLINE_LINUX", "iommu=pt", &edit, &e), 0);
        assert_text(g2, "GRUB_CMDLINE_LINUX=\"splash rhgb quiet\"\n");
        g2 = vhc_grub_free(g2);

        /* The user moved ours to the front. */
        g2 = parse_ok("GRUB_CMDLINE_LINUX=\"iommu=pt rhgb quiet\"\n");
        assert_int_equal(vhc_grub_remove_arg(g2, "GRUB_CMDLINE_LINUX", "iommu=pt", &edit, &e), 0);
        assert_text(g2, "GRUB_CMDLINE_LINUX=\"rhgb quiet\"\n");
}

static void test_remove_gone(void **state) {
        _cleanup_(vhc_grub_freep) struct vhc_grub *g = parse_ok("GRUB_CMDLINE_LINUX=\"rhgb quiet\"\n");
        struct vhc_karg_edit edit = {.space = true};

        assert_int_equal(vhc_grub_remove_arg(g, "GRUB_CMDLINE_LINUX", "iommu=pt", &edit, NULL), -ENOENT);
        assert_int_equal(vhc_grub_remove_arg(g, "GRUB_CMDLINE_LINUX_DEFAULT", "iommu=pt", &edit, NULL),
                         -ENOENT);
        /* Only whole tokens: "iommu=pt" is not in "xiommu=pt" or "iommu=ptx". */
        g = vhc_grub_free(g);
        g = parse_ok("GRUB_CMDLINE_LINUX=\"xiommu=pt iommu=ptx\"\n");
        assert_int_equal(vhc_grub_remove_arg(g, "GRUB_CMDLINE_LINUX", "iommu=pt", &edit, NULL), -ENOENT);
        assert_int_equal(vhc_grub_replace_arg(g, "GRUB_CMDLINE_LINUX", "iommu=pt", "iommu=on", NULL),
                         -ENOENT);
}

static void test_line_added_and_removed(void **state) {
        static const char before[] = "GRUB_TIMEOUT=5\nGRUB_DEFAULT=saved\n";
        _cleanup_(vhc_grub_freep) struct vhc_grub *g = parse_ok(before);
        struct vhc_karg_edit e1, e2;

        assert_int_equal(vhc_grub_get(g, "GRUB_CMDLINE_LINUX", &(char *){NULL}), -ENOENT);
        assert_int_equal(vhc_grub_append_arg(g, "GRUB_CMDLINE_LINUX", "iommu=pt", &e1, NULL), 0);
        assert_true(e1.line_added);
        assert_false(e1.newline_added);
        assert_text(g, "GRUB_TIMEOUT=5\nGRUB_DEFAULT=saved\nGRUB_CMDLINE_LINUX=\"iommu=pt\"\n");
        assert_int_equal(vhc_grub_append_arg(g, "GRUB_CMDLINE_LINUX", "intel_iommu=on", &e2, NULL), 0);
        assert_false(e2.line_added);
        assert_text(g,
                    "GRUB_TIMEOUT=5\nGRUB_DEFAULT=saved\nGRUB_CMDLINE_LINUX=\"iommu=pt intel_iommu=on\"\n");
        assert_bash(g, "iommu=pt intel_iommu=on");

        assert_int_equal(vhc_grub_remove_arg(g, "GRUB_CMDLINE_LINUX", "intel_iommu=on", &e2, NULL), 0);
        assert_text(g, "GRUB_TIMEOUT=5\nGRUB_DEFAULT=saved\nGRUB_CMDLINE_LINUX=\"iommu=pt\"\n");
        assert_int_equal(vhc_grub_remove_arg(g, "GRUB_CMDLINE_LINUX", "iommu=pt", &e1, NULL), 0);
        assert_text(g, before);
}

static void test_line_added_user_kept(void **state) {
        /* Our line, but the user put an argument into it: the line stays. */
        _cleanup_(vhc_grub_freep) struct vhc_grub *g =
                parse_ok("GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX=\"iommu=pt nomodeset\"\n");
        struct vhc_karg_edit edit = {.line_added = true};

        assert_int_equal(vhc_grub_remove_arg(g, "GRUB_CMDLINE_LINUX", "iommu=pt", &edit, NULL), 0);
        assert_text(g, "GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX=\"nomodeset\"\n");
}

static void test_no_trailing_newline(void **state) {
        static const char before[] = "GRUB_TIMEOUT=5";
        _cleanup_(vhc_grub_freep) struct vhc_grub *g = parse_ok(before);
        struct vhc_karg_edit edit;

        assert_int_equal(vhc_grub_append_arg(g, "GRUB_CMDLINE_LINUX", "iommu=pt", &edit, NULL), 0);
        assert_true(edit.line_added);
        assert_true(edit.newline_added);
        assert_text(g, "GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX=\"iommu=pt\"\n");
        assert_int_equal(vhc_grub_remove_arg(g, "GRUB_CMDLINE_LINUX", "iommu=pt", &edit, NULL), 0);
        assert_text(g, before);

        /* The assignment is the last line, without its newline. */
        append_undo("GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX=\"quiet\"",
                    "GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX=\"quiet iommu=pt\"", "quiet iommu=pt");
        /* Empty file. */
        append_undo("", "GRUB_CMDLINE_LINUX=\"iommu=pt\"\n", "iommu=pt");
}

static void test_replace_and_back(void **state) {
        static const char before[] = "GRUB_CMDLINE_LINUX=\"rhgb intel_iommu=off quiet\"\n"
                                     "GRUB_CMDLINE_LINUX_DEFAULT=\"intel-iommu=igfx_off\"\n";
        _cleanup_(vhc_grub_freep) struct vhc_grub *g = parse_ok(before);

        assert_int_equal(
                vhc_grub_replace_arg(g, "GRUB_CMDLINE_LINUX", "intel_iommu=off", "intel_iommu=on", NULL), 0);
        assert_int_equal(vhc_grub_replace_arg(g, "GRUB_CMDLINE_LINUX_DEFAULT", "intel-iommu=igfx_off",
                                              "intel_iommu=on", NULL),
                         0);
        assert_text(g, "GRUB_CMDLINE_LINUX=\"rhgb intel_iommu=on quiet\"\n"
                       "GRUB_CMDLINE_LINUX_DEFAULT=\"intel_iommu=on\"\n");
        assert_int_equal(vhc_grub_replace_arg(g, "GRUB_CMDLINE_LINUX_DEFAULT", "intel_iommu=on",
                                              "intel-iommu=igfx_off", NULL),
                         0);
        assert_int_equal(
                vhc_grub_replace_arg(g, "GRUB_CMDLINE_LINUX", "intel_iommu=on", "intel_iommu=off", NULL), 0);
        assert_text(g, before);
}

static void test_replace_last_occurrence(void **state) {
        _cleanup_(vhc_grub_freep) struct vhc_grub *g =
                parse_ok("GRUB_CMDLINE_LINUX=\"iommu=soft quiet iommu=soft\"\n");

        assert_int_equal(vhc_grub_replace_arg(g, "GRUB_CMDLINE_LINUX", "iommu=soft", "iommu=pt", NULL), 0);
        assert_text(g, "GRUB_CMDLINE_LINUX=\"iommu=soft quiet iommu=pt\"\n");
}

static void test_get(void **state) {
        _cleanup_(vhc_grub_freep) struct vhc_grub *g =
                parse_ok("# GRUB_CMDLINE_LINUX=\"commented\"\n"
                         "GRUB_CMDLINE_LINUX_DEFAULT='a \"b c\"'\n"
                         "GRUB_CMDLINE_LINUX=\"x=\\\"1 2\\\" \\$y\"\n");
        char *v = NULL;

        assert_value(g, "GRUB_CMDLINE_LINUX", "x=\"1 2\" $y");
        assert_value(g, "GRUB_CMDLINE_LINUX_DEFAULT", "a \"b c\"");
        assert_int_equal(vhc_grub_get(g, "GRUB_TIMEOUT", &v), -ENOENT);
        assert_null(v);
}

static void test_kernel_unbalanced_value(void **state) {
        /* Valid shell, but the kernel would see an unbalanced quote: the
         * tokenizer refuses the value, so the engine stops there. */
        _cleanup_(vhc_grub_freep) struct vhc_grub *g = parse_ok("GRUB_CMDLINE_LINUX=\"foo=\\\"a b\"\n");
        _cleanup_free_ char *v = NULL;
        char **t = NULL;

        assert_int_equal(vhc_grub_get(g, "GRUB_CMDLINE_LINUX", &v), 0);
        assert_string_equal(v, "foo=\"a b");
        assert_int_equal(vhc_cmdline_split(v, &t), -EINVAL);
        assert_null(t);
}

static void test_parse_error_line(void **state) {
        struct vhc_grub *g = NULL;
        struct vhc_err e = {};
        static const char text[] = "GRUB_TIMEOUT=5\n\n# x\nGRUB_CMDLINE_LINUX=\"a $(echo b)\"\n";

        assert_int_equal(vhc_grub_parse(text, strlen(text), "/etc/default/grub", &g, &e), -EINVAL);
        assert_null(g);
        assert_string_equal(e.file, "/etc/default/grub");
        assert_int_equal(e.line, 4);
}

/* Found by fuzz-grub: undoing a replace writes back whatever token the user
 * had, which may hold characters an argument of ours never has. */
static void test_replace_back_any_token(void **state) {
        static const char before[] = "GRUB_CMDLINE_LINUX=\"rhgb iommu=(soft) intel_iommu=off\xc2\xa0x\"\n";
        _cleanup_(vhc_grub_freep) struct vhc_grub *g = parse_ok(before);

        assert_int_equal(vhc_grub_replace_arg(g, "GRUB_CMDLINE_LINUX", "iommu=(soft)", "iommu=pt", NULL), 0);
        assert_int_equal(vhc_grub_replace_arg(g, "GRUB_CMDLINE_LINUX", "iommu=pt", "iommu=(soft)", NULL), 0);
        assert_text(g, before);
}

/* Found by fuzz-grub: the editor must split a value where the tokenizer (the
 * kernel) does, or a token the tokenizer found cannot be replaced. */
static void test_kernel_separators(void **state) {
        static const char *const seps[] = {"\v", "\f", "\xa0"};

        for (size_t i = 0; i < ELEMENTSOF(seps); i++) {
                _cleanup_(vhc_grub_freep) struct vhc_grub *g = NULL;
                _cleanup_free_ char *text = NULL, *val = NULL;
                _cleanup_strv_free_ char **t = NULL;
                ssize_t k;

                assert_true(asprintf(&text, "GRUB_CMDLINE_LINUX=\"quiet%sintel_iommu=off\"\n", seps[i]) > 0);
                g = parse_ok(text);
                assert_int_equal(vhc_grub_get(g, "GRUB_CMDLINE_LINUX", &val), 0);
                assert_int_equal(vhc_cmdline_split(val, &t), 0);
                k = vhc_cmdline_find_key(t, "intel_iommu=on");
                assert_true(k >= 0);
                assert_int_equal(vhc_grub_replace_arg(g, "GRUB_CMDLINE_LINUX", t[k], "intel_iommu=on", NULL),
                                 0);
                assert_int_equal(vhc_grub_replace_arg(g, "GRUB_CMDLINE_LINUX", "intel_iommu=on", t[k], NULL),
                                 0);
                assert_text(g, text);
        }
}

/* Found by fuzz-grub: a file that ends in a backslash-newline would glue an
 * added line onto its last command. */
static void test_append_after_continuation(void **state) {
        static const char before[] = "GRUB_TIMEOUT=5\\\n";
        _cleanup_(vhc_grub_freep) struct vhc_grub *g = parse_ok(before);
        struct vhc_karg_edit edit;

        assert_int_equal(vhc_grub_append_arg(g, "GRUB_CMDLINE_LINUX", "iommu=pt", &edit, NULL), 0);
        assert_value(g, "GRUB_CMDLINE_LINUX", "iommu=pt");
        assert_value(g, "GRUB_TIMEOUT", "5");
        assert_bash(g, "iommu=pt");
        assert_int_equal(vhc_grub_remove_arg(g, "GRUB_CMDLINE_LINUX", "iommu=pt", &edit, NULL), 0);
        assert_text(g, before);
}

/* A conditional assignment that a later plain one overrides: the plain one
 * takes effect, and is the one edited. */
static void test_conditional_then_plain(void **state) {
        append_undo("[ -e /etc/vfio ] && GRUB_CMDLINE_LINUX=\"a\"\nGRUB_CMDLINE_LINUX=\"b\"\n",
                    "[ -e /etc/vfio ] && GRUB_CMDLINE_LINUX=\"a\"\nGRUB_CMDLINE_LINUX=\"b iommu=pt\"\n",
                    "b iommu=pt");
        /* Redirections and a background job before the line are no list. */
        append_undo("echo hi >&2\nsleep 1 &\nGRUB_CMDLINE_LINUX=\"b\"\n", NULL, "b iommu=pt");
        append_undo("true |\n  cat\nGRUB_CMDLINE_LINUX=\"b\"\n", NULL, "b iommu=pt");
}

/* A user's token taken out (as apply takes out amd_iommu=off): the value
 * lacks it, bash agrees, and putting it back gives the text byte for byte. */
static void take_out_back(const char *before, const char *arg, const char *after, const char *cut) {
        _cleanup_(vhc_grub_freep) struct vhc_grub *g = parse_ok(before);
        _cleanup_free_ char *got = NULL;
        size_t at;

        assert_int_equal(vhc_grub_take_out_arg(g, "GRUB_CMDLINE_LINUX", arg, &at, &got, NULL), 0);
        assert_text(g, after);
        assert_string_equal(got, cut);
        assert_int_equal(vhc_grub_put_back_arg(g, "GRUB_CMDLINE_LINUX", arg, at, got, NULL), 0);
        assert_text(g, before);
}

static void test_take_out_and_back(void **state) {
        /* The GPU server's line: the blank after it goes with it. */
        take_out_back("GRUB_CMDLINE_LINUX=\"rhgb quiet amd_iommu=off iommu=pt\"\n", "amd_iommu=off",
                      "GRUB_CMDLINE_LINUX=\"rhgb quiet iommu=pt\"\n", "amd_iommu=off ");
        /* Last: the blank before it. Alone: no blank. */
        take_out_back("GRUB_CMDLINE_LINUX=\"rhgb quiet amd_iommu=off\"\n", "amd_iommu=off",
                      "GRUB_CMDLINE_LINUX=\"rhgb quiet\"\n", " amd_iommu=off");
        take_out_back("GRUB_CMDLINE_LINUX=\"amd_iommu=off\"\n", "amd_iommu=off", "GRUB_CMDLINE_LINUX=\"\"\n",
                      "amd_iommu=off");
        take_out_back("GRUB_CMDLINE_LINUX=amd_iommu=off\n", "amd_iommu=off", "GRUB_CMDLINE_LINUX=\n",
                      "amd_iommu=off");
        /* A tab, and the second of two. */
        take_out_back("GRUB_CMDLINE_LINUX=\"a\tiommu=off\tb iommu=off\"\n", "iommu=off",
                      "GRUB_CMDLINE_LINUX=\"a\tiommu=off\tb\"\n", " iommu=off");
        /* In the assignment that adds to an earlier one, not in the earlier one. */
        take_out_back("GRUB_CMDLINE_LINUX=\"rhgb quiet\"\n"
                      "GRUB_CMDLINE_LINUX=\"${GRUB_CMDLINE_LINUX} amd_iommu=off\"\n",
                      "amd_iommu=off",
                      "GRUB_CMDLINE_LINUX=\"rhgb quiet\"\n"
                      "GRUB_CMDLINE_LINUX=\"${GRUB_CMDLINE_LINUX}\"\n",
                      " amd_iommu=off");
}

static void test_take_out_refused(void **state) {
        _cleanup_(vhc_grub_freep) struct vhc_grub *g = parse_ok("GRUB_CMDLINE_LINUX=\"a \"amd_iommu=off\n");
        _cleanup_free_ char *cut = NULL;
        size_t at;

        /* Split across quotes: not ours to rewrite. */
        assert_int_equal(vhc_grub_take_out_arg(g, "GRUB_CMDLINE_LINUX", "amd_iommu=off", &at, &cut, NULL),
                         -EINVAL);
        assert_int_equal(vhc_grub_take_out_arg(g, "GRUB_CMDLINE_LINUX", "iommu=off", &at, &cut, NULL), -ENOENT);
        assert_text(g, "GRUB_CMDLINE_LINUX=\"a \"amd_iommu=off\n");
}

/* Edited since the take-out: put back where that still reads as an insertion
 * of the token alone, else appended. */
static void test_put_back_after_edit(void **state) {
        _cleanup_(vhc_grub_freep) struct vhc_grub *g = NULL;
        _cleanup_free_ char *cut = NULL;
        size_t at;

        g = parse_ok("GRUB_CMDLINE_LINUX=\"rhgb quiet amd_iommu=off\"\n");
        assert_int_equal(vhc_grub_take_out_arg(g, "GRUB_CMDLINE_LINUX", "amd_iommu=off", &at, &cut, NULL), 0);
        vhc_grub_free(g);
        /* The user shortened the line before it: the old offset is inside "rhgb". */
        g = parse_ok("GRUB_CMDLINE_LINUX=\"rhgb\"\n");
        assert_int_equal(vhc_grub_put_back_arg(g, "GRUB_CMDLINE_LINUX", "amd_iommu=off", at, cut, NULL), 0);
        assert_text(g, "GRUB_CMDLINE_LINUX=\"rhgb amd_iommu=off\"\n");
        vhc_grub_free(g);
        /* The variable is gone: a line of it again. */
        g = parse_ok("GRUB_TIMEOUT=5\n");
        assert_int_equal(vhc_grub_put_back_arg(g, "GRUB_CMDLINE_LINUX", "amd_iommu=off", at, cut, NULL), 0);
        assert_text(g, "GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX=\"amd_iommu=off\"\n");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_fixtures),
                cmocka_unit_test(test_bad_fixtures),
                cmocka_unit_test(test_append_empty),
                cmocka_unit_test(test_append_unquoted),
                cmocka_unit_test(test_append_single_quoted),
                cmocka_unit_test(test_append_double_quoted),
                cmocka_unit_test(test_remove_after_user_arg),
                cmocka_unit_test(test_remove_gone),
                cmocka_unit_test(test_line_added_and_removed),
                cmocka_unit_test(test_line_added_user_kept),
                cmocka_unit_test(test_no_trailing_newline),
                cmocka_unit_test(test_replace_and_back),
                cmocka_unit_test(test_replace_last_occurrence),
                cmocka_unit_test(test_get),
                cmocka_unit_test(test_kernel_unbalanced_value),
                cmocka_unit_test(test_parse_error_line),
                cmocka_unit_test(test_replace_back_any_token),
                cmocka_unit_test(test_kernel_separators),
                cmocka_unit_test(test_append_after_continuation),
                cmocka_unit_test(test_conditional_then_plain),
                cmocka_unit_test(test_take_out_and_back),
                cmocka_unit_test(test_take_out_refused),
                cmocka_unit_test(test_put_back_after_edit),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
