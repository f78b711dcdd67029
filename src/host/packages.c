/* SPDX-License-Identifier: MIT */
#include <json-c/json.h>

#include "host.h"
#include "rpmq.h"

int vhc_packages_read(const struct vhc_ctx *ctx, struct vhc_packages *ret) {
        struct vhc_err e = {};
        int r;

        *ret = (struct vhc_packages){};
        r = vhc_rpmq_versions(ctx->root, vhc_rpmq_reported_packages, &ret->v, &e);
        if (r == -ENOMEM)
                return r;
        if (r < 0 && !(ret->error = vhc_err_line(&e, r)))
                return -ENOMEM;
        return 0;
}

void vhc_packages_done(struct vhc_packages *p) {
        vhc_rpm_versions_done(&p->v);
        free(p->error);
        *p = (struct vhc_packages){};
}

void vhc_packages_json(const struct vhc_packages *p, json_object *o) {
        json_object *pk = NULL;

        if (p->error)
                json_object_object_add(o, "packages_error", json_object_new_string(p->error));
        if (p->v.have_db) {
                pk = json_object_new_object();
                for (size_t i = 0; pk && i < p->v.n; i++) {
                        json_object *a = json_object_new_array();

                        for (size_t j = 0; a && p->v.pkgs[i].versions && p->v.pkgs[i].versions[j]; j++)
                                json_object_array_add(a, json_object_new_string(p->v.pkgs[i].versions[j]));
                        json_object_object_add(pk, p->v.pkgs[i].name, a);
                }
        }
        json_object_object_add(o, "packages", pk);
}

void vhc_packages_print(const struct vhc_ctx *ctx, const struct vhc_packages *p) {
        int w = 0;

        if (p->error) {
                printf("%-15s unknown: %s\n", "packages:", p->error);
                return;
        }
        for (size_t i = 0; i < p->v.n; i++)
                if ((int)strlen(p->v.pkgs[i].name) > w)
                        w = (int)strlen(p->v.pkgs[i].name);
        for (size_t i = 0; i < p->v.n; i++) {
                const struct vhc_rpm_pkg *k = &p->v.pkgs[i];

                printf("%-15s %-*s", i == 0 ? "packages:" : "", w, k->name);
                if (!k->versions || !k->versions[0])
                        printf(" %snot installed%s", vhc_color(ctx, ANSI_DIM), vhc_color(ctx, ANSI_RESET));
                for (size_t j = 0; k->versions && k->versions[j]; j++)
                        printf(" %s", k->versions[j]);
                printf("\n");
        }
}
