/* SPDX-License-Identifier: MIT */
#include "grubenv.h"

static const char SIGNATURE[] = "# GRUB Environment Block\n";

int vhc_grubenv_get(const char *text, size_t len, const char *name, char **ret) {
        size_t nlen = strlen(name), p;

        if (len < strlen(SIGNATURE) || memcmp(text, SIGNATURE, strlen(SIGNATURE)) != 0)
                return -EINVAL;
        for (p = strlen(SIGNATURE); p < len;) {
                size_t q = p, v;
                bool match;

                if (text[p] == '#') {
                        /* A comment or the padding: to the end of the line. */
                        while (p < len && text[p] != '\n')
                                p++;
                        p++;
                        continue;
                }
                while (q < len && text[q] != '=' && text[q] != '\n')
                        q++;
                if (q >= len || text[q] != '=') {
                        p = q + 1;
                        continue;
                }
                match = q - p == nlen && memcmp(text + p, name, nlen) == 0;
                /* The value runs to an unescaped newline. */
                for (v = q + 1; v < len && text[v] != '\n'; v++)
                        if (text[v] == '\\' && v + 1 < len)
                                v++;
                if (match) {
                        char *out = malloc(v - q), *o = out;

                        if (!out)
                                return -ENOMEM;
                        for (size_t i = q + 1; i < v; i++) {
                                if (text[i] == '\\' && i + 1 < v)
                                        i++;
                                *o++ = text[i];
                        }
                        *o = '\0';
                        *ret = out;
                        return 0;
                }
                p = v + 1;
        }
        return -ENOENT;
}
