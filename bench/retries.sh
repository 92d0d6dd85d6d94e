#!/usr/bin/env bash
# What being ready for failures costs when nothing fails (issue 12): instructions per request,
# counted by callgrind as bench/instructions.sh counts them, for the same 2 KB chat request whole
# and streamed (an opening chunk with the role, as OpenAI sends it, then 20 events), along three
# routes of one llm-proxy to the same mock:
#   pass-through          a target_llm without a retry policy: one attempt
#   retries               a target_llm whose llm retries (3 attempts): the body is kept for
#                         another attempt, and the stream's head waits for its first content
#   deployment + retries  a public model with one deployment of that llm, chosen by the model
#   2 deployments         a public model with two deployments of it, weighted, ejection on: the
#                         health of both (a lock per choice and per attempt's end)
#   2, latency            the same with balance = "latency" (a time-to-first-byte sample too)
# and each as a multiple of the pass-through's cost.
#
#   bench/retries.sh [BINARY]      (default: build/llm-proxy; FEW and MANY as instructions.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
binary=${1:-build/llm-proxy}

source bench/lib.sh
need valgrind valgrind
start_role_mock
write_request_bodies

port=$(free_port)
cat > "$work/proxy.toml" <<CONF
[server]
host = "127.0.0.1"
port = $port
log_level = "warn"
worker_threads = 1

[llm.plain]
provider = "openai"
base_url = "http://127.0.0.1:$mock_port/v1"

[llm.retrying]
provider = "openai"
base_url = "http://127.0.0.1:$mock_port/v1"

[llm.retrying.retry]
attempts = 3

[models.bench]
deployments = [{ llm = "retrying" }]

# Both deployments keep the public name, so that no request pays for renaming its model.
[models.pair]
deployments = [{ llm = "retrying" }, { llm = "retrying" }]

[models.fast]
deployments = [{ llm = "retrying" }, { llm = "retrying" }]
balance = "latency"

[[route]]
path_prefix = "/pass/v1/chat/completions"
target_llm = "plain"

[[route]]
path_prefix = "/retry/v1/chat/completions"
target_llm = "retrying"

[[route]]
path_prefix = "/model/v1/chat/completions"

[[route]]
path_prefix = "/pair/v1/chat/completions"

[[route]]
path_prefix = "/fast/v1/chat/completions"
CONF

cost() {
  instructions_per_request "$binary --config $work/proxy.toml" "$port" "http://127.0.0.1:$port$1" \
    "$work/$2"
}

printf '%-22s %14s %14s %10s %10s\n' "per request" "2 KB request" "2 KB, stream" "whole x" "stream x"
rows=("pass-through /pass" "retries /retry" "deployment+retries /model" "2-deployments /pair pair"
  "2,-latency /fast fast")
for row in "${rows[@]}"; do
  read -r name prefix model <<< "$row"
  name=${name//-/ }
  # A route choosing by model gets the request's model named for it.
  for body in small stream; do
    if [ -n "${model:-}" ]; then
      sed "s/\"model\": *\"[^\"]*\"/\"model\": \"$model\"/" "$work/$body.json" > "$work/$body-$model.json"
    fi
  done
  suffix=${model:+-$model}
  a=$(cost "$prefix/v1/chat/completions" "small$suffix.json")
  b=$(cost "$prefix/v1/chat/completions" "stream$suffix.json")
  [ -n "${base_whole:-}" ] || { base_whole=$a; base_stream=$b; }
  printf '%-22s %14s %14s %10s %10s\n' "$name" "$a" "$b" \
    "$(python3 -c "print(f'{$a / $base_whole:.3f}')")" \
    "$(python3 -c "print(f'{$b / $base_stream:.3f}')")"
done
