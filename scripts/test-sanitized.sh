#!/usr/bin/env bash
# The unit and integration tests again, with llm-proxy, its plugins and the tests built with
# AddressSanitizer and UndefinedBehaviorSanitizer into build-sanitize/: a memory error that
# happens to work in a normal build (a view into a freed string, say) fails the tests here.
# The SDK checks (installing, building the examples) are scripts/test.sh's. Leak checking is
# off: plugins stay loaded until exit, by design.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_C_FLAGS="$flags" -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags" \
  -DCMAKE_SHARED_LINKER_FLAGS="$flags" -DCMAKE_MODULE_LINKER_FLAGS="$flags" > /dev/null
cmake --build build-sanitize -j "$(nproc)"
(cd tests/integration && npm ci --no-audit --no-fund --loglevel=error)
cd build-sanitize
ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --output-on-failure -j 2 -E '^(sdk\.|integration\.(examples|guide)$)'
