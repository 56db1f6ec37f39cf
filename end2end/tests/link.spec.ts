import { Page } from "@playwright/test";
import { DISALLOWED_APP_URL, EMULATOR_URL } from "../playwright.config";
import { accounts, connectBroker, expect, linkFrame, openLink, signIn, test, timeline } from "./helpers";

test.beforeEach(async ({ page }) => {
  await page.goto("/");
});

test("Robinhood: sign in, the account appears with its balances, the timeline tells the story", async ({
  page,
}) => {
  await connectBroker(page, "Robinhood");
  await expect(accounts(page)).toHaveCount(1);
  await expect(accounts(page).first()).toContainText("Robinhood Individual");
  await expect(accounts(page).first()).toContainText("Cash $10,000,000.00");
  await expect(accounts(page).first().getByRole("img", { name: "Robinhood logo" })).toBeVisible();
  expect(await timeline(page)).toEqual([
    "pageLoaded",
    "integrationSelected",
    "credentialsEntered",
    "integrationConnected",
    "exit",
  ]);
  await expect(page.getByRole("status")).toHaveText("Link closed.");
});

test("Coinbase asks for MFA; the right code connects", async ({ page }) => {
  await connectBroker(page, "Coinbase", { code: "123456" });
  await expect(accounts(page)).toHaveCount(1);
  await expect(accounts(page).first()).toContainText("Coinbase Wallet");
  const events = await timeline(page);
  expect(events).toContain("integrationMfaRequired");
  expect(events).toContain("integrationMfaEntered");
  expect(events.filter((e) => e === "integrationConnected")).toHaveLength(1);
});

test("Binance.US connects two accounts at once", async ({ page }) => {
  await connectBroker(page, "Binance.US", { username: "Mesh3" });
  await expect(accounts(page)).toHaveCount(2);
  await expect(accounts(page).filter({ hasText: "Binance.US Spot" })).toHaveCount(1);
  await expect(accounts(page).filter({ hasText: "Binance.US Earn" })).toHaveCount(1);
});

test("a wrong MFA code is refused on screen and reported as an event", async ({ page }) => {
  await openLink(page);
  await signIn(page, "Coinbase", { code: "000000" });
  await expect(linkFrame(page).getByRole("alert")).toContainText("Invalid code");
  await expect.poll(() => timeline(page)).toContain("integrationConnectionError");
  await expect(accounts(page)).toHaveCount(0);
});

test("a wrong password shows an error and connects nothing", async ({ page }) => {
  await openLink(page);
  await signIn(page, "Robinhood", { password: "wrong" });
  await expect(linkFrame(page).getByRole("alert")).toContainText("Invalid username or password");
  await expect(page.getByRole("list", { name: "Link events" })).toContainText(
    "integrationConnectionError — Invalid username or password",
  );
  await expect(page.getByText("No accounts connected yet.")).toBeVisible();
});

test("the user closes Link: the overlay and scroll lock go, the exit is shown", async ({ page }) => {
  await openLink(page);
  await expect(page.locator("#mesh-link-popup__styles")).toHaveCount(1);
  await linkFrame(page).getByRole("button", { name: "Close" }).click();
  await expect(page.locator("#mesh-link-popup")).toHaveCount(0);
  await expect(page.locator("#mesh-link-popup__styles")).toHaveCount(0);
  await expect(page.getByRole("status")).toHaveText("Link closed.");
  expect((await timeline(page)).at(-1)).toBe("exit");
});

test("Escape closes Link when the page has the keyboard", async ({ page }) => {
  await openLink(page);
  // The keyboard on the page itself (the overlay covers everything, so no click reaches it).
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await page.keyboard.press("Escape");
  await expect(page.locator("#mesh-link-popup")).toHaveCount(0);
  await expect(page.getByRole("status")).toHaveText("Link closed.");
});

/** Runs `script` inside the Link iframe, as if Link itself posted to the page. */
async function fromLink(page: Page, message: unknown) {
  const frame = page.frames().find((f) => f.url().startsWith(EMULATOR_URL));
  expect(frame, "the Link frame").toBeDefined();
  await frame!.evaluate((m) => parent.postMessage(m, "*"), message);
}

test("a close whose summary cannot be read still closes Link", async ({ page }) => {
  await openLink(page);
  await fromLink(page, { type: "close", payload: "not a summary" });
  await expect(page.locator("#mesh-link-popup")).toHaveCount(0);
  await expect(page.getByRole("status")).toHaveText("Link closed.");
});

