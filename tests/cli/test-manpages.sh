#!/usr/bin/env bash
# The manuals say what the programs do: every option of --help (and of the
# getopt table behind it) is documented in the man page, and every option the
# man page documents is in --help; every command of --help has its entry;
# every key the config parser accepts is in virt-host-config.conf(5) and in the
# shipped config, and every key they show is accepted. The pages render with
# scdoc, and --help points to them.
. "$(dirname "$0")/lib.sh"
: "${VGX:=$BUILDDIR/virt-guest-xml}"
DOCS=$TOP/docs

# same LABEL A-NAME A B-NAME B: A and B (sorted lists) hold the same items.
same() {
    local label=$1 an=$2 a=$3 bn=$4 b=$5
    local missing
    missing=$(comm -23 <(echo "$a") <(echo "$b") | xargs)
    [ -z "$missing" ] && ok "$label: all of $an in $bn" || fail "$label: in $an but not in $bn: $missing"
    missing=$(comm -13 <(echo "$a") <(echo "$b") | xargs)
    [ -z "$missing" ] && ok "$label: all of $bn in $an" || fail "$label: in $bn but not in $an: $missing"
}

# The body of a section of an scd page: section SCD TITLE. A "# " line inside
# a ``` block is the block's text, not a heading.
section() {
    awk -v t="# $2" '/^```/ { fence = !fence } !fence && $0 == t { on = 1; next } !fence && /^# / { on = 0 } on' "$1"
}

# Options: long (--name) and short (-h), one per line, sorted.
opts_in() { grep -oE -- '(^|[^a-z-])--?[a-z][a-z-]*' | grep -oE -- '--?[a-z][a-z-]*$' | sort -u; }

# The Options section of --help.
help_opts() { "$1" --help | sed -n '/^Options:/,/^$/p' | grep -E '^  +-' | opts_in; }

# The getopt_long table of a main.c: {"name", no_argument, ...}, plus the
# short options of the optstring.
code_opts() {
    { grep -oE '\{ *"[a-z][a-z-]*", *(no|required|optional)_argument' "$1" | sed -E 's/\{ *"([^"]*)".*/--\1/'
      grep -oE 'getopt_long\([^"]*"[^"]*"' "$1" | sed -E 's/.*"([^"]*)"$/\1/' | tr -d '+:' | grep -o . | sed 's/^/-/'
    } | sort -u
}

# The option entries of a man page: the lines of OPTIONS (and PATCH) that
# begin with an option in bold, "*--root* _DIR_" or "*-h*, *--help*".
man_entries() { { section "$1" OPTIONS; section "$1" PATCH; } | grep -E '^\*-' | opts_in; }

for prog in virt-host-config virt-guest-xml; do
    case $prog in
    virt-host-config) bin=$VHC main=$TOP/src/host/main.c page=$DOCS/virt-host-config.8.scd ;;
    virt-guest-xml) bin=$VGX main=$TOP/src/guest/main.c page=$DOCS/virt-guest-xml.1.scd ;;
    esac
    help=$(help_opts "$bin")
    [ "$(echo "$help" | wc -l)" -ge 5 ] || fail "$prog: only $(echo $help) read from --help's Options"
    same "$prog options" "--help" "$help" "the getopt table of ${main#"$TOP"/}" "$(code_opts "$main")"
    same "$prog options" "--help" "$help" "${page#"$TOP"/}" "$(man_entries "$page")"
    # Whatever the synopsis shows is a real option.
    extra=$(comm -13 <(echo "$help") <(section "$page" SYNOPSIS | opts_in) | xargs)
    [ -z "$extra" ] && ok "$prog: the synopsis shows real options" || fail "$prog: the synopsis shows $extra, not in --help"
    "$bin" --help | grep -q "See $(basename "$page" .scd | sed -E 's/\.([0-9])$/(\1)/')" &&
        ok "$prog: --help points to the man page" || fail "$prog: --help does not name its man page"
done

