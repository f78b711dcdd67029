#!/usr/bin/env bash
# rpm-ostree systems (Silverblue, Kinoite, Bazzite): kernel arguments through
# `rpm-ostree kargs`, the udev rule and modprobe drop-in through
# `rpm-ostree initramfs-etc`, exactly undone by revert; nothing done in
# rpm-ostree's scriptlet sandbox or in an image build. Roots: a machine plus
# tests/fixtures/ostree/mkostree.sh, whose rpm-ostree stand-in keeps the
# deployment's arguments and tracked files in ROOT/ostree/standin and records
# its runs in ROOT/ran.log (chrooted into the root: needs root).
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || { echo "needs root (chroot into the fixture roots)"; exit 77; }

RULE=/etc/udev/rules.d/61-virt-host-config-vfio.rules
MODP=/etc/modprobe.d/virt-host-config.conf
ostree_root() { # MACHINE [USER-KARGS] -> a new root
    local r
    r=$(make_root "$1")
    sh "$TOP/tests/fixtures/ostree/mkostree.sh" "$r" "${2:-}" || fail "mkostree $1"
    echo "$r"
}
snap() { rm -f "$1/ran.log"; snapshot "$1"; }
ran() { [ -f "$1/ran.log" ] && cat "$1/ran.log"; }
# The runs that change something (the stand-in's verbs with options).
changing() { ran "$1" | grep -v -x -e '/usr/bin/rpm-ostree|kargs|' -e '/usr/bin/rpm-ostree|initramfs-etc|'; }
kargs() { cat "$1/ostree/standin/kargs"; }

# --- Silverblue, the user's own iommu=pt (rpm-ostree kargs --append before) -
r=$(ostree_root intel-nvidia iommu=pt)
printf '/etc/crypttab\n' > "$r/ostree/standin/initramfs-etc" # the user's own
kargs "$r" > "$WORK/k0"
snap "$r" > "$WORK/s0"
"$VHC" --root "$r" apply > "$WORK/out" 2> "$WORK/err" || { fail "apply exit $?"; cat "$WORK/out" "$WORK/err" >&2; }
[ "$(changing "$r" | grep '|kargs|')" = '/usr/bin/rpm-ostree|kargs|--append-if-missing=intel_iommu=on|' ] &&
    ok "apply: one rpm-ostree kargs call, only ours (iommu=pt is the user's)" || fail "apply: kargs calls: $(ran "$r")"
[ "$(kargs "$r")" = "$(cat "$WORK/k0") intel_iommu=on" ] && ok "apply: the deployment's arguments are the user's plus ours" ||
    fail "apply: kargs now: $(kargs "$r")"
changing "$r" | grep -qx "/usr/bin/rpm-ostree|initramfs-etc|--track=$RULE|--track=$MODP|" &&
    ok "apply: the udev rule and the modprobe drop-in tracked into the initramfs" || fail "apply: initramfs-etc: $(ran "$r")"
[ -f "$r$RULE" ] && [ -f "$r$MODP" ] && ok "apply: /etc drop-ins written" || fail "apply: no drop-ins"
grep -q "^$(sed -n 's/^options //p' "$r/boot/loader/entries/ostree-1.conf")\$" "$WORK/k0" &&
    cmp -s "$TOP/tests/machines/intel-nvidia/etc/default/grub" "$r/etc/default/grub" &&
    ok "apply: ostree's own entry and /etc/default/grub untouched (no stores there)" ||
    fail "apply: the BLS entry or /etc/default/grub was edited"
ran "$r" | grep -v rpm-ostree && fail "apply: ran something else than rpm-ostree" || ok "apply: no dracut, no grub2-mkconfig"
grep -q "reboot into the new deployment" "$WORK/out" && ok "apply: says to reboot into the new deployment" ||
    fail "apply: output: $(cat "$WORK/out")"
"$VHC" --root "$r" status > "$WORK/st"
grep -q '^system: *rpm-ostree' "$WORK/st" && grep -q '^reboot pending: yes (into the new deployment)' "$WORK/st" &&
    grep -q '^boot: *rpm-ostree kargs: intel_iommu=on present' "$WORK/st" &&
    ok "status: rpm-ostree, pending until the reboot into the new deployment" || { fail "status"; cat "$WORK/st" >&2; }
