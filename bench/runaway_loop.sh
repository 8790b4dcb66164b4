#!/bin/bash
# A looping agent on the scripted mock: an explore task whose every turn repeats one of the same
# two tool calls (glob a*, glob b*, glob a*, … — never the same call twice in a row, so only the
# loop detector or a budget stops it), each model request reporting 20,000 prompt + 1,000 output
# tokens, priced at $3 / $15 per million ($0.075 a request). The agent may take TURNS turns.
# Usage: bench/runaway_loop.sh TROUPE_BINARY TURNS LOOP_REPEATS LOOP_IDLE_TURNS MAX_COST_USD
#   LOOP_REPEATS / LOOP_IDLE_TURNS: the agent's loop detection (0 = off; defaults 6 and 10);
#   MAX_COST_USD: budgets.task_max_cost_usd (0 = no budget).  (docs/BENCHMARKS.md "Runaway")
# Starts a private daemon in a temporary directory and prints what the task spent.
set -euo pipefail
TURNS=$2; REPEATS=$3; IDLE=$4; COST=$5
source "$(dirname "$0")/runaway_daemon.sh"
BUDGET=""
if [ "$COST" != 0 ]; then BUDGET="\"task_max_cost_usd\": $COST"; fi
runaway_start "$1" "\"budgets\": {$BUDGET}, \"agents\": {\"explore\": {\"max_turns\": $TURNS, \"loop_repeats\": $REPEATS, \"loop_idle_turns\": $IDLE}},"
LINE="#mock latency=0 tps=0 usage_in=20000 usage_out=1000 reply=\"done\""
for k in $(seq 1 "$TURNS"); do
  if [ $((k % 2)) = 1 ]; then P="a*"; else P="b*"; fi
  LINE="$LINE tool@$k=glob:{\"pattern\":\"$P\"}"
done
ID=$(runaway_launch explore "$LINE" "Find the config.")
"$TROUPE" wait "$ID" >/dev/null || true
"$TROUPE" show "$ID" --json > "$D/task.json"
python3 - "$D/task.json" <<'PY'
import json,sys
task=json.load(open(sys.argv[1]))["task"]
u=task["usage"]
print("task:", task["state"], task["error"][:400])
print("requests %d, tool calls %d, tokens %d in + %d out, cost %s" % (u["requests"], task.get("tool_calls", 0), u["input_tokens"], u["output_tokens"], u["cost"]))
PY