# Commands: the Commands section of --help and the entries of COMMANDS.
help_cmds=$("$VHC" --help | sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p' | sort)
[ "$(echo "$help_cmds" | wc -l)" -ge 3 ] || fail "virt-host-config: only $(echo $help_cmds) read from --help's Commands"
man_cmds=$(section "$DOCS/virt-host-config.8.scd" COMMANDS | sed -n 's/^\*\([a-z][a-z-]*\)\*$/\1/p' | sort)
same "virt-host-config commands" "--help" "$help_cmds" "virt-host-config.8.scd" "$man_cmds"
# virt-guest-xml's one command, patch: in --help's usage and the page's synopsis and section.
"$VGX" --help | grep -q '^ *\(Usage:\)\? *virt-guest-xml patch ' && section "$DOCS/virt-guest-xml.1.scd" SYNOPSIS |
    grep -q '^\*virt-guest-xml patch\*' && grep -q '^# PATCH$' "$DOCS/virt-guest-xml.1.scd" &&
    ok "virt-guest-xml patch: in --help and the man page" || fail "virt-guest-xml patch: not in both --help and the man page"

# Config keys. From the parser's code: the keys its handler compares against
# (streq(key, "...")). If the parser moves to a table, teach this line to read
# it; the count below fails loudly rather than let the check go empty.
code_keys=$(sed -n 's/.*streq(key, "\([a-z_]*\)").*/\1/p' "$TOP/src/lib/config.c" | sort -u)
[ "$(echo "$code_keys" | wc -l)" -ge 3 ] || fail "config keys: only '$(echo $code_keys)' read from src/lib/config.c"
man_keys=$(section "$DOCS/virt-host-config.conf.5.scd" KEYS | sed -n 's/^\*\([a-z_]*\) =.*/\1/p' | sort -u)
conf_keys=$(sed -n 's/^#\{0,1\}\([a-z_]*\) *=.*/\1/p' "$TOP/config/virt-host-config.conf" | sort -u)
same "config keys" "src/lib/config.c" "$code_keys" "virt-host-config.conf.5.scd" "$man_keys"
same "config keys" "src/lib/config.c" "$code_keys" "config/virt-host-config.conf" "$conf_keys"
# The parser's message for an unknown key lists the keys it knows.
known=$(grep -o 'known: [a-z_, ]*' "$TOP/src/lib/config.c" | sed 's/known: //' | tr -d ' ' | tr , '\n' | sort -u)
same "config keys" "src/lib/config.c" "$code_keys" "its 'unknown key' message" "$known"

# What the documents show, the program takes: each commented default of the
# shipped config uncommented, and the man page's example. A bogus key is
# refused, so that acceptance means something.
r=$(make_root intel-nvidia)
try_config() { # LABEL FILE: list with it exits 0
    if "$VHC" --root "$r" --config "$2" list > /dev/null 2> "$WORK/err"; then ok "$1: accepted"
    else fail "$1: refused: $(cat "$WORK/err")"; fi
}
echo 'no_such_key = 1' > "$WORK/bogus.conf"
"$VHC" --root "$r" --config "$WORK/bogus.conf" list > /dev/null 2> "$WORK/err" && fail "an unknown key is accepted" ||
    { grep -q 'no_such_key' "$WORK/err" && ok "an unknown key is refused" || fail "unknown key: $(cat "$WORK/err")"; }
while IFS= read -r line; do
    printf '%s\n' "${line#\#}" > "$WORK/one.conf"
    try_config "shipped config: '${line#\#}'" "$WORK/one.conf"
done < <(grep -E '^#[a-z_]+ *=' "$TOP/config/virt-host-config.conf")
section "$DOCS/virt-host-config.conf.5.scd" EXAMPLE | sed -n '/^```$/,/^```$/p' | sed '/^```$/d' > "$WORK/example.conf"
[ -s "$WORK/example.conf" ] && try_config "virt-host-config.conf(5) EXAMPLE" "$WORK/example.conf" ||
    fail "no example in virt-host-config.conf.5.scd"

# The pages render, and groff finds nothing to warn about in them.
if command -v scdoc > /dev/null; then
    for p in "$DOCS"/*.scd; do
        n=$(basename "$p" .scd)
        if scdoc < "$p" > "$WORK/$n" 2> "$WORK/err"; then ok "scdoc $n"; else fail "scdoc $n: $(cat "$WORK/err")"; continue; fi
        if command -v groff > /dev/null; then
            groff -man -Tutf8 -ww -z "$WORK/$n" 2> "$WORK/err"
            [ ! -s "$WORK/err" ] && ok "groff -ww $n" || fail "groff warns on $n: $(head -3 "$WORK/err")"
        fi
    done
else
    echo "skip: no scdoc"
fi
finish
