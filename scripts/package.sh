#!/usr/bin/env bash
# Builds llm-proxy's Debian package (host, bundled plugins, SDK, /etc/llm-proxy/config.toml, the
# systemd unit) in build-deb/ and prints its path:
#   scripts/package.sh  ->  build-deb/llm-proxy_VERSION_ARCH.deb
# Install it with `dpkg -i`; it adds the system user llm-proxy and enables the service.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build-deb -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
  -DCMAKE_INSTALL_LIBDIR=lib -DLLM_PROXY_DEB=ON -DLLM_PROXY_BENCH=OFF -DBUILD_TESTING=OFF > /dev/null
cmake --build build-deb -j "$(nproc)" > /dev/null
rm -f build-deb/*.deb
(cd build-deb && cpack > cpack.log 2>&1) || { cat build-deb/cpack.log; exit 1; }
ls "$PWD"/build-deb/*.deb
