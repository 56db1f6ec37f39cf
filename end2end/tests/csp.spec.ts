import { Page } from "@playwright/test";
import { accounts, connectBroker, expect, test } from "./helpers";

/** Collects every Content-Security-Policy violation the page (or a frame) reports. */
async function watchViolations(page: Page): Promise<string[]> {
  const violations: string[] = [];
  page.on("console", (message) => {
    if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
  });
  await page.exposeFunction("reportViolation", (text: string) => violations.push(text));
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (event) => {
      (window as unknown as { reportViolation: (t: string) => void }).reportViolation(
        `${event.violatedDirective} blocked ${event.blockedURI}`,
      );
    });
  });
  return violations;
}

test("the overlay flow runs under the page's policy without a single violation", async ({ page }) => {
  const violations = await watchViolations(page);
  const response = await page.goto("/");
  const csp = response?.headers()["content-security-policy"] ?? "";
  expect(csp).toContain("'strict-dynamic'");
  expect(csp).not.toContain("unsafe-inline");
  await connectBroker(page, "Robinhood");
  await expect(accounts(page)).toHaveCount(1);
  await accounts(page).first().getByRole("button", { name: "Disconnect" }).click();
  await page.getByRole("button", { name: "Yes, disconnect" }).click();
  await expect(page.getByText("No accounts connected yet.")).toBeVisible();
  expect(violations).toEqual([]);
});

test("the embedded flow runs under the page's policy without a single violation", async ({ page }) => {
  const violations = await watchViolations(page);
  await page.goto("/embedded");
  await page.getByRole("button", { name: "Connect an account" }).click();
  const link = page.frameLocator("#mesh-link-embedded");
  await link.getByRole("button", { name: "Coinbase" }).click();
  await link.getByLabel("Username").fill("Mesh");
  await link.getByLabel("Password").fill("Pass123");
  await link.getByRole("button", { name: "Sign in" }).click();
  await link.getByLabel("Code").fill("123456");
  await link.getByRole("button", { name: "Submit code" }).click();
  await link.getByRole("button", { name: "Done" }).click();
  await expect(accounts(page)).toHaveCount(1);
  expect(violations).toEqual([]);
});

test("a frame from any other origin is refused by the policy", async ({ page }) => {
  const violations = await watchViolations(page);
  await page.goto("/");
  await page.evaluate(() => {
    const frame = document.createElement("iframe");
    frame.src = "https://example.com/";
    document.body.append(frame);
  });
  await expect.poll(() => violations.join("\n")).toContain("frame-src");
});
