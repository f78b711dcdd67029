#!/bin/bash
# Issue 16: every path the tool touches stays inside --root. A box holds the
# root and, beside it, sentinels the tool must never touch: each case checks
# the root (refused cases: unchanged) and the sentinels (always unchanged).
. "$(dirname "$0")/lib.sh"
m=intel-nvidia
box=$WORK/box
mkdir -p "$box/elsewhere" "$box/victimdir"
printf 'root:x:0:0:root:/root:/bin/bash\n' > "$box/victim"
printf 'SECRET-5f1c0de-NOT-TO-BE-ECHOED\n' > "$box/secret"

# Every path with type, mode, size, inode, mtime and link target: a write
# (a new inode by rename, or new bytes) or a removal shows. Directories by
# what they hold (a refused apply may make and remove the state directory).
fast_snapshot() {
    (cd "$1" && { find . -mindepth 1 -path ./root -prune -o -type d -printf '%p d %m\n';
                  find . -mindepth 1 -path ./root -prune -o ! -type d -printf '%p %y %m %s %i %T@ %l\n'; } | sort)
}
root_snapshot() {
    (cd "$1" && { find . -type d -printf '%p d %m\n'; find . ! -type d -printf '%p %y %m %s %i %T@ %l\n'; } |
        grep -v '^./var/lib/virt-host-config/state.json ' | sort)
}
fast_snapshot "$box" > "$WORK/box.start"
box_unchanged() {
    fast_snapshot "$box" > "$WORK/box.now"
    diff -u "$WORK/box.start" "$WORK/box.now" > "$WORK/box.diff" || { fail "$1: outside the root changed"; cat "$WORK/box.diff" >&2; }
}
fresh() { rm -rf "$box/root"; cp -a "$TOP/tests/machines/$m" "$box/root"; mkdir -p "$box/root/var"; r=$box/root; }

# refused LABEL PATTERN CMD...: exit 1, one line on stderr matching, nothing
# changed anywhere but the failed outcome record of an apply or revert.
refused() {
    local label=$1 pat=$2; shift 2
    root_snapshot "$r" > "$WORK/before"
    timeout 20 "$@" > "$WORK/out" 2> "$WORK/err"
    local rc=$?
    root_snapshot "$r" > "$WORK/after"
    local bad=0
    # The one file a refused apply or revert writes: its failed outcome record.
    if records_outcome "$@"; then
        [ ! -e "$r/$LAST_RUN" ] || grep -q '"result": "failed"' "$r/$LAST_RUN" ||
            { fail "$label: the outcome record does not say failed"; bad=1; }
        drop_record "$WORK/before" "$WORK/after" > "$WORK/after.kept"; mv "$WORK/after.kept" "$WORK/after"
        drop_record "$WORK/before" "$WORK/before" > "$WORK/before.kept"; mv "$WORK/before.kept" "$WORK/before"
    fi
    [ "$rc" = 1 ] || { fail "$label: exit $rc, wanted 1"; bad=1; }
    [ "$(wc -l < "$WORK/err")" = 1 ] || { fail "$label: stderr is not one line:"; cat "$WORK/err" >&2; bad=1; }
    grep -Eq -- "$pat" "$WORK/err" || { fail "$label: stderr does not match '$pat':"; cat "$WORK/err" >&2; bad=1; }
    diff -u "$WORK/before" "$WORK/after" > "$WORK/diff" || { fail "$label: the root changed"; head -20 "$WORK/diff" >&2; bad=1; }
    box_unchanged "$label"
    return $bad
}

