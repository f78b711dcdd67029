#!/usr/bin/env bash
# Kernel arguments where Fedora keeps them (src/lib/boot/): BLS entries,
# /etc/kernel/cmdline, systemd-boot, unified kernel images, GRUB without BLS.
# Roots: a machine plus tests/fixtures/boot/mkboot.sh LAYOUT; the tools that
# rebuild boot files are stand-ins that record their runs in ROOT/ran.log
# (chrooted into the root, as on a real machine: needs root).
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || { echo "needs root (chroot into the fixture roots)"; exit 77; }

MID=3f1d2a7c9b8e4f0a8d6c5b4a39281706
KVER=6.17.7-300.fc43.x86_64
E=boot/loader/entries
NEW=$E/$MID-6.18.2-100.fc43.x86_64.conf
OURS="iommu=pt intel_iommu=on"

boot_root() { # MACHINE LAYOUT -> a new root
    local r
    r=$(make_root "$1")
    sh "$TOP/tests/fixtures/boot/mkboot.sh" "$r" "$2" || fail "mkboot $2"
    echo "$r"
}
# The tree without what the stand-ins recorded.
snap() { rm -f "$1/ran.log"; snapshot "$1"; }
ran() { [ -f "$1/ran.log" ] && cat "$1/ran.log"; }
# A file as it was with ours added to its options line (or its only line).
with_ours() { sed "${2:-/^options/}s/\$/ $OURS/" "$1"; }
# What kernel-install's 90-loaderentry.install and Fedora's 20-grub.install
# write for a new kernel: the command line from /etc/kernel/cmdline.
add_entry() { # ROOT
    { echo "title Fedora Linux (6.18.2-100.fc43.x86_64) 43 (Workstation Edition)"
      echo "version 6.18.2-100.fc43.x86_64"
      echo "linux /vmlinuz-6.18.2-100.fc43.x86_64"
      echo "initrd /initramfs-6.18.2-100.fc43.x86_64.img"
      echo "options $(cat "$1/etc/kernel/cmdline")"
      echo "grub_users \$grub_users"
      echo "grub_arg --unrestricted"
      echo "grub_class fedora"; } > "$1/$NEW"
}
same_file() { # LABEL WANT GOT
    if cmp -s "$2" "$3"; then ok "$1"; else fail "$1"; diff -u "$2" "$3" >&2; fi
}