test("a token message the page cannot read is told to the user, not only the console", async ({
  page,
}) => {
  await openLink(page);
  await fromLink(page, { type: "brokerageAccountAccessToken", payload: { accountTokens: "oops" } });
  await expect(page.getByRole("list", { name: "Link events" })).toContainText(
    "Link sent account details this page could not read, so nothing was saved. Please connect the account again.",
  );
});

test("a link token without base64 padding opens as the SDK opens it", async ({ page }) => {
  await page.route("**/api/create_link_token", async (route) => {
    const response = await route.fetch();
    let url = Buffer.from(await response.json(), "base64").toString();
    // A length that base64 must pad, then the padding left out.
    while (url.length % 3 === 0) url += "&x=1";
    const padded = Buffer.from(url).toString("base64");
    expect(padded.endsWith("=")).toBe(true);
    await route.fulfill({ response, body: JSON.stringify(padded.replace(/=+$/, "")) });
  });
  await openLink(page);
});

test("an invalid link token ends in on_exit with an error, without an exception", async ({
  page,
}) => {
  const errors: Error[] = [];
  page.on("pageerror", (error) => errors.push(error));
  await page.route("**/api/create_link_token", (route) =>
    route.fulfill({ contentType: "application/json", body: JSON.stringify("%%% not base64") }),
  );
  await page.getByRole("button", { name: "Connect an account" }).click();
  await expect(page.getByRole("status")).toHaveText("Link closed: Invalid link token!");
  await expect(page.locator("#mesh-link-popup")).toHaveCount(0);
  expect(errors).toEqual([]);
});

test("a forged link token pointing at another host is refused", async ({ page }) => {
  const forged = Buffer.from("https://evil.example.com/b2b-iframe/x/broker-connect").toString("base64");
  await page.route("**/api/create_link_token", (route) =>
    route.fulfill({ contentType: "application/json", body: JSON.stringify(forged) }),
  );
  await page.getByRole("button", { name: "Connect an account" }).click();
  await expect(page.getByRole("status")).toHaveText(
    "Link closed: Link token points to https://evil.example.com, which is not an allowed Link origin",
  );
  await expect(page.locator("#mesh-link-popup")).toHaveCount(0);
});

test("a used link token shows Link's error and exits with its message", async ({ page }) => {
  let firstToken: string | undefined;
  await page.route("**/api/create_link_token", async (route) => {
    if (firstToken === undefined) {
      const response = await route.fetch();
      firstToken = await response.json();
    }
    await route.fulfill({ contentType: "application/json", body: JSON.stringify(firstToken) });
  });
  await openLink(page);
  await linkFrame(page).getByRole("button", { name: "Close" }).click();
  await page.getByRole("button", { name: "Connect an account" }).click();
  await expect(linkFrame(page).getByRole("alert")).toContainText("already used");
  await linkFrame(page).getByRole("button", { name: "Close" }).last().click();
  await expect(page.getByRole("status")).toContainText("Link closed: This link token was already used.");
});

test("a message posted to the page from a third origin is ignored", async ({ page }) => {
  // The page's policy lets only Link's origin into a frame, so the attacker uses a window it
  // opened instead: it posts a forged token message and a forged exit to its opener.
  await page.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { thirdOrigin: string[] }).thirdOrigin = seen;
    window.addEventListener("message", (event) => {
      if (event.origin === "http://third.example.com") seen.push(String(event.data?.type));
    });
  });
  const thirdOrigin = () =>
    page.evaluate(() => (window as unknown as { thirdOrigin: string[] }).thirdOrigin);
  await page.context().route("http://third.example.com/**", (route) =>
    route.fulfill({
      contentType: "text/html",
      body: `<script>
        const forged = { accountTokens: [{ account: { accountId: "x", accountName: "Forged" }, accessToken: "stolen" }],
          brokerBrandInfo: { brokerLogo: "" }, brokerType: "robinhood", brokerName: "Forged Broker" };
        setInterval(() => {
          opener.postMessage({ type: "brokerageAccountAccessToken", payload: forged }, "*");
          opener.postMessage({ type: "done", payload: { page: "forged", errorMessage: "forged exit" } }, "*");
        }, 100);
      </script>`,
    }),
  );
  await page.reload(); // the init script applies from the next navigation on
  await openLink(page);
  const attacker = page.waitForEvent("popup");
  await page.evaluate(() => window.open("http://third.example.com/attack", "attacker"));
  await attacker;
  // The forged messages do reach the page…
  await expect.poll(async () => (await thirdOrigin()).length).toBeGreaterThan(4);
  expect(await thirdOrigin()).toContain("brokerageAccountAccessToken");
  // …and the Link client ignores every one of them.
  await expect(page.locator("#mesh-link-popup")).toHaveCount(1);
  await expect(page.getByRole("status")).toHaveText("Link is open.");
  expect(await timeline(page)).toEqual(["pageLoaded"]);
  // The real Link still works alongside.
  await signIn(page, "Robinhood");
  await linkFrame(page).getByRole("button", { name: "Done" }).click();
  await expect(accounts(page)).toHaveCount(1);
  await expect(page.getByText("Forged")).toHaveCount(0);
});

