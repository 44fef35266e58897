#!/bin/sh
# Pulls one pinned crate from crates.io with cargo, checks its .crate sha256, and unpacks it into a folder.
# usage: fetch-crate.sh <crate> <version> <sha256> <into-dir>   (prints the unpacked crate's folder)
set -eu
[ $# -eq 4 ] || { echo "usage: fetch-crate.sh <crate> <version> <sha256> <into-dir>" >&2; exit 2; }
crate=$1
version=$2
want_sha=$3
into=$4

command -v cargo >/dev/null 2>&1 || {
  echo "fetch-crate: cargo is required to pull the pinned $crate $version crate (install Rust's cargo)" >&2
  exit 1
}

# A throwaway manifest whose only dependency is the pinned crate: `cargo fetch` downloads it into
# cargo's registry cache by name, through whatever registry configuration this machine has.
# Nothing is compiled: only the .crate file is wanted.
mkdir -p "$into/probe/src"
cat >"$into/probe/Cargo.toml" <<TOML
[package]
name = "cohesix-fetch-probe"
version = "0.0.0"
edition = "2021"
[dependencies]
$crate = "=$version"
TOML
: >"$into/probe/src/lib.rs"
cargo fetch --quiet --manifest-path "$into/probe/Cargo.toml"

cargo_home=${CARGO_HOME:-$HOME/.cargo}
crate_file=$(find "$cargo_home/registry/cache" -name "$crate-$version.crate" 2>/dev/null | head -n 1)
[ -n "$crate_file" ] || { echo "fetch-crate: cargo fetched nothing named $crate-$version.crate" >&2; exit 1; }

got_sha=$(sha256sum "$crate_file" | cut -d' ' -f1)
if [ "$got_sha" != "$want_sha" ]; then
  echo "fetch-crate: $crate-$version.crate has sha256 $got_sha, the lock says $want_sha: refusing it" >&2
  exit 1
fi
tar -xzf "$crate_file" -C "$into"
echo "$into/$crate-$version"
