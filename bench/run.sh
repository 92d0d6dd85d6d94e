#!/usr/bin/env bash
# The proxy benchmark: the same mock OpenAI upstream reached directly, through nginx (a plain
# keep-alive reverse proxy, one worker) and through llm-proxy, measured in one run with wrk, on
# 127.0.0.1 only; every load run is bounded in time. The three paths take turns, round after
# round, and the table shows each figure's median over the rounds: on a shared machine one run
# of one path says little. Prints a table.
#
#   bench/run.sh [seconds per run, default 10] [rounds, default 3]
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-10}
rounds=${2:-3}

scripts/install-deps.sh
scripts/build.sh > /dev/null

source bench/lib.sh
need nginx nginx-light
need wrk wrk

mock_port=$(free_port); nginx_port=$(free_port); proxy_port=$(free_port)
build/bench/mock_upstream --port "$mock_port" > /dev/null & pids+=($!)
wait_port "$mock_port"

start_nginx "$nginx_port" "$mock_port" 128

write_proxy_config "$proxy_port" "$mock_port"
start_ns=$(date +%s%N)
build/llm-proxy --config "$work/proxy.toml" 2> "$work/proxy.log" & proxy_pid=$!; pids+=($proxy_pid)
wait_port "$proxy_port"
startup_ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))
idle_rss_kb=$(awk '/VmRSS/ {print $2}' /proc/$proxy_pid/status)

write_request_bodies

# wrk's latency line value in microseconds.
to_us() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) print n; else if (v ~ /ms$/) print n * 1000; else print n * 1000000 }'; }
# run NAME URL CONNECTIONS BODY -> "p50_us p99_us rps"
run() {
  local out
  out=$(BODY_FILE="$4" wrk -t"$(( $3 > 1 ? 2 : 1 ))" -c"$3" -d"${duration}s" --latency -s bench/post.lua "$2/v1/chat/completions")
  local p50 p99 rps
  p50=$(to_us "$(echo "$out" | awk '$1 == "50%" {print $2}')")
  p99=$(to_us "$(echo "$out" | awk '$1 == "99%" {print $2}')")
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  if echo "$out" | grep -q "Non-2xx"; then echo "$1: errors during the run:" >&2; echo "$out" >&2; fi
  echo "$p50 $p99 $rps"
}

# The median of each column of the lines on stdin.
medians() { awk '{ for (i = 1; i <= NF; ++i) v[i, NR] = $i; n = NF } END {
  for (i = 1; i <= n; ++i) { m = 0; for (r = 1; r <= NR; ++r) a[r] = v[i, r]
    for (x = 1; x <= NR; ++x) for (y = x + 1; y <= NR; ++y) if (a[y] < a[x]) { t = a[x]; a[x] = a[y]; a[y] = t }
    printf "%s%s", a[int((NR + 1) / 2)], (i < n ? " " : "\n") } }'; }

declare -A lat thr big
for round in $(seq "$rounds"); do
  for path in direct nginx llm-proxy; do
    case $path in direct) url=http://127.0.0.1:$mock_port ;; nginx) url=http://127.0.0.1:$nginx_port ;; *) url=http://127.0.0.1:$proxy_port ;; esac
    lat[$path]+="$(run "$path" "$url" 1 "$work/small.json")"$'\n'
    thr[$path]+="$(run "$path" "$url" 64 "$work/small.json")"$'\n'
    big[$path]+="$(run "$path" "$url" 1 "$work/large.json")"$'\n'
  done
  echo "round $round of $rounds done" >&2
done
for path in direct nginx llm-proxy; do
  lat[$path]=$(printf '%s' "${lat[$path]}" | medians)
  thr[$path]=$(printf '%s' "${thr[$path]}" | medians)
  big[$path]=$(printf '%s' "${big[$path]}" | medians)
done
busy_rss_kb=$(awk '/VmRSS/ {print $2}' /proc/$proxy_pid/status)

field() { echo "$1" | awk -v i="$2" '{print $i}'; }
printf '\n%s, %d s per run, medians of %d rounds, %s\n\n' "$(nproc) cores" "$duration" "$rounds" "$(date -u +%Y-%m-%d)"
printf '%-10s | %-28s | %-28s | %-22s\n' "" "1 connection, 2 KB request" "64 connections, 2 KB" "1 connection, 2 MB"
printf '%-10s | %8s %8s %10s | %8s %8s %10s | %10s %10s\n' path "p50 µs" "p99 µs" "req/s" "p50 µs" "p99 µs" "req/s" "p50 µs" "p99 µs"
for path in direct nginx llm-proxy; do
  printf '%-10s | %8.0f %8.0f %10.0f | %8.0f %8.0f %10.0f | %10.0f %10.0f\n' "$path" \
    "$(field "${lat[$path]}" 1)" "$(field "${lat[$path]}" 2)" "$(field "${lat[$path]}" 3)" \
    "$(field "${thr[$path]}" 1)" "$(field "${thr[$path]}" 2)" "$(field "${thr[$path]}" 3)" \
    "$(field "${big[$path]}" 1)" "$(field "${big[$path]}" 2)"
done
added() { awk -v a="$(field "${lat[$1]}" "$2")" -v d="$(field "${lat[direct]}" "$2")" 'BEGIN { printf "%.0f", a - d }'; }
printf '\nadded over direct, 1 connection: nginx p50 +%s µs, p99 +%s µs; llm-proxy p50 +%s µs, p99 +%s µs\n' \
  "$(added nginx 1)" "$(added nginx 2)" "$(added llm-proxy 1)" "$(added llm-proxy 2)"
awk -v l="$(field "${thr[llm-proxy]}" 3)" -v n="$(field "${thr[nginx]}" 3)" 'BEGIN { printf "throughput, 64 connections: llm-proxy / nginx = %.2f\n", l / n }'
awk -v l="$(field "${big[llm-proxy]}" 1)" -v d="$(field "${big[direct]}" 1)" 'BEGIN { printf "2 MB request: llm-proxy adds %.2f ms at p50\n", (l - d) / 1000 }'
printf 'llm-proxy: ready in %d ms (to an open port); RSS idle %d KB, after the runs %d KB\n' "$startup_ms" "$idle_rss_kb" "$busy_rss_kb"
