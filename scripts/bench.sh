#!/usr/bin/env bash
# The project's benchmark (not part of the test command): builds the release binary, starts it
# alone in an empty folder in emulator mode on loopback, and prints
#   - each front-end file's raw, gzip and brotli size, and the first load as served to a browser;
#   - the time from navigation until the Connect button can open Link, in Chromium on a slow phone
#     network (1.6 Mbps down, 150 ms round trip), the median of 5 cold loads;
#   - the binary size, the time from a cold start to the first response, and the idle RSS;
#   - the edit loop: under `cargo leptos watch`, a string in a view edited, until the page serves
#     it (3 edits, each restored);
#   - GET / with and without a browser's Accept-Encoding, one run after the other, and the ratio;
#   - requests/s with p50 and p99 latency at 32 and 256 connections (wrk) for GET / (a user with
#     3 accounts), create_link_token (against the embedded emulator, whose own linktoken rate is
#     printed beside it), save_connection (a new account on every request, spread over 1,000
#     sessions as real users spread theirs) and list_connections.
# Only 2xx answers count: a run with any other answer is flagged, never counted as throughput.
#
# Settings (environment):
#   BENCH_DURATION=5           seconds per run (every run is also bounded by `timeout`)
#   BENCH_SKIP_BUILD=1         reuse the last release build
#   BENCH_SKIP_EDIT_LOOP=1     leave out the edit loop (it builds and runs `cargo leptos watch`)
#   BENCH_WATCH_ARGS=--split   arguments for that `cargo leptos watch`
#   BENCH_DATABASE_URL=...     PostgreSQL instead of SQLite in the temporary folder
#   BENCH_ENV="K=V K2=V2"      extra environment for the app (the rate limits and the connection
#                              cap are raised already: one address and one session make the load)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/tools.sh"
cd "$PROJECT_ROOT"

DURATION="${BENCH_DURATION:-5}"
BIN_NAME="mesh-link-starter"

if ! command -v wrk >/dev/null 2>&1; then
  install_debian_packages wrk || { log "wrk is needed: sudo apt-get install wrk"; exit 1; }
fi

if [ -z "${BENCH_SKIP_BUILD:-}" ]; then
  install_build_tools
  log "Building release: cargo leptos build --release --precompress --split"
  cargo leptos build --release --precompress --split >&2
fi