# --- The state-tampering corpus -------------------------------------------
fresh
"$VHC" --root "$r" apply > /dev/null 2>&1 || fail "apply on $m"
state=$r/var/lib/virt-host-config/state.json
cp "$state" "$WORK/good.json"
python3 - "$WORK/good.json" "$WORK/corpus" "$(sha256sum < "$box/victim" | cut -c1-64)" "$box" <<'PY'
import copy, json, os, sys
good = json.load(open(sys.argv[1])); out = sys.argv[2]; vsha = sys.argv[3]; box = sys.argv[4]
os.makedirs(out)
bad_paths = ["/../victim", "/../../victim", "/../../../../../../../.." + box + "/victim", box + "/victim",
             "/etc/../../victim", "/etc/modprobe.d/../../../victim", "//victim", "/etc/group", "/etc/passwd",
             "/etc/shadow", "/etc/default/grub", "/etc/modprobe.d/./virt-host-config.conf",
             "/etc/modprobe.d//virt-host-config.conf", "/etc/modprobe.d/virt-host-config.conf/",
             "/etc/modprobe.d/virt-host-config.conf/..", "etc/modprobe.d/virt-host-config.conf", "", "/", "/..",
             "/etc/modprobe.d/nvidia.conf", "/etc/modprobe.d/x\nvirt-host-config", "/var/lib/virt-host-config/state.json",
             "/etc/virt-host-config/virt-host-config.conf", "/boot/vmlinuz", "/usr/bin/virt-host-config"]
n = 0
def emit(doc, why):
    global n
    n += 1
    with open(os.path.join(out, "%03d" % n), "w") as f:
        f.write(doc if isinstance(doc, str) else json.dumps(doc))
    with open(os.path.join(out, "%03d.why" % n), "w") as f:
        f.write(why)
for p in bad_paths:
    d = copy.deepcopy(good); d["files"].append({"path": p, "sha256": vsha}); emit(d, "files[].path " + repr(p))
    for store in ("grub-defaults", "bls-entry", "kernel-cmdline"):
        if (store, p) == ("grub-defaults", "/etc/default/grub"):
            continue  # a record as apply writes it
        d = copy.deepcopy(good)
        d["kernel_args"].append({"store": store, "file": p, "var": "GRUB_CMDLINE_LINUX", "arg": "iommu=pt",
                                 "space": True, "line_added": False, "newline_added": False})
        emit(d, "kernel_args[%s].file %r" % (store, p))
    d = copy.deepcopy(good); d["dirs"].append(p); emit(d, "dirs[] " + repr(p))
    d = copy.deepcopy(good); d["created"] = [{"path": p, "base": "root:x:0:0:root:/root:/bin/bash\n"}]; emit(d, "created[].path " + repr(p))
    d = copy.deepcopy(good); d.setdefault("boot_entries", []).append(p); emit(d, "boot_entries[] " + repr(p))
for key in ("kernel_args", "files", "created", "boot_entries", "pending", "dirs"):
    for v in ("x", {}, 1, True, None, [1], [None], [[]]):
        d = copy.deepcopy(good); d[key] = v; emit(d, "%s = %r" % (key, v))
for v in ("2", 2.5, None, [], 3, 0, -1):
    d = copy.deepcopy(good); d["version"] = v; emit(d, "version = %r" % (v,))
for f in ("path", "sha256"):
    for v in (7, None, True, [], {}):
        d = copy.deepcopy(good); d["files"][0][f] = v; emit(d, "files[0].%s = %r" % (f, v))
for v in ("", "abc", "Z" * 64, vsha.upper()):
    d = copy.deepcopy(good); d["files"][0]["sha256"] = v; emit(d, "files[0].sha256 = %r" % v)
for f in ("store", "file", "var", "arg", "replaced"):
    for v in (7, None, [], {}):
        d = copy.deepcopy(good); d["kernel_args"][0][f] = v; emit(d, "kernel_args[0].%s = %r" % (f, v))
for f in ("space", "line_added", "newline_added"):
    for v in ("yes", 1, None, []):
        d = copy.deepcopy(good); d["kernel_args"][0][f] = v; emit(d, "kernel_args[0].%s = %r" % (f, v))
d = copy.deepcopy(good); d["kernel_args"][0]["store"] = "grub2"; emit(d, "kernel_args[0].store unknown")
for doc in ("", "{", "[]", "null", "\"x\"", "{\"version\": 2,}", json.dumps(good)[:-3], "\0", "{\"version\": 2}\n{"):
    emit(doc, "text %r" % doc[:20])
