# Sourced by the runaway benchmarks (bench/runaway_*.sh): a private daemon in a temporary
# directory, on the scripted mock priced at $3 / $15 per million tokens.
#   runaway_start TROUPE_BINARY EXTRA_CONFIG  — EXTRA_CONFIG: more top-level config keys, each
#       followed by a comma (`"budgets": {…},`); sets D (the directory) and starts the daemon
#   runaway_launch AGENT DIRECTIVE_LINE PROMPT  — prints the task id
#   runaway_stop  — stops the daemon and removes D (also on exit)
runaway_start() {
  TROUPE=$1
  D=$(mktemp -d)
  trap runaway_stop EXIT
  mkdir -p "$D/config/troupe" "$D/ws"
  cat > "$D/config/troupe/troupe.jsonc" <<JSON
{$2
 "providers": {"mock": {"type": "mock", "script": "latency=0 tps=0 usage_in=20000 usage_out=1000 reply=\\"ok\\""}},
 "prices": {"mock/scripted": {"input": 3, "output": 15}}}
JSON
  export XDG_CONFIG_HOME="$D/config" TROUPE_DATA_DIR="$D/data" TROUPE_SOCKET="$D/t.sock"
  cd "$D/ws"
  "$TROUPE" serve --detach >/dev/null
}

runaway_launch() {
  printf '%s\n%s\n' "$2" "$3" | "$TROUPE" run --agent "$1" --model mock/scripted -
}

runaway_stop() {
  "$TROUPE" stop >/dev/null 2>&1 || true
  cd /
  rm -rf "$D"
}
