#!/bin/sh
# Pulls the pinned Monocypher sources (crypto/monocypher.lock) from crates.io with cargo, checks the sha256, unpacks them.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
lock="$here/monocypher.lock"
dest="$here/monocypher"

lock_value() { sed -n "s/^$1=//p" "$lock"; }
crate=$(lock_value crate)
version=$(lock_value version)
want_sha=$(lock_value sha256)
subdir=$(lock_value subdir)
release=$(lock_value monocypher_version)

if [ -f "$dest/.stamp" ] && [ "$(cat "$dest/.stamp")" = "$want_sha" ]; then
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
top=$(sh "$here/../scripts/fetch-crate.sh" "$crate" "$version" "$want_sha" "$work")
src="$top/$subdir"
for f in monocypher.c monocypher.h optional/monocypher-ed25519.c optional/monocypher-ed25519.h; do
  [ -f "$src/$f" ] || { echo "crypto/fetch.sh: $crate-$version has no $subdir/$f" >&2; exit 1; }
done
got_release=$(sed -n '1p' "$top/Monocypher/CHANGELOG.md")
[ "$got_release" = "$release" ] || {
  echo "crypto/fetch.sh: $crate-$version carries Monocypher $got_release, lock says $release" >&2
  exit 1
}

rm -rf "$dest"
mkdir -p "$dest"
cp "$src/monocypher.c" "$src/monocypher.h" "$src/optional/monocypher-ed25519.c" "$src/optional/monocypher-ed25519.h" "$dest/"
cp "$top/Monocypher/LICENCE.md" "$dest/"
echo "$want_sha" >"$dest/.stamp"
echo "crypto/fetch.sh: unpacked Monocypher $release (from $crate $version) into crypto/monocypher" >&2
