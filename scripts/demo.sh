#!/usr/bin/env bash
# Installs what troupe needs, builds the troupe binary alone, optimised (the "release" preset:
# no tests, no benchmarks), and runs the main job: `troupe demo` on the built-in offline model,
# against this repository.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh release
exec ./build/release/troupe demo --workspace .
