#!/usr/bin/env bash
# apply and revert started together, ROUNDS times (50): the runs serialize on
# the lock, both succeed, and a revert afterwards gives back the tree as it
# was, byte for byte. Prints "race rounds: N" for the README's figures.
. "$(dirname "$0")/lib.sh"

ROUNDS=${VHC_RACE_ROUNDS:-50}
r=$(make_root intel-nvidia)
snapshot "$r" > "$WORK/s0"
bad=0
for i in $(seq "$ROUNDS"); do
    # Every other round starts from an applied tree, so revert has work too.
    [ $((i % 2)) = 0 ] && "$VHC" --root "$r" apply > /dev/null 2>&1
    "$VHC" --root "$r" apply > "$WORK/a.out" 2> "$WORK/a.err" & a=$!
    "$VHC" --root "$r" revert > "$WORK/r.out" 2> "$WORK/r.err" & v=$!
    wait $a; ra=$?
    wait $v; rv=$?
    if [ $ra != 0 ] || [ $rv != 0 ]; then
        fail "round $i: apply exit $ra, revert exit $rv"; cat "$WORK/a.err" "$WORK/r.err" >&2; bad=$((bad + 1))
    fi
    "$VHC" --root "$r" revert > /dev/null 2> "$WORK/r2.err" || { fail "round $i: the revert after"; cat "$WORK/r2.err" >&2; }
    snapshot "$r" > "$WORK/s1"
    if ! cmp -s "$WORK/s0" "$WORK/s1"; then
        fail "round $i: the tree after revert differs"; diff -u "$WORK/s0" "$WORK/s1" >&2; bad=$((bad + 1))
    fi
    [ $bad -gt 3 ] && break
done
[ $bad = 0 ] && ok "$ROUNDS rounds of apply racing revert: both succeed, the tree comes back"
echo "race rounds: $ROUNDS"
finish
