import type { Page } from "@playwright/test";
import {
  EMULATOR_URL,
  MANAGED_TOKENS_APP_URL,
  SHORT_TOKENS_APP_URL,
} from "../playwright.config";
import { accounts, connectBroker, expect, linkFrame, test } from "./helpers";

// "Deposit from this account": Link opens on the connected exchange's integration and is handed
// that account's token, so a returning user neither picks the exchange nor signs in again.

/** Connects Coinbase (with its MFA code) on the app at `origin` and returns to its home page. */
async function connectCoinbase(page: Page, origin: string) {
  await page.goto(`${origin}/`);
  await connectBroker(page, "Coinbase", { code: "123456" });
  await expect(accounts(page).filter({ hasText: "Coinbase" })).toHaveCount(1);
}

/**
 * Follows the Coinbase account's "Deposit from this account" (it shows once the app has read
 * Mesh's integrations list, which it does in the background) to the Deposit page.
 */
async function openDepositFromCoinbase(page: Page) {
  const coinbase = accounts(page).filter({ hasText: "Coinbase" });
  await expect(async () => {
    await page.reload();
    await expect(coinbase.getByRole("link", { name: "Deposit from this account" })).toBeVisible({
      timeout: 1_000,
    });
  }).toPass({ timeout: 15_000 });
  await coinbase.getByRole("link", { name: "Deposit from this account" }).click();
  await expect(page).toHaveURL(/\/deposit\?from=/);
  await expect(page.getByLabel("From")).toHaveValue(/.+/);
  await expect(page.getByLabel("From").locator("option:checked")).toHaveText("Coinbase Wallet (connected)");
}

/** Submits the deposit form for `amount` dollars of USDC and returns the server's answer. */
async function startDeposit(page: Page, amount: string) {
  await page.getByLabel("Asset").selectOption({ label: "USDC on Ethereum" });
  await page.getByLabel("Amount in US dollars").fill(amount);
  const button = page.getByRole("button", { name: "Deposit" });
  await expect(button).toBeEnabled();
  const answer = page.waitForResponse((r) => r.url().includes("/api/create_deposit_from_connection"));
  await button.click();
  const response = await answer;
  expect(response.status()).toBe(200);
  expect(response.headers()["cache-control"]).toContain("no-store");
  return (await response.json()) as { link_token: string; access_token: { accessToken: string } };
}

/** Goes through Link's transfer steps from the asset choice to "Transfer sent" (Coinbase asks a code). */
async function finishTransfer(page: Page, amount: string) {
  const link = linkFrame(page);
  await link.getByRole("button", { name: "USDC on Ethereum" }).click();
  await expect(link.getByRole("heading", { name: "Review the transfer" })).toBeVisible();
  await expect(link.locator("dl.review")).toContainText(`$${amount}.00`);
  await link.getByRole("button", { name: "Confirm transfer" }).click();
  await link.getByLabel("Code").fill("123456");
  await link.getByRole("button", { name: "Submit code" }).click();
  await expect(link.getByRole("heading", { name: "Transfer sent" })).toBeVisible();
  await link.getByRole("button", { name: "Done" }).click();
  await expect(page.locator("#mesh-link-popup")).toHaveCount(0);
}

/** The deposits list, newest first. */
function deposits(page: Page) {
  return page.getByRole("list", { name: "Deposits" }).getByRole("listitem");
}

/** Asserts Link went straight to the transfer: no catalog, no sign-in. */
async function expectStraightToTransfer(page: Page) {
  const link = linkFrame(page);
  await expect(link.getByRole("heading", { name: "Choose what to send" })).toBeVisible();
  await expect(link.getByRole("heading", { name: "Select your account" })).toHaveCount(0);
  await expect(link.getByLabel("Password")).toHaveCount(0);
}

test("a deposit from a connected Coinbase needs no sign-in and completes", async ({ page }) => {
  await connectCoinbase(page, "");
  await openDepositFromCoinbase(page);
  const answer = await startDeposit(page, "30");
  expect(answer.access_token.accessToken).toMatch(/^emu_at_/);
  await expectStraightToTransfer(page);
  await finishTransfer(page, "30");
  const latest = deposits(page).first();
  await expect(latest).toContainText("30 USDC on Ethereum");
  await expect(latest).toHaveAttribute("data-status", /reported|pending|succeeded/);
  await expect(latest).toHaveAttribute("data-status", "succeeded", { timeout: 20_000 });
  // The token lived in that Link session only: nothing in the page or its storage.
  const html = await page.content();
  expect(html).not.toContain(answer.access_token.accessToken);
  const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
  expect(stored).not.toContain(answer.access_token.accessToken);
  await page.screenshot({ path: "test-results/deposit-from-account.png" });
});

test("under Mesh-managed tokens the tokenId is handed over and the deposit completes", async ({ page }) => {
  await connectCoinbase(page, MANAGED_TOKENS_APP_URL);
  await openDepositFromCoinbase(page);
  const answer = await startDeposit(page, "20");
  expect(answer.access_token.accessToken).toMatch(/^tok_/);
  await expectStraightToTransfer(page);
  await finishTransfer(page, "20");
  await expect(deposits(page).first()).toHaveAttribute("data-status", "succeeded", { timeout: 20_000 });
});

test("an access token about to expire is renewed before Link gets it", async ({ page }) => {
  // This app's Mesh issues access tokens that live two minutes: always within the renewal margin.
  await connectCoinbase(page, SHORT_TOKENS_APP_URL);
  await openDepositFromCoinbase(page);
  const answer = await startDeposit(page, "15");
  await expectStraightToTransfer(page);
  await finishTransfer(page, "15");
  await expect(deposits(page).first()).toContainText("15 USDC on Ethereum");
  expect(answer.access_token.accessToken).toMatch(/^emu_at_/);
});

test("a revoked token falls back to the sign-in and the deposit still completes", async ({ page, request }) => {
  await connectCoinbase(page, "");
  await openDepositFromCoinbase(page);
  // The user revoked the app's access at the exchange.
  const revoked = await request.post(`${EMULATOR_URL}/_emulator/revoke`, { data: { brokerType: "coinbase" } });
  expect(revoked.status()).toBe(204);
  await startDeposit(page, "12");
  const link = linkFrame(page);
  // Straight to Coinbase's sign-in (the link token names the integration): no catalog.
  await expect(link.getByRole("heading", { name: "Sign in to Coinbase" })).toBeVisible();
  await expect(link.getByRole("heading", { name: "Select your account" })).toHaveCount(0);
  await link.getByLabel("Username").fill("Mesh");
  await link.getByLabel("Password").fill("Pass123");
  await link.getByRole("button", { name: "Sign in" }).click();
  await link.getByLabel("Code").fill("123456");
  await link.getByRole("button", { name: "Submit code" }).click();
  await link.getByRole("button", { name: "Continue to transfer" }).click();
  await finishTransfer(page, "12");
  await expect(deposits(page).first()).toContainText("12 USDC on Ethereum");
});