print(n)
PY
n_corpus=$(ls "$WORK/corpus" | grep -vc why)
n_bad=0 n_tried=0
for c in "$WORK"/corpus/[0-9][0-9][0-9]; do
    [ "${CONFINE_CORPUS:-1}" = 1 ] || break
    n_tried=$((n_tried + 1))
    why=$(cat "$c.why")
    for cmd in revert apply; do
        cp "$c" "$state"
        refused "tampered state ($why), $cmd" "state.json: " "$VHC" --root "$r" $cmd || { n_bad=$((n_bad + 1)); cp "$WORK/good.json" "$state"; "$VHC" --root "$r" revert >/dev/null 2>&1; fresh; "$VHC" --root "$r" apply >/dev/null 2>&1; }
        cmp -s "$c" "$state" || { fail "tampered state ($why), $cmd: the record was rewritten"; }
    done
done
cp "$WORK/good.json" "$state"
"$VHC" --root "$r" revert > /dev/null 2>&1 || fail "revert after the corpus"
[ ! -e "$state" ] || fail "revert after the corpus left the state"
box_unchanged "the corpus"
echo "tampered states tried: $n_tried of $n_corpus (each with revert and apply), $n_bad not refused cleanly"

# --- Item 2: directory links in the root ------------------------------------
# An absolute link to a place that exists only outside the root: refused, the outside untouched.
fresh; rm -rf "$r/etc/modprobe.d"; ln -s "$box/elsewhere" "$r/etc/modprobe.d"
refused "etc/modprobe.d links to an absolute path outside the root" "root/etc/modprobe.d: a link to a place that is not in the root, where /etc/modprobe.d/virt-host-config.conf would go" "$VHC" --root "$r" apply
# A relative link that climbs out of the root: the same.
fresh; rm -rf "$r/etc/udev/rules.d"; ln -s "../../../../../../../../../../../..$box/elsewhere" "$r/etc/udev/rules.d"
refused "etc/udev/rules.d climbs out of the root" "root/etc/udev/rules.d: a link to a place that is not in the root" "$VHC" --root "$r" apply
# Absolute and climbing links to directories inside the root: followed there, and reverted exactly.
fresh; mkdir -p "$r/srv/modprobe" "$r/srv/limits"; rm -rf "$r/etc/modprobe.d" "$r/etc/security/limits.d"
ln -s /srv/modprobe "$r/etc/modprobe.d"; ln -s ../../../../../../srv/limits "$r/etc/security/limits.d"
snapshot "$r" > "$WORK/start"
"$VHC" --root "$r" apply > "$WORK/out" 2>&1 || { fail "apply with links inside the root"; cat "$WORK/out" >&2; }
[ -f "$r/srv/modprobe/virt-host-config.conf" ] && [ -f "$r/srv/limits/90-virt-host-config.conf" ] \
    && ok "absolute and climbing directory links are followed inside the root" \
    || fail "the drop-ins are not where the links lead inside the root"
box_unchanged "links inside the root"
"$VHC" --root "$r" revert > "$WORK/out" 2>&1 || { fail "revert with links inside the root"; cat "$WORK/out" >&2; }
snapshot "$r" > "$WORK/end"
expect_same "links inside the root: revert gives the tree back" "$WORK/start" "$WORK/end"
# The state directory's parent a link out of the root.
fresh; rm -rf "$r/var/lib"; mkdir -p "$r/var"; ln -s "$box/elsewhere" "$r/var/lib"
refused "var/lib links outside the root" "virt-host-config: a link to a place that is not in the root" "$VHC" --root "$r" apply

# --- Item 3: sysfs links out of the root, bytes never echoed -----------------
dev=sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0
for cmd in list check status apply; do
    fresh; rm -f "$r/$dev/vendor"; ln -s "$box/secret" "$r/$dev/vendor"
    timeout 20 "$VHC" --root "$r" $cmd > "$WORK/out" 2> "$WORK/err"
    if grep -q SECRET "$WORK/out" "$WORK/err"; then fail "$cmd with vendor linked out of the root echoes the file"; cat "$WORK/out" "$WORK/err" >&2
    elif ! grep -q "vendor: is a symbolic link" "$WORK/err" "$WORK/out"; then fail "$cmd with vendor linked out: no message naming it"; cat "$WORK/err" >&2
    else ok "$cmd: vendor linked out of the root is refused, not echoed"; fi
    box_unchanged "$cmd with vendor linked out"
