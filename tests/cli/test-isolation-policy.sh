#!/usr/bin/env bash
# The isolation policy on whole machines (issue 15): a BMC's display stays
# with the host unless named (then with a warning), and the slot rule takes a
# display controller's own functions only: never another vendor's, never a
# chipset function.
. "$(dirname "$0")/lib.sh"

: "${VGX:=$BUILDDIR/virt-guest-xml}"

conf() { mkdir -p "$1/etc/virt-host-config"; echo "$2" > "$1/etc/virt-host-config/virt-host-config.conf"; }

# --- BMC displays -----------------------------------------------------------
for m in server-bmc:0000:02:00.0 g200ew-server:0000:03:03.0; do
    name=${m%%:*} bmc=${m#*:}
    r=$(make_root "$name")
    "$VHC" --root "$r" list > "$WORK/out" 2>&1
    grep -q "^[0-9]* *$bmc .* keep *BMC display (remote console)$" "$WORK/out" \
        && ok "$name: auto keeps the BMC display $bmc" || { fail "$name: BMC display"; cat "$WORK/out" >&2; }
    grep -q "^warning:" "$WORK/out" && fail "$name: a warning under auto"
    "$VHC" --root "$r" apply --dry-run > "$WORK/out" 2>&1
    grep -q "KERNEL==\"$bmc\"" "$WORK/out" && fail "$name: the udev rule takes the BMC display" \
        || ok "$name: no udev rule for the BMC display"
    "$VGX" --root "$r" --name g --memory 4G --vcpus 2 --hostdev auto > "$WORK/xml" 2> "$WORK/err"
    bus=$(printf '0x%s' "$(echo "$bmc" | cut -d: -f2)")
    if grep -q "<address domain=\"0x0000\" bus=\"$bus\" slot=\"0x$(echo "$bmc" | cut -d: -f3 | cut -d. -f1)\"" "$WORK/xml"; then
        fail "$name: --hostdev auto passes the BMC display"
    else ok "$name: --hostdev auto leaves the BMC display"; fi

    # Named: isolated, with a warning in list, apply and check.
    conf "$r" "isolate = $bmc"
    "$VHC" --root "$r" list > "$WORK/out" 2>&1; rc=$?
    [ $rc = 0 ] && grep -q "$bmc .* isolate *listed in isolate" "$WORK/out" \
        && grep -q "^warning: $bmc is a BMC display (remote console): isolating it ends the host's remote console" "$WORK/out" \
        && ok "$name: named BMC display: isolated, list warns" || { fail "$name: named BMC display in list"; cat "$WORK/out" >&2; }
    "$VHC" --root "$r" list --json > "$WORK/json"
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert any("BMC display" in w for w in d["warnings"]), d["warnings"]' "$WORK/json" \
        && ok "$name: list --json carries the warning" || fail "$name: no warning in list --json"
    "$VHC" --root "$r" apply --dry-run > "$WORK/out" 2> "$WORK/err"
    grep -q "warning: $bmc is a BMC display" "$WORK/err" && ok "$name: apply warns" || { fail "$name: apply does not warn"; cat "$WORK/err" >&2; }
    "$VHC" --root "$r" check > "$WORK/out" 2>&1
    grep -q "^WARN  $bmc BMC display" "$WORK/out" && ok "$name: check warns" || { fail "$name: check does not warn"; cat "$WORK/out" >&2; }
done

# --- The slot rule: the card's functions, by vendor ---------------------------
r=$(make_root raphael-apu)
"$VHC" --root "$r" list > "$WORK/out" 2>&1
grep -q '^16 PCI\|to isolate: 0000:15:00.0 0000:15:00.1$' "$WORK/out" \
    && ok "raphael: the iGPU and its HDMI audio, nothing else" || { fail "raphael: isolated set"; cat "$WORK/out" >&2; }
for f in 2 3 4 5 6; do
    grep -q "0000:15:00.$f .* keep " "$WORK/out" || fail "raphael: 15:00.$f (1022, the host's) is taken"
done
"$VHC" --root "$r" apply --dry-run > "$WORK/out" 2>&1
grep -q 'KERNEL=="0000:15:00.[2-6]"' "$WORK/out" && fail "raphael: a udev rule for a host function of the APU slot" \
    || ok "raphael: udev rules only for 15:00.0 and .1"
grep -q 'softdep xhci_pci\|softdep ccp' "$WORK/out" && fail "raphael: softdeps for the host's USB or PSP" \
    || ok "raphael: no softdep for the host's USB or PSP"
# The Turing card, were it not the boot display, goes with all four functions.
r=$(make_root rtx2070-4fn)
"$VHC" --root "$r" list > "$WORK/out" 2>&1
grep -q 'to isolate: 0000:01:00.0 0000:01:00.1 0000:01:00.2 0000:01:00.3$' "$WORK/out" \
    && ok "turing: VGA, audio, USB-C and UCSI together" || { fail "turing: four functions"; cat "$WORK/out" >&2; }

# --- Chipset slots ---------------------------------------------------------
r=$(make_root intel-nvidia)
# The I219-V alone: group 7 holds the whole PCH, so it cannot go, and
# nothing else of 1f is taken.
conf "$r" "isolate = 0000:00:1f.6"
"$VHC" --root "$r" list > "$WORK/out" 2>&1; rc=$?
[ $rc = 0 ] && grep -q '0000:00:1f.6 .* keep *IOMMU group 7 also holds 0000:00:1f.0 (ISA bridge): not isolated' "$WORK/out" \
    && ! grep -Eq '0000:00:1f.[0345] .* isolate +(function|listed)' "$WORK/out" \
    && ok "chipset slot: the NIC does not drag 1f.0, 1f.3, 1f.4, 1f.5" || { fail "chipset slot"; cat "$WORK/out" >&2; }
"$VHC" --root "$r" apply --dry-run > "$WORK/out" 2>&1
grep -q 'snd_hda_intel\|i801_smbus' "$WORK/out" && fail "chipset slot: softdeps for the host's audio or SMBus" \
    || ok "chipset slot: no softdep for the host's audio or SMBus"
# With the PCH split by ACS (each function its own group), the NIC goes alone.
g=20
for f in 0 3 4 5 6; do
    d=$r/sys/kernel/iommu_groups/$g/devices; mkdir -p "$d"
    dev=$(cd "$r/sys/bus/pci/devices/0000:00:1f.$f" && pwd -P)
    rm -f "$dev/iommu_group" "$r/sys/kernel/iommu_groups/7/devices/0000:00:1f.$f"
    ln -s "$(realpath --relative-to="$dev" "$r/sys/kernel/iommu_groups/$g")" "$dev/iommu_group"
    ln -s "$(realpath --relative-to="$d" "$dev")" "$d/0000:00:1f.$f"
    g=$((g + 1))
done
"$VHC" --root "$r" list > "$WORK/out" 2>&1
grep -q 'to isolate: 0000:00:1f.6$' "$WORK/out" && grep -q '0000:00:1f.6 .* isolate *listed in isolate' "$WORK/out" \
    && ok "chipset slot, ACS: the NIC alone" || { fail "chipset slot, ACS"; cat "$WORK/out" >&2; }
# A chipset function named is an error naming it.
for f in 1f.0:'ISA bridge' 1f.4:SMBus; do
    conf "$r" "isolate = 0000:00:${f%%:*}"
    "$VHC" --root "$r" apply --dry-run > "$WORK/out" 2> "$WORK/err"; rc=$?
    [ $rc = 1 ] && grep -q "0000:00:${f%%:*}: cannot be isolated (${f#*:}: a chipset function stays with the host)" "$WORK/err" \
        && ok "chipset function ${f%%:*} named: an error naming it" || { fail "chipset function ${f%%:*}: exit $rc"; cat "$WORK/err" >&2; }
done
finish
