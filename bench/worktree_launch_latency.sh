#!/usr/bin/env bash
# Does the daemon answer while isolated tasks are being set up or ended (issue 17)? A private
# daemon on the scripted mock, its workspace a clone of this repository, while GET /v1/health is
# asked every 50 ms over the Unix socket. MODE:
#   launch    N `general` tasks POSTed at once with isolation "worktree" (each answer waits for
#             its `git worktree add`); the model thinks for 10 minutes, so none ends meanwhile.
#   delegate  one lead whose first turn calls delegate_task N times with isolation "worktree"
#             (the agents' tool: git worktree add per child); the window ends when all N exist.
#   end       N isolated tasks whose model answers after 2 s; the window runs until all N ended
#             (git commit, log, diff --stat, worktree remove per task); the health figures are
#             also given for the part after the last launch answered (the ends alone).
# Prints the launches' answer times and the health latencies (count, median, p90, max).
# Run: bench/worktree_launch_latency.sh [TROUPE_BINARY] [N] [MODE]
set -euo pipefail
TROUPE=$(realpath "${1:-build/default/troupe}")
N=${2:-4}
MODE=${3:-launch}
REPO=$(git rev-parse --show-toplevel)
D=$(mktemp -d)
stop() {
  "$TROUPE" stop >/dev/null 2>&1 || true
  cd /
  rm -rf "$D"
}
trap stop EXIT
git clone --quiet "$REPO" "$D/ws"
mkdir -p "$D/config/troupe"
cat >"$D/config/troupe/troupe.jsonc" <<'JSON'
{"default_model": "mock/scripted",
 "providers": {"mock": {"type": "mock", "script": "latency=600s tps=0 reply=\"ok\""}}}
JSON
export XDG_CONFIG_HOME="$D/config" TROUPE_DATA_DIR="$D/data" TROUPE_SOCKET="$D/t.sock"
cd "$D/ws"
"$TROUPE" serve --detach >/dev/null

ask() {  # METHOD PATH [BODY] — prints the seconds the answer took
  curl -s -o /dev/null -w '%{time_total}\n' --max-time 120 --unix-socket "$D/t.sock" \
    -X "$1" -H 'content-type: application/json' ${3:+--data "$3"} "http://troupe$2"
}
count() {  # how many tasks (other than the lead) are in one of the states given, e.g. 'completed'
  curl -s --max-time 120 --unix-socket "$D/t.sock" 'http://troupe/v1/tasks?limit=1000' |
    python3 -c 'import json,sys; s=sys.argv[1].split(","); print(sum(1 for t in json.load(sys.stdin)["tasks"] if t["state"] in s and t.get("agent")!="lead"))' "$1"
}

(
  while [ ! -e "$D/done" ]; do
    start=$(date +%s.%N)
    echo "$start $(ask GET /v1/health)" >>"$D/health"
    sleep 0.05
  done
) &
sampler=$!
sleep 0.5  # a few samples of the idle daemon first
T0=$(date +%s.%N)
if [ "$MODE" = delegate ]; then
  LINE="#mock latency=0 tps=0 reply=\\\"fanned out\\\""
  for i in $(seq "$N"); do
    LINE="$LINE tool=delegate_task:{\\\"description\\\":\\\"child$i\\\",\\\"prompt\\\":\\\"work $i\\\",\\\"agent\\\":\\\"explore\\\",\\\"isolation\\\":\\\"worktree\\\"}"
  done
  ask POST /v1/tasks "{\"agent\":\"lead\",\"prompt\":\"$LINE\\nFan out.\"}" >>"$D/launch"
  for _ in $(seq 1200); do
    [ "$(count pending,running,completed)" -ge "$N" ] && break
    sleep 0.1
  done
  echo "$(python3 -c "import time; print(time.time() - $T0)")" >>"$D/launch"
else
  PROMPT="task"
  [ "$MODE" = end ] && PROMPT="#mock latency=2s tps=0 reply=\\\"ok\\\"\\nWork."
  pids=()
  for i in $(seq "$N"); do
    ask POST /v1/tasks "{\"agent\":\"general\",\"prompt\":\"$PROMPT $i\",\"isolation\":\"worktree\"}" \
      >>"$D/launch" &
    pids+=($!)
  done
  wait "${pids[@]}"
fi
T1=$(date +%s.%N)  # the last launch answered
if [ "$MODE" = end ]; then
  for _ in $(seq 1200); do
    [ "$(count completed,error,cancelled)" -ge "$N" ] && break
    sleep 0.1
  done
fi
sleep 0.5
touch "$D/done"
wait "$sampler"

python3 - "$D/launch" "$D/health" "$N" "$MODE" "$T1" <<'PY'
import sys
launch = sorted(float(x) * 1000 for x in open(sys.argv[1]))
samples = [tuple(map(float, l.split())) for l in open(sys.argv[2])]
n, mode, t1 = sys.argv[3], sys.argv[4], float(sys.argv[5])
q = lambda v, p: v[min(len(v) - 1, int(p * len(v)))]
def show(label, values):
    v = sorted(x * 1000 for x in values)
    if not v:
        return print(f"{label}: no answers")
    print(f"{label}: {len(v)} answers, median {q(v, .5):.1f} ms, p90 {q(v, .9):.1f} ms, "
          f"max {v[-1]:.1f} ms")
what = {"launch": "isolated launches answered", "end": "isolated launches answered",
        "delegate": "lead launched, then all children there"}[mode]
print(f"{mode} {n}: {what} in (ms): " + ", ".join(f"{x:.0f}" for x in launch))
show("GET /v1/health during the window", [d for _, d in samples])
if mode == "end":
    show("GET /v1/health after the last launch answered (the ends)",
         [d for s, d in samples if s >= t1])
PY