done
fresh; printf 'SECRET-5f1c0de-NOT\n' > "$r/$dev/vendor"
timeout 20 "$VHC" --root "$r" list > "$WORK/out" 2> "$WORK/err"
if grep -q SECRET "$WORK/out" "$WORK/err"; then fail "list echoes a bad vendor file"; cat "$WORK/err" >&2
else ok "a vendor file that is not an ID is not echoed"; fi
# A device entry that leads out of the root.
fresh; mkdir -p "$box/elsewhere/dev"; cp -a "$r/$dev/." "$box/elsewhere/dev/"; fast_snapshot "$box" > "$WORK/box.start"
rm "$r/sys/bus/pci/devices/0000:01:00.0"; ln -s "$box/elsewhere/dev" "$r/sys/bus/pci/devices/0000:01:00.0"
refused "a PCI device entry linked out of the root" "0000:01:00.0: leads out of the root" "$VHC" --root "$r" list
rm -rf "$box/elsewhere/dev"; fast_snapshot "$box" > "$WORK/box.start"

# --- Item 9: a file of ours replaced by a link is not read through on revert -
fresh; "$VHC" --root "$r" apply > /dev/null 2>&1
conf=etc/modprobe.d/virt-host-config.conf
cp "$r/$conf" "$box/elsewhere/copy.conf"; fast_snapshot "$box" > "$WORK/box.start"
rm "$r/$conf"; ln -s "$box/elsewhere/copy.conf" "$r/$conf"
"$VHC" --root "$r" revert > "$WORK/out" 2> "$WORK/err"
if [ -L "$r/$conf" ] && grep -q "virt-host-config.conf: a symbolic link now, not the file virt-host-config wrote: left in place" "$WORK/err"; then
    ok "revert leaves a link put in place of our file, unread"
else fail "revert and a link in place of our file"; cat "$WORK/out" "$WORK/err" >&2; fi
box_unchanged "a link in place of our file"
rm -f "$box/elsewhere/copy.conf"; fast_snapshot "$box" > "$WORK/box.start"
fresh; "$VHC" --root "$r" apply > /dev/null 2>&1
rm "$r/$conf"; ln -s /etc/modprobe.d/other.conf "$r/$conf"
refused "apply over a link in place of our file" "virt-host-config.conf: is a symbolic link, not the file virt-host-config wrote" "$VHC" --root "$r" apply

# --- Item 11: a FIFO never blocks ---------------------------------------------
for cmd in apply status check list; do
    fresh; rm "$r/etc/default/grub"; mkfifo "$r/etc/default/grub"
    timeout 20 "$VHC" --root "$r" $cmd > "$WORK/out" 2> "$WORK/err"; rc=$?
    if [ $rc = 124 ]; then fail "$cmd with a FIFO at etc/default/grub blocks"
    elif [ $cmd = list ] || [ $cmd = status ]; then ok "$cmd with a FIFO at etc/default/grub does not block"
    elif grep -q "grub.*not a regular file (a FIFO" "$WORK/err" "$WORK/out"; then ok "$cmd with a FIFO at etc/default/grub: refused"
    else fail "$cmd with a FIFO at etc/default/grub: no message"; cat "$WORK/out" "$WORK/err" >&2; fi
done
for attr in vendor config reset_method; do
    fresh; rm -f "$r/$dev/$attr"; mkfifo "$r/$dev/$attr"
    timeout 20 "$VHC" --root "$r" list > "$WORK/out" 2> "$WORK/err"; rc=$?
    if [ $rc = 124 ]; then fail "list with a FIFO at the $attr attribute blocks"
    elif grep -q "$attr: is not a regular file" "$WORK/err"; then ok "a FIFO at the $attr attribute: refused"
    else fail "a FIFO at the $attr attribute: no message"; cat "$WORK/err" >&2; fi
done
box_unchanged "the FIFOs"
finish
