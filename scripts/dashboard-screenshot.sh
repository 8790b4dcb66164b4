#!/usr/bin/env bash
# Regenerates docs/dashboard.png (the README's screenshot) from the real board: a scratch daemon
# with a few tasks in every state, opened in Debian's chromium by playwright-core
# (tests/e2e/dashboard/screenshot.mjs). Needs a built troupe and scripts/install-deps.sh.
#   scripts/dashboard-screenshot.sh [path of the troupe binary] [output.png]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
binary="${1:-$root/build/default/troupe}"
out="${2:-$root/docs/dashboard.png}"
cd "$root/tests/e2e/dashboard"
exec node screenshot.mjs "$binary" "$out"
