/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>

#include "cmdline.h"
#include "grub-default.h"
#include "strv.h"

/* The file is read the way sh reads it when grub2-mkconfig sources it, far
 * enough to know, for every byte of the value of GRUB_CMDLINE_LINUX and
 * GRUB_CMDLINE_LINUX_DEFAULT, which source bytes wrote it. Edits then change
 * those source bytes and nothing else, and the text is parsed again. */

#define MAX_LINE 8192

static const char *const checked_vars[] = { "GRUB_CMDLINE_LINUX", "GRUB_CMDLINE_LINUX_DEFAULT" };

enum ctx {
        CTX_UNQUOTED = 'u',
        CTX_DOUBLE = 'd',
        CTX_SINGLE = 's',
};

/* One byte of a value and the source bytes [start, end) that wrote it. */
struct vchar {
        char c;
        char ctx;
        size_t start, end;
};

struct value {
        struct vchar *v;
        size_t n, cap;
        const char *unknown; /* why the value cannot be known, NULL if it can */
        size_t unknown_at;   /* source offset of the reason */
};

struct var {
        char *name;
        struct value val;
        /* The last assignment: where its value word is, and its line. */
        size_t word_start, word_end;
        size_t line_start, line_end; /* line_end: after its '\n' or at EOF */
        bool alone;                  /* the assignment is the only thing on its line */
        bool quoted_end;             /* the word ends with a closing quote */
        char end_ctx;                /* quoting at the end of the word */
};

struct vhc_grub {
        char *text;
        size_t len;
        char *name;
        struct var *vars;
        size_t n_vars;
};

struct parser {
        struct vhc_grub *g;
        const char *t;
        size_t len;
        size_t p;
        int depth; /* inside if/while/case/{...}: assignments there are conditional */
        int paren; /* inside a subshell ( ... ): assignments there never reach the file's shell */
        bool chained; /* the next command follows &&, || or |: it may never run, or runs in a subshell */
        struct vhc_err *e;
};

static void value_done(struct value *v) {
        free(v->v);
        *v = (struct value){};
}

static int value_push(struct value *v, char c, char ctx, size_t start, size_t end) {
        if (v->n == v->cap) {
                size_t cap = v->cap ? v->cap * 2 : 64;
                struct vchar *t = realloc(v->v, cap * sizeof(*t));

                if (!t)
                        return -ENOMEM;
                v->v = t;
                v->cap = cap;
        }
        v->v[v->n++] = (struct vchar){ c, ctx, start, end };
        return 0;
}

static int value_append(struct value *dst, const struct value *src) {
        for (size_t i = 0; i < src->n; i++) {
                int r = value_push(dst, src->v[i].c, src->v[i].ctx, src->v[i].start, src->v[i].end);
                if (r < 0)
                        return r;
        }
        return 0;
}

static void value_unknown(struct value *v, const char *why, size_t at) {
        if (!v->unknown) {
                v->unknown = why;
                v->unknown_at = at;
        }
}

static unsigned line_of(const char *t, size_t off) {
        unsigned line = 1;

        for (size_t i = 0; i < off; i++)
                if (t[i] == '\n')
                        line++;
        return line;
}

