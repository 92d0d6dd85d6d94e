#!/usr/bin/env bash
# What translation costs (issue 11): instructions per request, counted by callgrind as
# bench/instructions.sh counts them, for the same 2 KB chat request whole and streamed (20 text
# events), along four paths through one llm-proxy:
#   pass-through   an OpenAI client, the openai provider, an OpenAI upstream (nothing translated)
#   api=anthropic  an Anthropic client on a route with api = "anthropic" to the openai provider
#                  (the request, the answer and every event translated by the client API)
#   provider       an OpenAI client, the anthropic provider, an Anthropic upstream (translated by
#                  the provider)
#   native         an Anthropic client on an api = "anthropic" route to the anthropic provider
#                  (nothing translated)
# and for each what translating one stream event adds (over the pass-through path's cost per
# event), and the stream's cost as a multiple of the pass-through stream's.
#
#   bench/translation.sh [BINARY]      (default: build/llm-proxy; FEW and MANY as instructions.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
binary=${1:-build/llm-proxy}
events=20

source bench/lib.sh
need valgrind valgrind
[ -x build/bench/mock_upstream ] || scripts/build.sh > /dev/null

openai_port=$(free_port)
build/bench/mock_upstream --port "$openai_port" --events $events > /dev/null & pids+=($!)
anthropic_port=$(free_port)
build/bench/mock_upstream --port "$anthropic_port" --events $events --format anthropic > /dev/null &
pids+=($!)
wait_port "$openai_port"
wait_port "$anthropic_port"

# The OpenAI bodies (small.json, stream.json), and the same conversation as Messages requests.
write_request_bodies
python3 - "$work" <<'PY'
import json, sys
small = json.load(open(sys.argv[1] + "/small.json"))
system, user = small["messages"][0]["content"], small["messages"][1]["content"]
message = {"model": "bench", "max_tokens": 1024, "system": system,
           "messages": [{"role": "user", "content": user}]}
open(sys.argv[1] + "/messages.json", "w").write(json.dumps(message))
open(sys.argv[1] + "/messages_stream.json", "w").write(json.dumps(dict(message, stream=True)))
PY

port=$(free_port)
cat > "$work/proxy.toml" <<CONF
[server]
host = "127.0.0.1"
port = $port
log_level = "warn"
worker_threads = 1

[llm.openai]
provider = "openai"
base_url = "http://127.0.0.1:$openai_port/v1"

[llm.claude]
provider = "anthropic"
base_url = "http://127.0.0.1:$anthropic_port/v1"

[[route]]
path_prefix = "/pass/v1/chat/completions"
target_llm = "openai"

[[route]]
path_prefix = "/translated/v1/messages"
api = "anthropic"
target_llm = "openai"

[[route]]
path_prefix = "/provider/v1/chat/completions"
target_llm = "claude"

[[route]]
path_prefix = "/native/v1/messages"
api = "anthropic"
target_llm = "claude"
CONF

# cost PATH BODY: instructions per request
cost() {
  instructions_per_request "$binary --config $work/proxy.toml" "$port" "http://127.0.0.1:$port$1" \
    "$work/$2"
}

printf '%-16s %14s %14s %16s %10s\n' "per request" "2 KB request" "2 KB, stream" "extra per event" "stream x"
for row in "pass-through /pass/v1/chat/completions small.json stream.json" \
           "api=anthropic /translated/v1/messages messages.json messages_stream.json" \
           "provider /provider/v1/chat/completions small.json stream.json" \
           "native /native/v1/messages messages.json messages_stream.json"; do
  read -r name path whole stream <<< "$row"
  a=$(cost "$path" "$whole")
  b=$(cost "$path" "$stream")
  # What the stream adds to the whole request, beyond what it adds on the pass-through path, per
  # event: the translation of the events alone.
  [ -n "${base_whole:-}" ] || { base_whole=$a; base_stream=$b; }
  printf '%-16s %14s %14s %16s %10s\n' "$name" "$a" "$b" \
    "$(( ((b - a) - (base_stream - base_whole)) / events ))" \
    "$(python3 -c "print(f'{$b / $base_stream:.2f}')")"
done
