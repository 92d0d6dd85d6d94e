#!/usr/bin/env bash
# Thousands of concurrent streams: N streaming requests (default 5,000), the mock upstream sending
# 10 events 500 ms apart, directly, through nginx (a plain reverse proxy, one worker, unbuffered)
# and through llm-proxy, on 127.0.0.1, each on a new connection.
# Three measures:
#   cold:  the first N streams llm-proxy ever serves, spread evenly over RAMP_MS (default
#          2,500 ms; every stream lasts about 4.5 s, so all N are open together at the end of
#          the ramp): every stream needs a new fiber stack and a new upstream connection;
#   warm:  the same ramp again, ROUNDS times (default 3), taking turns direct, nginx and
#          llm-proxy, with the upstream connections of earlier ramps kept: a proxy in service;
#   burst: all N at once, which overflows the kernel's connection queues even direct.
# Reports completed streams, time to first event (TTFE), what nginx and llm-proxy add to it
# (medians over the warm rounds), and llm-proxy's peak RSS.
#
#   bench/streams.sh [streams, default 5000] [RAMP_MS, default 2500] [ROUNDS, default 3]
set -euo pipefail
cd "$(dirname "$0")/.."
streams=${1:-5000}
ramp_ms=${2:-2500}
rounds=${3:-3}
ulimit -n "$(ulimit -Hn)"  # thousands of sockets per process
scripts/install-deps.sh --test > /dev/null
scripts/build.sh > /dev/null

source bench/lib.sh
need nginx nginx-light

# One mock per path: thousands of connections from each path to one port would share that
# port's 28,000 ephemeral source ports with the TIME-WAITs of earlier rounds, and the direct
# path's connects would stall (SYN retried after a second).
direct_port=$(free_port); nginx_mock_port=$(free_port); proxy_mock_port=$(free_port)
for port in "$direct_port" "$nginx_mock_port" "$proxy_mock_port"; do
  build/bench/mock_upstream --port "$port" --events 10 --gap-ms 500 > /dev/null & pids+=($!)
  wait_port "$port"
done
nginx_port=$(free_port); proxy_port=$(free_port)
start_nginx "$nginx_port" "$nginx_mock_port" "$streams" $((streams * 2 + 1000))
write_proxy_config "$proxy_port" "$proxy_mock_port" "max_connections = $((streams + 1000))" \
  "max_idle_connections = $streams"
build/llm-proxy --config "$work/proxy.toml" 2> "$work/proxy.log" & proxy=$!; pids+=($proxy)
wait_port "$proxy_port"

# run URL RAMP_MS -> the JSON line of bench/streams.mjs; fails on any incomplete stream.
run() {
  local out
  out=$(node bench/streams.mjs "$1" "$streams" 10 "$2")
  sleep 1
  echo "$out"
  echo "$out" | grep -q '"first_error":null' || { echo "incomplete streams: $out" >&2; exit 1; }
}
direct_url="http://127.0.0.1:$direct_port/v1/chat/completions"
nginx_url="http://127.0.0.1:$nginx_port/v1/chat/completions"
proxy_url="http://127.0.0.1:$proxy_port/v1/chat/completions"
# stat FIELD LINES... -> the median of FIELD over the JSON lines.
stat() { node -e 'const [f, ...l] = process.argv.slice(1); const v = l.map((x) => JSON.parse(x)[f]).sort((a, b) => a - b);
  console.log(v[Math.floor((v.length - 1) / 2)].toFixed(2))' "$@"; }
minus() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%+.2f", a-b}'; }

cold=$(run "$proxy_url" "$ramp_ms")
echo "cold ramp, llm-proxy: $cold"
run "$nginx_url" "$ramp_ms" > /dev/null  # nginx opens its upstream connections, unmeasured
directs=(); nginxes=(); proxies=()
for round in $(seq "$rounds"); do
  directs+=("$(run "$direct_url" "$ramp_ms")")
  nginxes+=("$(run "$nginx_url" "$ramp_ms")")
  proxies+=("$(run "$proxy_url" "$ramp_ms")")
  echo "warm round $round: direct ${directs[-1]}" >&2
  echo "warm round $round: nginx ${nginxes[-1]}" >&2
  echo "warm round $round: llm-proxy ${proxies[-1]}" >&2
done
burst_direct=$(run "$direct_url" 0)
burst_proxy=$(run "$proxy_url" 0)

d50=$(stat ttfe_p50_ms "${directs[@]}"); d99=$(stat ttfe_p99_ms "${directs[@]}")
n50=$(stat ttfe_p50_ms "${nginxes[@]}"); n99=$(stat ttfe_p99_ms "${nginxes[@]}")
p50=$(stat ttfe_p50_ms "${proxies[@]}"); p99=$(stat ttfe_p99_ms "${proxies[@]}")
printf '\n%d streams of 10 events 500 ms apart, ramp %d ms, %d warm rounds, %s\n' "$streams" "$ramp_ms" "$rounds" "$(date -u +%Y-%m-%d)"
printf 'all %d streams of every run complete with every event and [DONE]\n' "$streams"
printf 'warm, medians of TTFE: direct p50 %s ms, p99 %s ms\n' "$d50" "$d99"
printf '  nginx     p50 %s ms, p99 %s ms: added p50 %s ms, p99 %s ms\n' "$n50" "$n99" "$(minus "$n50" "$d50")" "$(minus "$n99" "$d99")"
printf '  llm-proxy p50 %s ms, p99 %s ms: added p50 %s ms, p99 %s ms\n' "$p50" "$p99" "$(minus "$p50" "$d50")" "$(minus "$p99" "$d99")"
printf 'cold ramp, llm-proxy: TTFE p50 %s ms, p99 %s ms\n' "$(stat ttfe_p50_ms "$cold")" "$(stat ttfe_p99_ms "$cold")"
printf 'burst: TTFE direct p50 %s ms p99 %s ms; llm-proxy p50 %s ms p99 %s ms\n' \
  "$(stat ttfe_p50_ms "$burst_direct")" "$(stat ttfe_p99_ms "$burst_direct")" "$(stat ttfe_p50_ms "$burst_proxy")" "$(stat ttfe_p99_ms "$burst_proxy")"
echo "llm-proxy peak RSS: $(awk '/VmHWM/ {print $2}' /proc/$proxy/status) KB; threads at the end: $(awk '/Threads/ {print $2}' /proc/$proxy/status)"
