#!/usr/bin/env bash
# Installs what the tests need, then runs every test: the server crate (PostgreSQL included),
# the server functions over HTTP, the crash and two-instance tests, and the browser tests in
# Chromium (all on SQLite, the accounts flow again on PostgreSQL).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/tools.sh"
install_build_tools
install_test_tools
cd "$PROJECT_ROOT"
# cargo-leptos builds with this flag in development; plain cargo must use the same one or it
# rebuilds every dependency between the steps below.
export RUSTFLAGS="--cfg erase_components"

start_test_postgres
trap stop_test_postgres EXIT

log "Server crate: config, Mesh client, emulator, vault on SQLite and PostgreSQL"
cargo test -p server

log "App crate: server functions over HTTP, Link client logic"
cargo test -p app --features ssr

log "Process tests: SIGKILL during saves loses nothing; two instances share one PostgreSQL"
cargo test -p mesh-link-starter --features ssr

log "Building the app for the browser tests"
cargo leptos build

log "Browser tests (Playwright, $CHROMIUM_PATH), SQLite behind the app"
(cd end2end && npx playwright test)

if [ -n "${TEST_DATABASE_URL:-}" ]; then
  log "Browser tests of the accounts flow, PostgreSQL behind the app"
  (cd end2end && E2E_DATABASE_URL="$TEST_DATABASE_URL" npx playwright test tests/accounts.spec.ts)
fi
