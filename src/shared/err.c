/* SPDX-License-Identifier: MIT */
#include <stdarg.h>

#include "err.h"

int vhc_err_set(struct vhc_err *e, int r, const char *file, unsigned line, const char *fmt, ...) {
        va_list ap;

        if (!e || e->msg[0] != '\0')
                return r;

        snprintf(e->file, sizeof(e->file), "%s", strempty(file));
        e->line = line;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
        va_end(ap);
        return r;
}

void vhc_err_format(const struct vhc_err *e, char *buf, size_t size) {
        if (e->file[0] && e->line)
                snprintf(buf, size, "%s:%u: %s", e->file, e->line, e->msg);
        else if (e->file[0])
                snprintf(buf, size, "%s: %s", e->file, e->msg);
        else
                snprintf(buf, size, "%s", e->msg);
}

char *vhc_err_line(struct vhc_err *e, int r) {
        char line[sizeof(e->file) + sizeof(e->msg) + 16];

        if (!e->msg[0])
                snprintf(e->msg, sizeof(e->msg), "%s", strerror(-r));
        vhc_err_format(e, line, sizeof(line));
        return strdup(line);
}
