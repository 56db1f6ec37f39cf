#!/usr/bin/env bash
# Installs what is missing (wasm32 target, cargo-leptos, the matching wasm-bindgen CLI, wasm-opt),
# then runs the app with live reload. Extra arguments go to `cargo leptos watch --split` (the
# Deposit page's island is lazy: its code is a chunk of its own, which only `--split` builds).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/tools.sh"
install_build_tools
cd "$PROJECT_ROOT"
exec cargo leptos watch --split "$@"
