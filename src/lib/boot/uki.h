/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "macro.h"

/* A unified kernel image (Boot Loader Specification type 2: a PE/COFF EFI
 * binary with the kernel, the initrd and the command line in sections, as
 * ukify and dracut --uefi build it). Read only: its command line is in the
 * ".cmdline" section, its kernel version in ".uname" (when the builder
 * wrote one). */

/* A section, as the section table says: where its bytes are in the file. */
struct vhc_uki_section {
        uint32_t offset; /* PointerToRawData */
        uint32_t size;   /* min(VirtualSize, SizeOfRawData): systemd-stub reads VirtualSize bytes */
};

/* Finds section name (".cmdline") in the headers of a PE file: head is the
 * start of the file (its first head_len bytes; the section table must lie in
 * them). -ENOENT: no such section; -EBADMSG: not a PE image. */
int vhc_uki_find_section(const uint8_t *head, size_t head_len, const char *name, struct vhc_uki_section *ret);

/* The text of a section as a string: up to the first NUL, without the
 * trailing newline and blanks the builders add. NULL on OOM. */
char *vhc_uki_section_text(const uint8_t *data, size_t len);
