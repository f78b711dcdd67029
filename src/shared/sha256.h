/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

/* SHA-256 (FIPS 180-4) of data as 64 lowercase hex digits and a NUL. */
void vhc_sha256_hex(const void *data, size_t len, char out[static 65]);
