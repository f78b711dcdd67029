#!/usr/bin/env bash
# A generated file the user edited after apply: revert (or an apply that no
# longer wants it) moves it to PATH.rpmsave, keeping their bytes, so that
# nothing of it stays active (no vfio-pci binding left in any file udev,
# modprobe or dracut reads, no executable hook in libvirt's qemu.d), never
# over an earlier .rpmsave; the files nobody edited go as before.
. "$(dirname "$0")/lib.sh" || exit 1
[ -d "${WORK:-}" ] || { echo "lib.sh did not make \$WORK" >&2; exit 1; }
RULE=etc/udev/rules.d/61-virt-host-config-vfio.rules
HOOK=etc/libvirt/hooks/qemu.d/virt-host-config
STATE=var/lib/virt-host-config/state.json
m=intel-nvidia

# What would still bind a device: our vfio-pci lines in any file that udev,
# modprobe, dracut or modules-load take (*.rules, *.conf), or an executable
# file in qemu.d. Prints them; nothing is the pass.
active_ours() {
    (cd "$1" && find etc -type f \( -name '*.rules' -o -name '*.conf' \) -print0 |
        xargs -0r grep -l -E 'vfio-pci|softdep' 2>/dev/null
    [ -d etc/libvirt/hooks/qemu.d ] && find etc/libvirt/hooks/qemu.d -type f -perm /111) || true
}

# --- an edited udev rule: revert keeps it as .rpmsave, the rest goes -----
r=$(make_root $m)
snapshot "$r" > "$WORK/s0"
"$VHC" --root "$r" apply > /dev/null 2>&1 || fail "rule: apply exit $?"
grep -q 'vfio-pci' "$r/$RULE" || fail "rule: apply wrote no binding: the test tests nothing"
echo '# mine: keep this GPU on vfio-pci' >> "$r/$RULE"
cp -p "$r/$RULE" "$WORK/edited"
VHC_LOG_FILE="$WORK/log" "$VHC" --root "$r" revert > "$WORK/out" 2> "$WORK/err" ||
    { fail "rule: revert exit $?"; cat "$WORK/err" >&2; }
