/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "host.h"

size_t vhc_terminal_columns(void) {
        struct winsize ws;

        if (!isatty(STDOUT_FILENO) || ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0)
                return 0;
        return ws.ws_col;
}

/* Columns a string takes: UTF-8 code points. */
static size_t cols_of(const char *s, size_t n) {
        size_t k = 0;

        for (size_t i = 0; i < n && s[i]; i++)
                k += ((unsigned char)s[i] & 0xc0) != 0x80;
        return k;
}

void vhc_print_wrapped(const char *s, size_t col, size_t cols) {
        size_t room, used = 0;
        bool first = true;

        if (cols == 0 || cols <= col || cols - col < VHC_WRAP_MIN) {
                printf("%s\n", s);
                return;
        }
        room = cols - col;
        while (*s) {
                size_t wl = strcspn(s, " "), ww = cols_of(s, wl);

                if (!first && used + 1 + ww > room) {
                        printf("\n%*s", (int)col, "");
                        used = 0;
                } else if (!first) {
                        putchar(' ');
                        used++;
                }
                fwrite(s, 1, wl, stdout);
                used += ww;
                first = false;
                s += wl;
                s += strspn(s, " ");
        }
        putchar('\n');
}
