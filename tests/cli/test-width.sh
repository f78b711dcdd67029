#!/usr/bin/env bash
# Output fits the terminal (issue 15, item 9): on 80 columns list's rows fit
# (names shortened, the repeated CLASS and VENDOR columns left out, the
# reason under the row), check's messages and hints wrap under their start;
# off a terminal, and with --json, the full text on one line.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/golden/golden.sh"
command -v script > /dev/null || { echo "skip: no script(1)"; exit 77; }

r=$(make_root intel-nvidia)
cols() { on_tty sh -c 'stty cols "$0"; exec "$@"' "$@" < /dev/null; }
too_long() { # FILE COLS: lines longer than COLS that hold a space to break at
    awk -v c="$2" 'length($0) > c { s = $0; sub(/^ +/, "", s); if (s ~ / /) print }' "$1"
}
cols 80 env NO_COLOR=1 "$VHC" --root "$r" list > "$WORK/list80"
[ -z "$(too_long "$WORK/list80" 80)" ] && ok "list fits 80 columns" || { fail "list is wider than 80 columns"; too_long "$WORK/list80" 80 >&2; }
grep -q '^1  *0000:01:00.0  10de:1b80  GP104' "$WORK/list80" && grep -q '^    non-boot display controller$' "$WORK/list80" \
    && ok "list on 80 columns: address, IDs, the name, the reason under the row" || { fail "list on 80 columns"; cat "$WORK/list80" >&2; }
cols 80 env NO_COLOR=1 "$VHC" --root "$r" check > "$WORK/check80"
[ -z "$(too_long "$WORK/check80" 80)" ] && ok "check's messages and hints wrap at 80 columns" \
    || { fail "check wider than 80 columns"; too_long "$WORK/check80" 80 >&2; }
grep -q '^                                hint: ' "$WORK/check80" && grep -qE '^ {38}[a-z]' "$WORK/check80" \
    && ok "check: continuation lines under the hint's text" || { fail "check: no wrapped hint"; cat "$WORK/check80" >&2; }
# Off a terminal: one line each, nothing cut.
"$VHC" --root "$r" list > "$WORK/list"
grep -q 'GP104 High Definition Audio Controller  *snd_hda_intel  isolate  function of 0000:01:00.0 (isolated)$' "$WORK/list" \
    && ! grep -q '\.\.\.' "$WORK/list" && ok "list off a terminal: full text" || fail "list off a terminal is cut"
"$VHC" --root "$r" check > "$WORK/check"
grep -q "hint: in the Windows guest, set the DWORD MSISupported=1 in HKLM.*; restart the guest$" "$WORK/check" \
    && ok "check off a terminal: one line per hint" || fail "check off a terminal wraps"
finish
