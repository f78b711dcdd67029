#!/usr/bin/env bash
# The user's arguments that keep the IOMMU off (issue 15, item 14): with
# iommu = yes, apply takes out iommu=off (x86: pci-dma.c iommu_setup() sets
# no_iommu, which no later iommu= value clears) and, on AMD, amd_iommu=off
# (drivers/iommu/amd/init.c: amd_iommu_disabled, likewise), wherever they are
# and whatever follows; revert puts each back in its place, byte for byte.
# intel_iommu=off is replaced (the last of on/off wins), as before. Roots: a
# machine plus tests/fixtures/boot/mkboot.sh fedora-bls (GRUB with BLS, the
# entries, /etc/kernel/cmdline), chrooted into: needs root.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || { echo "needs root (chroot into the fixture roots)"; exit 77; }

E=boot/loader/entries
boot_root() { # MACHINE -> a new root with Fedora 43's BLS boot path
    local r
    r=$(make_root "$1")
    sh "$TOP/tests/fixtures/boot/mkboot.sh" "$r" fedora-bls || fail "mkboot"
    echo "$r"
}
snap() { rm -f "$1/ran.log"; snapshot "$1"; }
# Every place of the root that holds kernel arguments, one "FILE: LINE" each.
places() {
    grep -H '^GRUB_CMDLINE_LINUX' "$1/etc/default/grub"
    grep -H '^options' "$1"/$E/*.conf
    grep -H '' "$1/etc/kernel/cmdline"
}
# set_args ROOT ARGS...: the user's own arguments, where Fedora keeps them.
set_args() {
    local r=$1; shift
    sed -i "s/^GRUB_CMDLINE_LINUX=\"rhgb quiet\"/GRUB_CMDLINE_LINUX=\"rhgb quiet $*\"/" "$r/etc/default/grub"
    sed -i "/^options/s/ rhgb quiet/ rhgb quiet $*/" "$r"/$E/*.conf
    sed -i "s/ rhgb quiet\$/ rhgb quiet $*/" "$r/etc/kernel/cmdline"
}
# A /proc/cmdline that has the arguments live.
set_live() { # ROOT ARGS...
    local r=$1; shift
    sed -i "s/ rhgb quiet\$/ rhgb quiet $*/" "$r/proc/cmdline"
}
# round_trip LABEL ROOT: apply then revert gives back a byte-identical tree;
# a second apply in between changes nothing.
round_trip() {
    local label=$1 r=$2
    "$VHC" --root "$r" apply > "$WORK/a2" 2>&1 || fail "$label: second apply exit $?"
    grep -q '^nothing to do' "$WORK/a2" || { fail "$label: a second apply changed something"; cat "$WORK/a2" >&2; }
    "$VHC" --root "$r" revert > "$WORK/rv" 2>&1 || { fail "$label: revert exit $?"; cat "$WORK/rv" >&2; }
    snap "$r" > "$WORK/s1"
    expect_same "$label: apply then revert gives back every file byte for byte" "$WORK/s0" "$WORK/s1"
}

# --- a GPU server's line on AMD: amd_iommu=off iommu=pt -----------------------
r=$(boot_root two-amd-identical)
set_args "$r" "amd_iommu=off iommu=pt"
set_live "$r" "amd_iommu=off iommu=pt"
snap "$r" > "$WORK/s0"
"$VHC" --root "$r" check > "$WORK/c0" 2>&1
grep -E '^FAIL +kernel arguments +amd_iommu=off: on the kernel command line, keeps the IOMMU off' "$WORK/c0" > /dev/null &&
    ok "amd: check fails on a live amd_iommu=off before apply" || { fail "amd: check before apply"; cat "$WORK/c0" >&2; }
