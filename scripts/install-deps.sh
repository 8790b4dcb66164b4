#!/usr/bin/env bash
# Installs every Debian package troupe needs to build, test and benchmark, and the npm packages
# of the end-to-end tests (the MCP SDK client, the real AI clients). Idempotent: what is already
# present is skipped; safe to run again.
# Runs as root (or through sudo when available) on Debian 12.
set -euo pipefail

# bubblewrap (bwrap) is the sandbox every tool process of an agent runs in (agent/sandbox.h).
# libclang-rt-14-dev holds libFuzzer and clang's sanitizer runtimes (-fsanitize=fuzzer in
# scripts/fuzz.sh); clang only recommends it, and recommends are not installed here.
# chromium is the real browser of the dashboard test (tests/e2e/dashboard, driven by
# playwright-core, which downloads no browser); fonts-dejavu-core gives its screenshots
# (docs/dashboard.png) the same glyphs on every machine.
packages=(
  build-essential cmake ninja-build ccache pkg-config git clang libclang-rt-14-dev
  libboost-dev libsqlite3-dev sqlite3 libcurl4-openssl-dev
  nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev libyaml-cpp-dev
  libgtest-dev libgmock-dev libbenchmark-dev ripgrep bubblewrap libxml2-dev
  chromium fonts-dejavu-core
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node and npm run the MCP end-to-end tests (tests/e2e/mcp). Only installed when the commands
# are missing: a node from elsewhere (e.g. NodeSource, whose nodejs conflicts with Debian's npm)
# is kept.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all Debian packages present"
else
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The npm packages of the end-to-end tests, exactly as each folder's package-lock.json pins them.
# `npm ci` runs only when node_modules is missing or was installed from another lockfile (the
# stamp is a copy of the lockfile it was installed from, written once everything succeeded).
e2e="$(cd "$(dirname "$0")/.." && pwd)/tests/e2e"
installed() {  # <folder under tests/e2e>: whether its node_modules matches its lockfile
  local stamp="$e2e/$1/node_modules/.troupe-installed-lockfile"
  if [ -f "$stamp" ] && cmp -s "$e2e/$1/package-lock.json" "$stamp"; then
    echo "install-deps: tests/e2e/$1/node_modules matches package-lock.json"
    return 0
  fi
  echo "install-deps: npm ci in tests/e2e/$1"
  return 1
}
stamp() { cp "$e2e/$1/package-lock.json" "$e2e/$1/node_modules/.troupe-installed-lockfile"; }

# The official MCP SDK client (tests/e2e/mcp).
if ! installed mcp; then
  (cd "$e2e/mcp" && npm ci --no-audit --no-fund)
  stamp mcp
fi

# The official MCP SDK v2 client and server, for protocol revision 2026-07-28 (tests/e2e/mcp2026; node >= 20).
if ! installed mcp2026; then
  (cd "$e2e/mcp2026" && npm ci --no-audit --no-fund)
  stamp mcp2026
fi

# The official OpenAI and Anthropic SDKs' types and tsc (tests/e2e/sdk_types). Types only: no
# install scripts are needed.
if ! installed sdk_types; then
  (cd "$e2e/sdk_types" && npm ci --no-audit --no-fund --ignore-scripts)
  stamp sdk_types
fi

# The MCP servers troupe is a client of in its e2e tests (tests/e2e/mcp_client).
if ! installed mcp_client; then
  (cd "$e2e/mcp_client" && npm ci --no-audit --no-fund)
  stamp mcp_client
fi

# The real clients (tests/e2e/clients). Without install scripts: Gemini CLI's optional native
# modules (node-pty, keytar) would be compiled with node-gyp, which it does without. Claude Code
# ships its binary in a platform package (an optional dependency); its postinstall only links
# that binary into place, so it alone runs.
if ! installed clients; then
  (cd "$e2e/clients" && npm ci --no-audit --no-fund --ignore-scripts &&
    node node_modules/@anthropic-ai/claude-code/install.cjs)
  stamp clients
fi

# playwright-core, which drives Debian's chromium in the dashboard test (tests/e2e/dashboard).
# Its package has no install script and downloads no browser.
if ! installed dashboard; then
  (cd "$e2e/dashboard" && npm ci --no-audit --no-fund)
  stamp dashboard
fi
