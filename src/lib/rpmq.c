/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>

#include <rpm/header.h>
#include <rpm/rpmdb.h>
#include <rpm/rpmfiles.h>
#include <rpm/rpmfileutil.h>
#include <rpm/rpmlib.h>
#include <rpm/rpmlog.h>
#include <rpm/rpmmacro.h>
#include <rpm/rpmts.h>
#include <rpm/rpmver.h>

#include "fileio.h"
#include "rpmq.h"
#include "strv.h"

const char *const vhc_rpmq_reported_packages[] = {
        "kernel-core", "grub2-tools", "dracut", "edk2-ovmf", "libvirt-daemon", NULL,
};

/* librpm reports through rpmlog, which prints to stderr by default: library
 * code must not print, so messages are kept (the last error) instead. */
static char last_error[512];

static int log_callback(rpmlogRec rec, rpmlogCallbackData data) {
        if (rpmlogRecPriority(rec) <= RPMLOG_ERR) {
                const char *m = rpmlogRecMessage(rec);
                size_t n;

                snprintf(last_error, sizeof(last_error), "%s", m ? m : "");
                n = strlen(last_error);
                while (n > 0 && last_error[n - 1] == '\n')
                        last_error[--n] = '\0';
        }
        return 0;
}

/* rpm's configuration is process-wide: read once (0: not yet, 1: read,
 * negative: failed). */
static int rpm_init(struct vhc_err *e) {
        static int state = 0;

        rpmlogSetCallback(log_callback, NULL);
        if (state == 0) {
                last_error[0] = '\0';
                state = rpmReadConfigFiles(NULL, NULL) == 0 ? 1 : -EIO;
        }
        if (state < 0)
                return vhc_err_set(e, state, NULL, 0, "cannot read rpm's configuration: %s",
                                   last_error[0] ? last_error : "unknown error");
        return 0;
}

/* Whether the root has an rpm database where %_dbpath says, in any backend's
 * file (sqlite, bdb, ndb). Opening a missing one read-only would fail with a
 * message about a file nobody asked for. */
static int have_db(const struct vhc_root *r, bool *ret) {
        static const char *const files[] = {"rpmdb.sqlite", "Packages", "Packages.db"};
        _cleanup_free_ char *dbpath = rpmExpand("%{?_dbpath}", NULL);

        if (!dbpath)
                return -ENOMEM;
        *ret = false;
        if (dbpath[0] != '/')
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                _cleanup_free_ char *p = NULL, *full = NULL;
                struct stat st;

                if (asprintf(&p, "%s/%s", dbpath, files[i]) < 0)
                        return -ENOMEM;
                full = vhc_root_join(r, p);
                if (!full)
                        return -ENOMEM;
                if (stat(full, &st) == 0 && S_ISREG(st.st_mode)) {
                        *ret = true;
                        return 0;
                }
        }
        return 0;
}

static int open_ts(const struct vhc_root *r, rpmts *ret, bool *ret_have_db, struct vhc_err *e) {
        const char *dir = vhc_root_is_host(r) ? "/" : vhc_root_dir(r);
        bool db;
        rpmts ts;
        int k;

        k = rpm_init(e);
        if (k < 0)
                return k;
        k = have_db(r, &db);
        if (k < 0)
                return k;
        if (!db) {
                *ret = NULL;
                *ret_have_db = false;
                return 0;
        }
        ts = rpmtsCreate();
        if (!ts)
                return -ENOMEM;
        last_error[0] = '\0';
        if (rpmtsSetRootDir(ts, dir) != 0 || rpmtsOpenDB(ts, O_RDONLY) != 0) {
                rpmtsFree(ts);
                return vhc_err_set(e, -EIO, dir, 0, "cannot open the rpm database: %s",
                                   last_error[0] ? last_error : "unknown error");
        }
        *ret = ts;
        *ret_have_db = true;
        return 0;
}

struct evr {
        uint64_t epoch;
        char *version, *release;
};

static int cmp_evr_newest_first(const void *a, const void *b) {
        const struct evr *x = a, *y = b;
        int c;

        if (x->epoch != y->epoch)
                return x->epoch < y->epoch ? 1 : -1;
        c = rpmvercmp(x->version, y->version);
        if (c == 0)
                c = rpmvercmp(x->release, y->release);
        return -c;
}

static void evr_free(struct evr *l, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(l[i].version);
                free(l[i].release);
        }
        free(l);
}