# --- Fedora 43, GRUB with BLS, /etc/kernel/cmdline present --------------------
r=$(boot_root intel-nvidia fedora-bls)
cp -a "$r" "$WORK/orig"
snap "$r" > "$WORK/s0"
"$VHC" --root "$r" apply > "$WORK/out" 2> "$WORK/err" || { fail "bls: apply exit $?"; cat "$WORK/out" "$WORK/err" >&2; }
for f in "$r"/$E/*.conf; do
    b=$(basename "$f")
    with_ours "$WORK/orig/$E/$b" > "$WORK/want"
    same_file "bls: entry $b is its original plus ours" "$WORK/want" "$f"
done
with_ours "$WORK/orig/etc/kernel/cmdline" 1 > "$WORK/want"
same_file "bls: /etc/kernel/cmdline is its original plus ours" "$WORK/want" "$r/etc/kernel/cmdline"
[ "$(grub_value "$r/etc/default/grub" GRUB_CMDLINE_LINUX)" = "rhgb quiet $OURS" ] &&
    ok "bls: /etc/default/grub kept in step" || fail "bls: GRUB_CMDLINE_LINUX: $(grub_value "$r/etc/default/grub" GRUB_CMDLINE_LINUX)"
ran "$r" | grep -q grub2-mkconfig && fail "bls: grub2-mkconfig ran: $(ran "$r")" || ok "bls: no grub2-mkconfig"
ran "$r" | grep -qx '/usr/bin/dracut|-f|--regenerate-all|' && ok "bls: dracut rebuilt the initramfs" ||
    fail "bls: dracut did not run: $(ran "$r")"
[ ! "$r/etc/kernel/cmdline" -ot "$r/etc/default/grub" ] && ok "bls: /etc/kernel/cmdline not older than /etc/default/grub" ||
    fail "bls: /etc/kernel/cmdline is older (20-grub.install would run grub2-mkconfig)"
tail -n 1 "$WORK/out" | grep -qx 'reboot for the changes to take effect' && ok "bls: says reboot last" ||
    fail "bls: last line: $(tail -n 1 "$WORK/out")"

"$VHC" --root "$r" status > "$WORK/st" 2>&1 || fail "bls: status exit $?"
grep -q "entry $KVER: $OURS present$" "$WORK/st" && grep -q "entry 0-rescue-$MID: $OURS present$" "$WORK/st" &&
    grep -q "/etc/kernel/cmdline: $OURS present$" "$WORK/st" && grep -q "/etc/default/grub: $OURS present$" "$WORK/st" &&
    ok "status lists each store and entry with ours present" || { fail "bls: status"; cat "$WORK/st" >&2; }
"$VHC" --root "$r" status --json > "$WORK/st.json" || fail "bls: status --json exit $?"
python3 - "$WORK/st.json" <<'PY' && ok "status --json has every place, ours present" || fail "bls: status --json"
import json, sys
o = json.load(open(sys.argv[1]))
p = o["boot_places"]
assert [x["kind"] for x in p] == ["grub-defaults", "bls-entry", "bls-entry", "bls-entry", "kernel-cmdline"], p
assert all(x["present"] == ["iommu=pt", "intel_iommu=on"] and x["missing"] == [] for x in p), p
assert o["pending_regeneration"] == [], o
PY
"$VHC" --root "$r" check > "$WORK/ck" 2>&1
grep -q "^PASS  entry $KVER .*$OURS present" "$WORK/ck" && ok "check lists each entry" || { fail "bls: check"; cat "$WORK/ck" >&2; }

snap "$r" > "$WORK/s1"
"$VHC" --root "$r" apply > "$WORK/out" 2>&1 || fail "bls: second apply"
grep -q '^nothing to do' "$WORK/out" && ok "bls: a second apply has nothing to do" || fail "bls: second apply: $(cat "$WORK/out")"
snap "$r" > "$WORK/s2"
expect_same "bls: a second apply changes no byte" "$WORK/s1" "$WORK/s2"

# A kernel update between apply and revert: its entry comes from /etc/kernel/cmdline.
add_entry "$r"
"$VHC" --root "$r" status > "$WORK/st" 2>&1
grep -q "entry 6.18.2-100.fc43.x86_64: $OURS present$" "$WORK/st" && ok "bls: the new entry has ours" || fail "bls: new entry: $(cat "$WORK/st")"
"$VHC" --root "$r" revert > "$WORK/out" 2> "$WORK/err" || { fail "bls: revert exit $?"; cat "$WORK/out" "$WORK/err" >&2; }
ran "$r" | grep -q grub2-mkconfig && fail "bls: revert ran grub2-mkconfig" || ok "bls: revert runs no grub2-mkconfig"
grep -qx "options $(cat "$WORK/orig/etc/kernel/cmdline")" "$r/$NEW" && ok "bls: revert leaves the new entry exactly the user's tokens" ||
    fail "bls: new entry after revert: $(grep ^options "$r/$NEW")"
rm "$r/$NEW"
snap "$r" > "$WORK/s3"
expect_same "bls: after revert /boot and /etc are byte-identical" "$WORK/s0" "$WORK/s3"

# --- The user's own arguments stay theirs --------------------------------------
r=$(boot_root intel-nvidia fedora-bls)
sed -i '/^options/s/$/ iommu=pt/' "$r/$E/$MID-6.17.5-200.fc43.x86_64.conf"
sed -i 's/$/ iommu=pt/' "$r/etc/kernel/cmdline"
cp -a "$r" "$WORK/orig2"
snap "$r" > "$WORK/s0"
"$VHC" --root "$r" apply > /dev/null 2>&1 || fail "own: apply"
grep -q '^options .* iommu=pt console=ttyS0,115200 iommu=pt' "$r/$E/$MID-6.17.5-200.fc43.x86_64.conf" &&
    fail "own: iommu=pt doubled" || ok "own: the user's iommu=pt in one entry is not doubled"
add_entry "$r"
"$VHC" --root "$r" revert > /dev/null 2>&1 || fail "own: revert"
grep -qx "options $(cat "$WORK/orig2/etc/kernel/cmdline")" "$r/$NEW" &&
    ok "own: a later entry keeps the user's iommu=pt from /etc/kernel/cmdline" || fail "own: $(grep ^options "$r/$NEW")"
rm "$r/$NEW"
snap "$r" > "$WORK/s3"
expect_same "own: the user's arguments survive apply and revert" "$WORK/s0" "$WORK/s3"

# --- No /etc/kernel/cmdline: created from what the entries share, removed again --
r=$(boot_root intel-nvidia fedora-bls)
rm "$r/etc/kernel/cmdline"
snap "$r" > "$WORK/s0"
"$VHC" --root "$r" apply > "$WORK/out" 2>&1 || fail "create: apply"
[ "$(cat "$r/etc/kernel/cmdline")" = "$(cat "$TOP/tests/fixtures/boot/fedora-43/kernel-cmdline") $OURS" ] &&
    ok "create: /etc/kernel/cmdline made of the entries' shared tokens plus ours" ||
    fail "create: /etc/kernel/cmdline: $(cat "$r/etc/kernel/cmdline")"
grep -q "^created  .*/etc/kernel/cmdline " "$WORK/out" && ok "create: apply says it created it" || fail "create: $(cat "$WORK/out")"
"$VHC" --root "$r" revert > /dev/null 2>&1 || fail "create: revert"
[ -e "$r/etc/kernel/cmdline" ] && fail "create: revert left /etc/kernel/cmdline" || ok "create: revert removes what it created"
snap "$r" > "$WORK/s3"
expect_same "create: byte-identical after revert" "$WORK/s0" "$WORK/s3"

