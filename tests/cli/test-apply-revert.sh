#!/usr/bin/env bash
# apply and revert on machine roots: idempotent, --dry-run writes nothing, the
# user's edits survive, apply -> revert gives back a byte-identical tree.
. "$(dirname "$0")/lib.sh"

for m in "$TOP"/tests/machines/*/; do
    m=$(basename "$m")
    [ -f "$TOP/tests/machines/$m/etc/default/grub" ] || continue
    r=$(make_root "$m")
    snapshot "$r" > "$WORK/s0"
    before=$(grub_value "$r/etc/default/grub" GRUB_CMDLINE_LINUX)

    "$VHC" --root "$r" apply --dry-run > "$WORK/dry" 2> "$WORK/dry.err" || fail "$m: dry-run exit $?"
    snapshot "$r" > "$WORK/s1"
    expect_same "$m: --dry-run writes nothing" "$WORK/s0" "$WORK/s1"
    grep -q '^+++ b/etc/default/grub' "$WORK/dry" || fail "$m: dry-run shows no diff of /etc/default/grub"

    "$VHC" --root "$r" apply > "$WORK/out" 2>&1 || { fail "$m: apply exit $?"; cat "$WORK/out" >&2; }
    after=$(grub_value "$r/etc/default/grub" GRUB_CMDLINE_LINUX)
    case " $after " in *" iommu=pt "*) ok "$m: iommu=pt in GRUB_CMDLINE_LINUX" ;; *) fail "$m: no iommu=pt in '$after'" ;; esac
    if grep -q GenuineIntel "$r/proc/cpuinfo"; then
        case " $after " in *" intel_iommu=on "*) ok "$m: intel_iommu=on (Intel)" ;; *) fail "$m: no intel_iommu=on in '$after'" ;; esac
    else
        case " $after " in *intel_iommu*) fail "$m: intel_iommu on a non-Intel CPU" ;; *) ok "$m: no intel_iommu (AMD)" ;; esac
    fi
    [ "${after#"$before"}" != "$after" ] || fail "$m: the old value '$before' is not kept at the front of '$after'"

    snapshot "$r" > "$WORK/s2"
    "$VHC" --root "$r" apply > "$WORK/out2" 2>&1 || fail "$m: second apply exit $?"
    snapshot "$r" > "$WORK/s3"
    expect_same "$m: a second apply changes no byte" "$WORK/s2" "$WORK/s3"
    grep -q '^nothing to do' "$WORK/out2" || fail "$m: second apply did not say 'nothing to do'"

    "$VHC" --root "$r" revert > "$WORK/out3" 2>&1 || fail "$m: revert exit $?"
    snapshot "$r" > "$WORK/s4"
    expect_same "$m: apply then revert gives a byte-identical tree" "$WORK/s0" "$WORK/s4"
    "$VHC" --root "$r" revert > "$WORK/out4" 2>&1 || fail "$m: second revert exit $?"
    snapshot "$r" > "$WORK/s5"
    expect_same "$m: a second revert changes nothing" "$WORK/s0" "$WORK/s5"
done

# A user's edits between apply and revert survive revert.
m=intel-nvidia
r=$(make_root $m)
cp "$r/etc/default/grub" "$WORK/orig"
"$VHC" --root "$r" apply > /dev/null || fail "edit: apply"
sed -i 's/^\(GRUB_CMDLINE_LINUX=".*\)"$/\1 mitigations=off"/' "$r/etc/default/grub"
echo 'GRUB_TIMEOUT_STYLE=menu' >> "$r/etc/default/grub"
"$VHC" --root "$r" revert > /dev/null || fail "edit: revert"
v=$(grub_value "$r/etc/default/grub" GRUB_CMDLINE_LINUX)
case " $v " in *" mitigations=off "*) ok "the user's argument survives revert" ;; *) fail "user's argument lost: '$v'" ;; esac
case " $v " in *" iommu=pt "*|*intel_iommu*) fail "revert left ours: '$v'" ;; *) ok "revert removed ours after a user edit" ;; esac
grep -q '^GRUB_TIMEOUT_STYLE=menu$' "$r/etc/default/grub" && ok "the user's new line survives" || fail "user's line lost"
sed -e '/^GRUB_TIMEOUT_STYLE=menu$/d' -e 's/ mitigations=off"$/"/' "$r/etc/default/grub" > "$WORK/back"
cmp -s "$WORK/back" "$WORK/orig" && ok "nothing else changed" || { fail "revert after edit"; diff -u "$WORK/orig" "$WORK/back" >&2; }

# An argument the user had before stays theirs; a contradicting one is replaced and restored.
r=$(make_root $m)
sed -i 's/^GRUB_CMDLINE_LINUX="\(.*\)"$/GRUB_CMDLINE_LINUX="\1 iommu=pt intel_iommu=off"/' "$r/etc/default/grub"
cp "$r/etc/default/grub" "$WORK/orig"
"$VHC" --root "$r" apply > /dev/null || fail "user args: apply"
v=$(grub_value "$r/etc/default/grub" GRUB_CMDLINE_LINUX)
[ "$(grep -o 'iommu=pt' <<< "$v" | wc -l)" = 1 ] && ok "iommu=pt not duplicated" || fail "iommu=pt duplicated: '$v'"
case " $v " in *" intel_iommu=on "*) ok "intel_iommu=off replaced by on" ;; *) fail "not replaced: '$v'" ;; esac
case " $v " in *"intel_iommu=off"*) fail "intel_iommu=off still there: '$v'" ;; esac
"$VHC" --root "$r" revert > /dev/null || fail "user args: revert"
cmp -s "$r/etc/default/grub" "$WORK/orig" && ok "the user's iommu=pt and intel_iommu=off come back exactly" || { fail "user args revert"; diff -u "$WORK/orig" "$r/etc/default/grub" >&2; }

# iommu = no: no kernel arguments.
r=$(make_root $m)
printf 'iommu = no\nisolate = none\n' > "$WORK/conf"
cp "$r/etc/default/grub" "$WORK/orig"
"$VHC" --root "$r" --config "$WORK/conf" apply > /dev/null || fail "iommu=no: apply"
cmp -s "$r/etc/default/grub" "$WORK/orig" && ok "iommu = no adds no argument" || fail "iommu = no changed the grub file"
# ...and switching it off after an apply takes ours out.
"$VHC" --root "$r" apply > /dev/null || fail "iommu=yes apply"
"$VHC" --root "$r" --config "$WORK/conf" apply > /dev/null || fail "iommu=no re-apply"
cmp -s "$r/etc/default/grub" "$WORK/orig" && ok "turning iommu off removes exactly ours" || fail "iommu off re-apply"

# Symlinks: Fedora's /etc/sysconfig/grub -> ../default/grub stays a link; a
# /etc/default/grub that is itself a link has its target edited.
r=$(make_root $m)
mkdir -p "$r/etc/sysconfig"; ln -sf ../default/grub "$r/etc/sysconfig/grub"
mv "$r/etc/default/grub" "$r/etc/default/grub.real"; ln -s grub.real "$r/etc/default/grub"
snapshot "$r" > "$WORK/s0"
"$VHC" --root "$r" apply > /dev/null || fail "symlink: apply"
[ -L "$r/etc/default/grub" ] && [ -L "$r/etc/sysconfig/grub" ] && ok "links kept" || fail "a link was replaced"
grep -q 'iommu=pt' "$r/etc/default/grub.real" && ok "the link's target edited" || fail "target not edited"
"$VHC" --root "$r" revert > /dev/null || fail "symlink: revert"
snapshot "$r" > "$WORK/s1"
expect_same "symlink: byte-identical after revert" "$WORK/s0" "$WORK/s1"

# Absolute link targets are taken inside the root, not on this machine.
r=$(make_root $m)
mv "$r/etc/default/grub" "$r/etc/grub.defaults"; ln -s /etc/grub.defaults "$r/etc/default/grub"
"$VHC" --root "$r" apply > /dev/null || fail "absolute link: apply"
grep -q 'iommu=pt' "$r/etc/grub.defaults" && ok "absolute link resolved under the root" || fail "absolute link"

# Two runs never interleave: apply waits for the lock on the root directory.
r=$(make_root $m)
flock "$r" sleep 3 &
locker=$!
sleep 0.5
"$VHC" --root "$r" apply > "$WORK/locked.out" 2>&1 &
runner=$!
sleep 1
if kill -0 "$runner" 2>/dev/null && ! grep -q iommu=pt "$r/etc/default/grub"; then ok "apply waits while another run holds the lock"
else fail "apply did not wait for the lock"; fi
wait "$locker"; wait "$runner" || fail "apply after the lock was released"
grep -q iommu=pt "$r/etc/default/grub" && ok "apply ran once the lock was free" || fail "apply did not run after the lock"

finish