"$VHC" --root "$r" status --json | python3 -c '
import json, sys
o = json.load(sys.stdin)
assert o["system"] == "ostree", o["system"]
assert o["reboot_pending"] and o["pending_kernel_args"] == ["intel_iommu=on"], o
assert o["initramfs_etc"] == ["'$RULE'", "'$MODP'"], o["initramfs_etc"]
assert [p["kind"] for p in o["boot_places"]] == ["rpm-ostree"], o["boot_places"]
' && ok "status --json: system, initramfs_etc, the rpm-ostree place" || fail "status --json"
"$VHC" --root "$r" check > "$WORK/ck"
grep -q '^PASS  kind of system .*rpm-ostree' "$WORK/ck" && ok "check: says rpm-ostree and where" || { fail "check"; head -3 "$WORK/ck" >&2; }

# Booted into the new deployment: /proc/cmdline has ours.
sed -i 's/$/ intel_iommu=on/' "$r/proc/cmdline"
"$VHC" --root "$r" status --json | python3 -c '
import json, sys
o = json.load(sys.stdin)
assert o["pending_kernel_args"] == [], o["pending_kernel_args"]' && ok "status: after the reboot no argument pending" ||
    fail "status: still pending after the reboot"
snap "$r" > "$WORK/s1"
"$VHC" --root "$r" apply > "$WORK/out" 2> "$WORK/err" || fail "second apply exit $?"
[ -z "$(changing "$r")" ] && ok "second apply: no rpm-ostree call that changes anything" || fail "second apply ran: $(changing "$r")"
snap "$r" > "$WORK/s2"
expect_same "second apply: nothing written" "$WORK/s1" "$WORK/s2"
grep -q "nothing to do" "$WORK/out" && ok "second apply: nothing to do" || fail "second apply: $(cat "$WORK/out")"

"$VHC" --root "$r" revert > "$WORK/out" 2> "$WORK/err" || { fail "revert exit $?"; cat "$WORK/out" "$WORK/err" >&2; }
changing "$r" | grep -qx '/usr/bin/rpm-ostree|kargs|--delete-if-present=intel_iommu=on|' &&
    changing "$r" | grep -qx "/usr/bin/rpm-ostree|initramfs-etc|--untrack=$RULE|--untrack=$MODP|" &&
    ok "revert: deletes ours, untracks ours" || fail "revert ran: $(ran "$r")"
kargs "$r" > "$WORK/k3"
expect_same "revert: the deployment's arguments exactly as before (iommu=pt stays)" "$WORK/k0" "$WORK/k3"
grep -qx /etc/crypttab "$r/ostree/standin/initramfs-etc" && ok "revert: the user's tracked /etc/crypttab stays" ||
    fail "revert: initramfs-etc: $(cat "$r/ostree/standin/initramfs-etc")"
sed -i 's/ intel_iommu=on$//' "$r/proc/cmdline"
snap "$r" > "$WORK/s3"
expect_same "revert: the tree as before apply" "$WORK/s0" "$WORK/s3"
grep -q "reboot into the new deployment" "$WORK/out" && ok "revert: says to reboot into the new deployment" ||
    fail "revert: output: $(cat "$WORK/out")"

# --- a contradicting argument of the user's: replaced in place, restored ---
r=$(ostree_root intel-nvidia "intel_iommu=off quiet")
kargs "$r" > "$WORK/k0"
"$VHC" --root "$r" apply > "$WORK/out" 2> "$WORK/err" || fail "replace: apply exit $?"
changing "$r" | grep -qx '/usr/bin/rpm-ostree|kargs|--append-if-missing=iommu=pt|--replace=intel_iommu=off=on|' &&
    ok "replace: intel_iommu=off replaced in place, iommu=pt appended" || fail "replace: ran $(ran "$r")"
[ "$(kargs "$r")" = "$(sed 's/intel_iommu=off/intel_iommu=on/; s/$/ iommu=pt/' "$WORK/k0")" ] &&
    ok "replace: the arguments as rpm-ostree leaves them" || fail "replace: kargs $(kargs "$r")"
"$VHC" --root "$r" revert > "$WORK/out" 2> "$WORK/err" || fail "replace: revert exit $?"
kargs "$r" > "$WORK/k1"
expect_same "replace: revert restores intel_iommu=off where it was" "$WORK/k0" "$WORK/k1"

