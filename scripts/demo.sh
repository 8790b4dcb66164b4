#!/usr/bin/env bash
# Installs what troupe needs, builds it, and runs the main job: `troupe demo` on the built-in
# offline model, against this repository.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh default
exec ./build/default/troupe demo --workspace .