_printf_(3, 4) static int fail(struct parser *ps, size_t at, const char *fmt, ...) {
        char msg[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        return vhc_err_set(ps->e, -EINVAL, ps->g->name, line_of(ps->t, at), "%s", msg);
}

static struct var *find_var(const struct vhc_grub *g, const char *name, size_t n) {
        for (size_t i = 0; i < g->n_vars; i++)
                if (strlen(g->vars[i].name) == n && strneq(g->vars[i].name, name, n))
                        return &g->vars[i];
        return NULL;
}

static bool is_name_start(char c) {
        return isalpha((unsigned char)c) || c == '_';
}

static bool is_name_char(char c) {
        return isalnum((unsigned char)c) || c == '_';
}

static bool is_blank(char c) {
        return c == ' ' || c == '\t';
}

/* Characters that end an unquoted word. */
static bool is_word_end(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == ';' || c == '&' || c == '|' || c == '<' ||
               c == '>' || c == '(' || c == ')';
}

/* Skips a command substitution or ${...} from its opening byte at p; returns
 * the offset after its closing byte. Quotes inside are honoured. */
static int skip_nested(struct parser *ps, size_t p, char open, char close, size_t *ret) {
        const char *t = ps->t;
        size_t start = p;
        int depth = 0;

        for (; p < ps->len; p++) {
                char c = t[p];

                if (c == '\\') {
                        p++;
                } else if (c == '\'' && open != '`') {
                        const char *q = memchr(t + p + 1, '\'', ps->len - p - 1);
                        if (!q)
                                return fail(ps, p, "unbalanced single quote");
                        p = (size_t)(q - t);
                } else if (c == '"' && open != '`') {
                        for (p++; p < ps->len && t[p] != '"'; p++)
                                if (t[p] == '\\')
                                        p++;
                        if (p >= ps->len)
                                return fail(ps, start, "unbalanced double quote");
                } else if (open != close && c == open) {
                        depth++;
                } else if (c == close && (open == close ? p > start : --depth == 0)) {
                        *ret = p + 1;
                        return 0;
                }
        }
        return fail(ps, start, "unterminated %s", open == '`' ? "backquote" : open == '(' ? "$(...)" : "${...}");
}

/* A $ expansion at p (t[p] == '$'), expanded into v. */
static int parse_dollar(struct parser *ps, struct value *v, char ctx, size_t *pp) {
        const char *t = ps->t;
        size_t p = *pp, q;
        int r;

        if (p + 1 >= ps->len || !(is_name_start(t[p + 1]) || strchr("{(0123456789?$!#@*-", t[p + 1]))) {
                /* A lone '$' is itself. */
                r = value_push(v, '$', ctx, p, p + 1);
                *pp = p + 1;
                return r;
        }
        if (t[p + 1] == '(') {
                r = skip_nested(ps, p + 1, '(', ')', &q);
                if (r < 0)
                        return r;
                value_unknown(v, "command substitution $(...)", p);
                *pp = q;
                return 0;
        }
        if (t[p + 1] == '{') {
                size_t n = 0;

                while (p + 2 + n < ps->len && is_name_char(t[p + 2 + n]))
                        n++;
                if (n == 0 || p + 2 + n >= ps->len || t[p + 2 + n] != '}') {
                        r = skip_nested(ps, p + 1, '{', '}', &q);
                        if (r < 0)
                                return r;
                        value_unknown(v, "a ${...} expansion with an operator", p);
                        *pp = q;
                        return 0;
                }
                q = p + 2;
                *pp = p + 3 + n;
        } else if (is_name_start(t[p + 1])) {
                size_t n = 0;

                while (p + 1 + n < ps->len && is_name_char(t[p + 1 + n]))
                        n++;
                q = p + 1;
                *pp = p + 1 + n;
        } else {
                value_unknown(v, "a special shell parameter", p);
                *pp = p + 2;
                return 0;
        }

        struct var *ref = find_var(ps->g, t + q, *pp - q - (t[p + 1] == '{'));
        if (!ref)
                value_unknown(v, "a variable this file does not set", p);
        else if (ref->val.unknown)
                value_unknown(v, ref->val.unknown, p);
        else
                return value_append(v, &ref->val);
        return 0;
}

/* One word from p: its value into v (may be NULL), the quoting at its end. */
static int parse_word(struct parser *ps, struct value *v, char *ret_end_ctx, bool *ret_quoted_end) {
        const char *t = ps->t;
        struct value scratch = {};
        char end_ctx = CTX_UNQUOTED;
        bool quoted_end = false;
        int r = 0;

        if (!v)
                v = &scratch;
        while (ps->p < ps->len && !is_word_end(t[ps->p])) {
                size_t p = ps->p;
                char c = t[p];

                quoted_end = false;
                end_ctx = CTX_UNQUOTED;
                if (c == '\\') {
                        if (p + 1 >= ps->len) {
                                r = fail(ps, p, "backslash at the end of the file");
                                goto out;
                        }
                        if (t[p + 1] != '\n')
                                r = value_push(v, t[p + 1], CTX_UNQUOTED, p, p + 2);
                        ps->p = p + 2;
                } else if (c == '\'') {
                        const char *q = memchr(t + p + 1, '\'', ps->len - p - 1);

                        if (!q) {
                                r = fail(ps, p, "unbalanced single quote");
                                goto out;
                        }
                        for (size_t i = p + 1; r >= 0 && t + i < q; i++)
                                r = value_push(v, t[i], CTX_SINGLE, i, i + 1);
                        ps->p = (size_t)(q - t) + 1;
                        quoted_end = true;
                        end_ctx = CTX_SINGLE;
                } else if (c == '"') {
                        size_t i = p + 1;

                        while (r >= 0 && i < ps->len && t[i] != '"') {
                                if (t[i] == '\\' && i + 1 < ps->len && strchr("$`\"\\\n", t[i + 1])) {
                                        if (t[i + 1] != '\n')
                                                r = value_push(v, t[i + 1], CTX_DOUBLE, i, i + 2);
                                        i += 2;
                                } else if (t[i] == '$') {
                                        r = parse_dollar(ps, v, CTX_DOUBLE, &i);
                                } else if (t[i] == '`') {
                                        size_t q;

                                        r = skip_nested(ps, i, '`', '`', &q);
                                        value_unknown(v, "command substitution `...`", i);
                                        i = q;
                                } else {
                                        r = value_push(v, t[i], CTX_DOUBLE, i, i + 1);
                                        i++;
                                }
                        }
                        if (r < 0)
                                goto out;
                        if (i >= ps->len) {
                                r = fail(ps, p, "unbalanced double quote");
                                goto out;
                        }
                        ps->p = i + 1;
                        quoted_end = true;
                        end_ctx = CTX_DOUBLE;
                } else if (c == '$') {
                        r = parse_dollar(ps, v, CTX_UNQUOTED, &ps->p);
                } else if (c == '`') {
                        size_t q;

                        r = skip_nested(ps, p, '`', '`', &q);
                        value_unknown(v, "command substitution `...`", p);
                        ps->p = q;
                } else {
                        r = value_push(v, c, CTX_UNQUOTED, p, p + 1);
                        ps->p = p + 1;
                }
                if (r < 0)
                        goto out;
        }
        if (ret_end_ctx)
                *ret_end_ctx = end_ctx;
        if (ret_quoted_end)
                *ret_quoted_end = quoted_end;
out:
        value_done(&scratch);
        return r;
}

/* Length of "NAME=" at p, or 0 if the word there is not an assignment. */
static size_t assignment_prefix(const struct parser *ps, size_t p) {
        size_t n = 0;

        if (p >= ps->len || !is_name_start(ps->t[p]))
                return 0;
        while (p + n < ps->len && is_name_char(ps->t[p + n]))
                n++;
        return p + n < ps->len && ps->t[p + n] == '=' ? n + 1 : 0;
}

static void skip_blanks(struct parser *ps) {
        for (;;) {
                while (ps->p < ps->len && is_blank(ps->t[ps->p]))
                        ps->p++;
                if (ps->p + 1 < ps->len && ps->t[ps->p] == '\\' && ps->t[ps->p + 1] == '\n')
                        ps->p += 2;
                else
                        return;
        }
}

static size_t line_start_of(const char *t, size_t off) {
        while (off > 0 && t[off - 1] != '\n')
                off--;
        return off;
}

static size_t line_end_of(const char *t, size_t len, size_t off) {
        const char *nl = memchr(t + off, '\n', len - off);

        return nl ? (size_t)(nl - t) + 1 : len;
}

static int set_var(struct parser *ps, size_t name_at, size_t name_len, struct value *val,
                   size_t word_start, size_t word_end, char end_ctx, bool quoted_end, bool alone) {
        struct vhc_grub *g = ps->g;
        struct var *v = find_var(g, ps->t + name_at, name_len);

        if (!v) {
                struct var *t = realloc(g->vars, (g->n_vars + 1) * sizeof(*t));

                if (!t)
                        return -ENOMEM;
                g->vars = t;
                v = &g->vars[g->n_vars];
                *v = (struct var){ .name = strndup(ps->t + name_at, name_len) };
                if (!v->name)
                        return -ENOMEM;
                g->n_vars++;
        }
        value_done(&v->val);
        v->val = *val;
        *val = (struct value){};
        v->word_start = word_start;
        v->word_end = word_end;
        v->line_start = line_start_of(ps->t, name_at);
        v->line_end = line_end_of(ps->t, ps->len, word_end);
        v->end_ctx = end_ctx;
        v->quoted_end = quoted_end;
        v->alone = alone;
        if (ps->depth > 0)
                value_unknown(&v->val, "an assignment inside if/while/case or braces", name_at);
        else if (ps->paren > 0)
                value_unknown(&v->val, "an assignment inside a subshell ( ... )", name_at);
        else if (ps->chained)
                value_unknown(&v->val, "an assignment after &&, || or |, which may never run", name_at);
        return 0;
}

static bool mentions_checked(const char *t, size_t from, size_t to) {
        for (size_t i = 0; i < ELEMENTSOF(checked_vars); i++) {
                size_t n = strlen(checked_vars[i]);

                for (size_t p = from; p + n <= to; p++)
                        if (strneq(t + p, checked_vars[i], n) &&
                            (p + n == to || !is_name_char(t[p + n])) && (p == from || !is_name_char(t[p - 1])))
                                return true;
        }
        return false;
}

static void track_depth(struct parser *ps, size_t word_start, size_t word_end) {
        static const char *const open[] = { "if", "while", "until", "for", "case", "{" };
        static const char *const close[] = { "fi", "done", "esac", "}" };
        size_t n = word_end - word_start;

        for (size_t i = 0; i < ELEMENTSOF(open); i++)
                if (n == strlen(open[i]) && strneq(ps->t + word_start, open[i], n))
                        ps->depth++;
        for (size_t i = 0; i < ELEMENTSOF(close); i++)
                if (n == strlen(close[i]) && strneq(ps->t + word_start, close[i], n) && ps->depth > 0)
                        ps->depth--;
}

static bool word_is(const struct parser *ps, size_t from, size_t to, const char *w) {
        return to - from == strlen(w) && strneq(ps->t + from, w, to - from);
}

/* Commands after which no line of the file can be judged to run. */
static int check_command(struct parser *ps, size_t from, size_t to) {
        if (word_is(ps, from, to, "exit") || word_is(ps, from, to, "return"))
                return fail(ps, from, "cannot follow '%.*s': the lines after it may never run; remove it",
                            (int)(to - from), ps->t + from);
        if (word_is(ps, from, to, "function"))
                return fail(ps, from, "cannot follow a function definition: remove it");
        return 0;
}

/* Marks every variable the statement at stmt_start assigned: it is part of a
 * pipeline or a && || list, or runs in the background. */
static void mark_piped(struct parser *ps, size_t stmt_start) {
        for (size_t i = 0; i < ps->g->n_vars; i++)
                if (ps->g->vars[i].word_start > stmt_start)
                        value_unknown(&ps->g->vars[i].val,
                                      "an assignment in a pipeline, a background job or a && || list", stmt_start);
}

/* A simple command from ps->p to an unquoted newline, ';', '&', '|' or comment. */
static int parse_statement(struct parser *ps) {
        const char *t = ps->t;
        size_t stmt_start = ps->p, first_cmd_word = SIZE_MAX;
        bool only_assignments = true, after_export = false;
        int r, n_words = 0;

        for (;;) {
                size_t word_start, eq;

                skip_blanks(ps);
                if (ps->p >= ps->len || t[ps->p] == '\n' || t[ps->p] == ';' || t[ps->p] == '#' ||
                    t[ps->p] == '&' || t[ps->p] == '|')
                        break;
                if (t[ps->p] == '<' && ps->p + 1 < ps->len && t[ps->p + 1] == '<' &&
                    (ps->p + 2 >= ps->len || t[ps->p + 2] != '<'))
                        /* Its body is data, not commands: not ours to read as either. */
                        return fail(ps, ps->p, "cannot follow a here-document (<<): remove it");
                if (t[ps->p] == '(' && n_words == 1 && first_cmd_word != SIZE_MAX)
                        /* "NAME()": what its body sets takes effect only where it is called. */
                        return fail(ps, stmt_start, "cannot follow a function definition: remove it");
                if ((t[ps->p] == '<' || t[ps->p] == '>') && ps->p + 1 < ps->len && t[ps->p + 1] == '&') {
                        /* ">&2", "<&0": a redirection, not a background job. */
                        only_assignments = false;
                        ps->p += 2;
                        continue;
                }
                if (t[ps->p] == '(' && n_words == 0)
                        ps->paren++;
                else if (t[ps->p] == ')' && ps->paren > 0)
                        ps->paren--;
                if (strchr("<>()", t[ps->p])) {
                        only_assignments = false;
                        ps->p++;
                        continue;
                }
                word_start = ps->p;
                eq = only_assignments ? assignment_prefix(ps, word_start) : 0;
                if (eq > 0) {
                        struct value val = {};
                        char end_ctx;
                        bool quoted_end;
                        size_t after;

                        ps->p = word_start + eq;
                        r = parse_word(ps, &val, &end_ctx, &quoted_end);
                        if (r < 0) {
                                value_done(&val);
                                return r;
                        }
                        after = ps->p;
                        skip_blanks(ps);
                        bool alone = n_words == 0 && !after_export && word_start == line_start_of(t, word_start) &&
                                     (ps->p >= ps->len || t[ps->p] == '\n');
                        r = set_var(ps, word_start, eq - 1, &val, word_start + eq, after, end_ctx, quoted_end,
                                    alone);
                        value_done(&val);
                        if (r < 0)
                                return r;
                        n_words++;
                        continue;
                }
                r = parse_word(ps, NULL, NULL, NULL);
                if (r < 0)
                        return r;
                if (n_words == 0 && !after_export && ps->p - word_start == 6 && strneq(t + word_start, "export", 6)) {
                        after_export = true;
                        continue;
                }
                if (after_export && only_assignments && assignment_prefix(ps, word_start) == 0 &&
                    is_name_start(t[word_start])) {
                        /* "export NAME": changes no value. */
                        bool name = true;
                        for (size_t i = word_start; i < ps->p; i++)
                                name = name && is_name_char(t[i]);
                        if (name) {
                                n_words++;
                                continue;
                        }
                }
                if (first_cmd_word == SIZE_MAX) {
                        first_cmd_word = word_start;
                        track_depth(ps, word_start, ps->p);
                        r = check_command(ps, word_start, ps->p);
                        if (r < 0)
                                return r;
                }
                only_assignments = false;
                n_words++;
        }
        if (ps->p < ps->len && (t[ps->p] == '&' || t[ps->p] == '|'))
                mark_piped(ps, stmt_start);
        ps->chained = false;
        if (!only_assignments && mentions_checked(t, stmt_start, ps->p)) {
                /* "FOO=x cmd", "unset GRUB_CMDLINE_LINUX", "GRUB_CMDLINE_LINUX+=...": not followed. */
                for (size_t i = 0; i < ELEMENTSOF(checked_vars); i++) {
                        struct var *v = find_var(ps->g, checked_vars[i], strlen(checked_vars[i]));
                        if (v)
                                value_unknown(&v->val, "a command that uses it", stmt_start);
                }
                return fail(ps, stmt_start, "cannot follow this command, which uses GRUB_CMDLINE_LINUX: "
                                            "make it a plain assignment");
        }
        return 0;
}

static int parse_all(struct parser *ps) {
        const char *t = ps->t;
        size_t line_start = 0;
        int r;

        for (size_t i = 0; i <= ps->len; i++) {
                if (i == ps->len || t[i] == '\n') {
                        if (i - line_start > MAX_LINE)
                                return fail(ps, line_start, "line longer than %d bytes", MAX_LINE);
                        line_start = i + 1;
                } else if (t[i] == '\0')
                        return fail(ps, i, "NUL byte in the file");
                else if (t[i] == '\r')
                        return fail(ps, i, "carriage return (DOS line ends): convert the file with dos2unix");
        }

        while (ps->p < ps->len) {
                char c = t[ps->p];

                if (c == '&' || c == '|') {
                        /* "a && b", "a || b", "a | b": b may never run, or runs in a subshell;
                         * a newline may come before b. "a & b": b runs in this shell. */
                        bool two = ps->p + 1 < ps->len && t[ps->p + 1] == c;

                        ps->chained = c == '|' || two;
                        ps->p += two ? 2 : 1;
                } else if (c == ';') {
                        ps->chained = false;
                        ps->p++;
                } else if (c == '\n' || is_blank(c)) {
                        ps->p++;
                } else if (c == '\\' && ps->p + 1 < ps->len && t[ps->p + 1] == '\n') {
                        ps->p += 2;
                } else if (c == '#') {
                        const char *nl = memchr(t + ps->p, '\n', ps->len - ps->p);
                        ps->p = nl ? (size_t)(nl - t) : ps->len;
                } else {
                        r = parse_statement(ps);
                        if (r < 0)
                                return r;
                }
        }

        for (size_t i = 0; i < ELEMENTSOF(checked_vars); i++) {
                struct var *v = find_var(ps->g, checked_vars[i], strlen(checked_vars[i]));

                if (v && v->val.unknown)
                        return fail(ps, v->val.unknown_at, "cannot read %s safely: it uses %s", v->name,
                                    v->val.unknown);
        }
        return 0;
}

static void grub_reset(struct vhc_grub *g) {
        for (size_t i = 0; i < g->n_vars; i++) {
                free(g->vars[i].name);
                value_done(&g->vars[i].val);
        }
        free(g->vars);
        g->vars = NULL;
        g->n_vars = 0;
}

static int grub_reparse(struct vhc_grub *g, struct vhc_err *e) {
        struct parser ps = { .g = g, .t = g->text, .len = g->len, .e = e };

        grub_reset(g);
        return parse_all(&ps);
}

int vhc_grub_parse(const char *text, size_t len, const char *name, struct vhc_grub **ret,
                   struct vhc_err *e) {
        _cleanup_(vhc_grub_freep) struct vhc_grub *g = calloc(1, sizeof(*g));
        int r;

        if (!g)
                return -ENOMEM;
        g->text = malloc(len + 1);
        g->name = strdup(strempty(name));
        if (!g->text || !g->name)
                return -ENOMEM;
        memcpy(g->text, text, len);
        g->text[len] = '\0';
        g->len = len;
        r = grub_reparse(g, e);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(g);
        return 0;
}

struct vhc_grub *vhc_grub_free(struct vhc_grub *g) {
        if (g) {
                grub_reset(g);
                free(g->text);
                free(g->name);
                free(g);
        }
        return NULL;
}

const char *vhc_grub_text(const struct vhc_grub *g, size_t *ret_len) {
        if (ret_len)
                *ret_len = g->len;
        return g->text;
}

static const struct var *get_var(const struct vhc_grub *g, const char *var) {
        return find_var(g, var, strlen(var));
}

int vhc_grub_get(const struct vhc_grub *g, const char *var, char **ret) {
        const struct var *v = get_var(g, var);
        char *s;

        if (!v)
                return -ENOENT;
        if (v->val.unknown)
                return -EINVAL;
        s = malloc(v->val.n + 1);
        if (!s)
                return -ENOMEM;
        for (size_t i = 0; i < v->val.n; i++)
                s[i] = v->val.v[i].c;
        s[v->val.n] = '\0';
        *ret = s;
        return 0;
}

/* Replaces text [from, to) by ins, then parses again. On a parse error the
 * edit is undone and -EINVAL returned. With var, the edit must also leave var
 * with exactly the value expect (NULL: unset), or it is undone: every edit
 * proves it did what it meant, whatever the quoting around it. */
static int splice(struct vhc_grub *g, size_t from, size_t to, const char *ins, const char *var,
                  const char *expect, struct vhc_err *e) {
        size_t n = strlen(ins), len = g->len - (to - from) + n;
        char *t = malloc(len + 1), *old = g->text;
        size_t old_len = g->len;
        int r;

        if (!t)
                return -ENOMEM;
        memcpy(t, g->text, from);
        memcpy(t + from, ins, n);
        memcpy(t + from + n, g->text + to, g->len - to);
        t[len] = '\0';
        g->text = t;
        g->len = len;
        r = grub_reparse(g, e);
        if (r >= 0 && var) {
                _cleanup_free_ char *now = NULL;
                int k = vhc_grub_get(g, var, &now);

                if (k == -ENOMEM)
                        r = k;
                else if (expect ? k < 0 || !streq(now, expect) : k != -ENOENT)
                        r = vhc_err_set(e, -EINVAL, g->name, line_of(old, from),
                                        "cannot edit %s here safely (the quoting around it would change "
                                        "what it means): write its value as one double-quoted word",
                                        var);
        }
        if (r < 0) {
                g->text = old;
                g->len = old_len;
                free(t);
                (void)grub_reparse(g, NULL);
                return r;
        }
        free(old);
        return 0;
}

/* The value of v as a string with value chars [from, to) replaced by ins. */
static char *value_with(const struct value *v, size_t from, size_t to, const char *ins) {
        size_t n = strlen(ins);
        char *s = malloc(v->n - (to - from) + n + 1), *p = s;

        if (!s)
                return NULL;
        for (size_t i = 0; i < from; i++)
                *p++ = v->v[i].c;
        memcpy(p, ins, n);
        p += n;
        for (size_t i = to; i < v->n; i++)
                *p++ = v->v[i].c;
        *p = '\0';
        return s;
}

static bool safe_arg(const char *arg) {
        if (!*arg)
                return false;
        for (const char *p = arg; *p; p++)
                if (!isalnum((unsigned char)*p) && !strchr("._,:=/+-", *p))
                        return false;
        return true;
}

/* The kernel's separators (isspace() of lib/ctype.c: Latin-1 NBSP too). */
/* The kernel's separators (isspace() of lib/ctype.c: Latin-1 NBSP too). */
static bool value_is_space(const struct value *v, size_t i) {
        return i < v->n && (strchr(" \t\n\v\f\r", v->v[i].c) || (unsigned char)v->v[i].c == 0xa0) &&
               v->v[i].c != '\0';
}

/* The last whole token equal to arg in the value, honouring the kernel's
 * double quotes: [*ret_from, *ret_to) in value indexes. */
static int find_token(const struct value *v, const char *arg, size_t *ret_from, size_t *ret_to) {
        size_t n = strlen(arg), i = 0;
        bool found = false;

        while (i < v->n) {
                size_t start;
                bool q = false;

                while (value_is_space(v, i))
                        i++;
                if (i >= v->n)
                        break;
                start = i;
                while (i < v->n && (q || !value_is_space(v, i))) {
                        if (v->v[i].c == '"')
                                q = !q;
                        i++;
                }
                if (i - start == n) {
                        size_t k = 0;

                        while (k < n && v->v[start + k].c == arg[k])
                                k++;
                        if (k == n) {
                                *ret_from = start;
                                *ret_to = i;
                                found = true;
                        }
                }
        }
        return found ? 0 : -ENOENT;
}

/* The source bytes of value chars [from, to), if they are one contiguous run. */
static int source_range(const struct vhc_grub *g, const struct value *v, size_t from, size_t to,
                        size_t *ret_start, size_t *ret_end) {
        for (size_t i = from; i + 1 < to; i++)
                if (v->v[i].end != v->v[i + 1].start)
                        return -EINVAL;
        *ret_start = v->v[from].start;
        *ret_end = v->v[to - 1].end;
        return 0;
}

static int unsafe_edit(struct vhc_grub *g, const struct var *v, size_t at, const char *arg, struct vhc_err *e) {
        return vhc_err_set(e, -EINVAL, g->name, line_of(g->text, at),
                           "cannot edit '%s' in %s safely: it is split across quotes; write it as one quoted word",
                           arg, v->name);
}

/* Whether the text ends in an unquoted backslash-newline (parse has checked
 * that no quote is open at the end). */
static bool ends_continued(const struct vhc_grub *g) {
        size_t n = 0;

        if (g->len < 2 || g->text[g->len - 1] != '\n')
                return false;
        while (n + 1 < g->len && g->text[g->len - 2 - n] == '\\')
                n++;
        return n % 2 == 1;
}

int vhc_grub_append_arg(struct vhc_grub *g, const char *var, const char *arg,
                        struct vhc_karg_edit *ret_edit, struct vhc_err *e) {
        const struct var *v = get_var(g, var);
        struct vhc_karg_edit edit = {};
        _cleanup_free_ char *ins = NULL, *expect = NULL, *expect_arg = NULL;
        size_t at;
        int r;

        if (!safe_arg(arg))
                return vhc_err_set(e, -EINVAL, g->name, 0, "internal error: unsafe kernel argument '%s'", arg);

        if (!v) {
                edit.line_added = true;
                /* A new line needs the last one ended, and not continued by a
                 * trailing backslash. */
                edit.newline_added = g->len > 0 && (g->text[g->len - 1] != '\n' || ends_continued(g));
                if (asprintf(&ins, "%s%s=\"%s\"\n", edit.newline_added ? "\n" : "", var, arg) < 0)
                        return -ENOMEM;
                at = g->len;
        } else {
                bool empty = v->val.n == 0 || value_is_space(&v->val, v->val.n - 1);

                edit.space = !empty;
                /* Into the last assignment's word, inside its closing quote if it has one. */
                at = v->quoted_end ? v->word_end - 1 : v->word_end;
                if (asprintf(&ins, "%s%s", !edit.space ? "" : v->end_ctx == CTX_UNQUOTED ? "\\ " : " ", arg) < 0)
                        return -ENOMEM;
        }
        expect = v ? value_with(&v->val, v->val.n, v->val.n, edit.space ? " " : "") : strdup("");
        if (!expect || asprintf(&expect_arg, "%s%s", expect, arg) < 0)
                return -ENOMEM;
        r = splice(g, at, at, ins, var, expect_arg, e);
        if (r < 0)
                return r;
        if (ret_edit)
                *ret_edit = edit;
        return 0;
}

int vhc_grub_remove_arg(struct vhc_grub *g, const char *var, const char *arg,
                        const struct vhc_karg_edit *edit, struct vhc_err *e) {
        const struct var *v = get_var(g, var);
        _cleanup_free_ char *expect = NULL;
        size_t from, to, start, end;
        int r;

        if (!v)
                return -ENOENT;
        r = find_token(&v->val, arg, &from, &to);
        if (r < 0)
                return r;
        /* Take the space the append put before it; else one after it, so no
         * doubled or dangling space is left. An append that put no space
         * (the value was empty or ended in one) takes none before it. */
        if (edit && edit->space && from > 0 && value_is_space(&v->val, from - 1))
                from--;
        else if (value_is_space(&v->val, to))
                to++;
        else if ((!edit || edit->space) && from > 0 && value_is_space(&v->val, from - 1))
                from--;
        if (source_range(g, &v->val, from, to, &start, &end) < 0)
                return unsafe_edit(g, v, v->val.v[from].start, arg, e);
        expect = value_with(&v->val, from, to, "");
        if (!expect)
                return -ENOMEM;
        r = splice(g, start, end, "", var, expect, e);
        if (r < 0)
                return r;

        v = get_var(g, var);
        if (edit && edit->line_added && v && v->val.n == 0 && v->alone && v->word_end - v->word_start == 2 &&
            g->text[v->word_start] == '"') {
                size_t ls = v->line_start, le = v->line_end;

                /* The newline put before our line goes too, if our line is still the last. */
                if (edit->newline_added && le == g->len && ls > 0 && g->text[ls - 1] == '\n')
                        ls--;
                return splice(g, ls, le, "", var, NULL, e);
        }
        return 0;
}

int vhc_grub_replace_arg(struct vhc_grub *g, const char *var, const char *old_arg, const char *new_arg,
                         struct vhc_err *e) {
        const struct var *v = get_var(g, var);
        _cleanup_free_ char *expect = NULL;
        size_t from, to, start, end;
        int r;

        if (!v)
                return -ENOENT;
        r = find_token(&v->val, old_arg, &from, &to);
        if (r < 0)
                return r;
        if (source_range(g, &v->val, from, to, &start, &end) < 0 ||
            end - start != to - from) /* escapes inside: rewriting them is not ours to do */
                return unsafe_edit(g, v, v->val.v[from].start, old_arg, e);
        /* The new text goes where the old was written, in its quoting; splice
         * proves it reads there as itself (a restored original always does). */
        expect = value_with(&v->val, from, to, new_arg);
        if (!expect)
                return -ENOMEM;
        return splice(g, start, end, new_arg, var, expect, e);
}

static bool value_is_blank(const struct value *v, size_t i) {
        return i < v->n && (v->v[i].c == ' ' || v->v[i].c == '\t');
}

int vhc_grub_take_out_arg(struct vhc_grub *g, const char *var, const char *arg, size_t *ret_at, char **ret_cut,
                          struct vhc_err *e) {
        const struct var *v = get_var(g, var);
        _cleanup_free_ char *expect = NULL, *cut = NULL;
        size_t from, to, start, end;
        int r;

        if (!v)
                return -ENOENT;
        r = find_token(&v->val, arg, &from, &to);
        if (r < 0)
                return r;
        if (value_is_blank(&v->val, to))
                to++;
        else if (from > 0 && value_is_blank(&v->val, from - 1))
                from--;
        if (source_range(g, &v->val, from, to, &start, &end) < 0 || end - start != to - from)
                return unsafe_edit(g, v, v->val.v[from].start, arg, e);
        cut = strndup(g->text + start, end - start);
        expect = value_with(&v->val, from, to, "");
        if (!cut || !expect)
                return -ENOMEM;
        r = splice(g, start, end, "", var, expect, e);
        if (r < 0)
                return r;
        *ret_at = start;
        *ret_cut = TAKE_PTR(cut);
        return 0;
}

int vhc_grub_put_back_arg(struct vhc_grub *g, const char *var, const char *arg, size_t at, const char *cut,
                          struct vhc_err *e) {
        if (at <= g->len && get_var(g, var)) {
                _cleanup_(vhc_grub_freep) struct vhc_grub *n = NULL;
                _cleanup_strv_free_ char **now = NULL, **then = NULL;
                _cleanup_free_ char *text = NULL, *value = NULL, *expect = NULL;
                size_t c = strlen(cut);
                int r;

                text = malloc(g->len + c + 1);
                if (!text)
                        return -ENOMEM;
                memcpy(text, g->text, at);
                memcpy(text + at, cut, c);
                memcpy(text + at + c, g->text + at, g->len - at);
                text[g->len + c] = '\0';
                r = vhc_grub_parse(text, g->len + c, g->name, &n, NULL);
                if (r >= 0)
                        r = vhc_grub_get(g, var, &value);
                if (r >= 0)
                        r = vhc_grub_get(n, var, &expect);
                if (r >= 0)
                        r = vhc_cmdline_split(value, &now);
                if (r >= 0)
                        r = vhc_cmdline_split(expect, &then);
                if (r == -ENOMEM)
                        return r;
                if (r >= 0 && vhc_cmdline_is_insertion(now, then, arg)) {
                        r = splice(g, at, at, cut, var, expect, NULL);
                        if (r >= 0 || r == -ENOMEM)
                                return r;
                }
        }
        /* Edited since: where it was is not known any more. */
        return vhc_grub_append_arg(g, var, arg, NULL, e);
}