# --- grubenv variables of an entry ($tuned_params) count, and are never edited ---
r=$(boot_root intel-nvidia fedora-bls)
sed -i 's/^tuned_params=$/tuned_params=iommu=pt skew_tick=1/; s/^#\{17\}//' "$r/boot/grub2/grubenv"
"$VHC" --root "$r" apply > /dev/null 2>&1 || fail "tuned: apply"
grep -q '^options .*\$tuned_params intel_iommu=on$' "$r/$E/$MID-$KVER.conf" &&
    ok "tuned: iommu=pt from \$tuned_params counts: only intel_iommu=on added" || fail "tuned: $(grep ^options "$r/$E/$MID-$KVER.conf")"
r=$(boot_root intel-nvidia fedora-bls)
sed -i 's/^tuned_params=$/tuned_params=intel_iommu=off/; s/^#\{16\}//' "$r/boot/grub2/grubenv"
snap "$r" > "$WORK/s0"
if "$VHC" --root "$r" apply > "$WORK/out" 2> "$WORK/err"; then fail "tuned: a contradiction in grubenv applied"; else
    grep -q "$E/$MID-$KVER.conf: intel_iommu=off, which contradicts intel_iommu=on, comes from a boot loader variable" "$WORK/err" &&
        [ "$(wc -l < "$WORK/err")" = 1 ] && ok "tuned: a contradiction in grubenv is one clear error" || fail "tuned: $(cat "$WORK/err")"
fi
snap "$r" | drop_record "$WORK/s0" /dev/stdin > "$WORK/s1"
expect_same "tuned: the refused apply changed nothing but its failed record" "$WORK/s0" "$WORK/s1"

