#!/bin/sh
# Pulls the pinned quickjs-ng drop (engine/quickjs-ng.lock) from crates.io with cargo, checks its sha256, unpacks it.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
lock="$here/quickjs-ng.lock"
dest="$here/quickjs-ng"

lock_value() { sed -n "s/^$1=//p" "$lock"; }
crate=$(lock_value crate)
version=$(lock_value version)
want_sha=$(lock_value sha256)
subdir=$(lock_value subdir)

# The stamp names the pinned file and every patch, so a new patch re-unpacks a clean drop.
stamp="$want_sha $(cat "$here"/patches/*.patch 2>/dev/null | sha256sum | cut -d' ' -f1)"
if [ -f "$dest/.stamp" ] && [ "$(cat "$dest/.stamp")" = "$stamp" ]; then
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
top=$(sh "$here/../scripts/fetch-crate.sh" "$crate" "$version" "$want_sha" "$work")
src="$top/$subdir"
[ -f "$src/quickjs.c" ] || { echo "engine/fetch.sh: $crate-$version has no $subdir/quickjs.c" >&2; exit 1; }

rm -rf "$dest"
mkdir -p "$dest"
cp -R "$src/." "$dest/"
# Our patches, applied in name order; each says why it exists.
for p in "$here"/patches/*.patch; do
  [ -f "$p" ] || continue
  patch -d "$dest" -p1 --quiet --forward <"$p" || { echo "engine/fetch.sh: patch $(basename "$p") does not apply" >&2; exit 1; }
done
echo "$stamp" >"$dest/.stamp"
echo "engine/fetch.sh: unpacked $crate $version ($subdir) into engine/quickjs-ng" >&2
