/* SPDX-License-Identifier: MIT */
/* Properties of the kernel-argument tokenizer on arbitrary text; abort() on a
 * violation. */
#include <stdint.h>

#include "cmdline.h"
#include "strv.h"

static bool is_sep(char c) {
        return strchr(" \t\n\v\f\r\xa0", c) && c != '\0';
}

static size_t quotes(const char *s) {
        size_t n = 0;

        for (; *s; s++)
                n += *s == '"';
        return n;
}

static bool strv_equal(char *const *a, char *const *b) {
        size_t i;

        for (i = 0; a[i] && b[i]; i++)
                if (!streq(a[i], b[i]))
                        return false;
        return !a[i] && !b[i];
}

/* The key is the token's text before its first '=', quotes dropped, '-' as '_'. */
static void check_key(const char *tok) {
        _cleanup_free_ char *key = vhc_cmdline_key(tok);
        const char *k;

        if (!key)
                return;
        k = key;
        for (const char *p = tok; *p && *p != '='; p++) {
                if (*p == '"')
                        continue;
                if (*k != (*p == '-' ? '_' : *p))
                        abort();
                k++;
        }
        if (*k != '\0' || strchr(key, '=') || strchr(key, '"') || strchr(key, '-'))
                abort();
        if (!vhc_cmdline_same_key(tok, tok) || !vhc_cmdline_same_key(tok, key))
                abort();
}

static void check_tokens(char *const *t) {
        size_t n = strv_length(t);

        for (size_t i = 0; i < n; i++) {
                const char *tok = t[i];
                bool q = false;
                ssize_t f, fk;

                /* Not empty, separators only inside quotes, quotes balanced. */
                if (!*tok || quotes(tok) % 2 != 0)
                        abort();
                for (const char *p = tok; *p; p++) {
                        if (*p == '"')
                                q = !q;
                        else if (is_sep(*p) && !q)
                                abort();
                }
                check_key(tok);

                /* find and find_key give the last match, at or after i. */
                f = vhc_cmdline_find(t, tok);
                fk = vhc_cmdline_find_key(t, tok);
                if (f < (ssize_t)i || !streq(t[f], tok) || fk < f)
                        abort();
                for (size_t j = (size_t)f + 1; j < n; j++)
                        if (streq(t[j], tok))
                                abort();
                if (fk >= 0 && !vhc_cmdline_same_key(t[fk], tok))
                        abort();
                for (size_t j = (size_t)fk + 1; j < n; j++)
                        if (vhc_cmdline_same_key(t[j], tok))
                                abort();
                if (vhc_cmdline_same_key(tok, t[0]) != vhc_cmdline_same_key(t[0], tok))
                        abort();
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *s = strndup((const char *)data, size), *joined = NULL, *twice = NULL;
        _cleanup_strv_free_ char **t = NULL, **t2 = NULL, **t3 = NULL;
        size_t len = 0;
        int r;

        if (!s)
                return 0;
        r = vhc_cmdline_split(s, &t);
        /* It fails exactly when a double quote is left open. */
        if ((r == -EINVAL) != (quotes(s) % 2 != 0))
                abort();
        if (r < 0)
                return 0;
        check_tokens(t);

        /* split(join(split(x))) == split(x), and join spaces them by one. */
        joined = vhc_cmdline_join(t);
        if (!joined)
                return 0;
        for (size_t i = 0; t[i]; i++)
                len += strlen(t[i]) + (i > 0);
        if (strlen(joined) != len)
                abort();
        if (vhc_cmdline_split(joined, &t2) < 0 || !strv_equal(t, t2))
                abort();

        /* Splitting "x x" gives the tokens of x twice. */
        if (asprintf(&twice, "%s %s", s, s) < 0)
                return 0;
        if (vhc_cmdline_split(twice, &t3) < 0)
                abort();
        if (strv_length(t3) != 2 * strv_length(t))
                abort();
        for (size_t i = 0, n = strv_length(t); i < n; i++)
                if (!streq(t3[i], t[i]) || !streq(t3[n + i], t[i]))
                        abort();
        return 0;
}