# --- A failed regeneration stays pending until an apply runs it -----------------
r=$(boot_root intel-nvidia fedora-bls)
if VHC_FAKE_EXIT=1 "$VHC" --root "$r" apply > "$WORK/out" 2> "$WORK/err"; then fail "pending: apply with a failing dracut exit 0"; else ok "pending: a failing dracut fails apply"; fi
grep -q reboot "$WORK/out" && fail "pending: says reboot after a failed regeneration" || ok "pending: no reboot line after a failure"
grep -q "it stays pending" "$WORK/err" && ok "pending: says it stays pending" || fail "pending: $(cat "$WORK/err")"
"$VHC" --root "$r" status > "$WORK/st" 2>&1
grep -q "^boot files: *initramfs not rebuilt yet: run 'virt-host-config apply'" "$WORK/st" && ok "pending: status says so" || fail "pending: status: $(cat "$WORK/st")"
"$VHC" --root "$r" check > "$WORK/ck" 2>&1
grep -q "^FAIL  boot files  *initramfs not rebuilt" "$WORK/ck" && ok "pending: check fails on it" || fail "pending: check: $(cat "$WORK/ck")"
rm -f "$r/ran.log"
"$VHC" --root "$r" apply > "$WORK/out" 2>&1 || fail "pending: second apply"
ran "$r" | grep -q dracut && grep -q "^regenerated the initramfs" "$WORK/out" && ok "pending: the next apply runs it" || fail "pending: $(cat "$WORK/out")"
"$VHC" --root "$r" status --json > "$WORK/st.json"
python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["pending_regeneration"] == []' "$WORK/st.json" &&
    ok "pending: nothing pending after it ran" || fail "pending: still $(grep -A2 pending_regen "$WORK/st.json")"

# --- systemd-boot: type-1 entries on the ESP, /etc/kernel/cmdline -------------
# Fedora's shape: dracut's kernel-install plugin builds the entry's initrd, so
# "kernel-install add" alone rebuilds it; it writes the entry anew from
# /etc/kernel/cmdline (the stand-in does), and the entry keeps its own bytes.
SDE=efi/loader/entries/$MID-$KVER.conf
r=$(boot_root intel-nvidia sdboot)
sed -i '/^options/s/$/ nvidia-drm.modeset=1/' "$r/$SDE"
cp -a "$r" "$WORK/orig3"
snap "$r" > "$WORK/s0"
"$VHC" --root "$r" apply > "$WORK/out" 2>&1 || { fail "sdboot: apply"; cat "$WORK/out" >&2; }
with_ours "$WORK/orig3/$SDE" > "$WORK/want"
same_file "sdboot: the ESP's entry is its original plus ours (its own nvidia-drm.modeset=1 kept)" "$WORK/want" "$r/$SDE"
with_ours "$WORK/orig3/etc/kernel/cmdline" 1 > "$WORK/want"
same_file "sdboot: /etc/kernel/cmdline plus ours" "$WORK/want" "$r/etc/kernel/cmdline"
cmp -s "$WORK/orig3/etc/default/grub" "$r/etc/default/grub" && ok "sdboot: /etc/default/grub (booting nothing) untouched" ||
    fail "sdboot: /etc/default/grub changed"
ran "$r" | grep -q 'mkconfig' && fail "sdboot: ran $(ran "$r")" || ok "sdboot: no grub-mkconfig"
[ "$(ran "$r")" = "/usr/bin/kernel-install|add|$KVER|/usr/lib/modules/$KVER/vmlinuz|" ] &&
    ok "sdboot: the initramfs rebuilt by kernel-install add alone (its dracut plugin builds the entry's initrd)" ||
    fail "sdboot: ran: $(ran "$r")"
grep -q "^regenerated the initramfs: chroot $r /usr/bin/kernel-install add $KVER " "$WORK/out" && ok "sdboot: apply says so" ||
    fail "sdboot: $(cat "$WORK/out")"
"$VHC" --root "$r" revert > /dev/null 2>&1 || fail "sdboot: revert"
ran "$r" | grep -c "kernel-install|add|$KVER|" | grep -qx 2 && ok "sdboot: revert rebuilds through kernel-install too" ||
    fail "sdboot: $(ran "$r")"
