/* SPDX-License-Identifier: MIT */
#include <stdint.h>

#include "macro.h"
#include "udiff.h"

struct line {
        const char *s;
        size_t n;  /* without the newline */
        bool eol;  /* ends with a newline */
};

static int split_lines(const char *t, size_t len, struct line **ret, size_t *ret_n) {
        struct line *v = NULL;
        size_t n = 0;

        for (size_t p = 0; t && p < len;) {
                const char *nl = memchr(t + p, '\n', len - p);
                size_t e = nl ? (size_t)(nl - t) : len;
                struct line *x = realloc(v, (n + 1) * sizeof(*v));

                if (!x) {
                        free(v);
                        return -ENOMEM;
                }
                v = x;
                v[n++] = (struct line){ t + p, e - p, nl != NULL };
                p = e + 1;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

static bool line_eq(const struct line *a, const struct line *b) {
        return a->n == b->n && a->eol == b->eol && memcmp(a->s, b->s, a->n) == 0;
}

enum op { SAME, DEL, ADD };

static void print_line(FILE *f, char c, const struct line *l) {
        fputc(c, f);
        fwrite(l->s, 1, l->n, f);
        fputc('\n', f);
        if (!l->eol)
                fputs("\\ No newline at end of file\n", f);
}

int vhc_udiff(FILE *f, const char *a_label, const char *a, size_t a_len, const char *b_label,
              const char *b, size_t b_len) {
        _cleanup_free_ struct line *la = NULL, *lb = NULL;
        _cleanup_free_ uint32_t *lcs = NULL;
        _cleanup_free_ enum op *ops = NULL;
        _cleanup_free_ size_t *ia = NULL, *ib = NULL;
        size_t na, nb, n_ops = 0, i, j;
        int r;

        r = split_lines(a, a_len, &la, &na);
        if (r < 0)
                return r;
        r = split_lines(b, b_len, &lb, &nb);
        if (r < 0)
                return r;
        if ((na + 1) * (nb + 1) > (size_t)64 << 20)
                return -EFBIG;

        /* Longest common subsequence of lines, from the end. */
        lcs = calloc((na + 1) * (nb + 1), sizeof(*lcs));
        ops = calloc(na + nb + 1, sizeof(*ops));
        ia = calloc(na + nb + 1, sizeof(*ia));
        ib = calloc(na + nb + 1, sizeof(*ib));
        if (!lcs || !ops || !ia || !ib)
                return -ENOMEM;
#define L(x, y) lcs[(x) * (nb + 1) + (y)]
        for (i = na; i-- > 0;)
                for (j = nb; j-- > 0;)
                        L(i, j) = line_eq(&la[i], &lb[j]) ? L(i + 1, j + 1) + 1
                                  : L(i + 1, j) >= L(i, j + 1) ? L(i + 1, j)
                                                               : L(i, j + 1);
        for (i = 0, j = 0; i < na || j < nb;) {
                ia[n_ops] = i;
                ib[n_ops] = j;
                if (i < na && j < nb && line_eq(&la[i], &lb[j])) {
                        ops[n_ops++] = SAME;
                        i++, j++;
                } else if (j >= nb || (i < na && L(i + 1, j) >= L(i, j + 1))) {
                        ops[n_ops++] = DEL;
                        i++;
                } else {
                        ops[n_ops++] = ADD;
                        j++;
                }
        }
#undef L

        fprintf(f, "--- %s\n+++ %s\n", a ? a_label : "/dev/null", b ? b_label : "/dev/null");
        for (size_t k = 0; k < n_ops;) {
                size_t start, end, ca = 0, cb = 0;

                while (k < n_ops && ops[k] == SAME)
                        k++;
                if (k >= n_ops)
                        break;
                start = k >= 3 ? k - 3 : 0;
                /* Extend the hunk while changes are within 6 lines of each other. */
                end = k;
                for (;;) {
                        size_t same = 0;

                        while (end < n_ops && ops[end] != SAME)
                                end++;
                        while (end + same < n_ops && ops[end + same] == SAME)
                                same++;
                        if (end + same >= n_ops || same > 6) {
                                end += same < 3 ? same : 3;
                                break;
                        }
                        end += same;
                }
                for (size_t x = start; x < end; x++) {
                        ca += ops[x] != ADD;
                        cb += ops[x] != DEL;
                }
                fprintf(f, "@@ -%zu,%zu +%zu,%zu @@\n", ca ? ia[start] + 1 : ia[start], ca,
                        cb ? ib[start] + 1 : ib[start], cb);
                for (size_t x = start; x < end; x++)
                        print_line(f, ops[x] == SAME ? ' ' : ops[x] == DEL ? '-' : '+',
                                   ops[x] == ADD ? &lb[ib[x]] : &la[ia[x]]);
                k = end;
        }
        return 0;
}
