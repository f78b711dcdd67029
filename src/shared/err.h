/* SPDX-License-Identifier: MIT */
#pragma once

#include <limits.h>

#include "macro.h"

/* What went wrong, filled in where it is found and printed once, by main(), as
 * one line: "FILE:LINE: MESSAGE". Library code never prints. */
struct vhc_err {
        char file[PATH_MAX];
        unsigned line; /* 0: not about one line */
        char msg[1024];
};

/* Records the error (the first one only) and returns r, a negative errno. */
int vhc_err_set(struct vhc_err *e, int r, const char *file, unsigned line, const char *fmt, ...)
        _printf_(5, 6);

/* Fills buf with "FILE:LINE: MESSAGE" (parts left out when unknown). */
void vhc_err_format(const struct vhc_err *e, char *buf, size_t size);

/* The same line, newly allocated, for an error reported inside other output
 * (a check's message): r, the call's return, gives the message strerror(-r)
 * when none was recorded. NULL on OOM. */
char *vhc_err_line(struct vhc_err *e, int r);
