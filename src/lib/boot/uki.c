/* SPDX-License-Identifier: MIT */
#include "uki.h"
#include "unaligned.h"

/* PE/COFF (Microsoft's "PE Format"): the DOS header's e_lfanew at 0x3c points
 * to "PE\0\0", a 20-byte COFF header (NumberOfSections at +2,
 * SizeOfOptionalHeader at +16), the optional header, then the section table
 * of 40-byte entries (Name[8], VirtualSize at +8, SizeOfRawData at +16,
 * PointerToRawData at +20). */
#define DOS_LFANEW 0x3c
#define COFF_SIZE 20
#define SECTION_SIZE 40

int vhc_uki_find_section(const uint8_t *head, size_t head_len, const char *name, struct vhc_uki_section *ret) {
        size_t nlen = strlen(name), pe, table, n_sections;

        if (nlen > 8)
                return -EINVAL;
        if (head_len < DOS_LFANEW + 4 || head[0] != 'M' || head[1] != 'Z')
                return -EBADMSG;
        pe = unaligned_read_le32(head + DOS_LFANEW);
        if (pe > head_len || head_len - pe < 4 + COFF_SIZE || memcmp(head + pe, "PE\0\0", 4) != 0)
                return -EBADMSG;
        n_sections = unaligned_read_le16(head + pe + 4 + 2);
        table = pe + 4 + COFF_SIZE + unaligned_read_le16(head + pe + 4 + 16);
        if (table > head_len || (head_len - table) / SECTION_SIZE < n_sections)
                return -EBADMSG;
        for (size_t i = 0; i < n_sections; i++) {
                const uint8_t *s = head + table + i * SECTION_SIZE;
                uint32_t vsize = unaligned_read_le32(s + 8), rsize = unaligned_read_le32(s + 16);

                /* The name is NUL-padded to 8 bytes. */
                if (memcmp(s, name, nlen) != 0 || (nlen < 8 && s[nlen] != '\0'))
                        continue;
                *ret = (struct vhc_uki_section){
                        .offset = unaligned_read_le32(s + 20),
                        .size = vsize && vsize < rsize ? vsize : rsize,
                };
                return 0;
        }
        return -ENOENT;
}

char *vhc_uki_section_text(const uint8_t *data, size_t len) {
        const uint8_t *nul = memchr(data, '\0', len);
        size_t n = nul ? (size_t)(nul - data) : len;

        while (n > 0 && (data[n - 1] == '\n' || data[n - 1] == ' ' || data[n - 1] == '\t' || data[n - 1] == '\r'))
                n--;
        return strndup((const char *)data, n);
}
