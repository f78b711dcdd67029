/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>

#include "fileio.h"
#include "spawn-cmd.h"
#include "uki.h"

/* Images of the shape ukify (systemd 252+) writes, made by
 * tests/fixtures/boot/mkuki.py: a PE32+ header, sections .osrel, .cmdline,
 * .uname, .initrd, .linux, file-aligned to 0x200, VirtualSize the data's
 * length and SizeOfRawData that rounded up. */
#define MKUKI SRCDIR "/tests/fixtures/boot/mkuki.py"
#define CMDLINE "root=UUID=9a3c6e1f-4b2d-4e8a-b7f1-2c5d8e0a6b34 ro rootflags=subvol=root rhgb quiet"
#define KVER "6.17.7-300.fc43.x86_64"

static char *mkuki(const char *cmdline, const char *uname, size_t *ret_len) {
        char path[] = "/tmp/test-boot-uki-XXXXXX";
        char *argv[] = {(char *)"python3", (char *)MKUKI, path, (char *)cmdline, (char *)uname, NULL};
        _cleanup_free_ char *out = NULL;
        char *data = NULL;
        int fd = mkstemp(path), status = -1;

        assert_true(fd >= 0);
        close(fd);
        assert_int_equal(vhc_spawn(argv, NULL, &out, &status), 0);
        if (status != 0)
                print_error("mkuki.py: %s\n", out);
        assert_int_equal(status, 0);
        assert_int_equal(vhc_read_file(path, 1 << 20, &data, ret_len), 0);
        unlink(path);
        return data;
}

static void put16(uint8_t *p, uint16_t v) {
        p[0] = v & 0xff;
        p[1] = v >> 8;
}

static void put32(uint8_t *p, uint32_t v) {
        for (int i = 0; i < 4; i++)
                p[i] = (v >> (8 * i)) & 0xff;
}

/* The section table entry of name in a mkuki.py image (PE at 0x80, optional
 * header 240 bytes). */
static uint8_t *entry_of(uint8_t *img, const char *name) {
        uint8_t *table = img + 0x80 + 4 + 20 + 240;

        for (int i = 0; i < 5; i++)
                if (strncmp((const char *)table + 40 * i, name, 8) == 0)
                        return table + 40 * i;
        fail();
        return NULL;
}

static char *text_of(const uint8_t *img, size_t len, const char *name) {
        struct vhc_uki_section s;

        assert_int_equal(vhc_uki_find_section(img, len, name, &s), 0);
        assert_true(s.offset <= len && s.size <= len - s.offset);
        return vhc_uki_section_text(img + s.offset, s.size);
}

static void test_mkuki(void **state) {
        size_t len;
        _cleanup_free_ uint8_t *img = (uint8_t *)mkuki(CMDLINE, KVER, &len);
        _cleanup_free_ char *cmd = NULL, *uname = NULL, *osrel = NULL;
        struct vhc_uki_section s;

        /* 0x400 of headers (the table ends at 0x250), then five sections. */
        assert_int_equal(len, 0x400 + 0x200 * 5);
        assert_int_equal(vhc_uki_find_section(img, len, ".cmdline", &s), 0);
        /* VirtualSize (the text and its newline) < SizeOfRawData (0x200). */
        assert_int_equal(s.offset, 0x600);
        assert_int_equal(s.size, strlen(CMDLINE) + 1);
        cmd = vhc_uki_section_text(img + s.offset, s.size);
        assert_string_equal(cmd, CMDLINE);
        uname = text_of(img, len, ".uname");
        assert_string_equal(uname, KVER);
        osrel = text_of(img, len, ".osrel");
        assert_string_equal(osrel, "NAME=\"Fedora Linux\"\nVERSION_ID=43\nID=fedora");
        assert_int_equal(vhc_uki_find_section(img, len, ".linux", &s), 0);
        assert_int_equal(s.offset, 0xc00);
        assert_int_equal(s.size, 0x200);

        /* Only the headers are needed. */
        assert_int_equal(vhc_uki_find_section(img, 0x400, ".cmdline", &s), 0);
        assert_int_equal(s.offset, 0x600);
}

static void test_missing_section(void **state) {
        size_t len;
        _cleanup_free_ uint8_t *img = (uint8_t *)mkuki(CMDLINE, KVER, &len);
        struct vhc_uki_section s = {};

        assert_int_equal(vhc_uki_find_section(img, len, ".sbat", &s), -ENOENT);
        assert_int_equal(vhc_uki_find_section(img, len, ".splash", &s), -ENOENT);
        /* Names match whole: ".cmd" is not ".cmdline", nor ".cmdline" ".cmdlinex". */
        assert_int_equal(vhc_uki_find_section(img, len, ".cmd", &s), -ENOENT);
        assert_int_equal(vhc_uki_find_section(img, len, ".lin", &s), -ENOENT);
        memcpy(entry_of(img, ".cmdline"), ".cmdlinX", 8);
        assert_int_equal(vhc_uki_find_section(img, len, ".cmdline", &s), -ENOENT);
        /* An 8-byte name has no NUL. */
        assert_int_equal(vhc_uki_find_section(img, len, ".cmdlinX", &s), 0);
        assert_int_equal(vhc_uki_find_section(img, len, ".cmdline1", &s), -EINVAL);
        assert_int_equal(s.offset, 0x600);
}

