/* SPDX-License-Identifier: MIT */
#include "render-tuning.h"
#include "fileio.h"
#include "render.h"

static bool only_chars(const char *s, const char *allowed) {
        return s && s[0] && s[strspn(s, allowed)] == '\0';
}

static bool safe_path(const char *s) {
        return only_chars(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-") &&
               s[0] == '/' && !strstr(s, "..");
}

static bool cpu_list(const char *s) {
        return only_chars(s, "0123456789,-");
}

/*
 * The part that does not depend on the config. Why it is written this way:
 * - libvirt runs the scripts of qemu.d as a chain of filters for "migrate"
 *   and "restore": what one prints on stdout replaces the domain XML. So
 *   nothing may reach stdout (exec 1>&2), and the XML on stdin is left unread
 *   (libvirt ignores the closed pipe).
 * - A non-zero exit stops the guest from starting; tuning is never worth
 *   that, so the script always exits 0 and says what failed on stderr (libvirt
 *   logs it to the journal only on failure, so failures go to logger too).
 * - "prepare" is the first event of a start, incoming migration included;
 *   "release" the last of a stop, whatever the reason, a failed start
 *   included. "reconnect" (the daemon restarted while the guest runs) and
 *   "attach" count a guest that was not seen starting. A file per guest under
 *   the run directory counts them; /run is empty after a reboot, as is
 *   everything the hook changed.
 * - What is recorded is kept until restored: a run killed half way never
 *   records performance as the original governor.
 * - The restore runs on the last release whatever the config says now: a
 *   setting turned off while guests run still gets its original back.
 * - mkdir is atomic: it is the lock that keeps two guests starting at once
 *   from both being "the first". A lock older than ten seconds was left by a
 *   killed run and is taken over.
 */
static const char body[] =
        "root=${VHC_HOOK_ROOT-}\n"
        "cpu_dir=$root$sys_cpu\n"
        "run_dir=$root$run\n"
        "units='system.slice user.slice init.scope'\n"
        "\n"
        "say() {\n"
        "    printf 'virt-host-config libvirt hook: %s\\n' \"$*\" >&2\n"
        "    if [ -z \"$root\" ] && command -v logger > /dev/null 2>&1; then\n"
        "        logger -t virt-host-config -- \"libvirt hook: $*\" 2> /dev/null\n"
        "    fi\n"
        "}\n"
        "\n"
        "lock() {\n"
        "    tries=0\n"
        "    while ! mkdir \"$run_dir/lock\" 2> /dev/null; do\n"
        "        tries=$((tries + 1))\n"
        "        [ \"$tries\" -lt 10 ] || return 0\n"
        "        sleep 1\n"
        "    done\n"
        "}\n"
        "\n"
        "unlock() {\n"
        "    rmdir \"$run_dir/lock\" 2> /dev/null\n"
        "}\n"
        "\n"
        "any_guest() {\n"
        "    for f in \"$run_dir\"/guests/running-*; do\n"
        "        [ -e \"$f\" ] && return 0\n"
        "    done\n"
        "    return 1\n"
        "}\n"
        "\n"
        "save_governors() {\n"
        "    [ -e \"$run_dir/governors\" ] && return 0\n"
        "    for g in \"$cpu_dir\"/cpu[0-9]*/cpufreq/scaling_governor; do\n"
        "        [ -r \"$g\" ] || continue\n"
        "        cpu=${g#\"$cpu_dir\"/}\n"
        "        read -r value < \"$g\" && printf '%s %s\\n' \"${cpu%%/*}\" \"$value\"\n"
        "    done > \"$run_dir/governors.new\" && mv -f \"$run_dir/governors.new\" \"$run_dir/governors\"\n"
        "}\n"
        "\n"
        "set_governors() {\n"
        "    for g in \"$cpu_dir\"/cpu[0-9]*/cpufreq/scaling_governor; do\n"
        "        [ -e \"$g\" ] || continue\n"
        "        { printf '%s\\n' \"$governor\" > \"$g\"; } 2> /dev/null || say \"cannot set $g to "
        "$governor\"\n"
        "    done\n"
        "}\n"
        "\n"
        "restore_governors() {\n"
        "    [ -e \"$run_dir/governors\" ] || return 0\n"
        "    while read -r cpu value; do\n"
        "        case ${cpu#cpu} in '' | *[!0-9]*) continue ;; esac\n"
        "        case $value in '' | *[!a-z0-9_-]*) continue ;; esac\n"
        "        g=$cpu_dir/$cpu/cpufreq/scaling_governor\n"
        "        { printf '%s\\n' \"$value\" > \"$g\"; } 2> /dev/null || say \"cannot set $g back to "
        "$value\"\n"
        "    done < \"$run_dir/governors\"\n"
        "    rm -f \"$run_dir/governors\"\n"
        "}\n"
        "\n"
        "save_allowed_cpus() {\n"
        "    [ -e \"$run_dir/allowed-cpus\" ] && return 0\n"
        "    for u in $units; do\n"
        "        value=$(systemctl show --property=AllowedCPUs --value -- \"$u\") || return 1\n"
        "        printf '%s %s\\n' \"$u\" \"$value\"\n"
        "    done > \"$run_dir/allowed-cpus.new\" && mv -f \"$run_dir/allowed-cpus.new\" "
        "\"$run_dir/allowed-cpus\"\n"
        "}\n"
        "\n"
        "set_allowed_cpus() {\n"
        "    for u in $units; do\n"
        "        systemctl set-property --runtime -- \"$u\" \"AllowedCPUs=$host_cpus\" ||\n"
        "            say \"cannot confine $u to CPUs $host_cpus\"\n"
        "    done\n"
        "}\n"
        "\n"
        "restore_allowed_cpus() {\n"
        "    [ -e \"$run_dir/allowed-cpus\" ] || return 0\n"
        "    while read -r u value; do\n"
        "        case \" $units \" in *\" $u \"*) ;; *) continue ;; esac\n"
        "        case $value in *[!0-9,\\ -]*) continue ;; esac\n"
        "        systemctl set-property --runtime -- \"$u\" \"AllowedCPUs=$value\" ||\n"
        "            say \"cannot give $u its CPUs back (AllowedCPUs=$value)\"\n"
        "    done < \"$run_dir/allowed-cpus\"\n"
        "    rm -f \"$run_dir/allowed-cpus\"\n"
        "}\n"
        "\n"
        "first_guest() {\n"
        "    if [ -n \"$governor\" ]; then\n"
        "        if save_governors; then set_governors; else say \"cannot record the cpufreq governors\"; "
        "fi\n"
        "    fi\n"
        "    if [ -n \"$host_cpus\" ]; then\n"
        "        if save_allowed_cpus; then set_allowed_cpus; else say \"cannot record AllowedCPUs\"; fi\n"
        "    fi\n"
        "}\n"
        "\n"
        "last_guest() {\n"
        "    restore_allowed_cpus\n"
        "    restore_governors\n"
        "}\n"
        "\n"
        "exec 1>&2\n"
        "running=$run_dir/guests/running-$(printf '%s' \"${1-}\" | tr / _)\n"
        "\n"
        "case ${2-} in\n"
        "prepare | reconnect | attach)\n"
        "    mkdir -p \"$run_dir/guests\" || exit 0\n"
        "    lock\n"
        "    if [ ! -e \"$running\" ]; then\n"
        "        any_guest || first_guest\n"
        "        : > \"$running\" || say \"cannot record that $1 runs\"\n"
        "    fi\n"
        "    unlock\n"
        "    ;;\n"
        "release)\n"
        "    [ -d \"$run_dir/guests\" ] || exit 0\n"
        "    lock\n"
        "    if [ -e \"$running\" ]; then\n"
        "        rm -f \"$running\"\n"
        "        any_guest || last_guest\n"
        "    fi\n"
        "    unlock\n"
        "    ;;\n"
        "esac\n"
        "exit 0\n";

int vhc_render_qemu_hook(const struct vhc_hook_tuning *h, char **ret) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        FILE *f;

        if (!h->governor_performance && !h->host_cpus) {
                *ret = NULL;
                return 0;
        }
        if (!safe_path(h->sys_cpu_abs) || !safe_path(h->run_dir_abs))
                return -EINVAL;
        if (h->host_cpus && (!cpu_list(h->host_cpus) || !cpu_list(h->guest_cpus)))
                return -EINVAL;

        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        fputs("#!/bin/sh\n" VHC_GENERATED_HEADER "\n#\n", f);
        fputs("# libvirt runs this for every event of every QEMU guest. While at least one\n"
              "# guest runs:\n",
              f);
        if (h->governor_performance)
                fputs("# - every CPU's cpufreq governor is performance;\n", f);
        if (h->host_cpus)
                fprintf(f,
                        "# - the host's own work (%s) runs on CPUs %s\n"
                        "#   only, leaving %s to the guests;\n",
                        "system.slice, user.slice, init.scope", h->host_cpus, h->guest_cpus);
        fprintf(f,
                "# the first guest's \"prepare\" records the settings under\n"
                "# %s and changes them, the last guest's \"release\" puts\n"
                "# them back. VHC_HOOK_ROOT, when set, is put before every path (for tests).\n\n",
                h->run_dir_abs);
        fprintf(f, "governor=%s\n", h->governor_performance ? "performance" : "");
        fprintf(f, "host_cpus=%s\n", h->host_cpus ? h->host_cpus : "");
        fprintf(f, "sys_cpu=%s\nrun=%s\n\n", h->sys_cpu_abs, h->run_dir_abs);
        fputs(body, f);
        return vhc_memstream_finish(f, &buf, ret);
}
