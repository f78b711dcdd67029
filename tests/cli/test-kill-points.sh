#!/usr/bin/env bash
# A run killed at every point where it changes the disk: strace kills apply
# (then revert) on entry to the Nth call of each syscall that writes, renames,
# removes, syncs or makes a directory, for every N the run makes. After the
# kill, running the same command again and then revert must give back the
# tree as it was, byte for byte, with no temporary file or directory left.
# Prints "kill points: N" for the README's figures.
. "$(dirname "$0")/lib.sh"
command -v strace > /dev/null || { echo "strace not installed"; exit 77; }
# lib.sh's snapshot, in two processes rather than one per file.
snapshot() {
    (cd "$1" && find . -printf '%p %y %m %u:%g %l\n' | LC_ALL=C sort &&
        find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum)
}

SYSCALLS="write pwrite64 writev rename renameat renameat2 unlink unlinkat fsync fdatasync mkdir mkdirat rmdir chmod fchmod fchmodat fchown fchownat utimensat"
set_csv=$(echo $SYSCALLS | tr ' ' ,)
m=${VHC_KILL_MACHINE:-intel-nvidia}
r=$(make_root "$m")
snapshot "$r" > "$WORK/s0"
"$VHC" --root "$r" apply > /dev/null 2>&1 || fail "setup: apply"
snapshot "$r" > "$WORK/s-applied"
"$VHC" --root "$r" revert > /dev/null 2>&1 || fail "setup: revert"
snapshot "$r" > "$WORK/s1"
expect_same "setup: apply then revert" "$WORK/s0" "$WORK/s1"

# How many calls of each syscall a run makes: "NAME COUNT" lines.
counts() { # ROOT COMMAND
    strace -qq -f -o "$WORK/trace" -e trace="$set_csv" "$VHC" --root "$1" "$2" > /dev/null 2>&1
    sed -n 's/^[0-9]* *\([a-z0-9_]*\)(.*/\1/p' "$WORK/trace" | sort | uniq -c | awk '{print $2, $1}'
}

points=0 bad=0
# kill_each CMD START_SNAPSHOT: the root is in the START state before each kill.
kill_each() {
    local cmd=$1 start=$2 sc n i rc
    while read -r sc n; do
        for i in $(seq "$n"); do
            strace -qq -o /dev/null -e trace="$sc" -e inject="$sc:signal=KILL:when=$i" \
                "$VHC" --root "$r" "$cmd" > /dev/null 2>&1
            rc=$?
            points=$((points + 1))
            [ $rc = 137 ] || { fail "$cmd: $sc #$i: not killed (exit $rc)"; bad=$((bad + 1)); }
            # Recovery: the same command again, then revert.
            "$VHC" --root "$r" "$cmd" > "$WORK/rec.out" 2>&1 || { fail "$cmd: $sc #$i: the rerun failed"; cat "$WORK/rec.out" >&2; }
            "$VHC" --root "$r" revert > "$WORK/rec.out" 2>&1 || { fail "$cmd: $sc #$i: revert failed"; cat "$WORK/rec.out" >&2; }
            snapshot "$r" > "$WORK/s1"
            if ! cmp -s "$WORK/s0" "$WORK/s1"; then
                fail "$cmd killed at $sc #$i: after rerun and revert the tree differs"
                diff -u "$WORK/s0" "$WORK/s1" | grep '^[-+]\./' >&2
                bad=$((bad + 1))
                rm -rf "$r"; r=$(make_root "$m")
            fi
            [ "$start" = applied ] && "$VHC" --root "$r" apply > /dev/null 2>&1
            [ $bad -gt 10 ] && return
        done
    done
}

counts "$r" apply > "$WORK/apply.counts"
"$VHC" --root "$r" revert > /dev/null 2>&1
kill_each apply clean < "$WORK/apply.counts"
"$VHC" --root "$r" apply > /dev/null 2>&1
counts "$r" revert > "$WORK/revert.counts"
"$VHC" --root "$r" apply > /dev/null 2>&1
kill_each revert applied < "$WORK/revert.counts"
"$VHC" --root "$r" revert > /dev/null 2>&1

[ $bad = 0 ] && ok "$points kill points of apply and revert ($(tr '\n' ' ' < "$WORK/apply.counts")/ $(tr '\n' ' ' < "$WORK/revert.counts")): each recovers to the same tree"
echo "kill points: $points"
finish
