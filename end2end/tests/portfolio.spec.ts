import { Page } from "@playwright/test";
import { accounts, advanceEmulatorClock, connectBroker, expect, linkFrame, signIn, test } from "./helpers";

// These tests move the emulator's clock forward (tokens expire), so they run after the others.

const DAY = 24 * 60 * 60;

/** Connects Robinhood on a fresh page and opens its portfolio. */
async function openRobinhoodPortfolio(page: Page) {
  await page.goto("/");
  await connectBroker(page, "Robinhood");
  await accounts(page)
    .filter({ hasText: "Robinhood Individual" })
    .getByRole("link", { name: "Balances and holdings" })
    .click();
  await expect(page).toHaveURL(/\/accounts\/[0-9a-f-]{36}$/);
}

function holdings(page: Page) {
  return page.locator("table.holdings tbody tr");
}

test("the portfolio shows the emulated holdings, totals, balances and orders", async ({ page }) => {
  await openRobinhoodPortfolio(page);
  await expect(page.getByRole("heading", { name: "Robinhood · Robinhood Individual" })).toBeVisible();
  await expect(holdings(page)).toHaveCount(3);
  await expect(holdings(page).first()).toContainText("VTI");
  await expect(holdings(page).filter({ hasText: "AAPL" })).toContainText("Apple Inc.");
  await expect(holdings(page).filter({ hasText: "AAPL" })).toContainText("$2,901.75");
  await expect(page.locator("table.holdings .total")).toHaveText(/^\$12,3\d\d\.\d\d$/);
  await expect(page.locator("table.balances")).toContainText("$10,000,000.00");
  await expect(page.getByRole("heading", { name: "Recent orders" })).toBeVisible();
  await expect(page.locator("table.history")).toContainText("Buy 12.5 AAPL");
  await expect(page.getByText(/Fetched from Mesh at \d{4}-\d\d-\d\d \d\d:\d\d UTC/)).toBeVisible();
  // No token reaches the page.
  expect(await page.content()).not.toMatch(/emu_(at|rt)_/);
});

test("past the token's lifetime the portfolio reads fresh data without reconnecting", async ({
  page,
  request,
}) => {
  await openRobinhoodPortfolio(page);
  await expect(holdings(page)).toHaveCount(3);
  await advanceEmulatorClock(request, DAY + 60);

  // Refresh renews the sign-in; the button says so while it works.
  await waitForRefreshHydration(page);
  // The post is held a second, and the button read inside the page meanwhile (Playwright's own
  // queries would wait for the page the form posts to).
  await page.route("**/api/refresh_connection", async (route) => {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await route.continue();
  });
  const whilePosting = await page.evaluate(async () => {
    const button = document.querySelector<HTMLButtonElement>("form.inline button")!;
    button.click();
    await new Promise((resolve) => setTimeout(resolve, 100));
    return button.textContent;
  });
  await expect(page).toHaveURL(/\/accounts\/[0-9a-f-]{36}$/);
  expect(whilePosting).toBe("Refreshing…");
  await expect(page.getByRole("button", { name: "Refresh" })).toBeVisible();
  await expect(holdings(page)).toHaveCount(3);
  await expect(page.getByRole("alert")).toHaveCount(0);

  // And the day after, a plain visit refreshes the expired token by itself.
  await page.unroute("**/api/refresh_connection");
  await advanceEmulatorClock(request, DAY + 60);
  await page.reload();
  await expect(holdings(page)).toHaveCount(3);
  await expect(page.getByRole("alert")).toHaveCount(0);
});

test("an expired refresh token leads to Reconnect, which opens Link, and back to a working account", async ({
  page,
  request,
}) => {
  await openRobinhoodPortfolio(page);
  const portfolioUrl = page.url();
  await advanceEmulatorClock(request, 31 * DAY);
  await page.reload();
  await expect(page.getByRole("alert")).toHaveText(
    "The broker's sign-in for this account has expired. Reconnect this account.",
  );

  await page.getByRole("link", { name: "Reconnect this account" }).click();
  await expect(page).toHaveURL(/\/\?reconnect=1$/);
  await expect(accounts(page).filter({ hasText: "Robinhood Individual" })).toContainText(
    "sign-in expired: reconnect this account",
  );
  // Link opens by itself.
  await expect(linkFrame(page).getByRole("heading", { name: "Select your account" })).toBeVisible();
  await signIn(page, "Robinhood");
  await linkFrame(page).getByRole("button", { name: "Done" }).click();
  await expect(page.locator("#mesh-link-popup")).toHaveCount(0);

  const robinhood = accounts(page).filter({ hasText: "Robinhood Individual" });
  await expect(robinhood).toHaveCount(1);
  await expect(robinhood).not.toContainText("sign-in expired");
  await page.goto(portfolioUrl);
  await expect(holdings(page)).toHaveCount(3);
});

/** The Refresh island marks its button only once hydrated; before that the form just posts. */
async function waitForRefreshHydration(page: Page) {
  await expect(page.locator("form.inline button[data-hydrated='true']")).toHaveCount(1);
}
