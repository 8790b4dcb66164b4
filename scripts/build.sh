#!/usr/bin/env bash
# Configures and builds one CMake preset (default: "default"). Idempotent; ccache makes rebuilds
# cheap. Usage: scripts/build.sh [preset]
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-default}"
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
# Share cache entries between clones (CI builds a fresh clone each time): paths are hashed
# relative to the checkout, and the build directory is left out of the hash.
export CCACHE_BASEDIR="$PWD"
export CCACHE_NOHASHDIR=true
# Four build directories (scripts/test.sh) take ~4 GB of cache; ccache's default 5 GB would
# evict one pass's objects while building the next.
export CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-16G}"
jobs="$(nproc)"
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "$jobs"
