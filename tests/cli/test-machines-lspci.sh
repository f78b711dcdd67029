#!/usr/bin/env bash
# The committed fake machines under tests/machines:
#  1. are what scripts/mkmachine makes of their descriptions, byte for byte
#     (links included), so nobody edits a root by hand or forgets to
#     regenerate one;
#  2. read correctly with the real pciutils: lspci lists exactly the
#     described devices with their IDs, classes and subsystems, and -k shows
#     the described drivers;
#  3. survive scripts/capture-machine: a capture of a machine reads the same
#     in lspci -v -k, and its /proc files are the same.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
machines=$TOP/tests/machines
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }

have_lspci=1
command -v lspci >/dev/null || { echo "SKIP lspci checks: no lspci"; have_lspci=0; }

n=0
for desc in "$machines"/*.machine; do
    name=$(basename "$desc" .machine)
    root=$machines/$name
    n=$((n + 1))

    if ! python3 "$TOP/scripts/mkmachine" "$desc" "$tmp/$name"; then
        bad "$name: mkmachine failed"
        continue
    fi
    if ! diff -r --no-dereference "$root" "$tmp/$name" >"$tmp/$name.diff"; then
        bad "$name: the committed root differs from its description; run:"
        echo "    scripts/mkmachine tests/machines/$name.machine tests/machines/$name"
        head -n 20 "$tmp/$name.diff" | sed 's/^/    /'
    fi

    [ $have_lspci = 1 ] || continue
    lspci=(lspci -A linux-sysfs -O "sysfs.path=$root/sys/bus/pci" -D)

    # Expected, from the description: "ADDR CLASS VEN:DEV", "ADDR SVEN SDEV", "ADDR DRIVER".
    awk '$1 == "pci" { print $2, substr($4, 1, 4), $3 }' "$desc" | sort >"$tmp/want-nn"
    awk '$1 == "pci" { s = "0000:0000"; for (i = 5; i <= NF; i++) if ($i ~ /^subsys=/) s = substr($i, 8);
                       split(s, p, ":"); print $2, p[1], p[2] }' "$desc" | sort >"$tmp/want-ss"
    awk '$1 == "pci" { d = "-"; for (i = 5; i <= NF; i++) if ($i ~ /^driver=/) d = substr($i, 8); print $2, d }' \
        "$desc" | sort >"$tmp/want-k"

    if ! "${lspci[@]}" -nn >"$tmp/nn" 2>"$tmp/err"; then
        bad "$name: lspci -nn failed: $(cat "$tmp/err")"
        continue
    fi
    sed -E 's/^([0-9a-f:.]+) [^[]*\[([0-9a-f]{4})\]: .*\[([0-9a-f]{4}:[0-9a-f]{4})\]( \(rev [0-9a-f]+\))?$/\1 \2 \3/' \
        "$tmp/nn" | sort >"$tmp/got-nn"
    diff -u "$tmp/want-nn" "$tmp/got-nn" >"$tmp/d" || { bad "$name: lspci -nn"; sed 's/^/    /' "$tmp/d"; }

    # -nmm: ADDR "CLASS" "VEN" "DEV" [-rREV] [-pPROGIF] ["SVEN" "SDEV"], empty or absent when 0.
    "${lspci[@]}" -nmm 2>/dev/null |
        awk -F'"' '{ sv = $8; sd = $10; if (sv == "") sv = "0000"; if (sd == "") sd = "0000";
                     split($1, a, " "); print a[1], sv, sd }' | sort >"$tmp/got-ss"
    # Bridges report their subsystem through a capability; lspci may leave it out.
    join "$tmp/want-ss" "$tmp/got-ss" | awk '$2 != $4 || $3 != $5 { if ($4 != "0000" || $5 != "0000") print }' \
        >"$tmp/d"
    [ -s "$tmp/d" ] && { bad "$name: lspci -nmm subsystems (want, got)"; sed 's/^/    /' "$tmp/d"; }
    [ "$(wc -l <"$tmp/got-ss")" = "$(wc -l <"$tmp/want-ss")" ] || bad "$name: lspci -nmm device count"

    "${lspci[@]}" -k 2>/dev/null | awk '
        /^[0-9a-f]/ { if (a) print a, d; a = $1; d = "-" }
        /^\tKernel driver in use:/ { d = $NF }
        END { if (a) print a, d }' | sort >"$tmp/got-k"
    diff -u "$tmp/want-k" "$tmp/got-k" >"$tmp/d" || { bad "$name: lspci -k drivers"; sed 's/^/    /' "$tmp/d"; }

    if ! CAPTURE_SOURCE=$root python3 "$TOP/scripts/capture-machine" "$tmp/cap-$name" >/dev/null 2>"$tmp/err"; then
        bad "$name: capture-machine failed: $(cat "$tmp/err")"
        continue
    fi
    "${lspci[@]}" -nn -v -k >"$tmp/v1" 2>/dev/null
    lspci -A linux-sysfs -O "sysfs.path=$tmp/cap-$name/sys/bus/pci" -D -nn -v -k >"$tmp/v2" 2>/dev/null
    diff -u "$tmp/v1" "$tmp/v2" >"$tmp/d" || { bad "$name: captured copy reads differently"; head -20 "$tmp/d"; }
    for f in proc/cpuinfo proc/cmdline proc/meminfo proc/modules proc/sys/kernel/osrelease; do
        cmp -s "$root/$f" "$tmp/cap-$name/$f" || bad "$name: captured $f differs"
    done
done

[ $n -ge 8 ] || bad "only $n machines"
[ $fail = 0 ] && echo "ok: $n machines"
exit $fail
