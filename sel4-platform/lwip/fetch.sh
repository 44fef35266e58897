#!/bin/sh
# Pulls the pinned lwIP drop (sel4-platform/lwip/lwip.lock) as Debian's source package with private apt directories, checks its sha256, unpacks it.
# Exit status: 0 unpacked (or already there), 1 a refusal (wrong sha256, bad tarball), 3 the download
# could not run (no apt-get, no network, no Debian source found): the cross check skips lwIP then.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
lock="$here/lwip.lock"
dest="$here/drop"

lock_value() { sed -n "s/^$1=//p" "$lock"; }
package=$(lock_value package)
suite=$(lock_value suite)
orig=$(lock_value orig)
want_sha=$(lock_value sha256)
lwip_version=$(lock_value lwip_version)

stamp="$want_sha $(cat "$here"/patches/*.patch 2>/dev/null | sha256sum | cut -d' ' -f1)"
if [ -f "$dest/.stamp" ] && [ "$(cat "$dest/.stamp")" = "$stamp" ]; then
  exit 0
fi

command -v apt-get >/dev/null 2>&1 || { echo "lwip/fetch.sh: apt-get is required to pull Debian's $package source package" >&2; exit 3; }

# The Debian mirror and archive keyring this machine's own sources use: the first deb822 stanza
# (/etc/apt/sources.list.d/*.sources) or one-line entry (*.list, sources.list) that names the
# Debian archive. An override for machines without Debian sources: LWIP_DEBIAN_MIRROR / LWIP_DEBIAN_KEYRING.
mirror=${LWIP_DEBIAN_MIRROR:-}
keyring=${LWIP_DEBIAN_KEYRING:-}
if [ -z "$mirror" ]; then
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    found=$(awk '
      /^[ \t]*$/ { if (uri != "" && uri ~ /\/debian\/?$/) { print uri " " key; exit } uri = ""; key = ""; next }
      /^URIs:/ { uri = $2 }
      /^Signed-By:/ { key = $2 }
      END { if (uri != "" && uri ~ /\/debian\/?$/) print uri " " key }' "$f" | head -n 1)
    if [ -n "$found" ]; then
      mirror=${found%% *}
      keyring=${keyring:-${found#* }}
      break
    fi
  done
fi
if [ -z "$mirror" ]; then
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    line=$(grep -E '^deb(-src)?[[:space:]].*/debian/?[[:space:]]' "$f" | head -n 1 || true)
    [ -n "$line" ] || continue
    mirror=$(echo "$line" | sed -E 's/^deb(-src)?[[:space:]]+(\[[^]]*\][[:space:]]+)?([^[:space:]]+).*/\3/')
    keyring=${keyring:-$(echo "$line" | sed -n -E 's/.*signed-by=([^] ]+).*/\1/p')}
    break
  done
fi
[ -n "$mirror" ] || { echo "lwip/fetch.sh: no Debian mirror in /etc/apt/sources* (set LWIP_DEBIAN_MIRROR)" >&2; exit 3; }
keyring=${keyring:-/usr/share/keyrings/debian-archive-keyring.gpg}
[ -f "$keyring" ] || { echo "lwip/fetch.sh: the Debian archive keyring $keyring is missing (debian-archive-keyring)" >&2; exit 3; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
mkdir -p "$work/parts" "$work/lists/partial" "$work/cache/archives/partial" "$work/src"
echo "deb-src [signed-by=$keyring] $mirror $suite main" >"$work/sources.list"
# Private sources, lists and cache: apt reads none of the system's sources and writes none of its state.
# The sandbox user is root because _apt may not be able to write into this private folder.
set -- -o Dir::Etc::SourceList="$work/sources.list" -o Dir::Etc::SourceParts="$work/parts" \
  -o Dir::State::Lists="$work/lists" -o Dir::Cache="$work/cache" -o APT::Sandbox::User=root -qq
if ! apt-get "$@" -o Acquire::Retries=0 -o Acquire::http::Timeout=20 update >"$work/apt.log" 2>&1; then
  echo "lwip/fetch.sh: apt-get update against $mirror ($suite, deb-src) failed: no network? ($(tail -n 1 "$work/apt.log"))" >&2
  exit 3
fi
# apt-get update answers 0 even when no mirror was reached: the source index must be there.
if ! ls "$work/lists/"*Sources* >/dev/null 2>&1; then
  echo "lwip/fetch.sh: no source index from $mirror ($suite): no network? ($(grep -m 1 -E '^(W|E):' "$work/apt.log" || echo 'apt said nothing'))" >&2
  exit 3
fi
if ! (cd "$work/src" && apt-get "$@" source --download-only "$package") >>"$work/apt.log" 2>&1; then
  echo "lwip/fetch.sh: apt-get source $package failed ($(tail -n 1 "$work/apt.log"))" >&2
  exit 3
fi
[ -f "$work/src/$orig" ] || { echo "lwip/fetch.sh: the source package has no $orig (a newer Debian upload? the lock pins $orig)" >&2; exit 1; }
got_sha=$(sha256sum "$work/src/$orig" | cut -d' ' -f1)
if [ "$got_sha" != "$want_sha" ]; then
  echo "lwip/fetch.sh: $orig has sha256 $got_sha, the lock says $want_sha: refusing it" >&2
  exit 1
fi

mkdir -p "$work/unpack"
tar -xJf "$work/src/$orig" -C "$work/unpack"
top=$(find "$work/unpack" -mindepth 1 -maxdepth 1 -type d | head -n 1)
[ -f "$top/src/include/lwip/init.h" ] || { echo "lwip/fetch.sh: $orig has no src/include/lwip/init.h" >&2; exit 1; }
rm -rf "$dest"
mkdir -p "$dest"
cp -R "$top/." "$dest/"
for p in "$here"/patches/*.patch; do
  [ -f "$p" ] || continue
  patch -d "$dest" -p1 --quiet --forward <"$p" || { echo "lwip/fetch.sh: patch $(basename "$p") does not apply" >&2; exit 1; }
done
echo "$stamp" >"$dest/.stamp"
echo "lwip/fetch.sh: unpacked lwIP $lwip_version ($orig, from $mirror) into sel4-platform/lwip/drop" >&2