"$VHC" --root "$r" apply > "$WORK/out" 2>&1 || { fail "amd: apply exit $?"; cat "$WORK/out" >&2; }
places "$r" > "$WORK/p"
grep -q 'amd_iommu' "$WORK/p" && { fail "amd: amd_iommu=off left somewhere"; grep amd_iommu "$WORK/p" >&2; } ||
    ok "amd: amd_iommu=off taken out of /etc/default/grub, every entry and /etc/kernel/cmdline"
[ "$(grep -c 'iommu=pt' "$WORK/p")" = "$(wc -l < "$WORK/p")" ] && ok "amd: iommu=pt everywhere" ||
    { fail "amd: iommu=pt missing"; cat "$WORK/p" >&2; }
grep -q 'iommu=pt iommu=pt' "$WORK/p" && fail "amd: the user's iommu=pt doubled" || ok "amd: the user's iommu=pt kept, not doubled"
[ "$(grub_value "$r/etc/default/grub" GRUB_CMDLINE_LINUX)" = "rhgb quiet iommu=pt" ] &&
    ok "amd: GRUB_CMDLINE_LINUX is the user's line without amd_iommu=off" ||
    fail "amd: GRUB_CMDLINE_LINUX: $(grub_value "$r/etc/default/grub" GRUB_CMDLINE_LINUX)"
"$VHC" --root "$r" status > "$WORK/st" 2>&1
grep -q '^taken out: *amd_iommu=off' "$WORK/st" && ok "amd: status names what was taken out" ||
    { fail "amd: status"; cat "$WORK/st" >&2; }
"$VHC" --root "$r" status --json > "$WORK/st.json" 2>&1
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["removed_kernel_args"] == ["amd_iommu=off"], d; assert "amd_iommu=off" in d["pending_kernel_args"], d' "$WORK/st.json" &&
    ok "amd: status --json: removed_kernel_args, and pending while it is live" || fail "amd: status --json"
"$VHC" --root "$r" check > "$WORK/c1" 2>&1
grep -E '^WARN +kernel arguments +amd_iommu=off: on the running kernel.s command line, keeps the IOMMU off; taken out for the next boot' "$WORK/c1" > /dev/null &&
    ok "amd: check after apply: a reboot takes it off" || { fail "amd: check after apply"; grep 'kernel arg' "$WORK/c1" >&2; }
python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
k=[x for x in d["kernel_args"] if x.get("removed")]
assert len(k) == 4, k  # grub defaults, two entries (not the rescue one: no rhgb quiet), cmdline
assert all(x["arg"] == "amd_iommu=off" and x["cut"] == "amd_iommu=off " and isinstance(x["cut_at"], int) for x in k), k' \
    "$r/var/lib/virt-host-config/state.json" && ok "amd: the state records each removal with its cut" ||
    { fail "amd: state"; cat "$r/var/lib/virt-host-config/state.json" >&2; }
round_trip amd "$r"

# --- amd_iommu=fullflush,off at the end, iommu=off before the user's iommu=pt --
r=$(boot_root two-amd-identical)
set_args "$r" "iommu=off console=tty0 iommu=pt amd_iommu=pgtbl_v2 amd_iommu=fullflush,off"
snap "$r" > "$WORK/s0"
"$VHC" --root "$r" apply > "$WORK/out" 2>&1 || { fail "items: apply exit $?"; cat "$WORK/out" >&2; }
[ "$(grub_value "$r/etc/default/grub" GRUB_CMDLINE_LINUX)" = "rhgb quiet console=tty0 iommu=pt amd_iommu=pgtbl_v2" ] &&
    ok "items: iommu=off (sticky, before iommu=pt) and amd_iommu=fullflush,off taken out; amd_iommu=pgtbl_v2 kept" ||
    fail "items: GRUB_CMDLINE_LINUX: $(grub_value "$r/etc/default/grub" GRUB_CMDLINE_LINUX)"
grep -q 'iommu=off\|,off' $(places "$r" | cut -d: -f1 | sort -u) && fail "items: an off switch left" || ok "items: none left in any place"
round_trip items "$r"

