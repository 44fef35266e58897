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

command -v cargo >/dev/null 2>&1 || {
  echo "engine/fetch.sh: cargo is required to pull the pinned $crate $version crate (install Rust's cargo)" >&2
  exit 1
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

# A throwaway manifest whose only dependency is the pinned crate: `cargo fetch` downloads it into
# cargo's registry cache by name, through whatever registry configuration this machine has.
mkdir -p "$work/probe/src"
cat >"$work/probe/Cargo.toml" <<TOML
[package]
name = "cohesix-engine-fetch"
version = "0.0.0"
edition = "2021"
[dependencies]
$crate = "=$version"
TOML
: >"$work/probe/src/lib.rs"
cargo fetch --quiet --manifest-path "$work/probe/Cargo.toml"

cargo_home=${CARGO_HOME:-$HOME/.cargo}
crate_file=$(find "$cargo_home/registry/cache" -name "$crate-$version.crate" 2>/dev/null | head -n 1)
[ -n "$crate_file" ] || { echo "engine/fetch.sh: cargo fetched nothing named $crate-$version.crate" >&2; exit 1; }

got_sha=$(sha256sum "$crate_file" | cut -d' ' -f1)
if [ "$got_sha" != "$want_sha" ]; then
  echo "engine/fetch.sh: $crate-$version.crate has sha256 $got_sha, lock says $want_sha: refusing it" >&2
  exit 1
fi

tar -xzf "$crate_file" -C "$work"
src="$work/$crate-$version/$subdir"
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
