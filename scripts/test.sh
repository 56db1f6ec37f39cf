#!/usr/bin/env bash
# Installs what the tests need, then runs every test: the server crate (PostgreSQL included),
# the server functions over HTTP, the crash and two-instance tests, and the browser tests in
# Chromium (all on SQLite, again with the app's code held back 2 s, the accounts flow again on
# PostgreSQL, and the pages with lazy code on a build made without `--split`).
#
#   ./scripts/test.sh            browser tests against a debug build (fast to rebuild)
#   ./scripts/test.sh --release  browser tests against the release binary, copied alone into an
#                                empty folder: the one-file deploy, as CI runs it
set -euo pipefail
release=""
case "${1:-}" in
  --release) release=1 ;;
  "") ;;
  *) echo "usage: $0 [--release]" >&2; exit 2 ;;
esac
source "$(dirname "${BASH_SOURCE[0]}")/tools.sh"
install_build_tools
install_test_tools
cd "$PROJECT_ROOT"
# cargo-leptos builds with this flag in development; plain cargo must use the same one or it
# rebuilds every dependency between the steps below.
export RUSTFLAGS="--cfg erase_components"

start_test_postgres
trap stop_test_postgres EXIT

log "Link client crate: tokens, hosts, URL parameters, Link's messages and payloads"
cargo test -p mesh-link

log "Emulator crate: the offline Mesh's own wire format, transfers and tokens"
cargo test -p mesh-emulator

log "Server crate: config, Mesh client against the emulator, vault on SQLite and PostgreSQL"
cargo test -p server

log "App crate: server functions over HTTP, Link client logic"
cargo test -p app --features ssr

log "Process tests: SIGKILL during saves loses nothing; two instances share one PostgreSQL"
cargo test -p mesh-link-starter --features ssr

# Built as `scripts/dev.sh` builds, so the crates it compiled are reused: cargo-leptos adds
# `--cfg erase_components` to RUSTFLAGS itself in debug builds (an inherited RUSTFLAGS would get
# it twice, and every crate would be compiled again), and `cargo leptos watch` sets LEPTOS_WATCH,
# which the leptos crate reads at compile time (its only effect: hot-reload markers in debug HTML).
if [ -n "$release" ]; then
  log "Building the release binary: cargo leptos build --release --precompress --split"
  env -u RUSTFLAGS cargo leptos build --release --precompress --split
  E2E_APP_DIR="$(mktemp -d)"
  cp target/release/mesh-link-starter "$E2E_APP_DIR/"
  export E2E_APP_BINARY="$E2E_APP_DIR/mesh-link-starter"
  trap 'stop_test_postgres; rm -rf "$E2E_APP_DIR"' EXIT
  log "The binary alone in $E2E_APP_DIR: $(du -h "$E2E_APP_BINARY" | cut -f1)"
else
  log "Building the app for the browser tests"
  env -u RUSTFLAGS LEPTOS_WATCH=true cargo leptos build --split
fi

log "Browser tests (Playwright, $CHROMIUM_PATH), SQLite behind the app"
(cd end2end && npx playwright test)

# Once more as a person on a slow network meets the page: every wasm and JS file of the app
# arrives 2 s late, so the tests type and click before the islands have hydrated.
log "Browser tests again, the app's code held back 2 s (E2E_SLOW_CODE=2000)"
(cd end2end && E2E_SLOW_CODE=2000 npx playwright test)

if [ -n "${TEST_DATABASE_URL:-}" ]; then
  log "Browser tests of the accounts flow, PostgreSQL behind the app"
  (cd end2end && E2E_DATABASE_URL="$TEST_DATABASE_URL" npx playwright test tests/accounts.spec.ts)
fi

# `cargo leptos watch` as Leptos's docs type it builds without `--split`: the lazy islands and
# Link's lazy code are then plain code in the one wasm (`app/build.rs`). Built that way, the pages
# with lazy code run again: the deposit flows and the portfolio's refresh button.
log "Browser tests of the lazy pages against a build made without --split (debug binary)"
env -u RUSTFLAGS LEPTOS_WATCH=true cargo leptos build
(cd end2end && env -u E2E_APP_BINARY E2E_UNSPLIT=1 npx playwright test \
  tests/deposit.spec.ts tests/deposit-from-account.spec.ts tests/portfolio.spec.ts)