[ ! -e "$r/$RULE" ] && ok "the edited rule is gone from rules.d" || fail "the edited rule is still active"
cmp -s "$r/$RULE.rpmsave" "$WORK/edited" && ok "$RULE.rpmsave holds the user's bytes" ||
    fail "no .rpmsave with the edited bytes: $(ls -l "$r/${RULE%/*}")"
want="virt-host-config: warning: $r/$RULE was edited since virt-host-config wrote it: kept as $r/$RULE.rpmsave, so nothing of it stays active"
grep -qxF "$want" "$WORK/err" && ok "one line says where it went" || { fail "revert's message:"; cat "$WORK/err" >&2; }
[ "$(grep -c 'was edited' "$WORK/err")" = 1 ] || fail "more than one line on the edit: $(cat "$WORK/err")"
grep -q "^removed .*/$RULE  (vfio-pci binding; kept as .*/$RULE.rpmsave)$" "$WORK/out" &&
    ok "the change list says it too" || fail "change list: $(cat "$WORK/out")"
grep -q "VHC_ACTION=removed VHC_FILE=.*$RULE VHC_DETAIL=.*kept as .*$RULE.rpmsave" "$WORK/log" &&
    ok "the log records it" || fail "log: $(cat "$WORK/log" 2>&1)"
[ ! -e "$r/$STATE" ] && ok "the state no longer lists it (no record left)" || fail "state left: $(cat "$r/$STATE")"
bad=$(active_ours "$r")
[ -z "$bad" ] && ok "nothing of ours stays active" || fail "still active: $bad"
# Apart from the .rpmsave, the tree is as before apply: the files nobody
# edited went as before.
snapshot "$r" | grep -v -F "./$RULE.rpmsave " > "$WORK/s1"
expect_same "the rest as before apply" "$WORK/s0" "$WORK/s1"

# A .rpmsave is the user's: a new apply neither refuses it nor takes it;
# apply -> revert around it leaves it as it is.
snapshot "$r" > "$WORK/s2"
"$VHC" --root "$r" apply > /dev/null 2> "$WORK/err" || fail "apply over a .rpmsave: exit $?: $(cat "$WORK/err")"
cmp -s "$r/$RULE.rpmsave" "$WORK/edited" || fail "apply touched the .rpmsave"
"$VHC" --root "$r" revert > /dev/null 2> "$WORK/err" || fail "revert again: exit $?"
grep -q 'warning' "$WORK/err" && fail "revert of unedited files warned: $(cat "$WORK/err")"
snapshot "$r" > "$WORK/s3"
expect_same "apply -> revert with a .rpmsave there: byte-identical" "$WORK/s2" "$WORK/s3"

# --- an earlier .rpmsave is never overwritten --------------------------------
"$VHC" --root "$r" apply > /dev/null 2>&1 || fail "second edit: apply"
echo '# a second edit' >> "$r/$RULE"
cp -p "$r/$RULE" "$WORK/edited2"
"$VHC" --root "$r" revert > /dev/null 2> "$WORK/err" || fail "second edit: revert exit $?"
cmp -s "$r/$RULE.rpmsave" "$WORK/edited" && ok "the earlier .rpmsave is untouched" || fail "the earlier .rpmsave was overwritten"
cmp -s "$r/$RULE.rpmsave.1" "$WORK/edited2" && ok "the new edit is kept as .rpmsave.1" ||
    fail "no .rpmsave.1: $(ls "$r/${RULE%/*}")"
grep -qF "kept as $r/$RULE.rpmsave.1," "$WORK/err" || fail "message names .rpmsave.1: $(cat "$WORK/err")"
[ ! -e "$r/$RULE" ] && [ -z "$(active_ours "$r")" ] || fail "second edit: something stays active"
# The same edit again (same bytes as a saved copy): no third copy.
"$VHC" --root "$r" apply > /dev/null 2>&1 || fail "same edit: apply"
cp "$WORK/edited" "$r/$RULE"
"$VHC" --root "$r" revert > /dev/null 2> "$WORK/err" || fail "same edit: revert exit $?"
[ ! -e "$r/$RULE" ] && [ ! -e "$r/$RULE.rpmsave.2" ] && cmp -s "$r/$RULE.rpmsave" "$WORK/edited" &&
    ok "an edit saved before is not saved twice" || fail "same edit: $(ls "$r/${RULE%/*}")"
grep -qF "kept as $r/$RULE.rpmsave," "$WORK/err" || fail "same edit: message: $(cat "$WORK/err")"
# Something else (a link) at .rpmsave is never followed nor replaced.
"$VHC" --root "$r" apply > /dev/null 2>&1 || fail "link: apply"
echo '# a third edit' >> "$r/$RULE"
rm "$r/$RULE.rpmsave.1"; ln -s /nowhere "$r/$RULE.rpmsave.1"
mv "$r/$RULE.rpmsave" "$WORK/first"; ln -s ../../../../etc/passwd "$r/$RULE.rpmsave"
"$VHC" --root "$r" revert > /dev/null 2> "$WORK/err" || fail "link: revert exit $?"
[ -L "$r/$RULE.rpmsave" ] && [ -L "$r/$RULE.rpmsave.1" ] && grep -q '# a third edit' "$r/$RULE.rpmsave.2" &&
    ok "links at .rpmsave names are left alone; the edit went to .rpmsave.2" || fail "links: $(ls -l "$r/${RULE%/*}")"

# --- --dry-run says the same and writes nothing ------------------------------
r=$(make_root $m)
"$VHC" --root "$r" apply > /dev/null 2>&1 || fail "dry: apply"
echo '# mine' >> "$r/$RULE"
snapshot "$r" > "$WORK/d0"
"$VHC" --root "$r" revert --dry-run > "$WORK/out" 2> "$WORK/err" || fail "dry: revert exit $?"
snapshot "$r" > "$WORK/d1"
expect_same "revert --dry-run writes nothing" "$WORK/d0" "$WORK/d1"
grep -qF "kept as $r/$RULE.rpmsave, so nothing" "$WORK/err" && ok "revert --dry-run names the .rpmsave" ||
    fail "dry-run: $(cat "$WORK/err")"

# --- an apply that no longer wants the file treats an edit the same way -----
printf 'isolate = none\n' > "$WORK/none.conf"
"$VHC" --root "$r" --config "$WORK/none.conf" apply > /dev/null 2> "$WORK/err" || fail "isolate=none: apply exit $?"
[ ! -e "$r/$RULE" ] && grep -q '^# mine$' "$r/$RULE.rpmsave" && ok "apply (isolate = none): the edited rule kept as .rpmsave" ||
    fail "isolate=none: $(ls "$r/${RULE%/*}"); $(cat "$WORK/err")"
[ -z "$(active_ours "$r")" ] && ok "isolate = none: nothing binds" || fail "isolate=none: active: $(active_ours "$r")"

# --- the libvirt hook: not executable as .rpmsave; its directory stays ------
printf 'cpu_governor = performance\n' > "$WORK/tuning.conf"
r=$(make_root $m)
snapshot "$r" > "$WORK/h0"
"$VHC" --root "$r" --config "$WORK/tuning.conf" apply > /dev/null 2>&1 || fail "hook: apply exit $?"
[ -x "$r/$HOOK" ] || fail "hook: apply wrote no executable hook: the test tests nothing"
echo '# mine' >> "$r/$HOOK"
cp "$r/$HOOK" "$WORK/hook-edited"
"$VHC" --root "$r" revert > "$WORK/out" 2> "$WORK/err" || { fail "hook: revert exit $?"; cat "$WORK/err" >&2; }
[ ! -e "$r/$HOOK" ] && cmp -s "$r/$HOOK.rpmsave" "$WORK/hook-edited" && ok "the edited hook kept as .rpmsave" ||
    fail "hook: $(ls -l "$r/${HOOK%/*}" 2>&1)"
mode=$(stat -c %a "$r/$HOOK.rpmsave" 2>/dev/null)
[ "$mode" = 644 ] && ok "the hook's .rpmsave is mode 644: libvirt runs no file of qemu.d without x" ||
    fail "the hook's .rpmsave is mode $mode"
grep -qxF "virt-host-config: warning: $r/${HOOK%/*} stays: it holds $r/$HOOK.rpmsave" "$WORK/err" &&
    ok "revert says why qemu.d stays" || fail "no line on qemu.d: $(cat "$WORK/err")"
[ ! -e "$r/$STATE" ] && ok "no state left" || fail "hook: state left"
snapshot "$r" | grep -v -F -e "./$HOOK.rpmsave " -e "./etc/libvirt " -e "./etc/libvirt/hooks " \
    -e "./${HOOK%/*} " > "$WORK/h1"
expect_same "hook: the rest as before apply" "$WORK/h0" "$WORK/h1"
"$VHC" --root "$r" revert > "$WORK/out" 2> "$WORK/err" || fail "hook: second revert exit $?"
grep -q '^nothing to do' "$WORK/out" && ! grep -q warning "$WORK/err" && ok "a second revert has nothing to do" ||
    fail "second revert: $(cat "$WORK/out" "$WORK/err")"

finish
