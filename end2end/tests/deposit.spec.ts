import { expect, test } from "@playwright/test";
import { EMULATOR_URL } from "../playwright.config";
import { linkFrame, signIn } from "./helpers";

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

test("the home page links to the deposit page", async ({ page }) => {
  await page.goto("/");
  await page.getByRole("link", { name: "Deposit crypto →" }).click();
  await expect(page.getByRole("heading", { name: "Deposit", exact: true })).toBeVisible();
});
