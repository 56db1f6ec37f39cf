#!/usr/bin/env bash
# Installs what the tests need, then runs every test: the server crate, the server functions over
# HTTP, and the browser tests in Chromium against a freshly built app.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/tools.sh"
install_build_tools
install_test_tools
cd "$PROJECT_ROOT"
# cargo-leptos builds with this flag in development; plain cargo must use the same one or it
# rebuilds every dependency between the steps below.
export RUSTFLAGS="--cfg erase_components"

log "Unit and integration tests: server crate"
cargo test -p server

log "Server functions over HTTP and Link client logic: app crate"
cargo test -p app --features ssr

log "Building the app for the browser tests"
cargo leptos build

log "Browser tests (Playwright, $CHROMIUM_PATH)"
(cd end2end && npx playwright test)
