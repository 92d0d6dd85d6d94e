#!/usr/bin/env bash
# Builds llm-proxy and serves config/default.toml (or the config given as the first argument).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
exec build/llm-proxy --config "${1:-config/default.toml}"
