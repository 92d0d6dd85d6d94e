#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang into build-fuzz/ and runs each for
# SECONDS (default 60) from its seed corpus and its saved regressions, copied to a scratch
# directory (runs never write into the repository).
#   scripts/fuzz.sh [SECONDS] [TARGET...]     e.g. scripts/fuzz.sh 600 sse
# Prints one line per target and exits non-zero when any target crashed, leaked, timed out or
# reported a mismatch; the input that did it is kept in build-fuzz/artifacts/TARGET/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
all_targets=(request_head chunked_body json json_edit response_head sse config key_file openai_provider
  anthropic_codec anthropic_client)
if [ $# -gt 0 ]; then targets=("$@"); else targets=("${all_targets[@]}"); fi

scripts/install-deps.sh --fuzz
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DLLM_PROXY_FUZZ=ON -DBUILD_TESTING=OFF > /dev/null
cmake --build build-fuzz -j "$(nproc)" --target fuzzers

dictionary() {
  case "$1" in
    request_head | chunked_body | response_head) echo tests/fuzz/http.dict ;;
    json | json_edit | openai_provider | anthropic_codec | anthropic_client) echo tests/fuzz/json.dict ;;
    *) echo "tests/fuzz/$1.dict" ;;
  esac
}

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
export ASAN_OPTIONS="detect_leaks=1"
export UBSAN_OPTIONS="print_stacktrace=1"
[ -x /usr/lib/llvm-14/bin/llvm-symbolizer ] &&
  export ASAN_SYMBOLIZER_PATH=/usr/lib/llvm-14/bin/llvm-symbolizer
failed=()
for target in "${targets[@]}"; do
  binary="build-fuzz/fuzz/${target}_fuzzer"
  [ -x "$binary" ] || { echo "no fuzz target '$target' (known: ${all_targets[*]})" >&2; exit 2; }
  corpus="$scratch/$target"
  mkdir -p "$corpus"
  for seeds in "tests/fuzz/corpus/$target" "tests/fuzz/regressions/$target"; do
    [ -d "$seeds" ] && cp -r "$seeds/." "$corpus/"
  done
  artifacts="build-fuzz/artifacts/$target"
  rm -rf "$artifacts" && mkdir -p "$artifacts"
  log="build-fuzz/artifacts/$target.log"
  options=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
           -artifact_prefix="$artifacts/")
  dict="$(dictionary "$target")"
  [ -f "$dict" ] && options+=(-dict="$dict")
  status=0
  "$binary" "${options[@]}" "$corpus" > "$log" 2>&1 || status=$?
  # libFuzzer's last progress line: "#runs DONE cov: N ft: N corp: N/size ...".
  progress="$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)"
  runs="$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log" | tail -n 1)"
  cov="$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<< "$progress")"
  corp="$(sed -nE 's/.* corp: ([^ ]+).*/\1/p' <<< "$progress")"
  summary="$target: ${runs:-?} runs, coverage ${cov:-?}, corpus ${corp:-?} (inputs/bytes)"
  if [ "$status" -eq 0 ]; then
    echo "ok      $summary"
  else
    echo "FAILED  $summary: exit $status, log $log, input in $artifacts/"
    grep -E '^(MISMATCH|==[0-9]+==ERROR|SUMMARY|.*runtime error|terminate called|ALARM)' "$log" |
      head -n 5 | sed 's/^/        /'
    failed+=("$target")
  fi
done
[ ${#failed[@]} -eq 0 ] || { echo "fuzz targets that failed: ${failed[*]}" >&2; exit 1; }
