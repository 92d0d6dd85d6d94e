#!/usr/bin/env bash
# Builds every plugin under examples/ the way a third party would: against the installed SDK
# (PREFIX) only, then copies the plugins into OUT/plugins. C plugins must not need the C++ runtime.
#   build_examples.sh SOURCE_DIR PREFIX OUT
set -euo pipefail
source_dir=$1 prefix=$2 out=$3
rm -rf "$out"
mkdir -p "$out/plugins"
for example in c-processor c-provider; do
  cmake -S "$source_dir/examples/$example" -B "$out/$example" -DCMAKE_PREFIX_PATH="$prefix" > /dev/null
  cmake --build "$out/$example"
  for plugin in "$out/$example"/*.so; do
    if readelf -d "$plugin" | grep -q 'NEEDED.*libstdc++'; then
      echo "$plugin links the C++ runtime; a C plugin must not" >&2
      exit 1
    fi
    cp "$plugin" "$out/plugins/"
  done
done
echo "built: $(ls "$out/plugins" | tr '\n' ' ')"
