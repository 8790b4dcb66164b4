#!/usr/bin/env bash
# Installs what troupe needs, builds it, and runs every test: the whole suite on the release
# build, then again under AddressSanitizer + UndefinedBehaviorSanitizer. TROUPE_TSAN=1 adds a
# ThreadSanitizer pass. Prints ctest's summary for each pass; exits non-zero if any test fails.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
jobs="$(nproc)"

presets=(default asan)
if [ "${TROUPE_TSAN:-0}" = "1" ]; then presets+=(tsan); fi

status=0
for preset in "${presets[@]}"; do
  echo "== build: $preset"
  bash scripts/build.sh "$preset"
  echo "== test: $preset"
  if ! ctest --preset "$preset" -j "$jobs" --timeout 600; then status=1; fi
done
exit "$status"
