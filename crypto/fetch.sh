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

command -v cargo >/dev/null 2>&1 || {
  echo "crypto/fetch.sh: cargo is required to pull the pinned $crate $version crate (install Rust's cargo)" >&2
  exit 1
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

# A throwaway manifest whose only dependency is the pinned crate: `cargo fetch` downloads it into
# cargo's registry cache by name (nothing is compiled: we only want the .crate file).
mkdir -p "$work/probe/src"
cat >"$work/probe/Cargo.toml" <<TOML
[package]
name = "cohesix-crypto-fetch"
version = "0.0.0"
edition = "2021"
[dependencies]
$crate = "=$version"
TOML
: >"$work/probe/src/lib.rs"
cargo fetch --quiet --manifest-path "$work/probe/Cargo.toml"

cargo_home=${CARGO_HOME:-$HOME/.cargo}
crate_file=$(find "$cargo_home/registry/cache" -name "$crate-$version.crate" 2>/dev/null | head -n 1)
[ -n "$crate_file" ] || { echo "crypto/fetch.sh: cargo fetched nothing named $crate-$version.crate" >&2; exit 1; }

got_sha=$(sha256sum "$crate_file" | cut -d' ' -f1)
if [ "$got_sha" != "$want_sha" ]; then
  echo "crypto/fetch.sh: $crate-$version.crate has sha256 $got_sha, lock says $want_sha: refusing it" >&2
  exit 1
fi

tar -xzf "$crate_file" -C "$work"
top="$work/$crate-$version"
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