work="$(mktemp -d)"
app_pid=""
watch_pgid=""
edited_view=""
cleanup() {
  [ -n "$app_pid" ] && kill "$app_pid" 2>/dev/null
  [ -n "$watch_pgid" ] && kill -- "-$watch_pgid" 2>/dev/null
  [ -n "$edited_view" ] && cp "$work/view.rs" "$edited_view"
  rm -rf "$work"
  return 0
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
app_port="$(free_port)"
emu_port="$(free_port)"
app="http://127.0.0.1:$app_port"
emu="http://127.0.0.1:$emu_port"

# ---- Sizes -------------------------------------------------------------------------------------
printf '\n## Front-end files (target/site/pkg)\n\n'
printf '%-34s %10s %10s %10s\n' file raw gzip brotli
for file in target/site/pkg/*; do
  case "$file" in *.gz|*.br) continue ;; esac
  raw=$(stat -c %s "$file")
  gz=$(gzip -9 -c "$file" | wc -c)
  br=$( [ -f "$file.br" ] && stat -c %s "$file.br" || echo "-")
  printf '%-34s %10s %10s %10s\n' "$(basename "$file")" "$raw" "$gz" "$br"
done

cp "target/release/$BIN_NAME" "$work/"
printf '\n## Binary\n\n'
printf 'size: %s bytes (%s MiB)\n' "$(stat -c %s "$work/$BIN_NAME")" \
  "$(awk -v b="$(stat -c %s "$work/$BIN_NAME")" 'BEGIN { printf "%.1f", b / 1048576 }')"

# ---- Start ---------------------------------------------------------------------------------------
# Only the binary, in an empty folder: LEPTOS_SITE_ROOT points at the build's site for binaries
# that still read it from disk (older builds), and is ignored by one that embeds it.
start_ns=$(date +%s%N)
(
  cd "$work"
  env LEPTOS_SITE_ADDR="127.0.0.1:$app_port" LEPTOS_SITE_ROOT="$PROJECT_ROOT/target/site" \
    MESH_ENV=emulator MESH_CLIENT_ID= MESH_CLIENT_SECRET= MESH_EMULATOR_ADDR="127.0.0.1:$emu_port" \
    DATA_DIR="$work/data" DATABASE_URL="${BENCH_DATABASE_URL:-}" RUST_LOG=error \
    RATE_LIMIT_PER_MINUTE=1000000000 RATE_LIMIT_BURST=1000000000 MAX_CONNECTIONS_PER_USER=100000000 \
    ${BENCH_ENV:-} "./$BIN_NAME" >"$work/app.log" 2>&1 &
  echo $! >"$work/pid"
)
app_pid="$(cat "$work/pid")"
for _ in $(seq 1 300); do
  curl -fsS -o /dev/null "$app/" 2>/dev/null && break
  sleep 0.02
done
ready_ns=$(date +%s%N)
printf 'cold start to first response: %d ms\n' $(( (ready_ns - start_ns) / 1000000 ))
sleep 1
printf 'idle RSS: %s\n' "$(awk '/VmRSS/ { printf "%.1f MiB", $2 / 1024 }' "/proc/$app_pid/status")"

# ---- First load as served --------------------------------------------------------------------------
printf '\n## First load of / as a browser asking for br, gzip\n\n'
page="$(curl -fsS "$app/")"
assets="$(grep -oE '/pkg/[^"]+\.(js|wasm|css)' <<<"$page" | sort -u)"
# The JS glue imports the split loader (lazy islands) from its own folder: part of every load.
assets+=$'\n'"$(grep -m1 -oE '^.*/' <<<"$assets")__wasm_split.______________________.js"
total=0
for asset in $assets; do
  read -r bytes encoding < <(curl -fsS -o /dev/null -H 'accept-encoding: br, gzip' \
    -w '%{size_download} %header{content-encoding}\n' "$app$asset")
  printf '%-48s %9s bytes %s\n' "$asset" "$bytes" "${encoding:-identity}"
  total=$((total + bytes))
done
printf '%-48s %9s bytes\n' "total (wasm + JS + CSS)" "$total"

printf '\n## Time until Connect can open Link (Chromium, 1.6 Mbps down, 150 ms RTT, cold cache)\n\n'
install_test_tools
(cd end2end && node bench/time-to-interactive.mjs "$app" 5)

# ---- Load ------------------------------------------------------------------------------------------
# A session cookie, as the app issues one to a new visitor.
new_session() { curl -fsS -D - -o /dev/null -X POST "$app/api/link_settings" | awk -F'[ ;]' 'tolower($1) == "set-cookie:" { print $2 }'; }
cookie="$(new_session)"
for n in 1 2 3; do
  curl -fsS -o /dev/null -X POST "$app/api/save_connection" -H "cookie: $cookie" \
    -H 'content-type: application/json' \
    -d "{\"payload\":{\"accessToken\":{\"accountTokens\":[{\"account\":{\"accountId\":\"seed-$n\",\"accountName\":\"Account $n\",\"cash\":$n.5},\"accessToken\":\"access-$n\"}],\"brokerBrandInfo\":{\"brokerLogo\":\"\"},\"brokerType\":\"robinhood\",\"brokerName\":\"Robinhood\"}}}"
done

cat >"$work/post.lua" <<'LUA'
-- A POST with the session cookie and, for save_connection, a new account id on every request,
-- each from the next of the sessions listed in the file BENCH_SAVE_COOKIES.
local counter, thread_count = 0, 0
local save_cookies = {}
for c in io.lines(os.getenv("BENCH_SAVE_COOKIES")) do save_cookies[#save_cookies + 1] = c end
function setup(thread) thread_count = thread_count + 1; thread:set("tid", thread_count) end
function request()
  counter = counter + 1
  local body = ""
  local cookie = os.getenv("BENCH_COOKIE")
  if os.getenv("BENCH_PATH") == "/api/save_connection" then
    cookie = save_cookies[(counter % #save_cookies) + 1]
    body = string.format('{"payload":{"accessToken":{"accountTokens":[{"account":{"accountId":"w%s-%d","accountName":"Load %d","cash":12.5},"accessToken":"access-%d"}],"brokerBrandInfo":{"brokerLogo":""},"brokerType":"robinhood","brokerName":"Robinhood"}}}', tid, counter, counter, counter)
  elseif os.getenv("BENCH_PATH") == "/api/v1/linktoken" then
    body = '{"userId":"bench-user"}'
  end
  return wrk.format("POST", os.getenv("BENCH_PATH"), {
    ["content-type"] = os.getenv("BENCH_CONTENT_TYPE"),
    ["cookie"] = cookie,
    ["x-client-id"] = "emulator-client",
    ["x-client-secret"] = "emulator-secret",
  }, body)
end
LUA

# Saves go to sessions of their own, so the 3-account user's page and list stay the same size: a
# thousand users, as a deployment has them, rather than one user holding every account saved.
for _ in $(seq 1 1000); do new_session; done >"$work/save_cookies"

# run NAME BASE PATH METHOD CONNECTIONS
run() {
  local name=$1 base=$2 path=$3 method=$4 conns=$5 out
  local request=(-H "cookie: $cookie")
  [ "$method" = POST ] && request=(-s "$work/post.lua")
  [ -n "${ACCEPT_ENCODING:-}" ] && request+=(-H "accept-encoding: $ACCEPT_ENCODING")
  out="$(BENCH_PATH="$path" BENCH_COOKIE="$cookie" BENCH_SAVE_COOKIES="$work/save_cookies" BENCH_CONTENT_TYPE="${CONTENT_TYPE:-application/x-www-form-urlencoded}" \
    timeout $((DURATION + 30)) wrk -t2 -c"$conns" -d"${DURATION}s" --timeout 10s --latency \
    "${request[@]}" "$base$path" 2>&1)"
  local rps p50 p99 bad
  rps=$(awk '/Requests\/sec/ { print $2 }' <<<"$out")
  p50=$(awk '$1 == "50%" { print $2 }' <<<"$out")
  p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
  bad=$(awk '/Non-2xx or 3xx responses/ { print $5 } /Socket errors/ { s = $0 } END { if (s) print s }' <<<"$out" | paste -sd' ')
  last_rps="${rps:-0}"
  printf '%-30s %5s %12s %10s %10s  %s\n' "$name" "$conns" "${rps:-?}" "${p50:-?}" "${p99:-?}" \
    "$([ -n "$bad" ] && echo "NOT ALL 2xx: $bad" || echo ok)"
}

database=SQLite
[ -n "${BENCH_DATABASE_URL:-}" ] && database=PostgreSQL
printf '\n## Load (wrk, %ss per run, loopback, %s)\n\n' "$DURATION" "$database"
printf '%-30s %5s %12s %10s %10s  %s\n' endpoint conns req/s p50 p99 answers
for conns in 32 256; do
  run "GET / (3 accounts)" "$app" / GET "$conns"
  if [ "$conns" = 32 ]; then
    # The same page right after, as a browser asks for it (Chrome's and Firefox's
    # Accept-Encoding), and what compressing costs.
    plain_rps=$last_rps
    ACCEPT_ENCODING="gzip, deflate, br, zstd" run "GET / compressed (browser)" "$app" / GET 32
    printf '%-30s %5s %12s\n' "  compressed / plain" 32 \
      "$(awk -v c="$last_rps" -v p="$plain_rps" 'BEGIN { if (p > 0) printf "%.0f %%", 100 * c / p }')"
  fi
  run "POST create_link_token" "$app" /api/create_link_token POST "$conns"
  CONTENT_TYPE=application/json run "  emulator POST linktoken" "$emu" /api/v1/linktoken POST "$conns"
  run "POST list_connections" "$app" /api/list_connections POST "$conns"
  CONTENT_TYPE=application/json run "POST save_connection" "$app" /api/save_connection POST "$conns"
done

# ---- Edit loop -------------------------------------------------------------------------------------
# What a developer waits for on each edit: `cargo leptos watch` (as `scripts/dev.sh` runs it) is
# up, a string in a view of the home page's island is changed, and the clock runs until the page
# served over HTTP carries the new text. Three edits, each put back before the next; the file is
# restored whatever happens.
[ -n "${BENCH_SKIP_EDIT_LOOP:-}" ] && exit 0
install_build_tools
view="app/src/accounts/view.rs"
text="No accounts connected yet."
grep -q "\"$text\"" "$view" || { log "edit loop: \"$text\" is no longer in $view"; exit 1; }
cp "$view" "$work/view.rs"
watch_port="$(free_port)"
watch="http://127.0.0.1:$watch_port"
printf '\n## Edit loop (cargo leptos watch, a string in a view of the home page, until / serves it)\n\n'
setsid env -u RUSTFLAGS LEPTOS_SITE_ADDR="127.0.0.1:$watch_port" LEPTOS_RELOAD_PORT="$(free_port)" \
  MESH_ENV=emulator MESH_CLIENT_ID= MESH_CLIENT_SECRET= MESH_EMULATOR_ADDR="127.0.0.1:$(free_port)" \
  DATA_DIR="$work/watch-data" DATABASE_URL= RUST_LOG=error \
  cargo leptos watch ${BENCH_WATCH_ARGS:-} >"$work/watch.log" 2>&1 &
watch_pgid=$!
edited_view="$view"
serves() { curl -fsS "$watch/" 2>/dev/null | grep -qF "$1"; }
# The first build (or a no-op one when it is fresh) until the page answers: up to 30 minutes.
for _ in $(seq 1 18000); do serves "$text" && break; sleep 0.1; done
serves "$text" || { log "edit loop: cargo leptos watch never served the page"; tail -20 "$work/watch.log" >&2; exit 1; }
# The file watcher starts after the first serve: wait for it.
for _ in $(seq 1 100); do grep -q "Creating ignore list" "$work/watch.log" && break; sleep 0.1; done
sleep 1
times=()
for edit in 1 2 3; do
  marker="Nothing connected here yet ($edit)."
  sed "s/\"$text\"/\"$marker\"/" "$work/view.rs" >"$view"
  start_ns=$(date +%s%N)
  for _ in $(seq 1 1200); do serves "$marker" && break; sleep 0.05; done
  end_ns=$(date +%s%N)
  serves "$marker" || { log "edit loop: the edit never showed"; tail -20 "$work/watch.log" >&2; exit 1; }
  ms=$(( (end_ns - start_ns) / 1000000 ))
  times+=("$ms")
  printf 'edit %d: %d ms\n' "$edit" "$ms"
  cp "$work/view.rs" "$view"
  for _ in $(seq 1 1200); do serves "$text" && break; sleep 0.05; done
done
printf 'edit loop, median of 3: %s ms\n' "$(printf '%s\n' "${times[@]}" | sort -n | sed -n 2p)"
