/* SPDX-License-Identifier: MIT */
#include "cmdline.h"
#include "strv.h"

/* The kernel's isspace() (lib/ctype.c), not the C library's: it is what
 * next_arg() splits on, and its table also marks 0xA0 (Latin-1 NBSP) as a
 * space, whatever the locale. */
static bool kernel_isspace(char c) {
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

static const char *skip_spaces(const char *s) {
        while (kernel_isspace(*s))
                s++;
        return s;
}

/* Length of the token at s; -EINVAL when a double quote is still open at the
 * end of the string, where the kernel would silently take the rest. */
static ssize_t token_length(const char *s) {
        bool in_quote = false;
        size_t i;

        for (i = 0; s[i]; i++) {
                if (kernel_isspace(s[i]) && !in_quote)
                        break;
                if (s[i] == '"')
                        in_quote = !in_quote;
        }
        if (in_quote)
                return -EINVAL;
        return (ssize_t)i;
}

int vhc_cmdline_split(const char *s, char ***ret) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));

        if (!l)
                return -ENOMEM;
        for (s = skip_spaces(strempty(s)); *s; s = skip_spaces(s)) {
                ssize_t n = token_length(s);

                if (n < 0)
                        return (int)n;
                if (strv_consume(&l, strndup(s, (size_t)n)) < 0)
                        return -ENOMEM;
                s += n;
        }
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