test("a phone-sized viewport gets the full-screen overlay", async ({ page }) => {
  await page.setViewportSize({ width: 375, height: 667 });
  await openLink(page);
  const box = await page.locator("#mesh-link-popup__popup-content").boundingBox();
  expect(box).toEqual({ x: 0, y: 0, width: 375, height: 667 });
});

test("a desktop viewport gets the SDK's centred box", async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 900 });
  await openLink(page);
  const box = await page.locator("#mesh-link-popup__popup-content").boundingBox();
  expect(box?.width).toBeGreaterThanOrEqual(380);
  expect(box?.width).toBeLessThanOrEqual(430);
  expect(box?.height).toBeGreaterThanOrEqual(685);
  expect(box?.height).toBeLessThanOrEqual(710);
  await expect(page.locator("#mesh-link-popup__iframe")).toHaveAttribute(
    "allow",
    `clipboard-read *; clipboard-write *; camera ${EMULATOR_URL}; microphone ${EMULATOR_URL}`,
  );
});

test("open, close, open again: one listener, callbacks fire once", async ({ page }) => {
  await openLink(page);
  await linkFrame(page).getByRole("button", { name: "Close" }).click();
  await expect(page.locator("#mesh-link-popup")).toHaveCount(0);
  await connectBroker(page, "Robinhood");
  // The timeline shows the second session only: a leftover listener would double every entry.
  expect(await timeline(page)).toEqual([
    "pageLoaded",
    "integrationSelected",
    "credentialsEntered",
    "integrationConnected",
    "exit",
  ]);
  await expect(accounts(page)).toHaveCount(1);
});

test("a host origin the emulator does not allow cannot even frame Link", async ({ page }) => {
  // Like Mesh's, the emulated Link page names its allowed origins in frame-ancestors: an app on
  // any other origin gets a refused frame and never a message from it.
  const messages: string[] = [];
  const refusals: string[] = [];
  page.on("console", (message) => {
    if (message.text().includes("frame-ancestors")) refusals.push(message.text());
  });
  await page.exposeFunction("recordMessage", (type: string) => messages.push(type));
  await page.addInitScript(() => {
    window.addEventListener("message", (event) =>
      (window as unknown as { recordMessage: (t: string) => void }).recordMessage(String(event.data?.type)),
    );
  });
  await page.goto(DISALLOWED_APP_URL);
  await page.getByRole("button", { name: "Connect an account" }).click();
  await expect.poll(() => refusals.join("\n")).toContain("https://app.example.com");
  await expect(page.getByRole("status")).toHaveText("Opening Link…");
  expect(messages).toEqual([]);
  // A frame that never loads does not leave the user in front of nothing: after 20 s Link
  // closes with the likely causes.
  test.setTimeout(60_000);
  await expect(page.getByRole("status")).toHaveText(
    /^Link closed: Link did not load within 20 seconds\. This site may not be among the allowed domains/,
    { timeout: 25_000 },
  );
  await expect(page.locator("#mesh-link-popup")).toHaveCount(0);
});

test("embedded render type: Link in the page's own iframe, closed by a close request", async ({
  page,
}) => {
  await page.goto("/embedded");
  await page.getByRole("button", { name: "Connect an account" }).click();
  const frame = page.locator("#mesh-link-embedded");
  await expect(frame).toHaveAttribute("src", /rt=embedded/);
  const link = page.frameLocator("#mesh-link-embedded");
  await expect(link.getByRole("heading", { name: "Select your account" })).toBeVisible();
  await expect(page.locator("#mesh-link-popup")).toHaveCount(0);
  // Link hides its own close button when embedded; the host asks it to close instead.
  await expect(link.getByRole("button", { name: "Close" })).toBeHidden();
  await page.getByRole("button", { name: "Close Link" }).click();
  await expect(page.getByRole("status")).toHaveText("Link closed.");
  await expect(frame).toHaveAttribute("src", "about:blank");

  await page.getByRole("button", { name: "Connect an account" }).click();
  await link.getByRole("button", { name: "Robinhood" }).click();
  await link.getByLabel("Username").fill("Mesh");
  await link.getByLabel("Password").fill("Pass123");
  await link.getByRole("button", { name: "Sign in" }).click();
  await link.getByRole("button", { name: "Done" }).click();
  await expect(accounts(page)).toHaveCount(1);
});
