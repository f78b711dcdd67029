#!/usr/bin/env bash
# Shapes the adversarial run of issue 16 found: a contradicting argument
# given twice is restored exactly, in every store; a grub file whose
# assignment may never run is refused with its line, nothing changed.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || { echo "needs root (chroot into the fixture roots)"; exit 77; }
# lib.sh's snapshot, in two processes rather than one per file.
snapshot() {
    (cd "$1" && find . -printf '%p %y %m %u:%g %l\n' | LC_ALL=C sort &&
        find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum)
}

# --- intel_iommu=off twice, in /etc/default/grub, the BLS entries, /etc/kernel/cmdline
for shape in "intel_iommu=off intel_iommu=off" "intel_iommu=off iommu=pt intel_iommu=off" \
             "intel_iommu=on intel_iommu=off intel_iommu=off"; do
    r=$(make_root intel-nvidia)
    sh "$TOP/tests/fixtures/boot/mkboot.sh" "$r" fedora-bls > /dev/null || fail "mkboot"
    sed -i "s/\$/ $shape/" "$r/etc/kernel/cmdline"
    sed -i "/^options/s/\$/ $shape/" "$r"/boot/loader/entries/*.conf
    sed -i "s/^GRUB_CMDLINE_LINUX=\"\\(.*\\)\"\$/GRUB_CMDLINE_LINUX=\"\\1 $shape\"/" "$r/etc/default/grub"
    rm -f "$r/ran.log"; snapshot "$r" > "$WORK/s0"
    "$VHC" --root "$r" apply > "$WORK/out" 2>&1 || { fail "'$shape': apply"; cat "$WORK/out" >&2; }
    v=$(grub_value "$r/etc/default/grub" GRUB_CMDLINE_LINUX)
    case "$v" in *"intel_iommu=on iommu=pt"|*"intel_iommu=on") ok "'$shape': intel_iommu=on is the last" ;;
                 *) fail "'$shape': after apply '$v'" ;; esac
    "$VHC" --root "$r" apply > /dev/null 2>&1 || fail "'$shape': second apply"
    "$VHC" --root "$r" revert > "$WORK/out" 2>&1 || { fail "'$shape': revert"; cat "$WORK/out" >&2; }
    rm -f "$r/ran.log"; snapshot "$r" > "$WORK/s1"
    expect_same "'$shape' in every store: apply, apply, revert gives back the tree" "$WORK/s0" "$WORK/s1"
done

# --- grub assignments that may never run: refused with the line, nothing changed
shape() { # LABEL LINE TEXT
    local r; r=$(make_root intel-nvidia)
    printf '%b' "$3" > "$r/etc/default/grub"
    snapshot "$r" > "$WORK/s0"
    "$VHC" --root "$r" apply > "$WORK/out" 2> "$WORK/err"; local rc=$?
    snapshot "$r" | drop_record "$WORK/s0" /dev/stdin > "$WORK/s1" # but the failed outcome record
    [ $rc = 1 ] || fail "$1: apply exit $rc"
    grep -q "etc/default/grub:$2: " "$WORK/err" && ok "$1: refused at line $2" || { fail "$1: not refused at line $2"; cat "$WORK/err" >&2; }
    cmp -s "$WORK/s0" "$WORK/s1" || fail "$1: files changed"
}
H='GRUB_TIMEOUT=5\nGRUB_DEFAULT=saved\n'
shape "cond && assignment" 3 "$H"'[ -e /etc/vfio ] \&\& GRUB_CMDLINE_LINUX="iommu=pt"\n'
shape "cond || newline assignment" 4 "$H"'[ -e /etc/vfio ] ||\n  GRUB_CMDLINE_LINUX="iommu=pt"\n'
shape "a pipeline" 3 "$H"'GRUB_CMDLINE_LINUX="quiet" | cat\n'
shape "a background job" 3 "$H"'GRUB_CMDLINE_LINUX="quiet" \&\n'
shape "a function body" 3 "$H"'vfio() {\nGRUB_CMDLINE_LINUX="iommu=pt"\n}\n'
shape "a here-document" 3 "$H"'cat <<EOF\nGRUB_CMDLINE_LINUX="iommu=pt"\nEOF\n'
shape "after return" 4 "$H"'GRUB_CMDLINE_LINUX="quiet"\nreturn 0\nGRUB_CMDLINE_LINUX="iommu=pt"\n'
shape "after exit" 3 "$H"'exit 0\nGRUB_CMDLINE_LINUX="quiet"\n'
finish
