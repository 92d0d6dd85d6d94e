#!/usr/bin/env bash
# Builds everything and runs every test: the unit tests and the integration tests (the real
# llm-proxy against mock upstreams on 127.0.0.1, and the official openai npm client).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
scripts/build.sh
(cd tests/integration && npm ci --no-audit --no-fund --loglevel=error)
cd build
ctest --output-on-failure -j 2
