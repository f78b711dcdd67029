/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

#include "macro.h"

/* NULL-terminated arrays of strings. */
char **strv_free(char **l);
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free);
#define _cleanup_strv_free_ _cleanup_(strv_freep)

size_t strv_length(char *const *l);
/* Appends s (taking it: freed on failure too). */
int strv_consume(char ***l, char *s);
int strv_push_dup(char ***l, const char *s);
bool strv_contains(char *const *l, const char *s);
char **strv_copy(char *const *l);
/* Splits on spaces and tabs; no quoting. */
int strv_split_ws(const char *s, char ***ret);

/* One formatted string, newly allocated; NULL on OOM. */
char *strprintf(const char *fmt, ...) _printf_(1, 2);
