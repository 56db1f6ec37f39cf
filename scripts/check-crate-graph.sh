#!/usr/bin/env bash
# Fails when the crate graph stops reading as the architecture: `server` never depends on
# `app`; the emulator depends on none of `server`, `app` or the Link client (it is an independent
# reading of Mesh's spec); the Link client on none of the others; and the app's server build
# reaches the database and the HTTP layers only through `server`, never directly.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# The names of the packages `cargo tree` lists for these arguments (normal dependencies only).
deps() {
  cargo tree --edges normal --prefix none --format '{p}' "$@" | awk '{ print $1 }' | sort -u
}

failed=0
refuse() { # package, what it must not reach, the dependency list
  local package=$1 forbidden=$2 list=$3
  if grep -qx "$forbidden" <<<"$list"; then
    echo "crate graph: $package depends on $forbidden" >&2
    failed=1
  fi
}

server=$(deps -p server)
refuse server app "$server"

emulator=$(deps -p mesh-emulator)
for crate in server app mesh-link; do refuse mesh-emulator "$crate" "$emulator"; done

link=$(deps -p mesh-link)
for crate in server app mesh-emulator; do refuse mesh-link "$crate" "$link"; done

app_direct=$(deps -p app --features ssr --depth 1)
for crate in sqlx tower-http; do refuse "app (its server build, directly)" "$crate" "$app_direct"; done

if [ "$failed" -ne 0 ]; then
  exit 1
fi
echo "crate graph: server does not depend on app; the emulator and the Link client stand alone; app reaches sqlx and tower-http only through server"
