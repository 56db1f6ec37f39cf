import { defineConfig } from "@playwright/test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { SuiteOptions } from "./tests/helpers";

/** Where the app under test listens; not 3000, so a running `cargo leptos watch` is left alone. */
export const APP_URL = "http://127.0.0.1:3210";
/** The app's embedded Mesh emulator. */
export const EMULATOR_URL = "http://127.0.0.1:3211";
/** A second app whose emulator allows only another origin (Mesh's "allowed domains"). */
export const DISALLOWED_APP_URL = "http://127.0.0.1:3220";
/** A third app in sandbox mode with wrong keys, pointed at the first app's emulator. */
export const WRONG_KEYS_APP_URL = "http://127.0.0.1:3230";
/** A fourth app on Mesh-managed tokens (`MESH_MANAGED_TOKENS=true`), with its own emulator. */
export const MANAGED_TOKENS_APP_URL = "http://127.0.0.1:3240";
/** A fifth app whose Mesh issues access tokens that live two minutes, with its own emulator. */
export const SHORT_TOKENS_APP_URL = "http://127.0.0.1:3250";
/** The fifth app's emulator. */
export const SHORT_TOKENS_EMULATOR_URL = "http://127.0.0.1:3251";

// A fresh data folder per run: generated keys and the database never leak between runs.
const dataDir = process.env.E2E_DATA_DIR ?? fs.mkdtempSync(path.join(os.tmpdir(), "mesh-e2e-"));
process.env.E2E_DATA_DIR = dataDir;
const otherDataDir = path.join(dataDir, "disallowed-app");

/**
 * The server under test: the debug build, which reads the site from `target/site`, or (with
 * `scripts/test.sh --release`) the release binary alone in an empty folder, serving what it embeds.
 */
const appBinary = process.env.E2E_APP_BINARY ?? "../target/debug/mesh-link-starter";
const appDir = process.env.E2E_APP_BINARY ? path.dirname(appBinary) : undefined;

/** Environment of the app under test: emulator mode whatever a local .env says. */
const appEnv: Record<string, string> = {
  ...(process.env.E2E_APP_BINARY ? {} : { LEPTOS_SITE_ROOT: "../target/site" }),
  LEPTOS_SITE_ADDR: "127.0.0.1:3210",
  LEPTOS_OUTPUT_NAME: "mesh-link-starter",
  MESH_ENV: "emulator",
  MESH_CLIENT_ID: "",
  MESH_CLIENT_SECRET: "",
  MESH_API_URL: "",
  MESH_EMULATOR_ADDR: "127.0.0.1:3211",
  MESH_EMULATOR_ALLOWED_ORIGINS: "",
  SESSION_KEY: "",
  DATA_DIR: dataDir,
  // scripts/test.sh runs the accounts tests a second time with PostgreSQL behind the app.
  DATABASE_URL: process.env.E2E_DATABASE_URL ?? "",
  RUST_LOG: "warn",
  // The suite runs from one address; the limits have their own tests.
  RATE_LIMIT_PER_MINUTE: "100000",
  RATE_LIMIT_BURST: "100000",
  RATE_LIMIT_REPORTS_PER_HOUR: "100000",
};

/**
 * `E2E_SLOW_CODE=2000` holds back every wasm and JS file of the app by that many milliseconds, so
 * the suite meets the page as a person on a slow network does: typing and clicking before its
 * code has arrived. `scripts/test.sh` runs the suite a second time that way.
 */
const slowCodeMs = Number(process.env.E2E_SLOW_CODE ?? 0);
if (!Number.isInteger(slowCodeMs) || slowCodeMs < 0) {
  throw new Error(`E2E_SLOW_CODE must be a whole number of milliseconds, not ${process.env.E2E_SLOW_CODE}`);
}

export default defineConfig<SuiteOptions>({
  testDir: "./tests",
  // Each page waits for its held-back code under E2E_SLOW_CODE: give the tests the time it costs.
  timeout: slowCodeMs > 0 ? 60_000 : 30_000,
  expect: { timeout: 10_000 },
  // The tests share one app and its emulator's fault queue: run them one at a time.
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  reporter: [["list"]],
  use: {
    baseURL: APP_URL,
    slowCodeMs,
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  projects: [{ name: "chromium" }],
  webServer: [
    {
      command: appBinary,
      cwd: appDir,
      url: APP_URL,
      env: appEnv,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: "pipe",
      stderr: "pipe",
    },
    {
      command: appBinary,
      cwd: appDir,
      url: DISALLOWED_APP_URL,
      env: {
        ...appEnv,
        LEPTOS_SITE_ADDR: "127.0.0.1:3220",
        MESH_EMULATOR_ADDR: "127.0.0.1:3221",
        MESH_EMULATOR_ALLOWED_ORIGINS: "https://app.example.com",
        DATA_DIR: otherDataDir,
      },
      reuseExistingServer: false,
      timeout: 60_000,
    },
    {
      command: appBinary,
      cwd: appDir,
      url: WRONG_KEYS_APP_URL,
      env: {
        ...appEnv,
        LEPTOS_SITE_ADDR: "127.0.0.1:3230",
        MESH_ENV: "sandbox",
        MESH_CLIENT_ID: "emulator-client",
        MESH_CLIENT_SECRET: "sk_sandbox_not-the-right-secret",
        MESH_API_URL: EMULATOR_URL,
        DATA_DIR: path.join(dataDir, "wrong-keys-app"),
      },
      reuseExistingServer: false,
      timeout: 60_000,
    },
    {
      command: appBinary,
      cwd: appDir,
      url: MANAGED_TOKENS_APP_URL,
      env: {
        ...appEnv,
        LEPTOS_SITE_ADDR: "127.0.0.1:3240",
        MESH_EMULATOR_ADDR: "127.0.0.1:3241",
        MESH_MANAGED_TOKENS: "true",
        DATA_DIR: path.join(dataDir, "managed-tokens-app"),
      },
      reuseExistingServer: false,
      timeout: 60_000,
    },
    {
      command: appBinary,
      cwd: appDir,
      url: SHORT_TOKENS_APP_URL,
      env: {
        ...appEnv,
        LEPTOS_SITE_ADDR: "127.0.0.1:3250",
        MESH_EMULATOR_ADDR: "127.0.0.1:3251",
        MESH_EMULATOR_TOKEN_TTL: "120",
        DATA_DIR: path.join(dataDir, "short-tokens-app"),
      },
      reuseExistingServer: false,
      timeout: 60_000,
    },
  ],
});