# --- edited in between: the user's later edit stays, the argument comes back --
r=$(boot_root two-amd-identical)
set_args "$r" "amd_iommu=off"
cp "$r/etc/default/grub" "$WORK/grub0"
"$VHC" --root "$r" apply > "$WORK/out" 2>&1 || fail "edited: apply exit $?"
sed -i 's/^GRUB_CMDLINE_LINUX="rhgb quiet/GRUB_CMDLINE_LINUX="rhgb quiet mitigations=auto/' "$r/etc/default/grub"
"$VHC" --root "$r" revert > "$WORK/out" 2>&1 || { fail "edited: revert exit $?"; cat "$WORK/out" >&2; }
v=$(grub_value "$r/etc/default/grub" GRUB_CMDLINE_LINUX)
[ "$v" = "rhgb quiet amd_iommu=off mitigations=auto" ] &&
    ok "edited: amd_iommu=off back where it was, the user's edit kept" || fail "edited: '$v'"
case " $v " in *iommu=pt*) fail "edited: ours left: '$v'" ;; esac

# --- iommu = no: nothing of the user's is touched ------------------------------
r=$(boot_root two-amd-identical)
set_args "$r" "amd_iommu=off"
printf 'iommu = no\n' > "$WORK/no.conf"
snap "$r" > "$WORK/s0"
"$VHC" --root "$r" --config "$WORK/no.conf" apply > "$WORK/out" 2>&1 || fail "iommu=no: apply exit $?"
grep -q 'amd_iommu=off' "$r/etc/default/grub" && ok "iommu = no: amd_iommu=off stays" || fail "iommu = no: taken out"

# --- Intel: amd_iommu=off does nothing there and stays; iommu=off goes --------
r=$(boot_root intel-nvidia)
set_args "$r" "amd_iommu=off iommu=off iommu=pt"
snap "$r" > "$WORK/s0"
"$VHC" --root "$r" apply > "$WORK/out" 2>&1 || { fail "intel: apply exit $?"; cat "$WORK/out" >&2; }
[ "$(grub_value "$r/etc/default/grub" GRUB_CMDLINE_LINUX)" = "rhgb quiet amd_iommu=off iommu=pt intel_iommu=on" ] &&
    ok "intel: iommu=off taken out, amd_iommu=off (AMD's driver's) left alone" ||
    fail "intel: GRUB_CMDLINE_LINUX: $(grub_value "$r/etc/default/grub" GRUB_CMDLINE_LINUX)"
round_trip intel "$r"

# --- a state record that says something else was taken out is refused ---------
r=$(boot_root two-amd-identical)
set_args "$r" "amd_iommu=off"
"$VHC" --root "$r" apply > /dev/null 2>&1 || fail "tamper: apply"
sed -i 's/"arg": "amd_iommu=off"/"arg": "init=\/bin\/sh"/; s/"cut": "amd_iommu=off "/"cut": "init=\/bin\/sh "/' \
    "$r/var/lib/virt-host-config/state.json"
snap "$r" > "$WORK/s0"
if "$VHC" --root "$r" revert > "$WORK/out" 2>&1; then fail "tamper: revert took the record"; else
    grep -q 'says "init=/bin/sh" was taken out, which virt-host-config never takes out' "$WORK/out" &&
        ok "tamper: revert refuses to write back what apply never takes out" || { fail "tamper: message"; cat "$WORK/out" >&2; }
fi
snap "$r" > "$WORK/s1"
drop_record "$WORK/s0" "$WORK/s0" > "$WORK/s0r"
drop_record "$WORK/s0" "$WORK/s1" > "$WORK/s1r"
expect_same "tamper: nothing changed but the failed outcome record" "$WORK/s0r" "$WORK/s1r"
grep -q '"result": "failed"' "$r/$LAST_RUN" && ok "tamper: the refusal is recorded as a failed revert" ||
    fail "tamper: no failed outcome record"

finish
