#!/usr/bin/env bash
# Installs what is missing (wasm32 target, cargo-leptos, the matching wasm-bindgen CLI, wasm-opt),
# then runs the app with live reload. Extra arguments go to `cargo leptos watch` (add `--split` to
# get the lazy chunks a release build has; without it their code is part of the one wasm).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/tools.sh"
install_build_tools
cd "$PROJECT_ROOT"
exec cargo leptos watch "$@"
