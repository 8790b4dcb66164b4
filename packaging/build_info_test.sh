#!/usr/bin/env bash
# packaging.build_info: build_info.cmake on a scratch git checkout — the commit, "dirty" for
# changed tracked files only, the header left untouched when nothing changed (so a build after
# no commit recompiles nothing), and no commit outside a git checkout.
# Usage: build_info_test.sh <path of build_info.cmake>
set -euo pipefail
script="$1"
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=packaging/testing.sh
source "$here/testing.sh"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
repo="$tmp/repo"
header="$tmp/out/build_stamp.h"

stamp() { cmake -DSOURCE_DIR="$1" -DVERSION=1.2.3 -DOUTPUT="$header" -P "$script"; }
expect_stamp() {
  local commit="$1" dirty="$2"
  grep -qxF '#define TROUPE_VERSION "1.2.3"' "$header" || fail "no version in $(cat "$header")"
  grep -qxF "#define TROUPE_GIT_COMMIT \"$commit\"" "$header" ||
    fail "expected commit \"$commit\" in $(cat "$header")"
  grep -qxF "#define TROUPE_GIT_DIRTY $dirty" "$header" ||
    fail "expected dirty $dirty in $(cat "$header")"
}
git_in() { git -C "$repo" -c user.name=t -c user.email=t@t -c commit.gpgsign=false "$@"; }

mkdir -p "$repo"
git_in init -q
echo one >"$repo/file"
git_in add file
git_in commit -q -m one
stamp "$repo"
expect_stamp "$(git_in rev-parse --short=12 HEAD)" false

# Unchanged: the header keeps its modification time, so nothing that includes it is rebuilt.
touch -d @1000000000 "$header"
stamp "$repo"
[ "$(stat -c %Y "$header")" = 1000000000 ] || fail "the header was rewritten though nothing changed"

# An untracked file is not "dirty"; a changed tracked file is.
echo new >"$repo/untracked"
stamp "$repo"
expect_stamp "$(git_in rev-parse --short=12 HEAD)" false
echo two >"$repo/file"
stamp "$repo"
expect_stamp "$(git_in rev-parse --short=12 HEAD)" true

# A commit: the new hash, clean again.
git_in commit -q -a -m two
stamp "$repo"
expect_stamp "$(git_in rev-parse --short=12 HEAD)" false

# Sources that are not a git checkout of their own: a plain directory, and a directory inside
# another checkout (sources unpacked into someone's repository).
mkdir -p "$tmp/plain" "$repo/vendored"
stamp "$tmp/plain"
expect_stamp "" false
stamp "$repo/vendored"
expect_stamp "" false
echo "PASS: commit, dirty and unchanged stamps as expected"
