# Shared helpers for the CLI tests: sourced, with $VHC, $TOP and $BUILDDIR set
# by tests/run-tests (or set them yourself to run one test alone).
set -u
: "${TOP:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${BUILDDIR:=$TOP/build}"
: "${VHC:=$BUILDDIR/virt-host-config}"
export NO_COLOR=1

WORK=$(mktemp -d /tmp/vhc-cli.XXXXXX)
chmod 755 "$WORK"
trap 'rm -rf "$WORK"' EXIT
n_fail=0

fail() { echo "FAIL: $*" >&2; n_fail=$((n_fail + 1)); }
ok() { echo "ok: $*"; }
finish() { [ "$n_fail" -eq 0 ] || { echo "$n_fail check(s) failed" >&2; exit 1; }; }

# A fresh copy of a shipped machine: make_root NAME -> prints the new root.
make_root() {
    local dst="$WORK/$1.$RANDOM$RANDOM"
    cp -a "$TOP/tests/machines/$1" "$dst"
    mkdir -p "$dst/var"
    echo "$dst"
}

# Every path with type, mode, owner, link target and sha256, sorted.
snapshot() {
    (cd "$1" && find . -printf '%p %y %m %u:%g %l\n' | sort | while read -r p y m o l; do
        if [ "$y" = f ]; then printf '%s %s %s %s %s\n' "$p" "$y" "$m" "$o" "$(sha256sum < "$p" | cut -c1-64)"
        else printf '%s %s %s %s %s\n' "$p" "$y" "$m" "$o" "$l"; fi
    done)
}

# The value the shell gives a variable after sourcing a grub defaults file.
grub_value() { bash -c '. "$1"; printf %s "${!2}"' _ "$1" "$2" 2>/dev/null; }

# expect_same LABEL SNAPSHOT_A SNAPSHOT_B
expect_same() {
    if diff -u "$2" "$3" > "$WORK/diff" 2>&1; then ok "$1"; else fail "$1"; cat "$WORK/diff" >&2; fi
}

# What a failed apply or revert writes, and the only thing when it failed
# before changing anything: its outcome record (last-run.json, issue 15) and
# the directories it made for it. drop_record BEFORE AFTER prints AFTER
# without them, to compare with BEFORE (itself without the record: a root
# used again may hold one of an earlier run).
LAST_RUN=var/lib/virt-host-config/last-run.json
drop_record() {
    awk 'NR == FNR { seen[$0] = 1; next }
         $1 == "./var/lib/virt-host-config/last-run.json" || $2 == "./var/lib/virt-host-config/last-run.json" { next }
         !($0 in seen) && ($1 == "./var" || $1 == "./var/lib" || $1 == "./var/lib/virt-host-config") { next }
         { print }' "$1" "$2"
}

# Whether the arguments are an apply or revert that records its outcome.
records_outcome() {
    local a verb=0
    for a in "$@"; do
        case $a in apply|revert) verb=1 ;; --dry-run) return 1 ;; esac
    done
    [ $verb = 1 ]
}
