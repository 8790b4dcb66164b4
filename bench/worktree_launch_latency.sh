#!/usr/bin/env bash
# Does the daemon answer while isolated tasks are being set up (issue 17)? A private daemon on the
# scripted mock, its workspace a clone of this repository; N `general` tasks launched at once
# with isolation "worktree" over the Unix socket (each answer waits for its `git worktree add`)
# while GET /v1/health is asked every 50 ms. The mock's model thinks for 10 minutes, so no task
# ends (and cleans up) during the measurement; `troupe stop` interrupts them.
# Prints each launch's answer time and the health latencies (count, median, p90, max).
# Run: bench/worktree_launch_latency.sh [TROUPE_BINARY] [N]
set -euo pipefail
TROUPE=$(realpath "${1:-build/default/troupe}")
N=${2:-4}
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

(
  while [ ! -e "$D/launched" ]; do
    ask GET /v1/health >>"$D/health"
    sleep 0.05
  done
) &
sampler=$!
sleep 0.5  # a few samples of the idle daemon first
pids=()
for i in $(seq "$N"); do
  ask POST /v1/tasks "{\"agent\":\"general\",\"prompt\":\"task $i\",\"isolation\":\"worktree\"}" \
    >>"$D/launch" &
  pids+=($!)
done
wait "${pids[@]}"
sleep 0.5
touch "$D/launched"
wait "$sampler"

python3 - "$D/launch" "$D/health" "$N" <<'PY'
import sys
launch = sorted(float(x) * 1000 for x in open(sys.argv[1]))
health = sorted(float(x) * 1000 for x in open(sys.argv[2]))
q = lambda v, p: v[min(len(v) - 1, int(p * len(v)))]
print(f"{sys.argv[3]} isolated launches answered in (ms): " + ", ".join(f"{x:.0f}" for x in launch))
print(f"GET /v1/health during them: {len(health)} answers, median {q(health, .5):.1f} ms, "
      f"p90 {q(health, .9):.1f} ms, max {health[-1]:.1f} ms")
PY
