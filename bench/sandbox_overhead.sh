#!/bin/bash
# What the tool sandbox (src/agent/sandbox.h) adds to a tool call: the median wall time of
# `bash -c true` and of a ripgrep search over this repository, each run plainly and inside
# bubblewrap with the arguments troupe gives it (bash: / read-only, the workspace writable;
# rg: system directories and the workspace only). docs/BENCHMARKS.md records the figures.
#   bash bench/sandbox_overhead.sh [runs]
set -euo pipefail
runs="${1:-41}"
ws="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ws"

# median RUNS CMD...: the median wall time of RUNS runs of CMD, in ms.
median() {
  local n=$1 i s e
  shift
  local t=()
  for i in $(seq "$n"); do
    s=$(date +%s%N)
    "$@" >/dev/null 2>&1 || true
    e=$(date +%s%N)
    t+=($(((e - s) / 1000)))
  done
  printf '%s\n' "${t[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.1f ms", a[int((NR+1)/2)]/1000}'
}

common=(bwrap --die-with-parent --new-session --unshare-pid --unshare-ipc --unshare-uts
        --unshare-cgroup-try --unshare-net)
for_bash=("${common[@]}" --ro-bind / / --dev /dev --proc /proc --tmpfs /tmp
          --bind "$ws" "$ws" --chdir "$ws" --)
for_rg=("${common[@]}")
for d in /usr /bin /sbin /lib /lib32 /lib64 /libx32 /etc/ld.so.cache; do
  if [ -L "$d" ]; then for_rg+=(--symlink "$(readlink "$d")" "$d")
  elif [ -e "$d" ]; then for_rg+=(--ro-bind "$d" "$d"); fi
done
for_rg+=(--dev /dev --proc /proc --tmpfs /tmp --ro-bind "$ws" "$ws" --chdir "$ws" --)
rg=(/usr/bin/rg --no-config --no-require-git --color never --line-number TODO src)

echo "load: $(cut -d' ' -f1-3 /proc/loadavg), $runs runs each"
echo "bash -c true        plain $(median "$runs" /usr/bin/bash -c true)   bwrap $(median "$runs" "${for_bash[@]}" /usr/bin/bash -c true)"
echo "rg TODO src (repo)  plain $(median "$runs" "${rg[@]}")   bwrap $(median "$runs" "${for_rg[@]}" "${rg[@]}")"
