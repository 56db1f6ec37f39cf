#!/usr/bin/env bash
# Installs the build tools a fresh machine lacks, into a per-user cache keyed by version, and puts
# them first on PATH. Sourced by scripts/dev.sh, scripts/test.sh and .ci/run, so the install logic
# lives in one place.
#
# Why: cargo-leptos takes wasm-bindgen and wasm-opt from PATH and, when they are missing, tries to
# download them from GitHub, which fails offline. We install them from the package registries.

set -euo pipefail

PROJECT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS_DIR="${MESH_STARTER_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mesh-link-starter/tools}"
CARGO_LEPTOS_VERSION="0.3.10" # 0.3.11 needs rustc 1.96 for a locked dependency
BINARYEN_VERSION="132.0.0"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# The wasm-bindgen CLI must match the wasm-bindgen crate in Cargo.lock exactly.
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' \
    "$PROJECT_ROOT/Cargo.lock"
}

install_build_tools() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    log "Adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi

  local leptos_root="$TOOLS_DIR/cargo-leptos-$CARGO_LEPTOS_VERSION"
  if [ ! -x "$leptos_root/bin/cargo-leptos" ]; then
    log "Installing cargo-leptos $CARGO_LEPTOS_VERSION (once; about 12 minutes on 2 cores)"
    # Its own release profile asks for fat LTO in one codegen unit, which is most of a source
    # build's time for a tool that mostly waits on cargo: built without them.
    CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
      cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked --root "$leptos_root"
  fi
  PATH="$leptos_root/bin:$PATH"

  local wb_version wb_root
  wb_version="$(wasm_bindgen_version)"
  wb_root="$TOOLS_DIR/wasm-bindgen-$wb_version"
  if [ ! -x "$wb_root/bin/wasm-bindgen" ]; then
    log "Installing wasm-bindgen-cli $wb_version (once; about 2 minutes)"
    # Not --locked: a locked dependency of the CLI is not served by the registry.
    cargo install wasm-bindgen-cli --version "$wb_version" --root "$wb_root"
  fi
  PATH="$wb_root/bin:$PATH"

  # wasm-opt for release builds: npm's binaryen (Debian's old one breaks the release wasm).
  local binaryen_root="$TOOLS_DIR/binaryen-$BINARYEN_VERSION"
  if [ ! -x "$binaryen_root/node_modules/.bin/wasm-opt" ]; then
    log "Installing wasm-opt from npm binaryen $BINARYEN_VERSION"
    mkdir -p "$binaryen_root"
    npm install --prefix "$binaryen_root" --no-audit --no-fund "binaryen@$BINARYEN_VERSION" >&2
  fi
  PATH="$binaryen_root/node_modules/.bin:$PATH"
  export PATH
}

# Chromium for the browser tests: CHROMIUM_PATH, Debian's /usr/bin/chromium, or Playwright's own.
find_chromium() {
  local candidate
  for candidate in "${CHROMIUM_PATH:-}" /usr/bin/chromium /usr/bin/chromium-browser; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then
      echo "$candidate"
      return 0
    fi
  done
  candidate="$(ls -d "$HOME"/.cache/ms-playwright/chromium-*/chrome-linux/chrome 2>/dev/null | tail -n 1)"
  if [ -n "$candidate" ] && [ -x "$candidate" ]; then
    echo "$candidate"
    return 0
  fi
  return 1
}

# Installs Debian packages as root or with passwordless sudo; fails (installing nothing) otherwise.
install_debian_packages() {
  local sudo=()
  command -v apt-get >/dev/null 2>&1 || return 1
  if [ "$(id -u)" -ne 0 ]; then
    sudo -n true 2>/dev/null || return 1
    sudo=(sudo -n)
  fi
  log "Installing Debian packages: $*"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >&2 || {
    "${sudo[@]}" apt-get update -q >&2 &&
      "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >&2
  }
}

install_test_tools() {
  if ! find_chromium >/dev/null; then
    install_debian_packages chromium || true
  fi
  if ! CHROMIUM_PATH="$(find_chromium)"; then
    log "No Chromium found, and it could not be installed (needs root or passwordless sudo). Install one and run again:"
    log "  Debian/Ubuntu: sudo apt-get install chromium"
    log "  or point CHROMIUM_PATH at any Chromium or Chrome binary"
    return 1
  fi
  export CHROMIUM_PATH
  if [ ! -d "$PROJECT_ROOT/end2end/node_modules/@playwright/test" ]; then
    log "Installing the end-to-end test packages (npm ci)"
    # Playwright must not download a browser: the tests use the Chromium found above.
    (cd "$PROJECT_ROOT/end2end" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund >&2)
  fi
}


# A throwaway PostgreSQL for the vault tests, unless TEST_DATABASE_URL names one already.
# Exports TEST_DATABASE_URL; stop_test_postgres stops it and removes its files.
start_test_postgres() {
  if [ -n "${TEST_DATABASE_URL:-}" ]; then
    return 0
  fi
  local bin
  bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    command -v initdb >/dev/null 2>&1 && bin="$(dirname "$(command -v initdb)")"
  fi
  if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    log "PostgreSQL is not installed: the PostgreSQL vault tests will be SKIPPED."
    log "  Install it (Debian/Ubuntu: sudo apt-get install postgresql) or set TEST_DATABASE_URL."
    return 0
  fi
  local port
  for port in $(shuf -i 20000-40000 -n 20); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || break
  done
  TEST_PG_DIR="$(mktemp -d)"
  # initdb and postgres refuse to run as root: run them as the postgres user then.
  local as_owner=()
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres "$TEST_PG_DIR"
    as_owner=(runuser -u postgres --)
  fi
  TEST_PG_CTL=("${as_owner[@]}" "$bin/pg_ctl" -D "$TEST_PG_DIR/data")
  "${as_owner[@]}" "$bin/initdb" -D "$TEST_PG_DIR/data" -A trust -U postgres >/dev/null
  "${TEST_PG_CTL[@]}" -o "-c listen_addresses=127.0.0.1 -p $port -k $TEST_PG_DIR" \
    -l "$TEST_PG_DIR/log" -w start >/dev/null
  export TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
  log "Started a throwaway PostgreSQL at $TEST_DATABASE_URL"
}

stop_test_postgres() {
  if [ -n "${TEST_PG_DIR:-}" ]; then
    "${TEST_PG_CTL[@]}" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$TEST_PG_DIR"
    TEST_PG_DIR=""
  fi
}
