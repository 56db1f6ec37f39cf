import { expect, test } from "@playwright/test";
import { accounts, connectBroker, waitForHydration } from "./helpers";

test("connect, see it listed, reload, still listed, disconnect, gone", async ({ page }) => {
  await page.goto("/");
  await expect(page.getByText("No accounts connected yet.")).toBeVisible();
  await connectBroker(page, "Robinhood");
  await expect(accounts(page)).toHaveCount(1);
  await expect(accounts(page).first()).toContainText("Robinhood Individual");
  await expect(accounts(page).first()).toContainText("token expires");
  // The tokens never reach the page.
  expect(await page.content()).not.toContain("emu_at_");

  await page.reload();
  await expect(accounts(page)).toHaveCount(1);
  await expect(accounts(page).first()).toContainText("Robinhood Individual");
  await expect(accounts(page).first().getByRole("img", { name: "Robinhood logo" })).toBeVisible();
  await waitForHydration(page);

  await accounts(page).first().getByRole("button", { name: "Disconnect" }).click();
  const confirm = page.getByRole("group", { name: "Disconnect Robinhood Individual?" });
  await confirm.getByRole("button", { name: "Cancel" }).click();
  await expect(accounts(page)).toHaveCount(1);
  await accounts(page).first().getByRole("button", { name: "Disconnect" }).click();
  await confirm.getByRole("button", { name: "Yes, disconnect" }).click();
  await expect(page.getByText("No accounts connected yet.")).toBeVisible();
  await page.reload();
  await expect(page.getByText("No accounts connected yet.")).toBeVisible();
});

test("reconnecting the same account replaces it instead of adding a row", async ({ page }) => {
  await page.goto("/");
  await connectBroker(page, "Binance.US");
  await expect(accounts(page)).toHaveCount(2);
  await connectBroker(page, "Binance.US");
  await expect(accounts(page)).toHaveCount(2);
});

test("a second browser context (another user) never sees the first user's accounts", async ({
  page,
  browser,
}) => {
  await page.goto("/");
  await connectBroker(page, "Coinbase", { code: "123456" });
  await expect(accounts(page)).toHaveCount(1);

  const other = await browser.newContext();
  const otherPage = await other.newPage();
  await otherPage.goto("/");
  await expect(otherPage.getByText("No accounts connected yet.")).toBeVisible();
  await expect(otherPage.getByText("Coinbase Wallet")).toHaveCount(0);
  await other.close();
});

test("a save that fails reaches the user in words, and Try again saves the same tokens", async ({
  page,
}) => {
  await page.goto("/");
  await page.route("**/api/save_connection", (route) =>
    route.fulfill({
      status: 503,
      contentType: "application/json",
      body: JSON.stringify({ kind: "MeshUnreachable", message: "The server is busy. Please try again." }),
    }),
  );
  await connectBroker(page, "Robinhood");
  await expect(page.getByRole("alert")).toContainText(
    "Could not save the account: The server is busy. Please try again.",
  );
  await expect(page.getByRole("button", { name: "Connect an account" })).toBeEnabled();
  await expect(page.getByText("No accounts connected yet.")).toBeVisible();

  // The server is back: the payload Link handed over once is saved on retry.
  await page.unroute("**/api/save_connection");
  await page.getByRole("button", { name: "Try again" }).click();
  await expect(accounts(page)).toHaveCount(1);
  await expect(accounts(page).first()).toContainText("Robinhood Individual");
  await expect(page.getByRole("alert")).toHaveCount(0);
});
