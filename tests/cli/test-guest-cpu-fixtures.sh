#!/usr/bin/env bash
# The generated CPU topology fixtures under tests/cpu are what tests/cpu/mkcpu
# writes: regenerate them into a temporary directory and compare.
set -euo pipefail
: "${TOP:?}"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
python3 "$TOP/tests/cpu/mkcpu" -o "$T"
for d in "$T"/*/; do
    name=$(basename "$d")
    diff -r "$d" "$TOP/tests/cpu/$name" || { echo "tests/cpu/$name differs from what mkcpu writes: run tests/cpu/mkcpu"; exit 1; }
    echo "ok $name"
done
