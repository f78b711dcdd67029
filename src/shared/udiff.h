/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdio.h>

/* Writes a unified diff (3 lines of context, as diff -u) of a → b to f, with
 * the labels a_label and b_label; a or b NULL: the file is absent. */
int vhc_udiff(FILE *f, const char *a_label, const char *a, size_t a_len, const char *b_label,
              const char *b, size_t b_len);
