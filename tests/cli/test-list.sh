#!/usr/bin/env bash
# list: golden output for every shipped machine (--json and the table), the
# same devices and IDs as lspci reads from the tree, colour only on a
# terminal and never with NO_COLOR, and a config error that still lists.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/golden/golden.sh"

for m in $(machines); do
    r=$(make_root "$m")
    "$VHC" --root "$r" list --json > "$WORK/list.json" 2> "$WORK/err"; rc=$?
    [ $rc = 0 ] || { fail "$m: list --json exit $rc"; cat "$WORK/err" >&2; }
    [ ! -s "$WORK/err" ] || { fail "$m: list --json wrote to stderr"; cat "$WORK/err" >&2; }
    golden "$m: list --json" "$GOLDEN/$m/list.json.expected" "$WORK/list.json"
    "$VHC" --root "$r" list > "$WORK/list.txt" 2>&1 || fail "$m: list exit $?"
    golden "$m: list" "$GOLDEN/$m/list.txt.expected" "$WORK/list.txt"
    has_escape "$WORK/list.txt" && fail "$m: escape codes with NO_COLOR and no terminal"

    # An independent reader of the same tree: lspci through libpci's sysfs
    # method. Every device it sees is listed, in address order, with its IDs.
    lspci -A linux-sysfs -O "sysfs.path=$r/sys/bus/pci" -D -n 2> /dev/null |
        awk '{ split($3, id, ":"); print $1, id[1], id[2], substr($2, 1, 4) }' > "$WORK/lspci"
    python3 - "$WORK/list.json" > "$WORK/ours" <<'PY' || fail "$m: list --json is not the JSON of DESIGN.md"
import json, sys
doc = json.load(open(sys.argv[1]))
keys = ["address", "vendor", "device", "class", "iommu_group", "boot_vga", "driver", "action", "reason",
        "reset", "rom", "bars"]
devs = doc["devices"]
assert set(doc) <= {"schema_version", "devices", "note", "warnings"}, doc.keys()
assert [d["address"] for d in devs] == sorted(d["address"] for d in devs), "not in address order"
for d in devs:
    assert list(d) == keys, list(d)
    for k in ("vendor", "device", "class"):
        assert len(d[k]) == 4 and d[k] == d[k].lower() and int(d[k], 16) >= 0, d
    assert d["iommu_group"] is None or isinstance(d["iommu_group"], int), d
    assert isinstance(d["boot_vga"], bool) and (d["driver"] is None or isinstance(d["driver"], str)), d
    assert d["action"] in ("isolate", "keep") and d["reason"], d
    # Issue 13: what reset_method, the ROM and the BARs say.
    assert list(d["reset"]) == ["methods", "flr", "reset_bug"], d["reset"]
    assert d["reset"]["methods"] is None or all(isinstance(m, str) and m for m in d["reset"]["methods"]), d
    assert d["rom"] is None or d["action"] == "isolate", d  # read for isolated devices only
    if d["rom"] is not None:
        assert d["rom"]["read"] == ("images" in d["rom"]) != ("why" in d["rom"]), d["rom"]
        for im in d["rom"].get("images", []):
            assert im["length"] % 512 == 0 and (im["type"] == "efi") == ("efi_machine" in im), im
    assert d["bars"] is None or all(b["size"] > 0 and b["type"] in ("io", "mem32", "mem64") for b in d["bars"]), d
    print(d["address"], d["vendor"], d["device"], d["class"])
PY
    if [ -s "$WORK/lspci" ] && diff -u "$WORK/lspci" "$WORK/ours" > "$WORK/diff"; then ok "$m: the devices lspci sees"
    else fail "$m: list and lspci disagree"; cat "$WORK/diff" >&2; fi
    n=$(find "$r/sys/bus/pci/devices" -mindepth 1 -maxdepth 1 | wc -l)
    [ "$(wc -l < "$WORK/ours")" = "$n" ] && ok "$m: all $n devices listed" || fail "$m: $n devices in sysfs, listed $(wc -l < "$WORK/ours")"
done

# The first install: no groups yet, and list says they are checked after the reboot.
r=$(make_root first-install)
"$VHC" --root "$r" list > "$WORK/out" 2>&1
grep -q '^note: .*IOMMU groups .*reboot' "$WORK/out" && ok "first install: list says groups come after the reboot" \
    || fail "first install: no note on unknown groups"
"$VHC" --root "$r" list --json | grep -q '"note": ".*reboot' && ok "first install: list --json has the note" \
    || fail "first install: no note in list --json"

