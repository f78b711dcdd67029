#!/usr/bin/env bash
# The outcome of every apply and revert (issue 15, item 12): GNOME Software
# shows no scriptlet output, so a failed %post apply is recorded in
# /var/lib/virt-host-config/last-run.json, shown by status and check (a FAIL
# until a later run succeeds) and logged at priority err. A failure that
# changed nothing writes that record only; a revert that leaves nothing
# applied removes it, with the directories it made; --dry-run, usage errors,
# image builds write none; a record that cannot be written never fails a run.
. "$(dirname "$0")/lib.sh"

export VHC_NOW=1796407200 # 2026-12-04T18:00:00Z
LR=var/lib/virt-host-config/last-run.json

json_get() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(json.dumps(eval(sys.argv[2])))' "$1" "$2"; }
expect_json() {
    local got; got=$(json_get "$2" "$3" 2>&1)
    [ "$got" = "$4" ] && ok "$1" || fail "$1: $3 is $got, wanted $4"
}
expect_line() {
    grep -Eq -- "$3" "$2" && ok "$1" || { fail "$1: no line matching '$3'"; cat "$2" >&2; }
}
no_line() {
    grep -Eq -- "$3" "$2" && { fail "$1: a line matches '$3'"; cat "$2" >&2; } || ok "$1"
}
# only_new LABEL BEFORE AFTER PATH...: AFTER is BEFORE plus exactly PATHs.
only_new() {
    local label=$1 a=$2 b=$3; shift 3
    grep -v -F -f <(printf './%s \n' "$@") "$b" > "$WORK/only.b"
    expect_same "$label" "$a" "$WORK/only.b"
    for p in "$@"; do grep -q "^\./$p " "$b" || fail "$label: ./$p is not there"; done
}

# --- A failed apply (a broken /etc/default/grub) --------------------------
r=$(make_root intel-nvidia)
snapshot "$r" > "$WORK/s0"
"$VHC" --root "$r" apply --dry-run > /dev/null 2>&1
[ ! -e "$r/$LR" ] && ok "--dry-run records nothing" || fail "--dry-run wrote $LR"
"$VHC" --root "$r" apply --bogus > /dev/null 2>&1
[ $? = 2 ] && [ ! -e "$r/$LR" ] && ok "a usage error records nothing" || fail "a usage error wrote $LR"

cp "$r/etc/default/grub" "$WORK/grub.good"
echo 'GRUB_CMDLINE_LINUX="rhgb' >> "$r/etc/default/grub"
snapshot "$r" > "$WORK/s1"
VHC_LOG_FILE=$WORK/log "$VHC" --root "$r" apply > "$WORK/out" 2> "$WORK/err"
rc=$?
[ $rc = 1 ] && ok "the broken grub file fails apply" || fail "apply exit $rc"
err=$(sed -n 's/^virt-host-config: //p' "$WORK/err" | tail -n 1)
snapshot "$r" > "$WORK/s2"
only_new "the failed apply wrote its record and nothing else" "$WORK/s1" "$WORK/s2" \
    var/lib/virt-host-config var/lib/virt-host-config/last-run.json
expect_json "the record: failed apply, its error, what to run" "$r/$LR" \
    '[d["version"], d["command"], d["time"], d["result"], d["error"], d["next_step"]]' \
    "$(python3 -c 'import json,sys; print(json.dumps([1, "apply", "2026-12-04T18:00:00Z", "failed", sys.argv[1], "sudo virt-host-config apply"]))' "$err")"
expect_line "journal: the failure at priority err" "$WORK/log" \
    '^virt-host-config: VHC_ACTION=outcome VHC_RUN=apply VHC_RESULT=failed VHC_ERROR=.*unbalanced double quote VHC_NEXT_STEP=sudo virt-host-config apply PRIORITY=3$'

"$VHC" --root "$r" status > "$WORK/st" 2>&1 || fail "status exit $?"
expect_line "status: the failure" "$WORK/st" '^last run: +apply failed at 2026-12-04 18:00:00 UTC: .*/etc/default/grub:9: unbalanced double quote$'
expect_line "status: what to run" "$WORK/st" '^to do: +sudo virt-host-config apply$'
"$VHC" --root "$r" status --json > "$WORK/st.json" 2>&1 || fail "status --json exit $?"
expect_json "status --json: last_run" "$WORK/st.json" \
    '[d["last_run"]["command"], d["last_run"]["result"], d["last_run"]["next_step"], d["next_step"]]' \
    '["apply", "failed", "sudo virt-host-config apply", "sudo virt-host-config apply"]'