snap "$r" > "$WORK/s3"
expect_same "sdboot: byte-identical after revert (the entry's own token kept)" "$WORK/s0" "$WORK/s3"

# --- Debian 12's systemd-boot: the generator to /boot, then kernel-install ---
# Debian's dracut writes /boot/initrd.img-KVER; kernel-install's
# 85-initrd.install copies it next to the kernel on the ESP, where the entry
# names it. "dracut --regenerate-all" alone would leave what systemd-boot
# boots as it was.
DK=6.1.0-41-amd64
DE=boot/efi/loader/entries/$MID-$DK.conf
r=$(boot_root intel-nvidia debian-sdboot)
cp -a "$r" "$WORK/orig4"
snap "$r" > "$WORK/s0"
"$VHC" --root "$r" apply > "$WORK/out" 2>&1 || { fail "debian-sdboot: apply"; cat "$WORK/out" >&2; }
printf '%s\n' "/usr/bin/dracut|-f|/boot/initrd.img-$DK|$DK|" "/usr/bin/kernel-install|add|$DK|/boot/vmlinuz-$DK|" > "$WORK/want"
ran "$r" > "$WORK/got"
same_file "debian-sdboot: dracut to /boot/initrd.img-KVER, then kernel-install add" "$WORK/want" "$WORK/got"
with_ours "$WORK/orig4/$DE" > "$WORK/want"
same_file "debian-sdboot: the entry is its original plus ours" "$WORK/want" "$r/$DE"
grep -q 'regenerate-all' "$WORK/got" && fail "debian-sdboot: dracut --regenerate-all ran" || ok "debian-sdboot: no dracut --regenerate-all"
# A kernel update: Debian's zz-systemd-boot hook runs kernel-install, whose
# entry comes from /etc/kernel/cmdline.
mkdir -p "$r/usr/lib/modules/6.1.0-42-amd64"
printf 'fake kernel image\n' > "$r/boot/vmlinuz-6.1.0-42-amd64"
sed 's/6\.1\.0-41-amd64/6.1.0-42-amd64/g' "$r/$DE" > "$r/boot/efi/loader/entries/$MID-6.1.0-42-amd64.conf"
rm -f "$r/ran.log"
chroot "$r" /usr/bin/kernel-install add 6.1.0-42-amd64 /boot/vmlinuz-6.1.0-42-amd64 > /dev/null
grep -q "^options .* $OURS systemd.machine_id=$MID\$" "$r/boot/efi/loader/entries/$MID-6.1.0-42-amd64.conf" &&
    ok "debian-sdboot: the later entry has ours from /etc/kernel/cmdline" || fail "debian-sdboot: later entry"
rm -f "$r/ran.log"
"$VHC" --root "$r" revert > "$WORK/out" 2>&1 || { fail "debian-sdboot: revert"; cat "$WORK/out" >&2; }
printf '%s\n' "/usr/bin/dracut|-f|/boot/initrd.img-$DK|$DK|" "/usr/bin/dracut|-f|/boot/initrd.img-6.1.0-42-amd64|6.1.0-42-amd64|" \
    "/usr/bin/kernel-install|add|$DK|/boot/vmlinuz-$DK|" "/usr/bin/kernel-install|add|6.1.0-42-amd64|/boot/vmlinuz-6.1.0-42-amd64|" > "$WORK/want"
ran "$r" > "$WORK/got"
same_file "debian-sdboot: revert rebuilds both kernels the same way" "$WORK/want" "$WORK/got"
grep -qx "options    $(cat "$WORK/orig4/etc/kernel/cmdline") systemd.machine_id=$MID" "$r/boot/efi/loader/entries/$MID-6.1.0-42-amd64.conf" &&
    ok "debian-sdboot: revert leaves the later entry exactly its own tokens" ||
    fail "debian-sdboot: later entry after revert: $(grep ^options "$r/boot/efi/loader/entries/$MID-6.1.0-42-amd64.conf")"