# Colour: only on a terminal, and not with NO_COLOR there either.
r=$(make_root intel-nvidia)
env -u NO_COLOR "$VHC" --root "$r" list > "$WORK/pipe"
has_escape "$WORK/pipe" && fail "escape codes on a pipe" || ok "no escape codes on a pipe"
env -u NO_COLOR "$VHC" --root "$r" list --json > "$WORK/pipe"
has_escape "$WORK/pipe" && fail "escape codes in JSON" || ok "no escape codes in JSON"
if command -v script > /dev/null; then
    on_tty env -u NO_COLOR "$VHC" --root "$r" list < /dev/null > "$WORK/tty"
    grep -q $'\033\[1m\033\[32misolate' "$WORK/tty" && ok "colour on a terminal" || { fail "no colour on a terminal"; cat -v "$WORK/tty" >&2; }
    on_tty env NO_COLOR=1 "$VHC" --root "$r" list < /dev/null > "$WORK/tty"
    has_escape "$WORK/tty" && fail "escape codes on a terminal with NO_COLOR" || ok "NO_COLOR on a terminal"
    on_tty env -u NO_COLOR "$VHC" --root "$r" list --json < /dev/null > "$WORK/tty"
    has_escape "$WORK/tty" && fail "escape codes in JSON on a terminal" || ok "no escape codes in JSON on a terminal"
    # A narrow terminal cuts the names, not the rows' other columns.
    on_tty sh -c 'stty cols 110; exec "$@"' sh env NO_COLOR=1 "$VHC" --root "$r" list < /dev/null > "$WORK/tty"
    grep -q 'GP104 High Def[^ ]*\.\.\.' "$WORK/tty" && grep -q '0000:01:00.1  10de:10f0' "$WORK/tty" \
        && ok "a narrow terminal shortens the names" || { fail "narrow terminal"; cat "$WORK/tty" >&2; }
else
    echo "skip: no script(1) to fake a terminal"
fi

# A config whose plan is an error still lists the devices (that is where the
# addresses to fix it are), then says what is wrong and exits 1.
r=$(make_root intel-nvidia)
mkdir -p "$r/etc/virt-host-config"
echo 'isolate = 0000:00:02.0' > "$r/etc/virt-host-config/virt-host-config.conf"
"$VHC" --root "$r" list > "$WORK/out" 2> "$WORK/err"; rc=$?
[ $rc = 1 ] && ok "bad isolate: exit 1" || fail "bad isolate: exit $rc"
grep -q '^1 *0000:01:00.0 .* keep *no plan' "$WORK/out" && ok "bad isolate: the devices are still listed, none isolated" \
    || { fail "bad isolate: no list"; cat "$WORK/out" >&2; }
grep -q '0000:00:02.0: cannot be isolated (boot VGA device)' "$WORK/err" && [ "$(wc -l < "$WORK/err")" = 1 ] \
    && ok "bad isolate: one line on stderr says why" || { fail "bad isolate: stderr"; cat "$WORK/err" >&2; }
echo 'isolate = 0000:09:00.0' > "$r/etc/virt-host-config/virt-host-config.conf"
"$VHC" --root "$r" list --json > "$WORK/out" 2> "$WORK/err"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert all(x["action"]=="keep" for x in d["devices"])' "$WORK/out" \
    && ok "bad isolate: list --json is still JSON" || fail "bad isolate: list --json"
grep -q 'no such PCI device' "$WORK/err" && ok "bad isolate: unknown address named" || fail "bad isolate: no message"
echo 'isolate = 0000:01:00.0' > "$r/etc/virt-host-config/virt-host-config.conf"
"$VHC" --root "$r" list > "$WORK/out" 2>&1 && grep -q '0000:01:00.0 .* isolate *listed in isolate' "$WORK/out" \
    && ok "explicit isolate list" || { fail "explicit isolate list"; cat "$WORK/out" >&2; }

# No PCI tree at all: one clear line, exit 1, nothing on stdout.
r=$(make_root intel-nvidia)
rm -rf "$r/sys/bus/pci"
"$VHC" --root "$r" list > "$WORK/out" 2> "$WORK/err"; rc=$?
[ $rc = 1 ] && [ ! -s "$WORK/out" ] && [ "$(wc -l < "$WORK/err")" = 1 ] && ok "no sysfs: one error line, exit 1" \
    || { fail "no sysfs: exit $rc"; cat "$WORK/out" "$WORK/err" >&2; }

"$VHC" --root "$r" list --dry-run > /dev/null 2>&1; rc=$?
[ $rc = 2 ] && ok "list --dry-run is a usage error" || fail "list --dry-run: exit $rc"
"$VHC" --help | grep -q '^  list ' && "$VHC" --help | grep -q '^  check ' && ok "--help names list and check" \
    || fail "--help lacks list or check"
finish
