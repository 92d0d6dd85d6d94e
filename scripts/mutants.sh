#!/usr/bin/env bash
# Mutation testing, run by hand before resolving an issue that changes behaviour: applies each
# named mutation of tests/mutants.txt, one at a time, to a scratch copy of the committed tree (a
# detached git worktree with a build of its own), rebuilds it, runs the whole suite and prints
# which tests killed which mutant. A mutant no test kills is a gap in the suite. A mutation whose
# text no longer occurs exactly once is reported as stale, and one that does not build as such;
# neither counts as killed.
#
#   scripts/mutants.sh [NAME...]       (default: every mutation in the list)
#   MUTANTS_FILE=... MUTANTS_DIR=...   (the list; the scratch copy, default /tmp/llm-proxy-mutants)
set -euo pipefail
cd "$(dirname "$0")/.."
list=$(realpath "${MUTANTS_FILE:-tests/mutants.txt}")
scratch=${MUTANTS_DIR:-/tmp/llm-proxy-mutants}
commit=$(git rev-parse HEAD)

# mutation COMMAND LIST [NAME]: "names" prints every name; "apply NAME" applies it in the working
# directory and prints "applied", "stale" or "unknown".
mutation() {
  python3 - "$@" <<'PY'
import sys
command, path = sys.argv[1], sys.argv[2]
blocks, block, part = {}, None, None
for line in open(path, encoding="utf-8").read().split("\n"):
    if line.startswith("=== "):
        block = {"name": line[4:].strip(), "from": [], "to": []}
        blocks[block["name"]] = block
        part = None
    elif block is None or (part is None and (line.startswith("#") or not line.strip())):
        continue
    elif line in ("--- from", "--- to"):
        part = line[4:]
    elif part:
        block[part].append(line)
    elif ":" in line:
        key, value = line.split(":", 1)
        block[key.strip()] = value.strip()
if command == "names":
    print("\n".join(blocks))
    sys.exit(0)
b = blocks.get(sys.argv[3])
if b is None or "file" not in b:
    print("unknown")
    sys.exit(0)
strip = lambda lines: "\n".join(lines).strip("\n")
source = open(b["file"], encoding="utf-8").read()
old, new = strip(b["from"]), strip(b["to"])
if not old or source.count(old) != 1:
    print("stale")
    sys.exit(0)
open(b["file"], "w", encoding="utf-8").write(source.replace(old, new))
print("applied " + b["file"] + ": " + b.get("rule", ""))
PY
}

names=("$@")
[ ${#names[@]} -gt 0 ] || mapfile -t names < <(mutation names "$list")

if [ -e "$scratch/.git" ]; then
  git -C "$scratch" checkout -q --detach --force "$commit"
else
  git worktree add -q --detach "$scratch" "$commit"
fi
cd "$scratch"
git reset -q --hard "$commit"
scripts/install-deps.sh --test > /dev/null
scripts/build.sh > /dev/null
(cd tests/integration && npm ci --no-audit --no-fund --loglevel=error > /dev/null)

# Runs the suite; prints the failed tests' names, one per line.
failed_tests() {
  local log=build/Testing/Temporary/LastTestsFailed.log
  rm -f "$log"  # ctest leaves the last run's list when no test fails
  ctest --test-dir build -j 2 --timeout 300 > build/mutants-ctest.log 2>&1 || true
  [ -s "$log" ] && cut -d: -f2- "$log" || true
}

echo "commit $commit: the suite without mutations"
baseline=$(failed_tests)
if [ -n "$baseline" ]; then
  echo "the unmutated suite fails, so no mutant can be judged:" >&2
  echo "$baseline" >&2
  exit 1
fi

killed=0 judged=0
for name in "${names[@]}"; do
  git reset -q --hard "$commit"
  result=$(mutation apply "$list" "$name")
  case "$result" in
    stale) printf '%-40s STALE: its text no longer occurs exactly once\n' "$name"; continue ;;
    unknown) printf '%-40s UNKNOWN: no such mutation\n' "$name"; continue ;;
  esac
  if ! cmake --build build -j 2 > build/mutants-build.log 2>&1; then
    printf '%-40s DOES NOT BUILD (see %s/build/mutants-build.log)\n' "$name" "$scratch"
    continue
  fi
  judged=$((judged + 1))
  killers=$(failed_tests)
  if [ -z "$killers" ]; then
    printf '%-40s SURVIVED (%s)\n' "$name" "${result#applied }"
  else
    killed=$((killed + 1))
    printf '%-40s killed by %d: %s\n' "$name" "$(wc -l <<< "$killers")" \
      "$(head -5 <<< "$killers" | paste -sd '|' | sed 's/|/; /g')"
  fi
done
git reset -q --hard "$commit"
cmake --build build -j 2 > /dev/null 2>&1 || true  # leave the scratch build unmutated
echo "killed $killed of $judged mutants that built"
