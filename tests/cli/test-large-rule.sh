#!/usr/bin/env bash
# Every file apply writes, revert can read back: a machine with 2,304
# isolated display functions (9 buses of 32 slots of 8 functions, the boot
# VGA device apart) gets a udev rule of more than 1 MiB, and apply then
# revert gives back the tree byte for byte.
. "$(dirname "$0")/lib.sh"
# lib.sh's snapshot, in two processes rather than one per file (24,000 here).
snapshot() {
    (cd "$1" && find . -printf '%p %y %m %u:%g %l\n' | LC_ALL=C sort &&
        find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum)
}

r=$(make_root intel-nvidia)
python3 - "$r" <<'PY'
import os, sys
root = sys.argv[1]
devs = os.path.join(root, "sys/devices/pci0000:00")
links = os.path.join(root, "sys/bus/pci/devices")
for bus in range(0x10, 0x19):
    for slot in range(32):
        for fn in range(8):
            addr = "0000:%02x:%02x.%d" % (bus, slot, fn)
            d = os.path.join(devs, addr)
            os.makedirs(d)
            for name, value in (("vendor", "0x1002"), ("device", "0x67df"), ("class", "0x030000"),
                                ("subsystem_vendor", "0x1da2"), ("subsystem_device", "0xe366"),
                                ("boot_vga", "0"), ("revision", "0xe7")):
                with open(os.path.join(d, name), "w") as f:
                    f.write(value + "\n")
            with open(os.path.join(d, "modalias"), "w") as f:
                f.write("pci:v00001002d000067DFsv00001DA2sd0000E366bc03sc00i00\n")
            os.symlink("../../../devices/pci0000:00/" + addr, os.path.join(links, addr))
PY
snapshot "$r" > "$WORK/s0"
"$VHC" --root "$r" apply > "$WORK/out" 2>&1 || { fail "apply exit $?"; tail -3 "$WORK/out" >&2; }
size=$(stat -c %s "$r/etc/udev/rules.d/61-virt-host-config-vfio.rules" 2>/dev/null || echo 0)
[ "$size" -gt 1048576 ] && ok "the udev rule is larger than 1 MiB ($size bytes)" || fail "the rule is $size bytes"
"$VHC" --root "$r" status > "$WORK/out" 2>&1 || { fail "status exit $?"; tail -3 "$WORK/out" >&2; }
"$VHC" --root "$r" revert > "$WORK/out" 2>&1 || { fail "revert exit $?"; tail -3 "$WORK/out" >&2; }
snapshot "$r" > "$WORK/s1"
expect_same "apply then revert with a rule of more than 1 MiB" "$WORK/s0" "$WORK/s1"
finish
