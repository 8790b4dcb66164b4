#!/bin/bash
# A fan-out bomb on the scripted mock: a lead whose first turn delegates N children, each child
# reporting 20,000 prompt + 1,000 output tokens; priced at $3 / $15 per million tokens.
# Usage: bench/runaway_fanout.sh TROUPE_BINARY N TREE_MAX_TASKS  (docs/BENCHMARKS.md "Runaway")
# Starts a private daemon in a temporary directory and prints the tree's spend.
set -euo pipefail
N=$2; CAP=$3
source "$(dirname "$0")/runaway_daemon.sh"
runaway_start "$1" "\"budgets\": {\"tree_max_tasks\": $CAP}, \"background_task\": {\"defaultConcurrency\": 20},"
LINE="#mock latency=0 tps=0 usage_in=5000 usage_out=500 reply=\"done\""
for i in $(seq 1 "$N"); do
  LINE="$LINE tool=delegate_task:{\"description\":\"child$i\",\"prompt\":\"work$i\",\"agent\":\"explore\"}"
done
LEAD=$(runaway_launch lead "$LINE" "Fan out.")
"$TROUPE" wait "$LEAD" >/dev/null || true
# Let the children and the lead's wake-up finish.
for _ in $(seq 1 100); do
  ACTIVE=$("$TROUPE" ps --json | python3 -c 'import json,sys; print(sum(1 for t in json.load(sys.stdin)["tasks"] if t["state"] in ("pending","running")))')
  [ "$ACTIVE" = 0 ] && break; sleep 0.2
done
"$TROUPE" show "$LEAD" --json > "$D/lead.json"
python3 - "$D/lead.json" <<'PY'
import json,sys
task=json.load(open(sys.argv[1]))["task"]
t=task["tree"]; u=t["usage"]
print("lead:", task["state"], task["error"][:300])
print("tasks %d (delegated %d), requests %d, tokens %d in + %d out, cost %s" % (t["tasks"], t["delegated"], u["requests"], u["input_tokens"], u["output_tokens"], u["cost"]))
PY