/* systemd-stub reads VirtualSize bytes; the file holds SizeOfRawData. */
static void test_sizes(void **state) {
        size_t len;
        _cleanup_free_ uint8_t *img = (uint8_t *)mkuki(CMDLINE, KVER, &len);
        uint8_t *e = entry_of(img, ".cmdline");
        struct vhc_uki_section s;

        /* VirtualSize beyond the raw data: only the file's bytes. */
        put32(e + 8, 0x3000);
        assert_int_equal(vhc_uki_find_section(img, len, ".cmdline", &s), 0);
        assert_int_equal(s.size, 0x200);
        /* VirtualSize 0 (some linkers): SizeOfRawData. */
        put32(e + 8, 0);
        assert_int_equal(vhc_uki_find_section(img, len, ".cmdline", &s), 0);
        assert_int_equal(s.size, 0x200);
        /* VirtualSize cuts the text. */
        put32(e + 8, 9);
        assert_int_equal(vhc_uki_find_section(img, len, ".cmdline", &s), 0);
        assert_int_equal(s.size, 9);
        {
                _cleanup_free_ char *t = vhc_uki_section_text(img + s.offset, s.size);
                assert_string_equal(t, "root=UUID");
        }
}

static void test_bad_heads(void **state) {
        size_t len;
        _cleanup_free_ uint8_t *img = (uint8_t *)mkuki(CMDLINE, KVER, &len);
        _cleanup_free_ uint8_t *copy = malloc(len);
        uint8_t garbage[512];
        struct vhc_uki_section s;
        const size_t table = 0x80 + 4 + 20 + 240;

        assert_non_null(copy);
        for (size_t i = 0; i < sizeof(garbage); i++)
                garbage[i] = (uint8_t)(i * 37 + 11);
        assert_int_equal(vhc_uki_find_section(garbage, sizeof(garbage), ".cmdline", &s), -EBADMSG);
        garbage[0] = 'M';
        garbage[1] = 'Z';
        assert_int_equal(vhc_uki_find_section(garbage, sizeof(garbage), ".cmdline", &s), -EBADMSG);
        assert_int_equal(vhc_uki_find_section(img, 0, ".cmdline", &s), -EBADMSG);
        assert_int_equal(vhc_uki_find_section(img, 0x3f, ".cmdline", &s), -EBADMSG);

        /* Cut anywhere before the end of the section table. */
        for (size_t cut = 0; cut < table + 5 * 40; cut++)
                if (vhc_uki_find_section(img, cut, ".linux", &s) != -EBADMSG) {
                        print_error("a head of %zu bytes was read\n", cut);
                        fail();
                }
        assert_int_equal(vhc_uki_find_section(img, table + 5 * 40, ".linux", &s), 0);

        /* e_lfanew past the head, or huge. */
        memcpy(copy, img, len);
        put32(copy + 0x3c, (uint32_t)len);
        assert_int_equal(vhc_uki_find_section(copy, len, ".cmdline", &s), -EBADMSG);
        put32(copy + 0x3c, 0xfffffff0);
        assert_int_equal(vhc_uki_find_section(copy, len, ".cmdline", &s), -EBADMSG);
        /* No "PE\0\0" signature. */
        memcpy(copy, img, len);
        copy[0x82] = 'X';
        assert_int_equal(vhc_uki_find_section(copy, len, ".cmdline", &s), -EBADMSG);
        /* More sections than the head holds; an optional header past it. */
        memcpy(copy, img, len);
        put16(copy + 0x80 + 4 + 2, 0xffff);
        assert_int_equal(vhc_uki_find_section(copy, len, ".cmdline", &s), -EBADMSG);
        memcpy(copy, img, len);
        put16(copy + 0x80 + 4 + 16, 0xffff);
        assert_int_equal(vhc_uki_find_section(copy, len, ".cmdline", &s), -EBADMSG);
        /* No sections at all. */
        memcpy(copy, img, len);
        put16(copy + 0x80 + 4 + 2, 0);
        assert_int_equal(vhc_uki_find_section(copy, len, ".cmdline", &s), -ENOENT);
}

static void test_section_text(void **state) {
        static const uint8_t nul[] = "ro quiet\n\0garbage after";
        static const uint8_t blanks[] = " ro quiet \t\r\n\n";
        static const uint8_t none[] = {'r', 'o'};
        _cleanup_free_ char *a = vhc_uki_section_text(nul, sizeof(nul)),
                            *b = vhc_uki_section_text(blanks, sizeof(blanks) - 1),
                            *c = vhc_uki_section_text(none, sizeof(none)), *d = vhc_uki_section_text(nul, 0),
                            *f = vhc_uki_section_text((const uint8_t *)"\n\n\0", 3);

        assert_string_equal(a, "ro quiet");
        /* Leading blanks are the builder's business: kept. */
        assert_string_equal(b, " ro quiet");
        /* No NUL: up to len. */
        assert_string_equal(c, "ro");
        assert_string_equal(d, "");
        assert_string_equal(f, "");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_mkuki),
                cmocka_unit_test(test_missing_section),
                cmocka_unit_test(test_sizes),
                cmocka_unit_test(test_bad_heads),
                cmocka_unit_test(test_section_text),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
