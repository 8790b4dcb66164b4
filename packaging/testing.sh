# Checks shared by the packaging tests (sourced). Each prints what it found when it fails.

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

expect_file() {
  [ -f "$1" ] || fail "missing: $1"
}

# expect_same <source file> <installed file>
expect_same() {
  expect_file "$2"
  cmp -s "$1" "$2" || fail "$2 differs from $1"
}

# check_version <output of troupe --version> <version> <checkout>: the version, and the commit
# of the checkout the binary was built from, when the sources are a git checkout.
check_version() {
  local out="$1" version="$2" checkout="$3"
  local pattern="^troupe ${version//./\\.} \\(commit ([0-9a-f]{12,}|unknown)(, dirty)?\\)$"
  [[ "$out" =~ $pattern ]] || fail "troupe --version printed \"$out\", expected $pattern"
  local commit="${BASH_REMATCH[1]}" head
  if head="$(git -C "$checkout" rev-parse HEAD 2>/dev/null)"; then
    [[ "$head" == "$commit"* ]] ||
      fail "troupe --version names commit $commit, the checkout is at $head (a stale build?)"
  fi
  echo "troupe --version: $out"
}

# check_demo <output file> <command...>: the demo exits 0 and shows the three agents' results.
check_demo() {
  local out="$1"
  shift
  local rc=0
  "$@" >"$out" 2>&1 || rc=$?
  [ "$rc" -eq 0 ] || fail "the demo exited $rc: $(cat "$out")"
  local done
  done="$(grep -c -E '^## .+ - completed in ' "$out" || true)"
  [ "$done" -eq 3 ] || fail "the demo showed $done completed results, not 3: $(cat "$out")"
  grep -q -E '^parallel wall time .+ if run one after another' "$out" ||
    fail "the demo did not print its timing line: $(cat "$out")"
  grep -E '^## ' "$out"
}

# check_unit <unit file> <troupe binary it must start> <doc dir>: the lines that matter.
check_unit() {
  local unit="$1" binary="$2" docs="$3"
  grep -qxF "ExecStart=\"$binary\" serve" "$unit" ||
    fail "$unit does not start \"$binary\" serve: $(grep ExecStart "$unit")"
  grep -qxF 'EnvironmentFile=-%h/.config/troupe/env' "$unit" ||
    fail "$unit has no optional EnvironmentFile=-%h/.config/troupe/env"
  local url="${docs// /%%20}"
  grep -qxF "Documentation=file://$url/CLI.md file://$url/CONFIG.md" "$unit" ||
    fail "$unit does not point at the docs in $docs"
  grep -qxF 'WantedBy=default.target' "$unit" || fail "$unit is not wanted by default.target"
}

# verify_unit <unit file>: systemd's own check of a user unit (syntax, known keys and values, the
# program exists), when systemd-analyze is installed; any message it prints fails.
verify_unit() {
  local unit="$1"
  if ! command -v systemd-analyze >/dev/null; then
    echo "systemd-analyze is not installed: checked the unit's lines only"
    return
  fi
  # A user manager's view needs a runtime directory; a private one will do.
  local runtime
  runtime="$(mktemp -d)"
  local out rc=0
  out="$(XDG_RUNTIME_DIR="$runtime" systemd-analyze verify --user "$unit" 2>&1)" || rc=$?
  rm -rf "$runtime"
  [ "$rc" -eq 0 ] && [ -z "$out" ] || fail "systemd-analyze verify --user $unit (exit $rc): $out"
  echo "systemd-analyze verify --user: no complaint about $unit"
}
