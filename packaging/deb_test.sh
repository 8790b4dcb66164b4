#!/usr/bin/env bash
# packaging.deb: CPack builds the .deb from this build; it declares every shared library the
# binary loads and ripgrep; `dpkg -i` installs it into an empty root, then the troupe installed
# there runs `--version` and the demo; `dpkg -r` removes it cleanly.
#
# The root starts with no files but with this machine's dpkg database, so dpkg checks the
# package's dependencies and files against what is installed here, as `dpkg -i` on this machine
# would, and the installed binary runs on this machine's libraries, which are what those
# dependencies name. (A debootstrapped chroot would need the network and minutes; this needs
# neither.)
# Usage: deb_test.sh <build dir> <source dir> <version>
set -euo pipefail
build="$1"
checkout="$2"
version="$3"
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=packaging/testing.sh
source "$here/testing.sh"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

cpack -G DEB --config "$build/CPackConfig.cmake" -B "$tmp/out" >"$tmp/cpack.log" 2>&1 ||
  fail "cpack failed: $(cat "$tmp/cpack.log")"
deb="$tmp/out/troupe_${version}_$(dpkg --print-architecture).deb"
expect_file "$deb"

# Dependencies: ripgrep, bubblewrap, and the package of every library the binary needs.
depends="$(dpkg-deb --field "$deb" Depends)"
echo "Depends: $depends"
# declared NAME: NAME is one of the Depends (or one of an item's alternatives), any version.
declared() {
  local item alt
  IFS=',' read -ra items <<<"$depends"
  for item in "${items[@]}"; do
    item="$(sed 's/([^)]*)//g' <<<"$item")"
    for alt in ${item//|/ }; do
      [ "$alt" = "$1" ] && return 0
    done
  done
  return 1
}
declared ripgrep || fail "Depends does not name ripgrep"
declared bubblewrap || fail "Depends does not name bubblewrap"
dpkg-deb -x "$deb" "$tmp/x"
needed="$(objdump -p "$tmp/x/usr/bin/troupe" | awk '$1 == "NEEDED" { print $2 }')"
[ -n "$needed" ] || fail "objdump found no NEEDED library in usr/bin/troupe"
declare -A resolved
while read -r lib path; do resolved[$lib]="$path"; done < <(ldd "$tmp/x/usr/bin/troupe" |
  awk '$2 == "=>" && $3 ~ /^\// { print $1, $3 }')
# The package that owns a library file: dpkg knows it by its path as packaged, which with a
# merged /usr may be the /lib or the /usr/lib spelling, of the link or of its target.
owner_of() {
  local real candidate
  real="$(readlink -f "$1")"
  for candidate in "$1" "/usr$1" "${1#/usr}" "$real" "/usr$real" "${real#/usr}"; do
    local out
    out="$(dpkg -S "$candidate" 2>/dev/null)" && echo "${out%%:*}" && return
  done
  return 1
}
for lib in $needed; do
  path="${resolved[$lib]:-}"
  [ -n "$path" ] || fail "$lib (needed by troupe) is not found here: $(ldd "$tmp/x/usr/bin/troupe")"
  owner="$(owner_of "$path")" || fail "no installed package owns $path ($lib)"
  # Declared by its name, or by a virtual package it provides (libspdlog1.10 provides the
  # libspdlog1.10-fmt9 that dpkg-shlibdeps names).
  ok=""
  for name in "$owner" $(dpkg-query -W -f='${Provides}' "$owner" | sed 's/([^)]*)//g; s/,/ /g'); do
    if declared "$name"; then ok="$name"; fi
  done
  [ -n "$ok" ] || fail "troupe needs $lib from $owner, which Depends does not name"
  echo "needs $lib: from $owner, declared as $ok"
done

# dpkg -i into the empty root.
root="$tmp/root"
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
cp /var/lib/dpkg/status "$root/var/lib/dpkg/status"
cp /var/lib/dpkg/info/*.list "$root/var/lib/dpkg/info/"  # what each package owns: conflicts
touch "$root/var/lib/dpkg/available"
dpkg_root() {
  local force=()
  [ "$(id -u)" -eq 0 ] || force=(--force-not-root)
  dpkg --root="$root" --force-unsafe-io "${force[@]}" --log="$tmp/dpkg.log" "$@"
}
dpkg_root -i "$deb" >"$tmp/dpkg-i.log" 2>&1 || fail "dpkg -i failed: $(cat "$tmp/dpkg-i.log")"
[ "$(dpkg-query --admindir="$root/var/lib/dpkg" -W -f='${Status} ${Version}' troupe)" = \
  "install ok installed $version" ] || fail "dpkg does not list troupe $version as installed"
for f in usr/bin/troupe usr/share/bash-completion/completions/troupe \
  usr/share/zsh/vendor-completions/_troupe usr/share/troupe/troupe.schema.json \
  usr/share/doc/troupe/README.md usr/share/doc/troupe/CLI.md \
  usr/share/systemd/user/troupe.service; do
  expect_file "$root/$f"
done
# The unit starts /usr/bin/troupe; systemd verifies it with that path mapped into the root.
check_unit "$root/usr/share/systemd/user/troupe.service" /usr/bin/troupe /usr/share/doc/troupe
mkdir -p "$tmp/mapped"
sed "s|\"/usr/bin/troupe\"|\"$root/usr/bin/troupe\"|" "$root/usr/share/systemd/user/troupe.service" \
  >"$tmp/mapped/troupe.service"
verify_unit "$tmp/mapped/troupe.service"

mkdir -p "$tmp/home" "$tmp/cwd"
as_user() {
  (cd "$tmp/cwd" && env -i HOME="$tmp/home" PATH="$root/usr/bin:/usr/bin:/bin" "$@")
}
check_version "$(as_user troupe --version)" "$version" "$checkout"
check_demo "$tmp/demo.out" as_user troupe demo --speed 20 --workspace "$checkout"

dpkg_root -r troupe >"$tmp/dpkg-r.log" 2>&1 || fail "dpkg -r failed: $(cat "$tmp/dpkg-r.log")"
left="$(find "$root" -path "$root/var" -prune -o -type f -print)"
[ -z "$left" ] || fail "dpkg -r left files behind: $left"
echo "PASS: $(basename "$deb") installed into an empty root, ran the demo, removed cleanly"
