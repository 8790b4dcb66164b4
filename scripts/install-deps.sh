#!/usr/bin/env bash
# Installs every Debian package troupe needs to build, test and benchmark.
# Idempotent: packages already present are skipped by apt-get; safe to run again.
# Runs as root (or through sudo when available) on Debian 12.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git clang
  libboost-dev libsqlite3-dev sqlite3 libcurl4-openssl-dev
  nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev libyaml-cpp-dev
  libgtest-dev libgmock-dev libbenchmark-dev ripgrep
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
