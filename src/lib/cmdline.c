/* SPDX-License-Identifier: MIT */
#include "cmdline.h"
#include "strv.h"

bool vhc_cmdline_isspace(char c) {
        switch ((unsigned char)c) {
        case ' ':
        case '\t':
        case '\n':
        case '\v':
        case '\f':
        case '\r':
        case 0xa0:
                return true;
        default:
                return false;
        }
}

int vhc_cmdline_ranges(const char *s, size_t len, struct vhc_cmdline_range **ret, size_t *ret_n) {
        _cleanup_free_ struct vhc_cmdline_range *l = NULL;
        size_t n = 0, cap = 0, i = 0;

        for (;;) {
                bool in_quote = false;
                size_t start;

                while (i < len && vhc_cmdline_isspace(s[i]))
                        i++;
                if (i >= len)
                        break;
                start = i;
                for (; i < len; i++) {
                        if (vhc_cmdline_isspace(s[i]) && !in_quote)
                                break;
                        if (s[i] == '"')
                                in_quote = !in_quote;
                }
                /* A quote still open at the end: the kernel would silently take the rest. */
                if (in_quote)
                        return -EINVAL;
                if (n == cap) {
                        struct vhc_cmdline_range *t;

                        cap = cap ? cap * 2 : 16;
                        t = realloc(l, cap * sizeof(*t));
                        if (!t)
                                return -ENOMEM;
                        l = t;
                }
                l[n++] = (struct vhc_cmdline_range){ start, i };
        }
        *ret = TAKE_PTR(l);
        *ret_n = n;
        return 0;
}

int vhc_cmdline_split(const char *s, char ***ret) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        _cleanup_free_ struct vhc_cmdline_range *t = NULL;
        size_t n;
        int r;

        if (!l)
                return -ENOMEM;
        s = strempty(s);
        r = vhc_cmdline_ranges(s, strlen(s), &t, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                if (strv_consume(&l, strndup(s + t[i].start, t[i].end - t[i].start)) < 0)
                        return -ENOMEM;
        *ret = TAKE_PTR(l);
        return 0;
}

char *vhc_cmdline_key(const char *token) {
        /* next_arg() takes the first '=' wherever it is, inside quotes too:
         * "foo=a b" is parameter foo. */
        size_t n = strcspn(token, "=");
        char *key = malloc(n + 1), *k = key;

        if (!key)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                if (token[i] == '"')
                        continue;
                *k++ = token[i] == '-' ? '_' : token[i];
        }
        *k = '\0';
        return key;
}

bool vhc_cmdline_same_key(const char *a, const char *b) {
        _cleanup_free_ char *ka = vhc_cmdline_key(a);
        _cleanup_free_ char *kb = vhc_cmdline_key(b);

        return ka && kb && streq(ka, kb);
}

ssize_t vhc_cmdline_find(char *const *tokens, const char *token) {
        ssize_t found = -1;

        for (size_t i = 0; tokens && tokens[i]; i++)
                if (streq(tokens[i], token))
                        found = (ssize_t)i;
        return found;
}

ssize_t vhc_cmdline_find_key(char *const *tokens, const char *key_or_token) {
        _cleanup_free_ char *key = vhc_cmdline_key(key_or_token);
        ssize_t found = -1;

        if (!key)
                return -1;
        for (size_t i = 0; tokens && tokens[i]; i++) {
                _cleanup_free_ char *k = vhc_cmdline_key(tokens[i]);

                if (k && streq(k, key))
                        found = (ssize_t)i;
        }
        return found;
}

char *vhc_cmdline_join(char *const *tokens) {
        size_t len = 1;
        char *r, *p;

        for (size_t i = 0; tokens && tokens[i]; i++)
                len += strlen(tokens[i]) + 1;
        r = p = malloc(len);
        if (!r)
                return NULL;
        *p = '\0';
        for (size_t i = 0; tokens && tokens[i]; i++) {
                if (i > 0)
                        *p++ = ' ';
                p = stpcpy(p, tokens[i]);
        }
        return r;
}

bool vhc_cmdline_has_item(const char *token, const char *prefix) {
        const char *eq = strchr(token, '=');
        _cleanup_free_ char *val = NULL;
        size_t n = strlen(prefix);
        char *v, *w;

        if (!eq)
                return false;
        /* next_arg() drops the quotes around the value ("amd_iommu=\"off\"",
         * "\"amd_iommu=off\""): the value without them. */
        val = strdup(eq + 1);
        if (!val)
                return false;
        for (v = w = val; *v; v++)
                if (*v != '"')
                        *w++ = *v;
        *w = '\0';
        /* The kernel's parsers walk the comma-separated items and compare
         * each one's start (strncmp), so "off" also matches "offx". */
        for (v = val; *v;) {
                if (strncmp(v, prefix, n) == 0)
                        return true;
                v += strcspn(v, ",");
                while (*v == ',')
                        v++;
        }
        return false;
}

bool vhc_cmdline_cut_valid(const char *token, const char *cut) {
        size_t n = strlen(token), c = strlen(cut);

        if (c == n)
                return streq(cut, token);
        if (c != n + 1)
                return false;
        if (vhc_cmdline_isspace(cut[0]) && cut[0] != '\n' && streq(cut + 1, token))
                return true;
        return vhc_cmdline_isspace(cut[n]) && cut[n] != '\n' && strncmp(cut, token, n) == 0;
}

bool vhc_cmdline_is_insertion(char *const *before, char *const *after, const char *token) {
        size_t nb = strv_length(before), na = strv_length(after), i = 0;

        if (na != nb + 1)
                return false;
        while (i < nb && streq(before[i], after[i]))
                i++;
        if (!streq(after[i], token))
                return false;
        for (; i < nb; i++)
                if (!streq(before[i], after[i + 1]))
                        return false;
        return true;
}
