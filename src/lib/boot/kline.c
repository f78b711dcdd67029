/* SPDX-License-Identifier: MIT */
#include <stdint.h>
#include "cmdline.h"
#include "kline.h"
#include "strv.h"

/* Where the arguments of one line are written: [start, end) is the value
 * without the blanks around it; key_end is the end of the key ("options"),
 * [line_start, line_end) the line without its newline. */
struct seg {
        size_t line_start, key_end, start, end, line_end;
};

struct vhc_kline {
        char *text;
        size_t len;
        enum vhc_kline_format format;
        bool first_only;
        char *name;
        struct seg *seg;
        size_t n_seg;
};

static const char OPTIONS[] = "options";

struct vhc_kline *vhc_kline_free(struct vhc_kline *k) {
        if (k) {
                free(k->text);
                free(k->name);
                free(k->seg);
                free(k);
        }
        return NULL;
}

static bool is_blank(char c) {
        return c == ' ' || c == '\t';
}

static unsigned line_of(const char *t, size_t off) {
        unsigned n = 1;

        for (size_t i = 0; i < off; i++)
                n += t[i] == '\n';
        return n;
}

/* The segments whose tokens count. */
static size_t n_counting(const struct vhc_kline *k) {
        return k->first_only && k->n_seg > 1 ? 1 : k->n_seg;
}

static int push_seg(struct vhc_kline *k, struct seg s) {
        struct seg *t = realloc(k->seg, (k->n_seg + 1) * sizeof(*t));

        if (!t)
                return -ENOMEM;
        k->seg = t;
        k->seg[k->n_seg++] = s;
        return 0;
}

static int scan_bls(struct vhc_kline *k) {
        for (size_t p = 0; p < k->len;) {
                const char *nl = memchr(k->text + p, '\n', k->len - p);
                size_t le = nl ? (size_t)(nl - k->text) : k->len, ce = le, q = p, kend, vs, ve;
                int r;

                if (ce > p && k->text[ce - 1] == '\r')
                        ce--;
                while (q < ce && is_blank(k->text[q]))
                        q++;
                if (q < ce && k->text[q] != '#') {
                        for (kend = q; kend < ce && !is_blank(k->text[kend]); kend++)
                                ;
                        if (kend - q == strlen(OPTIONS) && memcmp(k->text + q, OPTIONS, kend - q) == 0) {
                                for (vs = kend; vs < ce && is_blank(k->text[vs]); vs++)
                                        ;
                                for (ve = ce; ve > vs && vhc_cmdline_isspace(k->text[ve - 1]); ve--)
                                        ;
                                r = push_seg(k, (struct seg){ p, kend, vs, ve, le });
                                if (r < 0)
                                        return r;
                        }
                }
                p = nl ? le + 1 : k->len;
        }
        return 0;
}

static int scan(struct vhc_kline *k, struct vhc_err *e) {
        int r;

        free(k->seg);
        k->seg = NULL;
        k->n_seg = 0;
        if (memchr(k->text, '\0', k->len))
                return vhc_err_set(e, -EINVAL, k->name, line_of(k->text, strlen(k->text)),
                                   "holds a NUL byte: not a text file this tool can edit");
        if (k->format == VHC_KLINE_CMDLINE) {
                size_t end = k->len;

                while (end > 0 && vhc_cmdline_isspace(k->text[end - 1]))
                        end--;
                r = push_seg(k, (struct seg){ 0, 0, 0, end, k->len });
        } else
                r = scan_bls(k);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n_counting(k); i++) {
                _cleanup_free_ struct vhc_cmdline_range *t = NULL;
                size_t n;

                r = vhc_cmdline_ranges(k->text + k->seg[i].start, k->seg[i].end - k->seg[i].start, &t, &n);
                if (r == -EINVAL)
                        return vhc_err_set(e, r, k->name, line_of(k->text, k->seg[i].start),
                                           "unbalanced double quote in the kernel arguments: fix it first");
                if (r < 0)
                        return r;
        }
        return 0;
}

int vhc_kline_parse(const char *text, size_t len, enum vhc_kline_format format, bool first_only,
                    const char *name, struct vhc_kline **ret, struct vhc_err *e) {
        _cleanup_(vhc_kline_freep) struct vhc_kline *k = calloc(1, sizeof(*k));
        int r;

        if (!k)
                return -ENOMEM;
        k->text = malloc(len + 1);
        k->name = strdup(strempty(name));
        if (!k->text || !k->name)
                return -ENOMEM;
        memcpy(k->text, text, len);
        k->text[len] = '\0';
        k->len = len;
        k->format = format;
        k->first_only = first_only;
        r = scan(k, e);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(k);
        return 0;
}

