/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "desktop.h"
#include "fileio.h"
#include "strv.h"

static void closedirp(DIR **d) {
        if (*d)
                closedir(*d);
}

static int cmp_str(const void *a, const void *b) {
        return strverscmp(*(char *const *)a, *(char *const *)b);
}

static bool is_card(const char *name, unsigned *ret) {
        unsigned n;
        int end = 0;

        if (sscanf(name, "card%u%n", &n, &end) != 1 || name[end] != '\0')
                return false;
        *ret = n;
        return true;
}

/* The first line of a small sysfs or proc file, without its newline; NULL
 * when unreadable. */
static char *first_line(const char *path) {
        char *s = NULL;
        size_t len;

        if (vhc_read_file(path, 4096, &s, &len) < 0)
                return NULL;
        s[strcspn(s, "\n")] = '\0';
        return s;
}

/* Appends "NAME connected" for each connected connector of cardN. */
static int connectors(const char *card_dir, unsigned n, char ***lines) {
        _cleanup_(closedirp) DIR *dir = opendir(card_dir);
        char prefix[32];
        struct dirent *de;

        if (!dir)
                return 0;
        snprintf(prefix, sizeof(prefix), "card%u-", n);
        while ((de = readdir(dir))) {
                _cleanup_free_ char *path = NULL, *status = NULL;

                if (!startswith(de->d_name, prefix))
                        continue;
                path = strprintf("%s/%s/status", card_dir, de->d_name);
                if (!path)
                        return -ENOMEM;
                status = first_line(path);
                if (status && streq(status, "connected") &&
                    strv_consume(lines, strprintf("%s connected", de->d_name + strlen(prefix))) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* Appends "/dev/dri/cardN open in COMM (pid PID)" for each process with an
 * fd on it, once per process. */
static int holders(const struct vhc_root *r, unsigned n, char ***lines) {
        _cleanup_free_ char *proc = vhc_root_path(r, VHC_PATH_PROC);
        _cleanup_(closedirp) DIR *dir = NULL;
        char node[32];
        struct dirent *de;

        if (!proc)
                return -ENOMEM;
        snprintf(node, sizeof(node), "%s/card%u", vhc_path_abs(VHC_PATH_DEV_DRI), n);
        dir = opendir(proc);
        if (!dir)
                return 0;
        while ((de = readdir(dir))) {
                _cleanup_free_ char *fds = NULL, *comm_path = NULL, *comm = NULL;
                _cleanup_(closedirp) DIR *fd_dir = NULL;
                struct dirent *fe;
                bool held = false;

                if (de->d_name[strspn(de->d_name, "0123456789")] != '\0')
                        continue;
                fds = strprintf("%s/%s/fd", proc, de->d_name);
                if (!fds)
                        return -ENOMEM;
                fd_dir = opendir(fds);
                if (!fd_dir)
                        continue; /* another user's process: not readable */
                while (!held && (fe = readdir(fd_dir))) {
                        _cleanup_free_ char *link = strprintf("%s/%s", fds, fe->d_name);
                        char target[64];
                        ssize_t k;

                        if (!link)
                                return -ENOMEM;
                        k = readlink(link, target, sizeof(target) - 1);
                        if (k <= 0)
                                continue;
                        target[k] = '\0';
                        held = streq(target, node);
                }
                if (!held)
                        continue;
                comm_path = strprintf("%s/%s/comm", proc, de->d_name);
                if (!comm_path)
                        return -ENOMEM;
                comm = first_line(comm_path);
                if (strv_consume(lines, strprintf("%s open in %s (pid %s)", node, comm ? comm : "a process",
                                                  de->d_name)) < 0)
                        return -ENOMEM;
        }
        return 0;
}

int vhc_desktop_use(const struct vhc_root *r, const struct vhc_pci_dev *d, char **ret) {
        _cleanup_free_ char *drm = NULL;
        _cleanup_strv_free_ char **lines = NULL, **cards = NULL;
        _cleanup_(closedirp) DIR *dir = NULL;
        struct dirent *de;
        size_t len = 0;
        char *s;
        int k;

        *ret = NULL;
        if (!vhc_pci_is_display(d))
                return 0;
        drm = vhc_root_pathf(r, VHC_PATH_SYS_PCI_DEVICES, "%s/drm", d->address);
        if (!drm)
                return -ENOMEM;
        dir = opendir(drm);
        if (!dir)
                return 0;
        while ((de = readdir(dir)))
                if (is_card(de->d_name, &(unsigned){0}) && strv_push_dup(&cards, de->d_name) < 0)
                        return -ENOMEM;
        if (cards)
                qsort(cards, strv_length(cards), sizeof(char *), cmp_str);
        for (size_t i = 0; cards && cards[i]; i++) {
                _cleanup_free_ char *card_dir = strprintf("%s/%s", drm, cards[i]);
                unsigned n = 0;

                if (!card_dir)
                        return -ENOMEM;
                (void)is_card(cards[i], &n);
                if ((k = connectors(card_dir, n, &lines)) < 0 || (k = holders(r, n, &lines)) < 0)
                        return k;
        }
        if (!lines)
                return 0;
        for (size_t i = 0; lines[i]; i++)
                len += strlen(lines[i]) + 2;
        s = calloc(1, len + 1);
        if (!s)
                return -ENOMEM;
        for (size_t i = 0; lines[i]; i++) {
                if (i)
                        strcat(s, "; ");
                strcat(s, lines[i]);
        }
        *ret = s;
        return 0;
}

char *vhc_desktop_warning(const struct vhc_pci_dev *d, const char *use) {
        return strprintf("%s drives the desktop now (%s): the host display on that output goes dark at the "
                         "reboot, when vfio-pci takes the device",
                         d->address, use);
}
