#!/usr/bin/env bash
# One root context (issue 2): no C string literal outside src/lib/root.c names
# a path of the machine. Such a path must come from root.h (vhc_root_path,
# vhc_root_pathf, vhc_path_abs, vhc_path_list, vhc_path_ovmf), or --root
# silently reads or writes the host's file instead of the fake machine's.
# Comments may name paths; string literals may not. Adjacent literals are
# joined first, as the compiler joins them ("" "/etc/x" is "/etc/x").
set -u
: "${TOP:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
WORK=$(mktemp -d /tmp/vhc-no-paths.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
n_fail=0
fail() { echo "FAIL: $*" >&2; n_fail=$((n_fail + 1)); }
ok() { echo "ok: $*"; }

# What a machine path starts with.
PATTERN='^/(etc|sys|proc|boot|var|usr|lib|lib32|lib64|run|sbin|bin|dev|opt|srv|root|home)(/|$)'

# Literals that look like machine paths and are not, one per line:
# FILE<TAB>LITERAL<TAB>why. Exact matches only.
EXCEPTIONS=$(cat <<'EOF'
src/shared/spawn-cmd.c	/dev/null	stdin of the child we start: the running kernel's device, opened before any chroot; a fake machine has no /dev
src/shared/udiff.c	/dev/null	the "--- /dev/null" label of a unified diff for a file that does not exist; never opened
src/lib/domxml.c	/dev/urandom	text of the guest's domain XML (libvirt's default RNG backend), written to stdout, never opened by us
src/lib/boot/system.c	/run/.containerenv	evidence shown to the user (status, check); the file itself is VHC_PATH_CONTAINERENV
src/lib/boot/system.c	/run/ostree-booted, /var read-only	evidence shown to the user (status, check); never opened
src/lib/boot/system.c	/run/ostree-booted, no /sys/kernel	evidence shown to the user (status, check); never opened
src/lib/boot/system.c	/run/ostree-booted	evidence shown to the user (status, check); the file itself is VHC_PATH_OSTREE_BOOTED
EOF
)

# literals FILE...: every string literal, as "FILE:LINE:TEXT" (TEXT as
# written, escapes kept), skipping comments and character constants.
literals() {
    awk -v sq="'" '
    function flush() {
        if (have) print FILENAME ":" sline ":" buf
        have = 0; buf = ""
    }
    FNR == 1 { flush(); state = 0 }
    {
        line = $0; n = length(line); i = 1
        while (i <= n) {
            c = substr(line, i, 1); d = substr(line, i, 2)
            if (state == 1) {                       # /* comment */
                if (d == "*/") { state = 0; i += 2 } else i++
                continue
            }
            if (state == 2) {                       # "string"
                if (c == "\\") {
                    if (i == n) { i++; continue }   # backslash-newline
                    buf = buf d; i += 2; continue
                }
                if (c == "\"") { state = 0; i++; continue }
                buf = buf c; i++; continue
            }
            if (d == "/*") { state = 1; i += 2; continue }
            if (d == "//") break
            if (c == "\"") {
                if (!have) { have = 1; sline = FNR }
                state = 2; i++; continue
            }
            if (c == sq) {                          # character constant
                flush()
                i++
                while (i <= n && substr(line, i, 1) != sq) i += substr(line, i, 1) == "\\" ? 2 : 1
                i++; continue
            }
            if (c != " " && c != "\t") flush()
            i++
        }
        if (state == 0 && substr(line, 1, 1) == "#") flush()
    }
    END { flush() }
    ' "$@"
}

# offenders FILE...: the literals that are machine paths and not excepted.
offenders() {
    literals "$@" | while IFS= read -r hit; do
        file=${hit%%:*} rest=${hit#*:} text=${hit#*:*:}
        printf '%s\n' "$text" | grep -Eq "$PATTERN" || continue
        if printf '%s\n' "$EXCEPTIONS" | awk -F '\t' -v f="$file" -v t="$text" \
            '$1 == f && $2 == t { found = 1 } END { exit !found }'; then
            continue
        fi
        printf '%s\n' "$file:${rest%%:*}: \"$text\""
    done
}

# The scanner itself, on a file made to trip it: what it must and must not see.
mkdir -p "$WORK/src/shared"
sample=$WORK/src/sample.c
cat > "$sample" <<'EOF'
/* "/etc/in-a-block-comment" */
// "/sys/in-a-line-comment"
static const char *a = "/etc/hit-1"; /* "/etc/after-code" */
static const char *b = "not a path /etc/x", *c = "a\"/etc/escaped";
static char q = '"'; static const char *d = "/proc/hit-2";
static const char *e = ""
        "/boot/hit-3";  /* joined with the empty literal */
static const char *f = "http://example.org", *g = "/var/hit-4"; // "/usr/no"
static const char *h = "/usr"; static const char *i = "/usrx/not";
static const char *j = "/dev/null";
#define K "/run/hit-6"
static const char *l = "/* not a comment */", *m = "/lib/hit-7";
EOF
cp "$sample" "$WORK/src/shared/spawn-cmd.c"
(cd "$WORK" && offenders src/sample.c src/shared/spawn-cmd.c) > "$WORK/got"
cat > "$WORK/want" <<'EOF'
src/sample.c:3: "/etc/hit-1"
src/sample.c:5: "/proc/hit-2"
src/sample.c:6: "/boot/hit-3"
src/sample.c:8: "/var/hit-4"
src/sample.c:9: "/usr"
src/sample.c:10: "/dev/null"
src/sample.c:11: "/run/hit-6"
src/sample.c:12: "/lib/hit-7"
src/shared/spawn-cmd.c:3: "/etc/hit-1"
src/shared/spawn-cmd.c:5: "/proc/hit-2"
src/shared/spawn-cmd.c:6: "/boot/hit-3"
src/shared/spawn-cmd.c:8: "/var/hit-4"
src/shared/spawn-cmd.c:9: "/usr"
src/shared/spawn-cmd.c:11: "/run/hit-6"
src/shared/spawn-cmd.c:12: "/lib/hit-7"
EOF
if diff -u "$WORK/want" "$WORK/got" > "$WORK/diff"; then
    ok "the scanner finds path literals, skips comments, honours exceptions"
else
    fail "the scanner is wrong on its own sample:"; cat "$WORK/diff" >&2
fi

# Every exception must still be needed: a stale one would hide a new literal.
while IFS=$'\t' read -r file text why; do
    [ -n "$why" ] || fail "exception $file \"$text\" gives no reason"
    if (cd "$TOP" && literals "$file" 2>/dev/null) | cut -d: -f3- | grep -qxF -- "$text"; then
        ok "exception still needed: $file \"$text\""
    else
        fail "exception $file \"$text\" matches nothing any more: remove it"
    fi
done <<< "$EXCEPTIONS"

# The tree.
cd "$TOP" || exit 1
mapfile -t files < <(find src -name '*.[ch]' ! -path src/lib/root.c | sort)
[ "${#files[@]}" -gt 20 ] || fail "only ${#files[@]} source files found under $TOP/src"
offenders "${files[@]}" > "$WORK/offenders"
if [ -s "$WORK/offenders" ]; then
    fail "machine paths outside src/lib/root.c (name them in root.h/root.c and use vhc_root_path()):"
    cat "$WORK/offenders" >&2
else
    ok "no machine path literal in ${#files[@]} files of src/ outside src/lib/root.c"
fi

[ "$n_fail" -eq 0 ] || { echo "$n_fail check(s) failed" >&2; exit 1; }
