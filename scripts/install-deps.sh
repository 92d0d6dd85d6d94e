#!/usr/bin/env bash
# Installs the Debian 12 packages llm-proxy needs to build, run and test, when any is missing.
# Runs apt-get only if something is absent (as root, or through sudo).
set -euo pipefail

# --test: also what the tests need; --fuzz: also what the fuzz targets need (scripts/fuzz.sh).
packages=(build-essential cmake pkg-config libpoco-dev libssl-dev libtomlplusplus-dev
          nlohmann-json3-dev libspdlog-dev doctest-dev libre2-dev libboost-context-dev
          libhiredis-dev)
if [ "${1:-}" = "--test" ]; then
  # redis-server: the tests of rate limits shared through Redis start one on loopback.
  packages+=(openssl curl adduser chromium redis-server)
  # node and npm may come from outside Debian (e.g. nodesource); any working install will do.
  command -v node > /dev/null && command -v npm > /dev/null || packages+=(nodejs npm)
  # The Rust example plugin; any cargo will do (rustup's or Debian's).
  command -v cargo > /dev/null || packages+=(cargo)
fi
if [ "${1:-}" = "--fuzz" ]; then
  # clang with libFuzzer and the sanitizer runtimes, and llvm-symbolizer for readable traces.
  packages+=(clang libclang-rt-14-dev llvm-14)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
