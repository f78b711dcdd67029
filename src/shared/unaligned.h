/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>

/* Little-endian integers at any address of a byte buffer, as PCI config
 * space, option ROMs and PE/COFF headers store them (systemd's
 * unaligned.h has the same). */
static inline uint16_t unaligned_read_le16(const uint8_t *p) {
        return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t unaligned_read_le32(const uint8_t *p) {
        return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