const char *vhc_kline_text(const struct vhc_kline *k, size_t *ret_len) {
        if (ret_len)
                *ret_len = k->len;
        return k->text;
}

/* Every counting token as an absolute byte range, in order. */
static int all_ranges(const struct vhc_kline *k, struct vhc_cmdline_range **ret, size_t *ret_n) {
        _cleanup_free_ struct vhc_cmdline_range *all = NULL;
        size_t n = 0;

        for (size_t i = 0; i < n_counting(k); i++) {
                _cleanup_free_ struct vhc_cmdline_range *t = NULL;
                struct vhc_cmdline_range *a;
                size_t m;
                int r;

                r = vhc_cmdline_ranges(k->text + k->seg[i].start, k->seg[i].end - k->seg[i].start, &t, &m);
                if (r < 0)
                        return r;
                a = realloc(all, (n + m + 1) * sizeof(*a));
                if (!a)
                        return -ENOMEM;
                all = a;
                for (size_t j = 0; j < m; j++)
                        all[n++] = (struct vhc_cmdline_range){ t[j].start + k->seg[i].start,
                                                               t[j].end + k->seg[i].start };
        }
        *ret = TAKE_PTR(all);
        *ret_n = n;
        return 0;
}

int vhc_kline_tokens(const struct vhc_kline *k, char ***ret) {
        _cleanup_free_ struct vhc_cmdline_range *t = NULL;
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        size_t n;
        int r;

        if (!l)
                return -ENOMEM;
        r = all_ranges(k, &t, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                if (strv_consume(&l, strndup(k->text + t[i].start, t[i].end - t[i].start)) < 0)
                        return -ENOMEM;
        *ret = TAKE_PTR(l);
        return 0;
}

int vhc_kline_get(const struct vhc_kline *k, const char *key, char **ret) {
        size_t klen = strlen(key);

        for (size_t p = 0; p < k->len;) {
                const char *nl = memchr(k->text + p, '\n', k->len - p);
                size_t le = nl ? (size_t)(nl - k->text) : k->len, ce = le, q = p, kend, vs, ve;

                if (ce > p && k->text[ce - 1] == '\r')
                        ce--;
                while (q < ce && is_blank(k->text[q]))
                        q++;
                for (kend = q; kend < ce && !is_blank(k->text[kend]); kend++)
                        ;
                if (q < ce && k->text[q] != '#' && kend - q == klen && memcmp(k->text + q, key, klen) == 0) {
                        for (vs = kend; vs < ce && is_blank(k->text[vs]); vs++)
                                ;
                        for (ve = ce; ve > vs && is_blank(k->text[ve - 1]); ve--)
                                ;
                        *ret = strndup(k->text + vs, ve - vs);
                        return *ret ? 0 : -ENOMEM;
                }
                p = nl ? le + 1 : k->len;
        }
        return -ENOENT;
}

/* What we add: one token that reads the same to the kernel, to systemd-boot,
 * to GRUB's blscfg (which expands $ and honours quotes and backslashes) and to
 * kernel-install's shell. */
static bool safe_arg(const char *arg) {
        if (!arg[0])
                return false;
        for (const char *p = arg; *p; p++)
                if (!(('a' <= *p && *p <= 'z') || ('A' <= *p && *p <= 'Z') || ('0' <= *p && *p <= '9') ||
                      strchr("-_.,:=+/@%", *p)))
                        return false;
        return true;
}

/* Replaces [from, to) by ins and reads the text again; the tokens must then be
 * expect, or nothing is changed. */
static int splice(struct vhc_kline *k, size_t from, size_t to, const char *ins, char *const *expect,
                  struct vhc_err *e) {
        _cleanup_(vhc_kline_freep) struct vhc_kline *n = NULL;
        _cleanup_strv_free_ char **got = NULL;
        _cleanup_free_ char *text = NULL;
        size_t ins_len = strlen(ins), len = k->len - (to - from) + ins_len;
        struct vhc_kline tmp;
        bool same;
        int r;

        text = malloc(len + 1);
        if (!text)
                return -ENOMEM;
        memcpy(text, k->text, from);
        memcpy(text + from, ins, ins_len);
        memcpy(text + from + ins_len, k->text + to, k->len - to);
        text[len] = '\0';
        r = vhc_kline_parse(text, len, k->format, k->first_only, k->name, &n, NULL);
        if (r == -ENOMEM)
                return r;
        if (r >= 0)
                r = vhc_kline_tokens(n, &got);
        if (r == -ENOMEM)
                return r;
        same = r >= 0 && strv_length(got) == strv_length(expect);
        for (size_t i = 0; same && got[i]; i++)
                same = streq(got[i], expect[i]);
        if (!same)
                return vhc_err_set(e, -EINVAL, k->name, line_of(k->text, from),
                                   "internal error: an edit of the kernel arguments would not read back as "
                                   "meant; nothing changed");
        tmp = *k;
        *k = *n;
        *n = tmp;
        return 0;
}

/* The tokens with the one at index i replaced by with (NULL: taken out), or
 * with appended (i == SIZE_MAX). */
static int expected(const struct vhc_kline *k, size_t i, const char *with, char ***ret) {
        _cleanup_strv_free_ char **l = NULL, **out = calloc(1, sizeof(char *));
        int r;

        if (!out)
                return -ENOMEM;
        r = vhc_kline_tokens(k, &l);
        if (r < 0)
                return r;
        for (size_t j = 0; l[j]; j++) {
                const char *s = j == i ? with : l[j];

                if (s && strv_push_dup(&out, s) < 0)
                        return -ENOMEM;
        }
        if (i == SIZE_MAX && strv_push_dup(&out, with) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(out);
        return 0;
}

int vhc_kline_append(struct vhc_kline *k, const char *arg, struct vhc_karg_edit *ret_edit, struct vhc_err *e) {
        _cleanup_strv_free_ char **expect = NULL;
        _cleanup_free_ char *ins = NULL;
        struct vhc_karg_edit edit = {};
        size_t at;
        int r;

        if (!safe_arg(arg))
                return vhc_err_set(e, -EINVAL, k->name, 0, "internal error: unsafe kernel argument '%s'", arg);
        r = expected(k, SIZE_MAX, arg, &expect);
        if (r < 0)
                return r;
        if (k->n_seg == 0) {
                /* A BLS entry without options: a line of ours at its end. */
                edit.line_added = true;
                edit.newline_added = k->len > 0 && k->text[k->len - 1] != '\n';
                at = k->len;
                ins = strprintf("%s%s %s\n", edit.newline_added ? "\n" : "", OPTIONS, arg);
        } else {
                const struct seg *s = &k->seg[k->first_only ? 0 : k->n_seg - 1];

                if (s->end > s->start) {
                        edit.space = true;
                        at = s->end;
                } else if (k->format == VHC_KLINE_BLS && s->start == s->key_end) {
                        /* "options" alone: the blank that separates goes in too. */
                        edit.space = true;
                        at = s->key_end;
                } else
                        at = s->start;
                ins = strprintf("%s%s", edit.space ? " " : "", arg);
        }
        if (!ins)
                return -ENOMEM;
        r = splice(k, at, at, ins, expect, e);
        if (r < 0)
                return r;
        if (ret_edit)
                *ret_edit = edit;
        return 0;
}

/* The index and range of the last counting token that is exactly arg. */
static int find(const struct vhc_kline *k, const char *arg, size_t *ret_i, struct vhc_cmdline_range *ret) {
        _cleanup_free_ struct vhc_cmdline_range *t = NULL;
        size_t n, alen = strlen(arg);
        int r;

        r = all_ranges(k, &t, &n);
        if (r < 0)
                return r;
        for (size_t i = n; i-- > 0;)
                if (t[i].end - t[i].start == alen && memcmp(k->text + t[i].start, arg, alen) == 0) {
                        *ret_i = i;
                        *ret = t[i];
                        return 0;
                }
        return -ENOENT;
}

/* The segment that holds offset at. */
static const struct seg *seg_at(const struct vhc_kline *k, size_t at) {
        for (size_t i = 0; i < k->n_seg; i++)
                if (k->seg[i].line_start <= at && at <= k->seg[i].line_end)
                        return &k->seg[i];
        return NULL;
}

/* The last counting token that is exactly arg: its range, its segment, and
 * the tokens as they are without it. -ENOENT if arg is not there. */
static int find_for_removal(const struct vhc_kline *k, const char *arg, size_t *ret_from, size_t *ret_to,
                            const struct seg **ret_seg, char ***ret_expect) {
        struct vhc_cmdline_range t;
        size_t i;
        int r;

        r = find(k, arg, &i, &t);
        if (r < 0)
                return r;
        *ret_seg = seg_at(k, t.start);
        if (!*ret_seg)
                return -ENOENT;
        *ret_from = t.start;
        *ret_to = t.end;
        return expected(k, i, NULL, ret_expect);
}

int vhc_kline_remove(struct vhc_kline *k, const char *arg, const struct vhc_karg_edit *edit,
                     struct vhc_err *e) {
        _cleanup_strv_free_ char **expect = NULL;
        const struct seg *s;
        size_t from, to;
        int r;

        r = find_for_removal(k, arg, &from, &to, &s, &expect);
        if (r < 0)
                return r;
        /* The blank the append put before it; else one after it, so no doubled
         * or dangling blank is left. An append that put none takes none. */
        if (edit && edit->space) {
                if (from > s->key_end && is_blank(k->text[from - 1]))
                        from--;
                else if (to < s->line_end && is_blank(k->text[to]))
                        to++;
        }
        r = splice(k, from, to, "", expect, e);
        if (r < 0)
                return r;

        s = seg_at(k, from);
        if (edit && edit->line_added && s && s->start == s->end &&
            s->line_end - s->line_start == strlen(OPTIONS) + 1 &&
            memcmp(k->text + s->line_start, OPTIONS, strlen(OPTIONS)) == 0 && k->text[s->key_end] == ' ') {
                /* Our own options line, with nothing but our blank left. */
                size_t ls = s->line_start, le = s->line_end < k->len ? s->line_end + 1 : s->line_end;

                if (edit->newline_added && le == k->len && ls > 0 && k->text[ls - 1] == '\n')
                        ls--;
                return splice(k, ls, le, "", expect, e);
        }
        return 0;
}

int vhc_kline_replace(struct vhc_kline *k, const char *old_arg, const char *new_arg, struct vhc_err *e) {
        _cleanup_strv_free_ char **expect = NULL;
        struct vhc_cmdline_range t;
        size_t i;
        int r;

        r = find(k, old_arg, &i, &t);
        if (r < 0)
                return r;
        r = expected(k, i, new_arg, &expect);
        if (r < 0)
                return r;
        return splice(k, t.start, t.end, new_arg, expect, e);
}

int vhc_kline_take_out(struct vhc_kline *k, const char *arg, size_t *ret_at, char **ret_cut, struct vhc_err *e) {
        _cleanup_strv_free_ char **expect = NULL;
        _cleanup_free_ char *cut = NULL;
        const struct seg *s;
        size_t from, to;
        int r;

        r = find_for_removal(k, arg, &from, &to, &s, &expect);
        if (r < 0)
                return r;
        if (to < s->line_end && is_blank(k->text[to]))
                to++;
        else if (from > s->key_end && is_blank(k->text[from - 1]))
                from--;
        cut = strndup(k->text + from, to - from);
        if (!cut)
                return -ENOMEM;
        r = splice(k, from, to, "", expect, e);
        if (r < 0)
                return r;
        *ret_at = from;
        *ret_cut = TAKE_PTR(cut);
        return 0;
}

int vhc_kline_put_back(struct vhc_kline *k, const char *arg, size_t at, const char *cut, struct vhc_err *e) {
        if (at <= k->len) {
                _cleanup_(vhc_kline_freep) struct vhc_kline *n = NULL;
                _cleanup_strv_free_ char **now = NULL, **then = NULL;
                _cleanup_free_ char *text = NULL;
                size_t c = strlen(cut);
                int r;

                text = malloc(k->len + c + 1);
                if (!text)
                        return -ENOMEM;
                memcpy(text, k->text, at);
                memcpy(text + at, cut, c);
                memcpy(text + at + c, k->text + at, k->len - at);
                text[k->len + c] = '\0';
                r = vhc_kline_parse(text, k->len + c, k->format, k->first_only, k->name, &n, NULL);
                if (r >= 0)
                        r = vhc_kline_tokens(n, &then);
                if (r >= 0)
                        r = vhc_kline_tokens(k, &now);
                if (r == -ENOMEM)
                        return r;
                if (r >= 0 && vhc_cmdline_is_insertion(now, then, arg))
                        return splice(k, at, at, cut, then, e);
        }
        /* Edited since: where it was is not known any more. */
        return vhc_kline_append(k, arg, NULL, e);
}