static int query_one(rpmts ts, const char *name, char ***ret) {
        _cleanup_strv_free_ char **versions = calloc(1, sizeof(char *));
        struct evr *list = NULL;
        rpmdbMatchIterator mi;
        size_t n = 0;
        Header h;
        int k = 0;

        if (!versions)
                return -ENOMEM;
        mi = rpmtsInitIterator(ts, RPMDBI_NAME, name, 0);
        while (k == 0 && mi && (h = rpmdbNextIterator(mi))) {
                const char *v = headerGetString(h, RPMTAG_VERSION),
                           *rel = headerGetString(h, RPMTAG_RELEASE);
                struct evr *t;

                if (!v || !rel)
                        continue;
                t = realloc(list, (n + 1) * sizeof(*list));
                if (!t) {
                        k = -ENOMEM;
                        break;
                }
                list = t;
                list[n] = (struct evr){.epoch = headerGetNumber(h, RPMTAG_EPOCH),
                                       .version = strdup(v),
                                       .release = strdup(rel)};
                n++;
                if (!list[n - 1].version || !list[n - 1].release)
                        k = -ENOMEM;
        }
        rpmdbFreeIterator(mi);
        if (k == 0 && n > 1)
                qsort(list, n, sizeof(*list), cmp_evr_newest_first);
        /* Multilib instances share a version: listed once. */
        for (size_t i = 0; i < n && k == 0; i++) {
                char *vr;

                if (asprintf(&vr, "%s-%s", list[i].version, list[i].release) < 0) {
                        k = -ENOMEM;
                        break;
                }
                if (strv_contains(versions, vr))
                        free(vr);
                else
                        k = strv_consume(&versions, vr);
        }
        evr_free(list, n);
        if (k < 0)
                return k;
        *ret = TAKE_PTR(versions);
        return 0;
}

void vhc_rpm_versions_done(struct vhc_rpm_versions *v) {
        for (size_t i = 0; i < v->n; i++) {
                free(v->pkgs[i].name);
                strv_free(v->pkgs[i].versions);
        }
        free(v->pkgs);
        *v = (struct vhc_rpm_versions){};
}

int vhc_rpmq_versions(const struct vhc_root *r, const char *const *names, struct vhc_rpm_versions *ret,
                      struct vhc_err *e) {
        struct vhc_rpm_versions v = {};
        rpmts ts;
        int k;

        k = open_ts(r, &ts, &v.have_db, e);
        if (k < 0)
                return k;
        if (!ts) {
                *ret = v;
                return 0;
        }
        for (size_t i = 0; names && names[i]; i++) {
                struct vhc_rpm_pkg *t = realloc(v.pkgs, (v.n + 1) * sizeof(*t));

                if (!t) {
                        k = -ENOMEM;
                        break;
                }
                v.pkgs = t;
                v.pkgs[v.n] = (struct vhc_rpm_pkg){.name = strdup(names[i])};
                if (!v.pkgs[v.n].name) {
                        k = -ENOMEM;
                        break;
                }
                k = query_one(ts, names[i], &v.pkgs[v.n].versions);
                v.n++;
                if (k < 0)
                        break;
        }
        rpmtsFree(ts);
        if (k < 0) {
                vhc_rpm_versions_done(&v);
                return k;
        }
        *ret = v;
        return 0;
}

/* A user or group name's id in the root's /etc/passwd or /etc/group, as rpm
 * maps them: "root" is 0 without looking, an unknown name counts as 0. */
static int lookup_id(const struct vhc_root *r, enum vhc_path p, const char *name, unsigned *ret) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        size_t len;
        char *line, *save = NULL;

        *ret = 0;
        if (!name || streq(name, "root"))
                return 0;
        path = vhc_root_path(r, p);
        if (!path)
                return -ENOMEM;
        if (vhc_read_file(path, 16 << 20, &text, &len) < 0)
                return 0;
        for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *colon = strchr(line, ':'), *id, *end;
                unsigned long v;

                if (!colon || (size_t)(colon - line) != strlen(name) || !strneq(line, name, strlen(name)))
                        continue;
                id = strchr(colon + 1, ':');
                if (!id)
                        continue;
                errno = 0;
                v = strtoul(id + 1, &end, 10);
                if (errno == 0 && end != id + 1 && *end == ':' && v <= UINT32_MAX) {
                        *ret = (unsigned)v;
                        return 0;
                }
        }
        return 0;
}

