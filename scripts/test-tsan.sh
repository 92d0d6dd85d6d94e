#!/usr/bin/env bash
# The unit and integration tests again, with llm-proxy, its plugins and the tests built with
# ThreadSanitizer into build-tsan/: a data race between the event loops, the task threads, the
# finish queue or the connection pool fails the run, even when the tests themselves pass. The SDK
# checks (installing, building the examples) are scripts/test.sh's.
#
# Every process (the unit tests, each llm-proxy an integration test starts) writes its reports
# to build-tsan/tsan-reports/, so a race in a server whose exit status no test looks at still
# counts: the run fails when any report was written, and prints them.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
# Sanitized programs run without address randomization (the build runs one too: doctest lists the
# unit tests' cases): GCC 12's ThreadSanitizer cannot place its shadow memory when the kernel
# randomizes with more than 30 bits (vm.mmap_rnd_bits = 32 on some recent kernels: "FATAL:
# ThreadSanitizer: unexpected memory mapping").
no_aslr=(setarch "$(uname -m)" -R)
# -O1 or higher for reasonable speed (the ThreadSanitizer manual); stacks stay readable at -O1.
flags="-fsanitize=thread -O1 -fno-omit-frame-pointer"
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_C_FLAGS="$flags" -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags" \
  -DCMAKE_SHARED_LINKER_FLAGS="$flags" -DCMAKE_MODULE_LINKER_FLAGS="$flags" > /dev/null
"${no_aslr[@]}" cmake --build build-tsan -j "$(nproc)"
(cd tests/integration && npm ci --no-audit --no-fund --loglevel=error)
reports="$PWD/build-tsan/tsan-reports"
rm -rf "$reports"
mkdir -p "$reports"
cd build-tsan
status=0
TSAN_OPTIONS="log_path=$reports/report second_deadlock_stack=1" "${no_aslr[@]}" \
  ctest --output-on-failure -j 2 -E '^(sdk\.|integration\.(examples|guide)$)' || status=$?
if compgen -G "$reports/report.*" > /dev/null; then
  cat "$reports"/report.*
  echo "ThreadSanitizer reported the above (one file per process, in $reports)" >&2
  exit 1
fi
exit "$status"
