#!/usr/bin/env bash
# Memory over a long run: llm-proxy's RSS idle, after about 100,000 requests and after about
# 1,000,000, against the mock upstream on 127.0.0.1 (wrk, 16 connections, runs bounded in time).
#
#   bench/memory.sh [target requests, default 1000000]
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:-1000000}
scripts/install-deps.sh
scripts/build.sh > /dev/null

source bench/lib.sh
need wrk wrk

mock_port=$(free_port); proxy_port=$(free_port)
build/bench/mock_upstream --port "$mock_port" > /dev/null & pids+=($!)
wait_port "$mock_port"
cat > "$work/proxy.toml" <<CONF
[server]
port = $proxy_port
log_level = "warn"
[llm.mock]
provider = "openai"
base_url = "http://127.0.0.1:$mock_port/v1"
[processor.prompt]
type = "system_prompt"
config_value = "Be brief."
[[route]]
path_prefix = "/v1/chat/completions"
target_llm = "mock"
processors = ["prompt"]
CONF
build/llm-proxy --config "$work/proxy.toml" 2> "$work/proxy.log" & proxy=$!; pids+=($proxy)
wait_port "$proxy_port"
python3 -c 'import json; print(json.dumps({"model":"bench","messages":[{"role":"user","content":"x" * 1900}]}))' > "$work/body.json"
rss() { awk '/VmRSS/ {print $2}' /proc/$proxy/status; }

total=0
rate=5000  # requests per second, refined by each run
# Runs wrk for about n more requests at the current rate; adds to total, updates rate.
load() {
  local n=$1 seconds out done_now
  seconds=$(( n / rate + 1 ))
  out=$(BODY_FILE="$work/body.json" wrk -t2 -c16 -d"${seconds}s" -s bench/post.lua "http://127.0.0.1:$proxy_port/v1/chat/completions")
  done_now=$(echo "$out" | awk '/requests in/ {print $1}')
  total=$((total + done_now))
  if echo "$out" | grep -q "Non-2xx"; then echo "errors during the run" >&2; echo "$out" >&2; exit 1; fi
  rate=$(echo "$out" | awk '/Requests\/sec/ {printf "%d", $2}')
}
idle=$(rss)
load 20000
while [ "$total" -lt $((target / 10)) ]; do load $((target / 10 - total)); done
at_tenth=$(rss); tenth_count=$total
while [ "$total" -lt "$target" ]; do load $((target - total)); done
at_end=$(rss)
printf 'RSS idle %d KB; after %d requests %d KB; after %d requests %d KB (%+.1f%%)\n' \
  "$idle" "$tenth_count" "$at_tenth" "$total" "$at_end" \
  "$(awk -v a="$at_end" -v b="$at_tenth" 'BEGIN { print (a - b) * 100 / b }')"