/* One file against the database, after rpm's rpmfilesVerify(), with the path
 * taken under the root instead of chrooting the process. */
static int verify_file(const struct vhc_root *r, rpmfiles fi, int ix, unsigned *ret) {
        rpmfileAttrs attrs = rpmfilesFFlags(fi, ix);
        rpmVerifyAttrs want = rpmfilesVFlags(fi, ix);
        _cleanup_free_ char *fn = rpmfilesFN(fi, ix), *full = NULL;
        unsigned out = 0;
        struct stat st;
        mode_t fmode = rpmfilesFMode(fi, ix);

        *ret = 0;
        switch (rpmfilesFState(fi, ix)) {
        case RPMFILE_STATE_NETSHARED:
        case RPMFILE_STATE_NOTINSTALLED:
                return 0;
        case RPMFILE_STATE_REPLACED:
                want = RPMVERIFY_NONE; /* another package's now: only whether it exists */
                break;
        case RPMFILE_STATE_WRONGCOLOR:
                want &= ~(RPMVERIFY_FILEDIGEST | RPMVERIFY_FILESIZE | RPMVERIFY_MTIME | RPMVERIFY_RDEV);
                break;
        default:
                break;
        }
        if (!fn)
                return -ENOMEM;
        full = vhc_root_join_nofollow(r, fn);
        if (!full)
                return -ENOMEM;
        if (lstat(full, &st) < 0) {
                if (!(attrs & (RPMFILE_GHOST | RPMFILE_MISSINGOK)))
                        *ret = VHC_RPMV_MISSING;
                return 0;
        }
        if (S_ISDIR(fmode) && S_ISLNK(st.st_mode)) {
                struct stat d;

                /* A directory may be a symlink to one, made by root or its owner. */
                if (stat(full, &d) == 0 && S_ISDIR(d.st_mode) && (st.st_uid == 0 || st.st_uid == d.st_uid))
                        st = d;
        }
        if (S_ISLNK(st.st_mode))
                want &= ~RPMVERIFY_MODE;
        else
                want &= ~RPMVERIFY_LINKTO;
        if (!S_ISREG(st.st_mode))
                want &= ~(RPMVERIFY_FILEDIGEST | RPMVERIFY_FILESIZE | RPMVERIFY_MTIME);
        if (attrs & RPMFILE_GHOST)
                want &= ~(RPMVERIFY_FILEDIGEST | RPMVERIFY_FILESIZE | RPMVERIFY_MTIME | RPMVERIFY_LINKTO);

        if (want & RPMVERIFY_FILEDIGEST) {
                int algo;
                size_t dlen;
                const unsigned char *digest = rpmfilesFDigest(fi, ix, &algo, &dlen);

                if (!digest)
                        out |= VHC_RPMV_DIGEST;
                else {
                        unsigned char *mine = malloc(dlen);

                        if (!mine)
                                return -ENOMEM;
                        if (rpmDoDigest(algo, full, 0, mine) != 0)
                                out |= VHC_RPMV_DIGEST | VHC_RPMV_READFAIL;
                        else if (memcmp(mine, digest, dlen) != 0)
                                out |= VHC_RPMV_DIGEST;
                        free(mine);
                }
        }
        if (want & RPMVERIFY_LINKTO) {
                char target[PATH_MAX];
                ssize_t n = readlink(full, target, sizeof(target) - 1);
                const char *flink = rpmfilesFLink(fi, ix);

                if (n < 0)
                        out |= VHC_RPMV_LINK;
                else {
                        target[n] = '\0';
                        if (!flink || !streq(target, flink))
                                out |= VHC_RPMV_LINK;
                }
        }
        if ((want & RPMVERIFY_FILESIZE) && (uint64_t)st.st_size != (uint64_t)rpmfilesFSize(fi, ix))
                out |= VHC_RPMV_SIZE;
        if (want & RPMVERIFY_MODE) {
                mode_t a = fmode, b = st.st_mode;

                /* The type of a %ghost is whatever it became; its permissions count. */
                if (attrs & RPMFILE_GHOST) {
                        a &= ~S_IFMT;
                        b &= ~S_IFMT;
                }
                if (a != b)
                        out |= VHC_RPMV_MODE;
        }
        if ((want & RPMVERIFY_MTIME) && (uint64_t)st.st_mtime != (uint64_t)rpmfilesFMtime(fi, ix))
                out |= VHC_RPMV_MTIME;
        if (want & RPMVERIFY_USER) {
                unsigned uid;
                int k = lookup_id(r, VHC_PATH_ETC_PASSWD, rpmfilesFUser(fi, ix), &uid);

                if (k < 0)
                        return k;
                if (st.st_uid != uid)
                        out |= VHC_RPMV_USER;
        }
        if (want & RPMVERIFY_GROUP) {
                unsigned gid;
                int k = lookup_id(r, VHC_PATH_ETC_GROUP, rpmfilesFGroup(fi, ix), &gid);

                if (k < 0)
                        return k;
                if (st.st_gid != gid)
                        out |= VHC_RPMV_GROUP;
        }
        *ret = out;
        return 0;
}

