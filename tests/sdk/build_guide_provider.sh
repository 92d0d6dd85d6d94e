#!/usr/bin/env bash
# Follows docs/IMPLEMENTING_PROVIDERS.md to the letter: extracts the files it shows (each code
# block whose first line names it, "file: NAME"), builds them against the installed SDK, and
# leaves the plugin and the guide's config in OUT.
#   build_guide_provider.sh GUIDE PREFIX OUT
set -euo pipefail
guide=$1 prefix=$2 out=$3
rm -rf "$out"
mkdir -p "$out"
awk -v out="$out" '
  /^```/ { if (file != "") { close(out "/" file); file = ""; inblock = 0; next }
           inblock = 1; first = 1; next }
  inblock && first { first = 0
    if (match($0, /file: [A-Za-z0-9_.-]+/)) { file = substr($0, RSTART + 6, RLENGTH - 6) } }
  inblock && file != "" { print > (out "/" file) }
' "$guide"
for f in CMakeLists.txt keyed_openai.c text_stream.c keyed.toml; do
  [ -f "$out/$f" ] || { echo "the guide no longer shows $f" >&2; exit 1; }
done
cmake -S "$out" -B "$out/build" -DCMAKE_PREFIX_PATH="$prefix" > /dev/null
cmake --build "$out/build"
ls "$out/build/keyed_openai.so" "$out/build/text_stream.so"
