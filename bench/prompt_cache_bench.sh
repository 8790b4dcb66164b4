#!/usr/bin/env bash
# Issue 16's prompt-caching figure: what a 10-turn `explore` task is billed for its input, with and
# without the agent's `prompt_caching`, on each wire format. The real `troupe serve` runs the task
# against `troupe mock-llm`, which reports cache reads and writes as the providers do
# (src/mock_llm/prompt_cache.h); this script sums the usage mock-llm logged for the task's requests.
#
# Usage: bench/prompt_cache_bench.sh [path/to/troupe]    (default: build/default/troupe)
#
# The task: 9 scripted tool turns over this repository (glob, read, grep: real outputs, so the
# conversation grows as a real one does), then the answer. Every request's input is sized by
# mock-llm as characters / 4. "billed" counts input tokens at their price relative to an
# uncached one: Anthropic writes 1.25, reads 0.1 (Claude's 5-minute cache); OpenAI cached
# tokens 0.1 (gpt-5) and 0.25 (gpt-4.1), as their price lists say.
set -euo pipefail
cd "$(dirname "$0")/.."
troupe="$(realpath "${1:-build/default/troupe}")"
[[ -x "$troupe" ]] || { echo "no troupe binary at $troupe (build the troupe target)" >&2; exit 2; }

work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

"$troupe" mock-llm --port 0 --port-file "$work/port" --log "$work/requests.jsonl" \
  >"$work/mock-llm.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [[ -s "$work/port" ]] && break; sleep 0.1; done
port="$(tr -d '\n' <"$work/port")"

script='#mock latency=0 tps=0'
script+=' tool@1=glob:{"pattern":"src/llm/*.h"}'
script+=' tool@2=read:{"path":"src/llm/chat_types.h"}'
script+=' tool@3=grep:{"pattern":"class ","path":"src/llm"}'
script+=' tool@4=read:{"path":"src/llm/provider.h"}'
script+=' tool@5=glob:{"pattern":"src/agent/*.h"}'
script+=' tool@6=read:{"path":"src/agent/agent_loop.h"}'
script+=' tool@7=grep:{"pattern":"prompt_caching","path":"src"}'
script+=' tool@8=read:{"path":"src/llm/request_text.h"}'
script+=' tool@9=glob:{"pattern":"docs/*.md"}'
script+=' reply="The provider layer is in src/llm."'

printf '%-18s %-8s %6s %9s %11s %12s %10s %9s\n' wire caching turns input cache_read cache_write total billed
for row in "anthropic claude-sonnet-4-5 1.25 0.1" "openai-responses gpt-5 0 0.1" \
           "openai gpt-4.1 0 0.25"; do
  read -r wire model write_price read_price <<<"$row"
  for caching in true false; do
    data="$work/$wire-$caching"
    mkdir -p "$data" "$work/xdg"
    cat >"$work/config.jsonc" <<EOF
{
  "providers": {
    "bench": { "type": "$wire", "base_url": "http://127.0.0.1:$port$([[ $wire == anthropic ]] || echo /v1)",
               "api_key_env": "BENCH_KEY" }
  },
  "agents": { "explore": { "model": "bench/$model", "prompt_caching": $caching } }
}
EOF
    marker="$wire-$caching"
    XDG_CONFIG_HOME="$work/xdg" BENCH_KEY=sk-bench "$troupe" serve --detach --data-dir "$data" \
      --config "$work/config.jsonc" --workspace "$PWD" >/dev/null
    XDG_CONFIG_HOME="$work/xdg" "$troupe" run --data-dir "$data" --agent explore --wait \
      --timeout 120000 "$script id=$marker
Map the provider layer." >/dev/null 2>&1
    "$troupe" stop --data-dir "$data" >/dev/null
    jq -rs --arg m "$marker" --argjson w "$write_price" --argjson r "$read_price" '
      [.[] | select(.marker == $m and .outcome == "completed") | .usage] as $u
      | ($u | map(.input_tokens) | add) as $in
      | ($u | map(.cache_read_tokens) | add) as $read
      | ($u | map(.cache_write_tokens) | add) as $write
      | [($u | length), $in, $read, $write, ($in + $read + $write),
         (($in + $write * (if $w == 0 then 1 else $w end) + $read * $r) | floor)]
      | @tsv' "$work/requests.jsonl" |
      while IFS=$'\t' read -r turns input read write total billed; do
        printf '%-18s %-8s %6s %9s %11s %12s %10s %9s\n' "$wire" "$caching" "$turns" "$input" \
          "$read" "$write" "$total" "$billed"
      done
  done
done