"$VHC" --root "$r" check > "$WORK/ck" 2>&1
rc=$?
[ $rc = 1 ] && ok "check exits 1 while the last run failed" || fail "check exit $rc"
expect_line "check: a FAIL line" "$WORK/ck" '^FAIL +last apply or revert +apply failed at 2026-12-04 18:00:00 UTC: .*unbalanced double quote$'
expect_line "check: its hint" "$WORK/ck" "hint: fix what the error names, then run 'sudo virt-host-config apply'$"
"$VHC" --root "$r" check --json > "$WORK/ck.json" 2>&1
expect_json "check --json: last-run fail" "$WORK/ck.json" '[(c["status"], c["hint"]) for c in d["checks"] if c["id"] == "last-run"]' \
    "[[\"fail\", \"fix what the error names, then run 'sudo virt-host-config apply'\"]]"

# --- Fixed: a good apply, then a second one -------------------------------
cp "$WORK/grub.good" "$r/etc/default/grub"
VHC_NOW=1796410800 VHC_LOG_FILE=$WORK/log2 "$VHC" --root "$r" apply > /dev/null 2>&1 || fail "the fixed apply"
expect_json "the record: ok" "$r/$LR" '[d["command"], d["time"], d["result"], d["error"], d["next_step"]]' \
    '["apply", "2026-12-04T19:00:00Z", "ok", null, null]'
expect_line "journal: the success at priority info" "$WORK/log2" '^virt-host-config: VHC_ACTION=outcome VHC_RUN=apply VHC_RESULT=ok PRIORITY=6$'
"$VHC" --root "$r" check > "$WORK/ck" 2>&1
expect_line "check: PASS after the good apply" "$WORK/ck" '^PASS +last apply or revert +apply succeeded at 2026-12-04 19:00:00 UTC$'
no_line "check: no FAIL of the last run" "$WORK/ck" '^FAIL +last apply or revert'
"$VHC" --root "$r" status > "$WORK/st" 2>&1
expect_line "status: ok" "$WORK/st" '^last run: +apply ok at 2026-12-04 19:00:00 UTC$'
no_line "status: nothing to do" "$WORK/st" '^to do:'
snapshot "$r" > "$WORK/s3"
VHC_NOW=1796414400 "$VHC" --root "$r" apply > /dev/null 2>&1 || fail "the second apply"
snapshot "$r" > "$WORK/s4"
expect_same "a second apply with the same outcome changes no byte (the record keeps its time)" "$WORK/s3" "$WORK/s4"
VHC_NOW=1796418000 "$VHC" --root "$r" apply --defer > /dev/null 2>&1 || fail "apply --defer"
VHC_NOW=1796418001 "$VHC" --root "$r" apply > /dev/null 2>&1 || fail "apply after --defer"
snapshot "$r" > "$WORK/s4"
expect_same "rpm's reinstall (apply --defer, then apply) changes no byte either" "$WORK/s3" "$WORK/s4"

# --- revert: the record goes with the state --------------------------------
"$VHC" --root "$r" revert > /dev/null 2>&1 || fail "revert"
[ ! -e "$r/$LR" ] && ok "revert removed the record" || fail "revert left $LR"
snapshot "$r" > "$WORK/s5"
expect_same "after revert the tree is as before (no record, no directory)" "$WORK/s0" "$WORK/s5"

# --- apply made the state directory: revert takes it with the record -------
r=$(make_root rx580-polaris)
snapshot "$r" > "$WORK/u0"
"$VHC" --root "$r" apply > /dev/null 2>&1 || fail "apply"
[ -f "$r/$LR" ] && ok "apply recorded its outcome" || fail "apply wrote no $LR"
"$VHC" --root "$r" revert > /dev/null 2>&1 || fail "revert"
snapshot "$r" > "$WORK/u1"
expect_same "the state directory apply made goes with state and record" "$WORK/u0" "$WORK/u1"

# --- A failure before the state directory existed, then a clean revert -----
r=$(make_root single-gpu)
snapshot "$r" > "$WORK/t0"
echo 'isolate = sometimes' > "$WORK/bad.conf"
"$VHC" --root "$r" --config "$WORK/bad.conf" apply > /dev/null 2>&1 && fail "a bad config applied"
expect_json "a bad config: a failed record naming the file" "$r/$LR" "[d[\"result\"], d[\"error\"].startswith(\"$WORK/bad.conf:1:\"), len(d[\"dirs\"]) > 0]" '["failed", true, true]'
"$VHC" --root "$r" revert > /dev/null 2>&1 || fail "revert with nothing applied"
snapshot "$r" > "$WORK/t1"
expect_same "a revert with nothing applied removes the record and the directories it made" "$WORK/t0" "$WORK/t1"

