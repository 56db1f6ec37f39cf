import { Browser, Page } from "@playwright/test";
import { accounts, clearFaults, connectBroker, expect, queueFault, test, waitForHydration } from "./helpers";

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

test.describe("without JavaScript", () => {
  test.afterEach(async ({ request }) => clearFaults(request));

  /** Connects Robinhood with scripts on, then opens the page in a context without them. */
  async function connectThenDisableScripts(page: Page, browser: Browser) {
    await page.goto("/");
    await connectBroker(page, "Robinhood");
    await expect(accounts(page)).toHaveCount(1);
    const noScript = await browser.newContext({
      javaScriptEnabled: false,
      storageState: await page.context().storageState(),
    });
    const plain = await noScript.newPage();
    await plain.goto("/");
    await expect(accounts(plain)).toHaveCount(1);
    return plain;
  }

  test("Disconnect asks first and works as plain HTML forms", async ({ page, browser }) => {
    const plain = await connectThenDisableScripts(page, browser);
    const confirm = plain.getByRole("group", { name: "Disconnect Robinhood Individual?" });

    await accounts(plain).first().getByRole("button", { name: "Disconnect" }).click();
    await expect(plain).toHaveURL(/\?disconnect=[0-9a-f-]{36}$/);
    await confirm.getByRole("button", { name: "Cancel" }).click();
    await expect(confirm).toHaveCount(0);
    await expect(accounts(plain)).toHaveCount(1);

    await accounts(plain).first().getByRole("button", { name: "Disconnect" }).click();
    await confirm.getByRole("button", { name: "Yes, disconnect" }).click();
    await expect(plain.getByText("No accounts connected yet.")).toBeVisible();
    await expect(plain.getByRole("alert")).toHaveCount(0);
    await page.reload();
    await expect(page.getByText("No accounts connected yet.")).toBeVisible();
    await plain.context().close();
  });

  test("a Disconnect that Mesh refuses keeps the account and says why", async ({
    page,
    browser,
    request,
  }) => {
    const plain = await connectThenDisableScripts(page, browser);
    await queueFault(request, { path: "/api/v1/account", fault: "status", status: 503, times: 5 });
    await accounts(plain).first().getByRole("button", { name: "Disconnect" }).click();
    await plain.getByRole("button", { name: "Yes, disconnect" }).click();
    await expect(plain.getByRole("alert")).toHaveText(
      "Mesh could not revoke the connection, so the account is still connected. Please try again shortly.",
    );
    await expect(accounts(plain)).toHaveCount(1);
    await plain.context().close();
  });

  test("an error crafted into a link never puts its words in the page", async ({ page }) => {
    // Encoded as the server encodes a form's error: URL-safe base64 with padding.
    const words = Buffer.from(JSON.stringify({ kind: "MeshRefused", message: "Call 555-0100 now" }))
      .toString("base64")
      .replace(/\+/g, "-")
      .replace(/\//g, "_");
    await page.goto(`/?__path=/api/disconnect&__err=${encodeURIComponent(words)}`);
    await expect(page.getByRole("alert")).toHaveText(
      "Mesh could not revoke the connection, so the account is still connected. Please try again shortly.",
    );
    await expect(page.getByText("Call 555-0100")).toHaveCount(0);
  });
});