void vhc_rpm_verify_done(struct vhc_rpm_verify *v) {
        for (size_t i = 0; i < v->n; i++) {
                free(v->files[i].package);
                free(v->files[i].path);
        }
        free(v->files);
        strv_free(v->not_installed);
        *v = (struct vhc_rpm_verify){};
}

static int verify_header(const struct vhc_root *r, Header h, struct vhc_rpm_verify *v) {
        _cleanup_free_ char *nevra = headerGetAsString(h, RPMTAG_NEVRA);
        rpmfiles fi = rpmfilesNew(NULL, h, RPMTAG_BASENAMES, RPMFI_FLAGS_VERIFY);
        int fc, k = 0;

        if (!nevra) {
                rpmfilesFree(fi);
                return -ENOMEM;
        }
        if (!fi)
                return 0; /* no files */
        fc = (int)rpmfilesFC(fi);
        for (int i = 0; i < fc && k == 0; i++) {
                struct vhc_rpm_file *t;
                unsigned flags;

                k = verify_file(r, fi, i, &flags);
                if (k < 0 || flags == 0)
                        continue;
                t = realloc(v->files, (v->n + 1) * sizeof(*t));
                if (!t) {
                        k = -ENOMEM;
                        break;
                }
                v->files = t;
                v->files[v->n] = (struct vhc_rpm_file){
                        .package = strdup(nevra),
                        .path = rpmfilesFN(fi, i),
                        .flags = flags,
                        .config = rpmfilesFFlags(fi, i) & RPMFILE_CONFIG,
                        .ghost = rpmfilesFFlags(fi, i) & RPMFILE_GHOST,
                };
                v->n++;
                if (!v->files[v->n - 1].package || !v->files[v->n - 1].path)
                        k = -ENOMEM;
        }
        rpmfilesFree(fi);
        return k;
}

int vhc_rpmq_verify(const struct vhc_root *r, const char *const *packages, struct vhc_rpm_verify *ret,
                    struct vhc_err *e) {
        struct vhc_rpm_verify v = {};
        rpmts ts;
        int k;

        k = open_ts(r, &ts, &v.have_db, e);
        if (k < 0)
                return k;
        if (!ts) {
                *ret = v;
                return 0;
        }
        for (size_t i = 0; k == 0 && packages && packages[i]; i++) {
                rpmdbMatchIterator mi = rpmtsInitIterator(ts, RPMDBI_NAME, packages[i], 0);
                size_t found = 0;
                Header h;

                while (k == 0 && mi && (h = rpmdbNextIterator(mi))) {
                        found++;
                        k = verify_header(r, h, &v);
                }
                rpmdbFreeIterator(mi);
                if (k == 0 && found == 0)
                        k = strv_push_dup(&v.not_installed, packages[i]);
        }
        rpmtsFree(ts);
        if (k < 0) {
                vhc_rpm_verify_done(&v);
                return k;
        }
        *ret = v;
        return 0;
}

void vhc_rpmv_string(unsigned flags, char *buf) {
        if (flags & VHC_RPMV_MISSING) {
                strcpy(buf, "missing  ");
                return;
        }
        snprintf(buf, 10, "%c%c%c.%c%c%c%c.", flags & VHC_RPMV_SIZE ? 'S' : '.',
                 flags & VHC_RPMV_MODE ? 'M' : '.',
                 flags & VHC_RPMV_READFAIL ? '?'
                 : flags & VHC_RPMV_DIGEST ? '5'
                                           : '.',
                 flags & VHC_RPMV_LINK ? 'L' : '.', flags & VHC_RPMV_USER ? 'U' : '.',
                 flags & VHC_RPMV_GROUP ? 'G' : '.', flags & VHC_RPMV_MTIME ? 'T' : '.');
}