# --- A failed revert keeps a failed record ---------------------------------
r=$(make_root intel-nvidia)
"$VHC" --root "$r" apply > /dev/null 2>&1 || fail "apply"
echo '{ broken' > "$r/var/lib/virt-host-config/state.json"
"$VHC" --root "$r" revert > /dev/null 2>&1 && fail "revert of a broken state succeeded"
expect_json "a failed revert: its record" "$r/$LR" '[d["command"], d["result"], d["next_step"]]' \
    '["revert", "failed", "sudo virt-host-config revert"]'
"$VHC" --root "$r" check > "$WORK/ck" 2>&1
expect_line "check: the failed revert" "$WORK/ck" '^FAIL +last apply or revert +revert failed at '

# --- A record that cannot be written is a warning, never a failure ---------
r=$(make_root intel-nvidia)
mkdir -p "$r/$LR" # a directory where the record goes
"$VHC" --root "$r" apply > /dev/null 2> "$WORK/err" && ok "apply succeeds though its record cannot be written" \
    || { fail "an unwritable record failed apply"; cat "$WORK/err" >&2; }
expect_line "the warning says so" "$WORK/err" '^virt-host-config: warning: the outcome was not recorded: '
echo 'GRUB_CMDLINE_LINUX="x' >> "$r/etc/default/grub"
"$VHC" --root "$r" apply > /dev/null 2> "$WORK/err"
expect_line "a failure still says its own error" "$WORK/err" '^virt-host-config: .*unbalanced double quote$'

# --- An image build records nothing ----------------------------------------
r=$(make_root intel-nvidia)
mkdir -p "$r/run"; : > "$r/run/.containerenv"
"$VHC" --root "$r" apply > /dev/null 2>&1
[ ! -e "$r/$LR" ] && ok "an image build records nothing" || fail "an image build wrote $LR"

# --- The journal record itself, on a journal socket of our own --------------
# bubblewrap gives the run a private /run; a listener there takes the native
# protocol's datagrams (KEY=VALUE lines) the way journald would.
if command -v bwrap > /dev/null && bwrap --dev-bind / / --tmpfs /run true 2> /dev/null; then
    r=$(make_root intel-nvidia)
    echo 'GRUB_CMDLINE_LINUX="rhgb' >> "$r/etc/default/grub"
    cat > "$WORK/listen.py" <<'PY'
import os, socket, sys, time
path, out = sys.argv[1:]
os.makedirs(os.path.dirname(path), exist_ok=True)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
open(out + ".ready", "w").close()
s.settimeout(20)
with open(out, "wb") as f:
    while True:
        try:
            d = s.recv(1 << 16)
        except socket.timeout:
            break
        f.write(d + b"\n--\n")
        if b"VHC_ACTION=outcome\n" in d:
            break
PY
    bwrap --dev-bind / / --tmpfs /run -- bash -c '
        python3 "$1" /run/systemd/journal/socket "$2" & l=$!
        for i in $(seq 100); do [ -e "$2.ready" ] && break; sleep 0.1; done
        "$3" --root "$4" apply > /dev/null 2>&1
        wait $l' _ "$WORK/listen.py" "$WORK/journal" "$VHC" "$r"
    python3 - "$WORK/journal" <<'PY' && ok "journal: the failure, PRIORITY=3 with the MESSAGE_ID, in the native protocol" || fail "journal: no such record in $(cat "$WORK/journal" 2>&1)"
import sys
recs = open(sys.argv[1], "rb").read().split(b"\n--\n")
want = [b"MESSAGE_ID=bf3f8f58222b4281a6e653f80a817efe", b"PRIORITY=3", b"VHC_ACTION=outcome", b"VHC_RUN=apply",
        b"VHC_RESULT=failed", b"VHC_NEXT_STEP=sudo virt-host-config apply", b"SYSLOG_IDENTIFIER=virt-host-config"]
sys.exit(0 if any(all(w in r.split(b"\n") for w in want) for r in recs) else 1)
PY
else
    echo "SKIP: journal socket test: bubblewrap cannot make a private /run here"
fi

finish
