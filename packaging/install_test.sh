#!/usr/bin/env bash
# packaging.install_prefix: `cmake --install` of this build into a temporary prefix (with a space
# in its path), then the installed troupe run as a user runs it — a clean environment, its own
# HOME, the prefix's bin on PATH, outside the source and build trees: `troupe --version` and
# `troupe demo` on the offline model. Also the installed files and the systemd user unit.
# Usage: install_test.sh <build dir> <source dir> <version>
set -euo pipefail
build="$1"
checkout="$2"
version="$3"
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=packaging/testing.sh
source "$here/testing.sh"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
prefix="$tmp/prefix with space"

cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" ||
  fail "cmake --install failed: $(cat "$tmp/install.log")"

expect_file "$prefix/bin/troupe"
[ -x "$prefix/bin/troupe" ] || fail "$prefix/bin/troupe is not executable"
expect_same "$checkout/completions/troupe.bash" "$prefix/share/bash-completion/completions/troupe"
expect_same "$checkout/completions/_troupe" "$prefix/share/zsh/vendor-completions/_troupe"
expect_same "$checkout/schema/troupe.schema.json" "$prefix/share/troupe/troupe.schema.json"
expect_same "$checkout/README.md" "$prefix/share/doc/troupe/README.md"
for doc in "$checkout"/docs/*.md; do
  expect_same "$doc" "$prefix/share/doc/troupe/$(basename "$doc")"
done
unit="$prefix/share/systemd/user/troupe.service"
expect_file "$unit"
check_unit "$unit" "$prefix/bin/troupe" "$prefix/share/doc/troupe"
verify_unit "$unit"

# As a user runs it: `troupe` found on PATH, nothing from the build or source tree around.
mkdir -p "$tmp/home" "$tmp/cwd"
as_user() {
  (cd "$tmp/cwd" && env -i HOME="$tmp/home" PATH="$prefix/bin:/usr/bin:/bin" "$@")
}
[ "$(as_user sh -c 'command -v troupe')" = "$prefix/bin/troupe" ] ||
  fail "troupe on PATH is not the installed one"
check_version "$(as_user troupe --version)" "$version" "$checkout"
check_demo "$tmp/demo.out" as_user troupe demo --speed 20 --workspace "$checkout"
echo "PASS: installed into $prefix; --version and the demo ran from there"
