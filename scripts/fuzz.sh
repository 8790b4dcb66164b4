#!/usr/bin/env bash
# Builds the libFuzzer targets (CMake preset "fuzz": clang, ASan + UBSan, build/fuzz) and runs
# each for TROUPE_FUZZ_SECONDS (default 60; 0 only replays the seeds) from a fresh copy of its
# committed seed corpus, so the committed corpus is never written to. TROUPE_FUZZ_PARALLEL
# targets run at a time (default: the number of cores). Fails if any target crashes, leaks, hangs
# on one input or runs out of memory, and prints the reproducer libFuzzer wrote.
# Usage: scripts/fuzz.sh [target...]   (default: every target below)
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

# target, its binary under build/fuzz, its committed seed corpus.
targets=(
  "sse_parser_fuzz src/wire/sse_parser_fuzz src/wire/fuzz_corpus/sse"
  "llm_stream_fuzz src/llm/llm_stream_fuzz src/llm/fuzz_corpus/llm_stream"
  "jsonc_fuzz src/config/jsonc_fuzz src/config/fuzz_corpus"
  "mcp_fuzz src/mcp/mcp_fuzz src/mcp/fuzz_corpus/mcp"
  # What troupe's MCP client reads from the servers it calls (mcp_client/mcp_connection.h).
  "mcp_client_fuzz src/mcp_client/mcp_client_fuzz src/mcp_client/fuzz_corpus"
  "http_api_fuzz src/rest/http_api_fuzz src/rest/fuzz_corpus/http_api"
  # Feeds request bodies as the connection does (http/request_feed.h, which says why).
  "http_request_fuzz src/http/http_request_fuzz src/http/fuzz_corpus/request"
)
seconds="${TROUPE_FUZZ_SECONDS:-60}"
# libFuzzer reads -max_total_time=0 as "no limit".
limit=(-max_total_time="$seconds")
if [ "$seconds" = 0 ]; then limit=(-runs=0); fi
parallel="${TROUPE_FUZZ_PARALLEL:-$(nproc)}"

selected=()
for entry in "${targets[@]}"; do
  read -r name _ _ <<<"$entry"
  if [ $# -eq 0 ] || printf '%s\n' "$@" | grep -qx "$name"; then selected+=("$entry"); fi
done
if [ ${#selected[@]} -eq 0 ]; then
  echo "fuzz: no such target: $*; known: $(printf '%s ' "${targets[@]%% *}")" >&2
  exit 2
fi

bash scripts/build.sh fuzz

build="$root/build/fuzz"
runs="$build/runs"
mkdir -p "$runs"

# Runs one target; its log, corpus copy and artifacts are under build/fuzz/runs/<target>/.
run_one() {
  local name="$1" binary="$2" seeds="$3"
  local dir="$runs/$name"
  rm -rf "$dir"
  mkdir -p "$dir/corpus" "$dir/artifacts"
  cp -R "$root/$seeds/." "$dir/corpus/"
  # One input running 25 s is a hang (libFuzzer's default is 20 minutes); memory keeps its
  # default limit (2 GB).
  UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
    "$build/$binary" "$dir/corpus" "${limit[@]}" -timeout=25 \
    -artifact_prefix="$dir/artifacts/" -print_final_stats=1 >"$dir/log" 2>&1
}

pids=()
names=()
binaries=()
for entry in "${selected[@]}"; do
  read -r name binary seeds <<<"$entry"
  while [ "$(jobs -rp | wc -l)" -ge "$parallel" ]; do sleep 1; done
  if [ "$seconds" = 0 ]; then what="replaying its seeds"; else what="for ${seconds}s"; fi
  echo "== fuzz: $name $what (seeds: $seeds)"
  run_one "$name" "$binary" "$seeds" &
  pids+=($!)
  names+=("$name")
  binaries+=("$binary")
done

status=0
for i in "${!pids[@]}"; do
  name="${names[$i]}"
  dir="$runs/$name"
  if wait "${pids[$i]}"; then
    runs_done="$(grep -o 'number_of_executed_units: *[0-9]*' "$dir/log" | grep -o '[0-9]*$' || true)"
    cov="$(grep -o 'cov: [0-9]*' "$dir/log" | tail -1 || true)"
    echo "fuzz: $name passed: ${runs_done:-?} inputs, $cov, corpus $(ls "$dir/corpus" | wc -l) files"
  else
    status=1
    echo "fuzz: $name FAILED; last lines of $dir/log:"
    tail -n 60 "$dir/log"
    reproducer="$(grep -o 'Test unit written to .*' "$dir/log" | tail -1 || true)"
    reproducer="${reproducer#Test unit written to }"
    if [ -n "$reproducer" ]; then
      echo "fuzz: reproducer: $reproducer"
      echo "fuzz: replay with: $build/${binaries[$i]} $reproducer"
      echo "fuzz: once fixed, add it to the seed corpus (see docs/DESIGN.md, Testing)"
    fi
  fi
done
exit "$status"
