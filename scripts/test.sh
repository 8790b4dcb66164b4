#!/usr/bin/env bash
# Installs what troupe needs, builds it, and runs every test, in passes with their own build
# directories: the whole suite on the release build (default), under AddressSanitizer +
# UndefinedBehaviorSanitizer (asan), under ThreadSanitizer (tsan), then every libFuzzer target for
# TROUPE_FUZZ_SECONDS each (fuzz, scripts/fuzz.sh). TROUPE_PASSES picks passes, e.g.
# TROUPE_PASSES="default asan". A failing pass does not stop the next ones. A recap with each
# pass's result and time comes at the end, then ctest's closing lines of every test pass again;
# the exit status is non-zero if any pass failed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
jobs="$(nproc)"

read -r -a passes <<<"${TROUPE_PASSES:-default asan tsan fuzz}"

# TSan writes its reports to files, so that one from a process a test started (the daemon the
# cli tests run) fails the pass too; a test process with a report also exits non-zero.
tsan_reports="$PWD/build/tsan/reports"

status=0
recap=()
summaries=()
for pass in "${passes[@]}"; do
  start=$SECONDS
  result=passed
  if [ "$pass" = fuzz ]; then
    echo "== fuzz"
    bash scripts/fuzz.sh || result=FAILED
  else
    echo "== build: $pass"
    if ! bash scripts/build.sh "$pass"; then
      result="FAILED (build)"
    else
      echo "== test: $pass"
      if [ "$pass" = tsan ]; then
        rm -rf "$tsan_reports"
        mkdir -p "$tsan_reports"
        export TSAN_OPTIONS="second_deadlock_stack=1 log_path=$tsan_reports/report"
      fi
      ctest --preset "$pass" -j "$jobs" --timeout 600 2>&1 | tee "build/$pass/ctest.log" ||
        result=FAILED
      summaries+=("$pass")
      if [ "$pass" = tsan ] && [ -n "$(ls -A "$tsan_reports")" ]; then
        result=FAILED
        echo "== ThreadSanitizer reports ($tsan_reports):"
        cat "$tsan_reports"/*
      fi
    fi
  fi
  [ "$result" = passed ] || status=1
  recap+=("$(printf '%-8s %-15s %4dm%02ds' "$pass" "$result" $(((SECONDS - start) / 60)) \
    $(((SECONDS - start) % 60)))")
done

echo "== recap"
printf '%s\n' "${recap[@]}"
# ctest's closing lines of each pass come last, so that the run's figures end the output.
for pass in "${summaries[@]}"; do
  echo "== ctest summary: $pass"
  sed -n '/tests passed, /,$p' "build/$pass/ctest.log"
done
exit "$status"
