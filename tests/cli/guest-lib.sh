# Sourced by tests/cli/test-guest-*.sh: fake machine roots for virt-guest-xml.
# Needs $TOP and $VGX (tests/run-tests sets them).

: "${TOP:?}" "${VGX:?}"
GOLDEN=$TOP/tests/golden/guest
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# mkroot NAME PART...: $T/NAME holds the parts copied over each other, in
# order: a fake machine (tests/machines/...), a CPU topology (tests/cpu/...),
# a firmware layout (tests/golden/guest/roots/...). Prints the root's path.
mkroot() {
    local name=$1 part
    shift
    mkdir -p "$T/$name"
    for part in "$@"; do
        cp -a "$TOP/$part/." "$T/$name/"
    done
    printf '%s\n' "$T/$name"
}

# touchin ROOT PATH...: empty files at the machine paths (ISOs, images).
touchin() {
    local root=$1 p
    shift
    for p in "$@"; do
        mkdir -p "$(dirname "$root$p")"
        : > "$root$p"
    done
}

# check_xml FILE: valid for libvirt's schema and accepted by libvirt's test
# driver. PipeWire audio came with libvirt 9.10: an older schema here cannot
# know it, so such a file is checked with that one element as PulseAudio.
check_xml() {
    local f=$1 v
    v=$(virsh --version 2>/dev/null || echo 0)
    if grep -q 'type="pipewire"' "$f" && [ "$(printf '%s\n' "$v" 9.10.0 | sort -V | head -n 1)" != 9.10.0 ]; then
        echo "note: libvirt $v predates <audio type='pipewire'>: $f checked with PulseAudio there"
        sed 's/type="pipewire" runtimeDir="\([^"]*\)"/type="pulseaudio" serverName="\1\/pulse\/native"/' "$f" > "$f.pre910"
        f=$f.pre910
    fi
    virt-xml-validate "$f" domain >"$T/validate.log" 2>&1 || { cat "$T/validate.log"; echo "virt-xml-validate rejects $1"; return 1; }
    virsh -q -c test:///default define "$f" >/dev/null || { echo "virsh define rejects $1"; return 1; }
}

# golden NAME FILE: compares FILE with tests/golden/guest/NAME.xml, or
# replaces the golden file with REGENERATE=1.
golden() {
    local want=$GOLDEN/$1.xml
    if [ "${REGENERATE:-0}" = 1 ]; then
        cp "$2" "$want"
        echo "regenerated $want"
        return 0
    fi
    diff -u "$want" "$2"
}
