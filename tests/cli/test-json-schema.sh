#!/usr/bin/env bash
# JSON output and its documentation agree (issue 15, item 10): every key that
# list, check and status --json print on every shipped machine (before and
# after apply, and in the cases that add keys) is in the JSON OUTPUT list of
# virt-host-config(8), every key listed there is printed somewhere (those
# marked "?" only in their case), and every output starts with
# "schema_version": 1.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/golden/golden.sh"

J=$WORK/json; mkdir -p "$J"
n=0
out() { n=$((n + 1)); "$VHC" --root "$1" "$2" --json > "$J/$2.$n.json" 2> /dev/null; }
for m in $(machines); do
    r=$(make_root "$m")
    for c in list check status; do out "$r" $c; done
    "$VHC" --root "$r" apply > /dev/null 2>&1
    for c in list check status; do out "$r" $c; done
done
# A named BMC display: a warning; a missing --config: devices_error.
r=$(make_root server-bmc)
mkdir -p "$r/etc/virt-host-config"; echo 'isolate = 0000:02:00.0' > "$r/etc/virt-host-config/virt-host-config.conf"
out "$r" list
n=$((n + 1)); "$VHC" --root "$r" --config "$WORK/none.conf" status --json > "$J/status.$n.json" 2> /dev/null

python3 - "$TOP/docs/virt-host-config.8.scd" "$J" <<'PY' || fail "the JSON output and virt-host-config(8) disagree"
import glob, json, os, re, sys

page, jdir = sys.argv[1:]
text = open(page).read()
sec = text[text.index("# JSON OUTPUT"):]
block = sec[sec.index("```") + 3:]
block = block[:block.index("```")]
documented, optional = {}, set()
for line in block.strip().splitlines():
    m = re.match(r"(list|check|status): (\S+)", line)
    assert m, "not a key line: " + line
    cmd, path = m.groups()
    if path.endswith("?"):
        path = path[:-1]
        optional.add((cmd, path))
    documented.setdefault(cmd, set()).add(path)

MAPS = {"packages"}
def walk(v, path, out):
    if isinstance(v, dict):
        for k, x in v.items():
            p = f"{path}.{k}" if path else k
            out.add(p)
            if not path and k in MAPS:
                continue
            walk(x, p, out)
    elif isinstance(v, list):
        for x in v:
            walk(x, path + "[]", out)

bad = 0
seen = {}
for f in sorted(glob.glob(os.path.join(jdir, "*.json"))):
    cmd = os.path.basename(f).split(".")[0]
    doc = json.load(open(f))
    if list(doc)[:1] != ["schema_version"] or doc["schema_version"] != 1:
        print(f"{f}: does not start with schema_version 1", file=sys.stderr)
        bad += 1
    walk(doc, "", seen.setdefault(cmd, set()))
for cmd in ("list", "check", "status"):
    for p in sorted(seen.get(cmd, set()) - documented.get(cmd, set())):
        print(f"{cmd} --json prints {p!r}, which virt-host-config(8) does not list", file=sys.stderr)
        bad += 1
    for p in sorted(documented.get(cmd, set()) - seen.get(cmd, set())):
        # A key marked "?" may be absent; so may the keys under it, and
        # those of objects only a real rpm database fills.
        if any((cmd, q) in optional and (p == q or p.startswith(q + ".") or p.startswith(q + "[]"))
               for q in [p] + [x for (c, x) in optional if c == cmd]):
            continue
        if p.startswith("modified_files["):
            continue
        print(f"virt-host-config(8) lists {cmd}: {p!r}, which no output printed", file=sys.stderr)
        bad += 1
print(f"{sum(len(v) for v in seen.values())} key paths seen, {sum(len(v) for v in documented.values())} documented")
sys.exit(1 if bad else 0)
PY
[ "$n_fail" = 0 ] && ok "every --json key is documented, and every documented key is printed"
finish
