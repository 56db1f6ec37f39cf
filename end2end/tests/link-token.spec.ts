import { WRONG_KEYS_APP_URL } from "../playwright.config";
import { clearFaults, expect, linkFrame, queueFault, test } from "./helpers";

test.afterEach(async ({ request }) => clearFaults(request));

test("the page hydrates, says Mesh is emulated, and fetches a link token with a pending state", async ({
  page,
  request,
}) => {
  await page.goto("/");
  await expect(page.getByRole("note")).toContainText("Mesh is emulated");
  const connect = page.getByRole("button", { name: "Connect an account" });
  // Disabled in the server-rendered HTML, enabled once the wasm has hydrated the page.
  await expect(connect).toBeEnabled();

  await queueFault(request, { path: "/api/v1/linktoken", fault: "delay", delay_ms: 1500 });
  await connect.click();
  await expect(page.getByRole("button", { name: "Requesting a link token…" })).toBeDisabled();
  await expect(page.getByRole("status")).toHaveText("Requesting a link token…");
  // The token came back: Link opens with it.
  await expect(page.getByRole("status")).toHaveText("Link is open.");
  await expect(linkFrame(page).getByRole("heading", { name: "Select your account" })).toBeVisible();
});

test("a failing Mesh reaches the user as a sentence", async ({ page, request }) => {
  await page.goto("/");
  const connect = page.getByRole("button", { name: "Connect an account" });
  await expect(connect).toBeEnabled();
  await queueFault(request, { path: "/api/v1/linktoken", fault: "status", status: 503, times: 3 });
  await connect.click();
  await expect(page.getByRole("status")).toHaveText(
    "Mesh had a problem on its side. Please try again shortly.",
  );
  await expect(page.locator("#mesh-link-popup")).toHaveCount(0);
  await expect(connect).toBeEnabled();
});

test("with wrong keys the user is told the keys are wrong", async ({ page }) => {
  await page.goto(WRONG_KEYS_APP_URL);
  await expect(page.getByRole("note")).toContainText("Mesh's sandbox");
  await page.getByRole("button", { name: "Connect an account" }).click();
  await expect(page.getByRole("status")).toHaveText(
    "Mesh rejected this app's API keys: check MESH_CLIENT_ID and MESH_CLIENT_SECRET.",
  );
  expect(await page.content()).not.toContain("not-the-right-secret");
});

test("too many requests from one address reach the user as the server's sentence", async ({ page }) => {
  await page.goto("/");
  const sentence = "Too many requests from your network. Please wait 2 seconds and try again.";
  await page.route("**/api/create_link_token", (route) =>
    route.fulfill({
      status: 429,
      headers: { "retry-after": "2" },
      contentType: "application/json",
      body: JSON.stringify({ kind: "RateLimited", message: sentence }),
    }),
  );
  await page.getByRole("button", { name: "Connect an account" }).click();
  await expect(page.getByRole("status")).toHaveText(sentence);
  await expect(page.getByRole("button", { name: "Connect an account" })).toBeEnabled();
});

test("while Link's own code is on its way the user reads that Link is opening", async ({ page }) => {
  test.skip(!!process.env.E2E_UNSPLIT, "Link's code is a chunk of its own only in a --split build");
  // Link's chunk is held until the status has been read, as on a slow network.
  let release = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route(/\/split_open_link_[^/]*\.wasm$/, async (route) => {
    await held;
    await route.continue();
  });
  await page.goto("/");
  const connect = page.getByRole("button", { name: "Connect an account" });
  await expect(connect).toBeEnabled();
  await connect.click();
  await expect(page.getByRole("status")).toHaveText("Opening Link…");
  await expect(connect).toBeDisabled();
  release();
  await expect(linkFrame(page).getByRole("heading", { name: "Select your account" })).toBeVisible();
  await expect(page.getByRole("status")).toHaveText("Link is open.");
});

test.describe("before the page's code has loaded", () => {
  test.use({ javaScriptEnabled: false });

  test("the Connect button says it is loading instead of doing nothing", async ({ page }) => {
    await page.goto("/");
    await expect(page.getByRole("button", { name: "Loading…" })).toBeDisabled();
    await expect(page.getByRole("button", { name: "Connect an account" })).toHaveCount(0);
    // Chromium keeps parsing <noscript> as a scripting browser when Playwright turns scripts off,
    // so its sentence is checked in the markup.
    expect(await page.locator("noscript").textContent()).toContain(
      "Connecting an account needs JavaScript.",
    );
  });
});
