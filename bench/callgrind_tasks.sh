#!/bin/bash
# Instructions the daemon executes per task, counted by callgrind: repeatable whatever else the
# machine is doing, so builds of two commits can be compared on a busy machine (docs/BENCHMARKS.md
# "Instructions per task"). Each run starts a private `troupe serve` under
# `valgrind --tool=callgrind`, launches N zero-latency tasks on the built-in scripted model over the
# Unix socket (one keep-alive connection), waits for all of them with one POST /v1/wait, shuts the
# daemon down and reads callgrind's total. The figure is the difference between a run of N2 and a
# run of N1 tasks divided by N2 - N1, so start-up and shutdown cancel out.
# Usage: bench/callgrind_tasks.sh TROUPE_BINARY [N1 N2]   (defaults 100 500)
#        CALLGRIND_KEEP=DIR bench/callgrind_tasks.sh …   also keeps both profiles in DIR
set -euo pipefail
TROUPE=$(realpath "$1"); N1=${2:-100}; N2=${3:-500}
command -v valgrind >/dev/null || { echo "callgrind_tasks: valgrind is not installed" >&2; exit 2; }

run() {  # <n>: prints the daemon's total instruction count (Ir) for n tasks
  local n=$1 d pid ids
  d=$(mktemp -d)
  mkdir -p "$d/config/troupe" "$d/ws"
  echo '{"default_model": "mock/scripted", "background_task": {"defaultConcurrency": 20}}' \
    > "$d/config/troupe/troupe.jsonc"
  (cd "$d/ws" && XDG_CONFIG_HOME="$d/config" exec valgrind --tool=callgrind \
    --callgrind-out-file="$d/cg.out" "$TROUPE" serve --data-dir "$d/data" --socket "$d/t.sock" \
    >"$d/serve.log" 2>&1) &
  pid=$!
  for _ in $(seq 1 600); do
    curl -sf --unix-socket "$d/t.sock" http://x/v1/health >/dev/null 2>&1 && break
    sleep 0.1
  done
  local urls=()
  for _ in $(seq 1 "$n"); do urls+=(http://x/v1/tasks); done
  ids=$(curl -sf --unix-socket "$d/t.sock" -H 'Content-Type: application/json' \
    -d '{"prompt": "#mock latency=0 tps=0 reply=\"ok\"\nwork", "agent": "explore"}' "${urls[@]}" |
    python3 -c 'import json,sys
d=json.JSONDecoder(); s=sys.stdin.read(); i=0; out=[]
while i < len(s):
    while i < len(s) and s[i].isspace(): i += 1
    if i >= len(s): break
    o, i = d.raw_decode(s, i); out.append(o["task"]["id"])
print(json.dumps(out))')
  curl -sf --unix-socket "$d/t.sock" -H 'Content-Type: application/json' \
    -d "{\"task_ids\": $ids, \"mode\": \"all\"}" http://x/v1/wait |
    python3 -c "import json,sys; t=json.load(sys.stdin)['tasks']; bad=[x['state'] for x in t if x['state']!='completed']; assert len(t)==$n and not bad, bad"
  curl -sf --unix-socket "$d/t.sock" -X POST http://x/v1/shutdown >/dev/null || true
  wait "$pid" || true
  sed -n 's/^summary: //p' "$d/cg.out"
  # CALLGRIND_KEEP=DIR keeps each run's profile as DIR/callgrind.<n>.out, for callgrind_annotate.
  if [ -n "${CALLGRIND_KEEP:-}" ]; then
    mkdir -p "$CALLGRIND_KEEP" && cp "$d/cg.out" "$CALLGRIND_KEEP/callgrind.$n.out"
  fi
  rm -rf "$d"
}

a=$(run "$N1"); b=$(run "$N2")
python3 - "$a" "$b" "$N1" "$N2" <<'PY'
import sys
a, b, n1, n2 = (int(x) for x in sys.argv[1:])
print(f"daemon instructions: {a:,} for {n1} tasks, {b:,} for {n2} tasks")
print(f"instructions per task: {(b - a) / (n2 - n1):,.0f}")
PY
