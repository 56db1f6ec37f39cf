import { EMULATOR_URL } from "../playwright.config";
import { expect, linkFrame, signIn, test } from "./helpers";

// Deposits through the emulated Link: the app in emulator mode receives the emulator's signed
// webhooks at its own /webhooks/mesh, and polls Mesh besides.

/** How the emulator's next transfers end (`/_emulator/transfers`). */
async function nextTransfers(request: import("@playwright/test").APIRequestContext, outcome: string) {
  const response = await request.post(`${EMULATOR_URL}/_emulator/transfers`, {
    data: { outcome, settleMs: 4000 },
  });
  expect(response.status()).toBe(204);
}

/** Deposits `amount` dollars of the first asset from `broker`, up to Link's last screen. */
async function deposit(page: import("@playwright/test").Page, broker: string, amount: string, code?: string) {
  await page.goto("/deposit");
  await expect(page.getByRole("note")).toContainText("Mesh is emulated");
  await page.getByLabel("Asset").selectOption({ label: "USDC on Ethereum" });
  await page.getByLabel("Amount in US dollars").fill(amount);
  const button = page.getByRole("button", { name: "Deposit" });
  await expect(button).toBeEnabled();
  await button.click();
  const link = linkFrame(page);
  await expect(link.getByRole("heading", { name: "Select your account" })).toBeVisible();
  await signIn(page, broker, { code });
  await link.getByRole("button", { name: "Continue to transfer" }).click();
  await link.getByRole("button", { name: "USDC on Ethereum" }).click();
  await expect(link.getByRole("heading", { name: "Review the transfer" })).toBeVisible();
  await expect(link.locator("dl.review")).toContainText(`$${amount}.00`);
  await link.getByRole("button", { name: "Confirm transfer" }).click();
  if (code !== undefined) {
    await link.getByLabel("Code").fill(code);
    await link.getByRole("button", { name: "Submit code" }).click();
  }
  await expect(link.getByRole("heading", { name: "Transfer sent" })).toBeVisible();
}

function deposits(page: import("@playwright/test").Page) {
  return page.getByRole("list", { name: "Deposits" }).getByRole("listitem");
}

test("a deposit from an MFA exchange shows as reported, then succeeded without a reload", async ({
  page,
  request,
}) => {
  await nextTransfers(request, "succeeded");
  await deposit(page, "Coinbase", "40", "123456");
  const latest = deposits(page).first();
  // The browser's report first: a hint, said so.
  await expect(latest).toHaveAttribute("data-status", "reported");
  await expect(latest).toContainText("40 USDC on Ethereum");
  await expect(latest).toContainText("waiting for Mesh to confirm");
  await linkFrame(page).getByRole("button", { name: "Done" }).click();
  await expect(page.locator("#mesh-link-popup")).toHaveCount(0);
  await expect(page.getByRole("status")).toContainText("Mesh's confirmation shows below");
  // Then Mesh's word, by webhook or by polling, with no navigation in between.
  const navigations: string[] = [];
  page.on("framenavigated", (frame) => frame === page.mainFrame() && navigations.push(frame.url()));
  await expect(latest).toHaveAttribute("data-status", "succeeded", { timeout: 20_000 });
  await expect(latest).toContainText("Arrived");
  expect(navigations).toEqual([]);
  await page.screenshot({ path: "test-results/deposit-succeeded.png" });
});

test("a failed deposit shows as failed with a sentence", async ({ page, request }) => {
  await nextTransfers(request, "failed");
  await deposit(page, "Robinhood", "15");
  await linkFrame(page).getByRole("button", { name: "Done" }).click();
  const latest = deposits(page).first();
  await expect(latest).toHaveAttribute("data-status", "failed", { timeout: 20_000 });
  await expect(latest).toContainText("nothing was deposited");
  await nextTransfers(request, "succeeded");
});

test("a bad amount gets a sentence and Link stays closed", async ({ page }) => {
  await page.goto("/deposit");
  await page.getByLabel("Amount in US dollars").fill("0.5");
  const button = page.getByRole("button", { name: "Deposit" });
  await expect(button).toBeEnabled();
  await button.click();
  await expect(page.getByRole("status")).toContainText("Enter an amount in US dollars from 1 to 100000");
  await expect(page.locator("#mesh-link-popup")).toHaveCount(0);
});

test.describe("typed before the page's code has arrived", () => {
  // Longer than the test takes to type and pick: both happen before the island hydrates.
  test.use({ slowCodeMs: 4000 });
  // The page waits at each step of its code: the glue, the wasm, then the island's chunk.
  test.slow();

  test("the deposit sends the amount and asset the form shows", async ({ page }) => {
    // Not waiting for the load event: it waits for the held-back code.
    await page.goto("/deposit", { waitUntil: "commit" });
    const amount = page.getByLabel("Amount in US dollars");
    const asset = page.getByLabel("Asset");
    await amount.fill("500");
    const last = asset.locator("option").last();
    const lastLabel = (await last.textContent()) ?? "";
    await asset.selectOption({ label: lastLabel });
    // All of that before the island hydrated: its button still says so.
    await expect(page.getByRole("button", { name: "Loading…" })).toBeDisabled();

    const asked = page.waitForRequest("**/api/create_deposit_link_token");
    const button = page.getByRole("button", { name: "Deposit" });
    await expect(button).toBeEnabled({ timeout: 20_000 });
    await expect(amount).toHaveValue("500");
    await expect(asset.locator("option:checked")).toHaveText(lastLabel);
    await button.click();
    const sent = new URLSearchParams((await asked).postData() ?? "");
    expect(sent.get("asset")).toBe(await last.getAttribute("value"));
    expect(sent.get("amount")).toBe("500");

    // Link's transfer offers that asset alone, for that amount.
    const link = linkFrame(page);
    await expect(link.getByRole("heading", { name: "Select your account" })).toBeVisible();
    await signIn(page, "Robinhood");
    await link.getByRole("button", { name: "Continue to transfer" }).click();
    await expect(link.locator(".brokers button")).toHaveText([lastLabel]);
    await link.getByRole("button", { name: lastLabel }).click();
    await expect(link.getByRole("heading", { name: "Review the transfer" })).toBeVisible();
    await expect(link.locator("dl.review")).toContainText("$500.00");
  });
});

test("the home page links to the deposit page", async ({ page }) => {
  await page.goto("/");
  await page.getByRole("link", { name: "Deposit crypto →" }).click();
  await expect(page.getByRole("heading", { name: "Deposit", exact: true })).toBeVisible();
});

test("the island's code and Link's come as the build made them: chunks with --split, in the main wasm without", async ({
  page,
  request,
}) => {
  const chunks: string[] = [];
  page.on("request", (r) => /\/pkg\/.*split/.test(r.url()) && chunks.push(r.url().replace(/^.*\//, "")));
  await nextTransfers(request, "succeeded");
  await deposit(page, "Robinhood", "25");
  await expect(deposits(page).first()).toContainText("25 USDC on Ethereum");
  if (process.env.E2E_UNSPLIT) {
    // `cargo leptos watch` / `build` without `--split`: no lazy chunk, no split loader.
    expect(chunks).toEqual([]);
  } else {
    expect(chunks.some((name) => /^split_deposit_panel_loader_.*\.wasm$/.test(name))).toBe(true);
    expect(chunks.some((name) => /^split_open_link_.*\.wasm$/.test(name))).toBe(true);
  }
});
