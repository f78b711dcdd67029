#!/usr/bin/env bash
# apply --first-boot (the first-boot unit of bootc and rpm-ostree): apply,
# then the isolated devices handed to vfio-pci on the machine's sysfs, and
# nothing else touched; refused in an image build, with no change; usage.
# The order of the writes is checked by tests/unit/test-vfiobind (inotify).
. "$(dirname "$0")/lib.sh"

r=$(make_root intel-nvidia)
: > "$r/sys/bus/pci/drivers_probe"
for d in nouveau snd_hda_intel i915; do : > "$r/sys/bus/pci/drivers/$d/unbind"; done
for a in "$r"/sys/bus/pci/devices/*; do cat "$a/driver_override" > "$WORK/ovr-${a##*/}" 2>/dev/null || true; done
if "$VHC" --root "$r" apply --first-boot > "$WORK/out" 2> "$WORK/err"; then ok "apply --first-boot: exit 0"
else fail "apply --first-boot: exit $?"; cat "$WORK/err" >&2; fi
[ -f "$r/etc/udev/rules.d/61-virt-host-config-vfio.rules" ] && ok "the rule for later boots is written" ||
    fail "no udev rule"
[ -f "$r/var/lib/virt-host-config/state.json" ] && ok "the state is recorded (the unit runs once)" || fail "no state"
for a in 0000:01:00.0 0000:01:00.1; do
    case $(cat "$r/sys/bus/pci/devices/$a/driver_override") in
    vfio-pci*) ok "$a: driver_override vfio-pci" ;;
    *) fail "$a: driver_override $(cat "$r/sys/bus/pci/devices/$a/driver_override")" ;;
    esac
done
[ "$(cat "$r/sys/bus/pci/drivers/nouveau/unbind")" = 0000:01:00.0 ] && ok "unbound from nouveau" ||
    fail "nouveau/unbind: '$(cat "$r/sys/bus/pci/drivers/nouveau/unbind")'"
[ "$(cat "$r/sys/bus/pci/drivers/snd_hda_intel/unbind")" = 0000:01:00.1 ] && ok "unbound from snd_hda_intel" ||
    fail "snd_hda_intel/unbind: '$(cat "$r/sys/bus/pci/drivers/snd_hda_intel/unbind")'"
[ ! -s "$r/sys/bus/pci/drivers/i915/unbind" ] && ok "the boot GPU's driver untouched" || fail "i915 unbound"
changed=""
for a in "$r"/sys/bus/pci/devices/*; do
    n=${a##*/}
    case $n in 0000:01:00.0 | 0000:01:00.1) continue ;; esac
    [ "$(cat "$a/driver_override" 2>/dev/null)" = "$(cat "$WORK/ovr-$n" 2>/dev/null)" ] || changed+=" $n"
done
[ -z "$changed" ] && ok "no other device's driver_override changed" || fail "driver_override changed:$changed"
# The fake sysfs binds nothing: what the kernel would have done is said.
grep -q '0000:01:00.0: driver_override set, unbound, probed: it is on nouveau now' "$WORK/err" &&
    ok "a device still on its driver after the probe is named" || { fail "no warning"; cat "$WORK/err" >&2; }

# Already on vfio-pci (rx580-polaris): nothing written to sysfs.
r=$(make_root rx580-polaris)
: > "$r/sys/bus/pci/drivers_probe"
"$VHC" --root "$r" apply --first-boot > "$WORK/out" 2>&1 || { fail "rx580-polaris: apply --first-boot"; cat "$WORK/out" >&2; }
grep -q '^kept     0000:01:00.0  (on vfio-pci already)$' "$WORK/out" && [ ! -s "$r/sys/bus/pci/drivers_probe" ] &&
    ok "rx580-polaris: on vfio-pci already, no probe" || { fail "rx580-polaris: $(cat "$WORK/out")"; }

# The IOMMU not on yet (rpm-ostree: the arguments wait for the new
# deployment): no device is unbound, vfio-pci would refuse it.
r=$(make_root first-install)
: > "$r/sys/bus/pci/drivers_probe"
"$VHC" --root "$r" apply --first-boot > "$WORK/out" 2>&1 || { fail "first-install: apply --first-boot"; cat "$WORK/out" >&2; }
grep -q '^not bound now: the IOMMU is not on yet' "$WORK/out" && [ ! -s "$r/sys/bus/pci/drivers_probe" ] &&
    [ -f "$r/etc/udev/rules.d/61-virt-host-config-vfio.rules" ] &&
    ok "no IOMMU yet: the rule written, no device touched now" || fail "first-install: $(cat "$WORK/out")"

# An image build: refused before anything is written.
r=$(make_root intel-nvidia)
mkdir -p "$r/run" && : > "$r/run/.containerenv"
snapshot "$r" > "$WORK/s1"
"$VHC" --root "$r" apply --first-boot > "$WORK/out" 2>&1
rc=$?
snapshot "$r" > "$WORK/s2"
[ $rc = 1 ] && grep -q 'container or bootc image build (/run/.containerenv): nothing was changed' "$WORK/out" &&
    ok "image build: refused (exit 1)" || { fail "image build: exit $rc: $(cat "$WORK/out")"; }
expect_same "image build: nothing changed" "$WORK/s1" "$WORK/s2"

# Usage.
for args in "revert --first-boot" "apply --first-boot --dry-run" "apply --first-boot --defer" "status --first-boot"; do
    "$VHC" --root "$r" $args > /dev/null 2>&1
    rc=$?
    [ $rc = 2 ] && ok "'$args': usage error" || fail "'$args': exit $rc"
done
"$VHC" --help | grep -q -- '--first-boot' && ok "--help names --first-boot" || fail "--help lacks --first-boot"

# The unit as systemd parses it (its ExecStart and man page are not on this machine).
if command -v systemd-analyze > /dev/null; then
    systemd-analyze verify "$TOP/config/systemd/virt-host-config-first-boot.service" > "$WORK/verify" 2>&1 || true
    if grep -Ei 'unknown|invalid|ignoring|bad|missing' "$WORK/verify" | grep -v -e 'is not executable' -e "'man " \
        > "$WORK/verify-bad"; then
        fail "systemd-analyze verify:"; cat "$WORK/verify-bad" >&2
    else ok "systemd-analyze verify: the unit parses"; fi
fi
finish