# --- AMD: the user's amd_iommu=off deleted, appended again on revert -------
# (rpm-ostree kargs has no way to insert in place: --append puts it last.)
r=$(ostree_root two-amd-identical "amd_iommu=off quiet")
kargs "$r" > "$WORK/k0"
"$VHC" --root "$r" apply > "$WORK/out" 2> "$WORK/err" || { fail "amd off: apply exit $?"; cat "$WORK/err" >&2; }
changing "$r" | grep -qx '/usr/bin/rpm-ostree|kargs|--append-if-missing=iommu=pt|--delete-if-present=amd_iommu=off|' &&
    ok "amd off: amd_iommu=off deleted, iommu=pt appended" || fail "amd off: ran $(ran "$r")"
[ "$(kargs "$r")" = "$(sed 's/ *amd_iommu=off//; s/$/ iommu=pt/' "$WORK/k0")" ] &&
    ok "amd off: the arguments as rpm-ostree leaves them" || fail "amd off: kargs $(kargs "$r")"
rm -f "$r/ran.log"
"$VHC" --root "$r" revert > "$WORK/out" 2> "$WORK/err" || fail "amd off: revert exit $?"
changing "$r" | grep -qx '/usr/bin/rpm-ostree|kargs|--append=amd_iommu=off|--delete-if-present=iommu=pt|' &&
    ok "amd off: revert appends amd_iommu=off again, deletes iommu=pt" || fail "amd off: revert ran $(ran "$r")"
[ "$(kargs "$r")" = "$(sed 's/ *amd_iommu=off//; s/$/ amd_iommu=off/' "$WORK/k0")" ] &&
    ok "amd off: revert leaves the user's arguments, amd_iommu=off last" || fail "amd off: kargs $(kargs "$r")"

# --- rpm-ostree fails: apply fails, nothing is left ------------------------
r=$(ostree_root intel-nvidia)
snap "$r" > "$WORK/s0"
if VHC_FAKE_EXIT=1 "$VHC" --root "$r" apply > "$WORK/out" 2> "$WORK/err"; then fail "failing rpm-ostree: apply exit 0"
else grep -q "rpm-ostree kargs.*failed with exit status 1" "$WORK/err" && ok "failing rpm-ostree: apply fails naming it" ||
    fail "failing rpm-ostree: $(cat "$WORK/err")"; fi
snap "$r" | drop_record "$WORK/s0" /dev/stdin > "$WORK/s1"
expect_same "failing rpm-ostree: the tree as before, no state (but the failed outcome record)" "$WORK/s0" "$WORK/s1"

# --- rpm-ostree's scriptlet sandbox (no /sys/kernel) and an image build ----
for kind in sandbox image; do
    r=$(ostree_root intel-nvidia)
    case $kind in
    sandbox) rm -rf "$r/sys/kernel" ;;
    image) rm -f "$r/run/ostree-booted"; : > "$r/run/.containerenv" ;;
    esac
    snap "$r" > "$WORK/s0"
    "$VHC" --root "$r" apply --defer > "$WORK/out1" 2>&1 || fail "$kind: apply --defer exit $?"
    "$VHC" --root "$r" apply > "$WORK/out2" 2>&1 || fail "$kind: apply exit $?"
    "$VHC" --root "$r" revert > "$WORK/out3" 2>&1 || fail "$kind: revert exit $?"
    [ ! -s "$WORK/out1" ] && [ "$(wc -l < "$WORK/out2")" = 1 ] && grep -q "run 'sudo virt-host-config apply', then reboot" "$WORK/out2" &&
        ok "$kind: one line, naming the command to run on the booted system" ||
        fail "$kind: output: $(cat "$WORK/out1" "$WORK/out2")"
    [ -z "$(ran "$r")" ] && ok "$kind: rpm-ostree not run" || fail "$kind: ran $(ran "$r")"
    snap "$r" > "$WORK/s1"
    expect_same "$kind: nothing written" "$WORK/s0" "$WORK/s1"
    "$VHC" --root "$r" status --json | python3 -c '
import json, sys
o = json.load(sys.stdin)
assert o["system"] == sys.argv[1], o["system"]' "$([ $kind = sandbox ] && echo ostree-sandbox || echo image-build)" &&
        ok "$kind: status --json names it" || fail "$kind: status --json system"
done
finish
