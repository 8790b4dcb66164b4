#!/bin/bash
# A fan-out bomb on the scripted mock: a lead whose first turn delegates N children, each child
# reporting 20,000 prompt + 1,000 output tokens; priced at $3 / $15 per million tokens.
# Usage: bench/runaway_fanout.sh TROUPE_BINARY N TREE_MAX_TASKS  (docs/BENCHMARKS.md "Runaway")
# Starts a private daemon in a temporary directory and prints the tree's spend.
set -euo pipefail
TROUPE=$1; N=$2; CAP=$3
D=$(mktemp -d)
mkdir -p "$D/config/troupe" "$D/ws"
cat > "$D/config/troupe/troupe.jsonc" <<JSON
{"providers": {"mock": {"type": "mock", "script": "latency=0 tps=0 usage_in=20000 usage_out=1000 reply=\\"ok\\""}},
 "prices": {"mock/scripted": {"input": 3, "output": 15}},
 "budgets": {"tree_max_tasks": $CAP},
 "background_task": {"defaultConcurrency": 20}}
JSON
LINE="#mock latency=0 tps=0 usage_in=5000 usage_out=500 reply=\"done\""
for i in $(seq 1 "$N"); do
  LINE="$LINE tool=delegate_task:{\"description\":\"child$i\",\"prompt\":\"work$i\",\"agent\":\"explore\"}"
done
export XDG_CONFIG_HOME="$D/config" TROUPE_DATA_DIR="$D/data" TROUPE_SOCKET="$D/t.sock"
cd "$D/ws"
"$TROUPE" serve --detach >/dev/null
LEAD=$(printf '%s\nFan out.\n' "$LINE" | "$TROUPE" run --agent lead --model mock/scripted -)
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
"$TROUPE" stop >/dev/null 2>&1 || true
rm -rf "$D"