rm -r "$r/boot/efi/loader/entries/$MID-6.1.0-42-amd64.conf" "$r/boot/vmlinuz-6.1.0-42-amd64" "$r/usr/lib/modules/6.1.0-42-amd64"
snap "$r" > "$WORK/s3"
expect_same "debian-sdboot: byte-identical after revert" "$WORK/s0" "$WORK/s3"

# --- A unified kernel image: rebuilt through kernel-install -----------------------
r=$(boot_root intel-nvidia uki)
snap "$r" > "$WORK/s0"
"$VHC" --root "$r" apply > "$WORK/out" 2>&1 || { fail "uki: apply"; cat "$WORK/out" >&2; }
ran "$r" | grep -qx "/usr/bin/kernel-install|add|$KVER|/usr/lib/modules/$KVER/vmlinuz|" &&
    ok "uki: kernel-install add for the installed kernel" || fail "uki: ran: $(ran "$r")"
grep -q " $OURS$" "$r/etc/kernel/cmdline" && ok "uki: /etc/kernel/cmdline holds ours first" || fail "uki: no /etc/kernel/cmdline"
"$VHC" --root "$r" status > "$WORK/st" 2>&1
grep -q "image $MID-$KVER.efi: $OURS missing$" "$WORK/st" && ok "uki: status reads the image's own command line" ||
    fail "uki: status: $(cat "$WORK/st")"
"$VHC" --root "$r" revert > /dev/null 2>&1 || fail "uki: revert"
ran "$r" | grep -c "kernel-install|add" | grep -qx 2 && ok "uki: revert rebuilds the image again" || fail "uki: $(ran "$r")"
snap "$r" > "$WORK/s3"
expect_same "uki: byte-identical after revert" "$WORK/s0" "$WORK/s3"
r=$(boot_root intel-nvidia uki)
rm "$r/usr/bin/kernel-install"
snap "$r" > "$WORK/s0"
if "$VHC" --root "$r" apply > "$WORK/out" 2> "$WORK/err"; then fail "uki: apply without kernel-install exit 0"; else
    grep -q "unified kernel images in /efi/EFI/Linux .*kernel-install is not installed.*nothing was changed" "$WORK/err" &&
        [ "$(wc -l < "$WORK/err")" = 1 ] && ok "uki: without kernel-install apply fails clearly" || fail "uki: $(cat "$WORK/err")"
fi
snap "$r" | drop_record "$WORK/s0" /dev/stdin > "$WORK/s1"
expect_same "uki: nothing changed but its failed record" "$WORK/s0" "$WORK/s1"

# --- GRUB without BLS: grub-mkconfig, retried after it failed --------------------
r=$(boot_root intel-nvidia debian-grub)
snap "$r" > "$WORK/s0"
VHC_FAKE_EXIT=1 "$VHC" --root "$r" apply > "$WORK/out" 2> "$WORK/err" && fail "grub: a failing grub-mkconfig exit 0"
grep -q reboot "$WORK/out" && fail "grub: says reboot after a failed grub-mkconfig" || ok "grub: no reboot line"
rm -f "$r/ran.log"
"$VHC" --root "$r" apply > "$WORK/out" 2>&1 || fail "grub: second apply"
ran "$r" | grep -qx '/usr/sbin/grub-mkconfig|-o|/boot/grub/grub.cfg|' && ok "grub: the failed grub-mkconfig runs again" ||
    fail "grub: ran $(ran "$r")"
"$VHC" --root "$r" revert > /dev/null 2>&1 || fail "grub: revert"
ran "$r" | grep -c 'grub-mkconfig' | grep -qx 2 && ok "grub: revert regenerates grub.cfg" || fail "grub: $(ran "$r")"
snap "$r" > "$WORK/s3"
expect_same "grub: byte-identical after revert" "$WORK/s0" "$WORK/s3"
finish
