#!/usr/bin/env bash
# Generates shell completions (bash, zsh, fish) and a man page for `vigil`.
#   scripts/gen-completions.sh [OUTDIR] [--binary PATH] [--simple-man]
# OUTDIR defaults to dist/. Writes:
#   OUTDIR/completions/vigil.bash   (source it, or copy to /usr/share/bash-completion/completions/vigil)
#   OUTDIR/completions/_vigil       (zsh: a folder on $fpath)
#   OUTDIR/completions/vigil.fish   (~/.config/fish/completions/)
#   OUTDIR/man/man1/vigil.1         (man -l OUTDIR/man/man1/vigil.1)
# The man page comes from swift-argument-parser's generate-manual plugin (full subcommand pages); if
# that fails, or with --simple-man, from `vigil help` output. Generated files are not committed.
set -euo pipefail

cd "$(dirname "$0")/.."
out=dist
binary=${VIGIL:-}
simple_man=0
while [[ $# -gt 0 ]]; do
    case $1 in
        --binary) binary=$2; shift 2 ;;
        --simple-man) simple_man=1; shift ;;
        -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "gen-completions: unknown option $1" >&2; exit 2 ;;
        *) out=$1; shift ;;
    esac
done

if [[ -z $binary ]]; then
    binary=.build/debug/vigil
    [[ -x $binary ]] || swift build --product vigil
fi
[[ -x $binary ]] || { echo "gen-completions: no vigil binary at $binary" >&2; exit 1; }

mkdir -p "$out/completions" "$out/man/man1"
"$binary" --generate-completion-script bash > "$out/completions/vigil.bash"
"$binary" --generate-completion-script zsh > "$out/completions/_vigil"
"$binary" --generate-completion-script fish > "$out/completions/vigil.fish"

# A plain man page from the help text: NAME, SYNOPSIS, DESCRIPTION, then one section per subcommand.
simple_manual() {
    local version date
    version=$("$binary" --version 2>/dev/null || echo unknown)
    date=$(date -u +%Y-%m-%d)
    {
        echo ".TH VIGIL 1 \"$date\" \"vigil $version\" \"User Commands\""
        echo ".SH NAME"
        echo "vigil \\- SIEM event processor for Azure Machine Learning security logs"
        echo ".SH SYNOPSIS"
        echo ".B vigil"
        echo ".I subcommand"
        echo "[options]"
        echo ".SH DESCRIPTION"
        echo ".nf"
        "$binary" help | man_escape
        echo ".fi"
        for sub in $("$binary" help | awk '/^SUBCOMMANDS:/{on=1; next} on && /^  [a-z]/{print $1}'); do
            echo ".SH \"VIGIL $(echo "$sub" | tr a-z A-Z)\""
            echo ".nf"
            "$binary" help "$sub" | man_escape
            echo ".fi"
        done
    } > "$out/man/man1/vigil.1"
}
# Backslashes and leading dots/quotes would be read as roff requests.
man_escape() { sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"; }

man_from_plugin() {
    # Builds the package (debug) and the generate-manual tool; output lands in the plugin work dir.
    swift package plugin generate-manual >/dev/null 2>"$out/man/.plugin.log" || return 1
    local page
    page=$(find .build/plugins -path '*GenerateManual*' -name vigil.1 2>/dev/null | head -1)
    [[ -n $page ]] || return 1
    cp "$page" "$out/man/man1/vigil.1"
    rm -f "$out/man/.plugin.log"
}

if [[ $simple_man == 1 ]]; then
    simple_manual; man_source="vigil help (simple)"
elif man_from_plugin; then
    man_source="swift-argument-parser generate-manual plugin"
else
    echo "gen-completions: generate-manual plugin failed (see $out/man/.plugin.log); writing a simple man page" >&2
    simple_manual; man_source="vigil help (simple, plugin failed)"
fi

echo "completions: $out/completions/{vigil.bash,_vigil,vigil.fish}"
echo "man page:    $out/man/man1/vigil.1 (from $man_source)"
