import { APIRequestContext, BrowserContext, Page, test as base, expect } from "@playwright/test";
import { EMULATOR_URL } from "../playwright.config";

export { expect };

/** Options of this suite's tests, set in `playwright.config.ts` or with `test.use`. */
export type SuiteOptions = {
  /**
   * Milliseconds by which every wasm and JS file of the app is held back (0: none). The config
   * sets it from `E2E_SLOW_CODE`, so the whole suite can run as a person on a slow network meets
   * the page: typing and clicking before its code has arrived.
   */
  slowCodeMs: number;
};

/** The app's own code: the wasm, the JS glue and the split chunks under `/pkg/`. */
const APP_CODE = /\/pkg\/.*\.(wasm|js)(\?.*)?$/;

/** Holds back every wasm and JS file `context` fetches from the app by `ms` milliseconds. */
export async function holdBackCode(context: BrowserContext, ms: number) {
  if (ms <= 0) return;
  await context.route(APP_CODE, async (route) => {
    await new Promise((resolve) => setTimeout(resolve, ms));
    // The page may have been closed meanwhile; then nobody waits for the file.
    await route.continue().catch(() => undefined);
  });
}

/** Playwright's `test`, with the app's code held back in every test's context when asked. */
export const test = base.extend<SuiteOptions & { holdBackAppCode: void }>({
  slowCodeMs: [0, { option: true }],
  holdBackAppCode: [
    async ({ context, slowCodeMs }, use) => {
      await holdBackCode(context, slowCodeMs);
      await use();
    },
    { auto: true },
  ],
});

/** A fault for the emulator's next calls to `path`, as its `/_emulator/faults` API takes it. */
export type Fault = {
  path: string;
  fault: "status" | "delay" | "malformed" | "drop";
  status?: number;
  delay_ms?: number;
  times?: number;
};

/** Queues a fault in the emulator. */
export async function queueFault(request: APIRequestContext, fault: Fault) {
  const response = await request.post(`${EMULATOR_URL}/_emulator/faults`, { data: fault });
  expect(response.status()).toBe(204);
}

/** Clears every queued fault. */
export async function clearFaults(request: APIRequestContext) {
  const response = await request.delete(`${EMULATOR_URL}/_emulator/faults`);
  expect(response.status()).toBe(204);
}

/** A login for the emulated Link, Mesh's documented sandbox credentials by default. */
export type Login = { username?: string; password?: string; code?: string };

/** The Link iframe inside the overlay. */
export function linkFrame(page: Page) {
  return page.frameLocator("#mesh-link-popup__iframe");
}

/** Clicks Connect and waits for Link to show its catalog. */
export async function openLink(page: Page) {
  const connect = page.getByRole("button", { name: "Connect an account" });
  await expect(connect).toBeEnabled();
  await connect.click();
  await expect(linkFrame(page).getByRole("heading", { name: "Select your account" })).toBeVisible();
}

/** Picks `broker` in Link and signs in (with the MFA code when Link asks for one). */
export async function signIn(page: Page, broker: string, login: Login = {}) {
  const link = linkFrame(page);
  await link.getByRole("button", { name: broker }).click();
  await link.getByLabel("Username").fill(login.username ?? "Mesh");
  await link.getByLabel("Password").fill(login.password ?? "Pass123");
  await link.getByRole("button", { name: "Sign in" }).click();
  if (login.code !== undefined) {
    await link.getByLabel("Code").fill(login.code);
    await link.getByRole("button", { name: "Submit code" }).click();
  }
}

/** Connects `broker` end to end and closes Link with Done. */
export async function connectBroker(page: Page, broker: string, login: Login = {}) {
  await openLink(page);
  await signIn(page, broker, login);
  await linkFrame(page).getByRole("button", { name: "Done" }).click();
  await expect(page.locator("#mesh-link-popup")).toHaveCount(0);
}

/** The labels of the event timeline, in order. */
export async function timeline(page: Page): Promise<string[]> {
  return page.getByRole("list", { name: "Link events" }).locator("li code").allInnerTexts();
}

/** The items of the connected-accounts list. */
export function accounts(page: Page) {
  return page.getByRole("list", { name: "Connected accounts" }).getByRole("listitem");
}

/**
 * Waits until the page is hydrated (the Connect button is enabled only then): before that, the
 * server-rendered buttons do nothing when clicked.
 */
export async function waitForHydration(page: Page) {
  await expect(page.getByRole("button", { name: "Connect an account" })).toBeEnabled();
}

/** Moves the emulator's token clock forward, so tokens expire without waiting. */
export async function advanceEmulatorClock(request: APIRequestContext, seconds: number) {
  const response = await request.post(`${EMULATOR_URL}/_emulator/clock`, {
    data: { advanceSeconds: seconds },
  });
  expect(response.status()).toBe(204);
}
