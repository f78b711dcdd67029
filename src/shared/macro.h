/* SPDX-License-Identifier: MIT */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
#define streq(a, b) (strcmp((a), (b)) == 0)
#define strneq(a, b, n) (strncmp((a), (b), (n)) == 0)
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _warn_unused_ __attribute__((warn_unused_result))

#define TAKE_PTR(p)                                                                      \
        ({                                                                               \
                __typeof__(p) _p = (p);                                                  \
                (p) = NULL;                                                              \
                _p;                                                                      \
        })

#define TAKE_FD(fd)                                                                      \
        ({                                                                               \
                int _fd = (fd);                                                          \
                (fd) = -1;                                                               \
                _fd;                                                                     \
        })

static inline void freep(void *p) {
        free(*(void **)p);
}
static inline void fclosep(FILE **f) {
        if (*f)
                fclose(*f);
}
static inline void closep(int *fd) {
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
        }
}

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_fclose_ _cleanup_(fclosep)
#define _cleanup_close_ _cleanup_(closep)

/* Declares name##p(), for _cleanup_(name##p), from a destructor that returns NULL. */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)                                          \
        static inline void func##p(type *p) {                                            \
                if (*p)                                                                  \
                        *p = func(*p);                                                   \
        }

static inline const char *strempty(const char *s) {
        return s ? s : "";
}

static inline bool startswith(const char *s, const char *prefix) {
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* errno after a libc call, as a negative value that is never 0. */
static inline int negative_errno(void) {
        return errno > 0 ? -errno : -EIO;
}
