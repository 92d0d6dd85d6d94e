#!/usr/bin/env bash
# Builds every plugin under examples/ the way a third party would: against the installed SDK
# (PREFIX) only, then copies the plugins into OUT/plugins. C plugins must not need the C++ runtime.
#   build_examples.sh SOURCE_DIR PREFIX OUT
set -euo pipefail
[ -d "$HOME/.cargo/bin" ] && PATH="$HOME/.cargo/bin:$PATH"
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
# The C processor again, built by make from pkg-config's flags alone (examples/c-processor/Makefile):
# it must export the entry symbol only, and the installed host must load and pass it.
pc_file=$(find "$prefix" -name llm-proxy-sdk.pc | head -n 1)
mkdir -p "$out/make-c-processor"
PKG_CONFIG_PATH=$(dirname "$pc_file") make -C "$out/make-c-processor" \
  -f "$source_dir/examples/c-processor/Makefile" VPATH="$source_dir/examples/c-processor"
exported=$(nm -D --defined-only "$out/make-c-processor/tag_user.so" | awk '{print $3}')
if [ "$exported" != "llm_proxy_plugin_entry" ]; then
  echo "the plugin built from pkg-config's flags exports: $exported" >&2
  exit 1
fi
"$prefix/bin/llm-proxy" plugin check "$out/make-c-processor/tag_user.so" \
  --config '{"config_value":"team-42"}'
# The Rust processor: only the standard library, so it builds offline. It proves the ABI is
# plain C: no bindings generator, no C compiler, just #[repr(C)] mirrors of the headers.
cargo test --offline --quiet --manifest-path "$source_dir/examples/rust-processor/Cargo.toml" \
  --target-dir "$out/rust-processor"
cargo build --offline --release --quiet --manifest-path "$source_dir/examples/rust-processor/Cargo.toml" \
  --target-dir "$out/rust-processor"
cp "$out/rust-processor/release/libshout.so" "$out/plugins/shout.so"
echo "built: $(ls "$out/plugins" | tr '\n' ' ')"
