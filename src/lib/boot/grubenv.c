/* SPDX-License-Identifier: MIT */
#include "grubenv.h"

static const char SIGNATURE[] = "# GRUB Environment Block\n";

/* Past the end of the line at p, a backslash escaping the next character
 * (envblk.c's find_next_line()). */
static size_t next_line(const char *text, size_t len, size_t p) {
        while (p < len && text[p] != '\n')
                p += text[p] == '\\' ? 2 : 1;
        return p + 1;
}

/* As GRUB reads it (grub-core/lib/envblk.c, grub_envblk_iterate(), and
 * load_env, which sets every variable in turn): a name runs to the next '='
 * (even across a newline), its value to the next unescaped newline; a line
 * starting with '#' is skipped; a block that ends inside a name or a value is
 * broken and read no further; the last assignment of a name counts. */
int vhc_grubenv_get(const char *text, size_t len, const char *name, char **ret) {
        _cleanup_free_ char *found = NULL;
        size_t nlen = strlen(name), p;

        if (len < strlen(SIGNATURE) || memcmp(text, SIGNATURE, strlen(SIGNATURE)) != 0)
                return -EINVAL;
        for (p = strlen(SIGNATURE); p < len; p = next_line(text, len, p)) {
                size_t ns = p, ne, vs;
                char *o;

                if (text[p] == '#')
                        continue;
                while (p < len && text[p] != '=')
                        p++;
                if (p >= len)
                        break;
                ne = p++;
                vs = p;
                while (p < len && text[p] != '\n')
                        p += text[p] == '\\' ? 2 : 1;
                if (p >= len)
                        break;
                if (ne - ns != nlen || memcmp(text + ns, name, nlen) != 0)
                        continue;
                free(found);
                found = o = malloc(p - vs + 1);
                if (!found)
                        return -ENOMEM;
                for (size_t i = vs; i < p; i++)
                        *o++ = text[i] == '\\' ? text[++i] : text[i];
                *o = '\0';
        }
        if (!found)
                return -ENOENT;
        *ret = TAKE_PTR(found);
        return 0;
}
